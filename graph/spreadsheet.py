"""CSV cells that a spreadsheet would run as a formula, neutralised as OWASP's "CSV Injection" page recommends.

Names and notes in the graph come from public data (an Atlas row, a LittleSis alias, a worker-action title). A cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by Excel, LibreOffice and Google Sheets
as a formula, and a formula can fetch URLs or run commands when an investigator opens the export. Prefixing such a
cell with a single quote makes every spreadsheet show it as text; the value is otherwise unchanged. Numbers are left
alone (a negative amount is a number, not a formula). ``--raw-csv`` turns this off for programs that read the CSV.
"""

from __future__ import annotations

import math
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a cell no spreadsheet will evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def tidy_number(value: Any) -> Any:
    """A float without the noise of binary arithmetic: a sum of cents such as 26042591.31 computes as
    26042591.310000002, which a published table must not show. 15 significant digits is what a double holds exactly;
    the value is unchanged otherwise. Lists and maps are tidied item by item."""
    if isinstance(value, float):
        return float(f"{value:.15g}") if math.isfinite(value) else value
    if isinstance(value, list):
        return [tidy_number(v) for v in value]
    if isinstance(value, dict):
        return {k: tidy_number(v) for k, v in value.items()}
    return value
