"""Plain-text rendering for the terminal; kept apart from the commands so they stay one call each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statetech.cli.terminal import terminal_safe
from statetech.graph.spreadsheet import tidy_number
from statetech.graph.api import Stats


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """A fixed-width table; long cells are cut with an ellipsis so one wide value cannot wreck the layout."""
    def cell(value: Any) -> str:
        value = tidy_number(value)  # no 26042591.310000002 in a table someone may publish
        if value is None:
            text = ""
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        text = terminal_safe(text.replace("\n", " "))  # data never reaches the terminal as escape codes
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(t.ljust(w) for t, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join([line, rule, *body])


def format_stats(stats: Stats, location: str) -> str:
    parts = [f"store: {location}",
             f"nodes: {stats.nodes}   relationships: {stats.relationships}   sources: {stats.sources}", ""]
    parts.append(format_table(["kind", "nodes"], sorted(stats.nodes_by_kind.items())))
    parts.append("")
    parts.append(format_table(["relationship", "count"], sorted(stats.relationships_by_type.items())))
    parts.append("")
    parts.append(format_table(["confidence", "nodes"], sorted(stats.nodes_by_confidence.items())))
    parts.append("")
    nc, rc = stats.node_coverage, stats.relationship_coverage
    parts.append(f"sourced nodes: {nc.sourced}/{nc.total} ({nc.percent:.1f}%)   "
                 f"sourced relationships: {rc.sourced}/{rc.total} ({rc.percent:.1f}%)")
    return "\n".join(parts)
