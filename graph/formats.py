"""Query results as the text of a file: JSON, JSON lines and CSV.

Shared by ``statetech query run`` / ``statetech cypher`` and the browser explorer's downloads, so a CSV saved from a
page and one written by the CLI hold the same bytes for the same rows.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from statetech.graph.errors import QueryError
from statetech.graph.spreadsheet import neutralise, tidy_number
from statetech.graph.store import QueryResult

ROW_FORMATS = ("json", "jsonl", "csv")
MEDIA_TYPES = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}


def render_rows(result: QueryResult, fmt: str, formula_guard: bool = True) -> str:
    """The rows of ``result`` in ``fmt`` (one of :data:`ROW_FORMATS`); CSV cells a spreadsheet would run as a
    formula are neutralised unless ``formula_guard`` is False (:mod:`statetech.graph.spreadsheet`)."""
    if fmt == "json":
        return json.dumps(tidy_number(result.rows), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(tidy_number(row), ensure_ascii=False, default=str) + "\n" for row in result.rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        for row in result.values():
            cells = [csv_cell(tidy_number(v)) for v in row]
            writer.writerow([neutralise(c) for c in cells] if formula_guard else cells)
        return buffer.getvalue()
    raise QueryError(f"unknown result format {fmt!r}; use one of {', '.join(ROW_FORMATS)}")


def csv_cell(value: Any) -> Any:
    """Lists and maps as JSON so a spreadsheet cell holds one parseable value; booleans as JSON literals."""
    if isinstance(value, (list, dict, bool)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value
