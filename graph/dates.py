"""Partial dates: the one date type of the graph, an ISO string of the precision the source gives.

Sources often give only a year or a month ("reported in January 2026"); storing a precise day we do not know would be
an invented fact, so a date is ``'2025'``, ``'2025-07'`` or ``'2025-07-14'``. ISO strings also sort and compare
correctly on both stores. The model's fields (:data:`PartialDate`), query parameters, map and export filters and saved
views all check dates here; importers turn what files hold into these strings (``loaders.common.parse_date``).
"""

from __future__ import annotations

import calendar
import re
from typing import Annotated

from pydantic import AfterValidator

PARTIAL_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
HOW_TO_WRITE = "write YYYY-MM-DD (or YYYY-MM / YYYY when the source gives no day)"


def check_partial_date(value: str) -> str:
    """``value`` if it is a partial date, else :class:`ValueError` saying what is wrong with it."""
    m = PARTIAL_DATE_RE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a date; {HOW_TO_WRITE}")
    year, month, day = (int(g) if g else None for g in m.groups())
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"{value!r} has month {month:02d}; months run 01-12")
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"{value!r} is not a day of that month")
    return value


def is_partial_date(value: object) -> bool:
    """Whether ``value`` is a partial date string: a real year, month of that year or day of that month."""
    if not isinstance(value, str):
        return False
    try:
        check_partial_date(value)
    except ValueError:
        return False
    return True


def first_day(date: str) -> str:
    """The first day a partial date can mean ('2024' -> '2024-01-01'), for comparing by string."""
    return date + "-01-01"[len(date) - 4:] if len(date) < 10 else date[:10]


def last_day(date: str) -> str:
    """The last day a partial date can mean; '-31' on every month is fine, since only ordering matters."""
    return date + "-12-31"[len(date) - 4:] if len(date) < 10 else date[:10]


PartialDate = Annotated[str, AfterValidator(check_partial_date)]
