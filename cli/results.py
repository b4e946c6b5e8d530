"""Query results as table, JSON, JSON lines or CSV, to stdout or a file."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from statetech.graph.store import QueryResult


def render_result(result: QueryResult, fmt: str) -> str:
    from statetech.cli.output import format_table

    if fmt == "json":
        return json.dumps(result.rows, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in result.rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        for row in result.values():
            writer.writerow([_csv_cell(v) for v in row])
        return buffer.getvalue()
    text = format_table(result.columns, result.values())
    return text + f"\n({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})\n"


def _csv_cell(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def write_result(result: QueryResult, fmt: str, output: str) -> None:
    text = render_result(result, fmt)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
