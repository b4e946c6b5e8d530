"""Rendering for the query commands: result tables, JSON, JSON lines and CSV; query descriptions; paths."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from statetech.cli.terminal import terminal_safe
from statetech.graph.store import QueryResult

if TYPE_CHECKING:
    from statetech.graph.api import Connections
    from statetech.graph.catalog import StoredQuery


def render_result(result: QueryResult, fmt: str, formula_guard: bool = True) -> str:
    from statetech.cli.output import format_table
    from statetech.graph.formats import ROW_FORMATS, render_rows

    if fmt in ROW_FORMATS:
        return render_rows(result, fmt, formula_guard)
    text = format_table(result.columns, result.values())
    return text + f"\n({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})\n"


def write_result(result: QueryResult, fmt: str, output: str, formula_guard: bool = True) -> None:
    write_text(render_result(result, fmt, formula_guard), output)


def write_text(text: str, output: str, human: bool = False) -> None:
    """``human``: text meant to be read (tables, paths), cleaned of control characters wherever it goes; any text
    written to a terminal is cleaned too (:mod:`statetech.cli.terminal`)."""
    if human or (output == "-" and sys.stdout.isatty()):
        text = terminal_safe(text)
    if output == "-":
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None


def describe_query(query: StoredQuery) -> str:
    """What ``query show`` prints: the header in words, then the Cypher exactly as stored."""
    lines = [f"{query.name}: {query.title}", "", textwrap.fill(query.description.strip(), 100), ""]
    if query.params:
        lines.append("parameters:")
        for p in query.params.values():
            need = "required" if p.required else ("optional" if p.default is None else f"default {_literal(p.default)}")
            choices = f"; one of {', '.join(map(str, p.choices))}" if p.choices else ""
            lines.append(f"  {p.name}: {p.describe()} ({need}{choices})" + (f"\n      {p.help}" if p.help else ""))
        lines.append("")
    else:
        lines += ["parameters: none", ""]
    lines += [f"returns: {', '.join(query.returns)}", ""]
    if query.writes:
        lines += ["this query WRITES to the graph", ""]
    example = " ".join(f"--param {p.name}=..." for p in query.params.values() if p.required)
    lines.append(f"run: statetech query run {query.name}" + (f" {example}" if example else ""))
    if query.params:
        lines.append("Neo4j Browser: set each parameter first, e.g. "
                     + "; ".join(f":param {p.name} => {_literal(p.default) if p.default is not None else '...'}"
                                 for p in query.params.values()))
    for backend, variant_path in query.variant_paths.items():
        lines.append(f"the {backend} store runs its own form of this query: {variant_path.name}")
    lines += ["", f"// {query.path.name}", query.body.rstrip()]
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).replace('"', "'") if isinstance(value, str) else json.dumps(value)


def render_connections(connections: Connections, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(connections.as_dict(), indent=2, ensure_ascii=False) + "\n"
    a, b = connections.origin, connections.destination
    head = f"{_entity(a)}  and  {_entity(b)}"
    if not connections.paths:
        return f"{head}\nare not connected within {connections.max_hops} hops.\n"
    first = connections.paths[0]
    count = connections.total
    shown = len(connections.paths)
    at_least = "at least " if connections.capped else ""
    lines = [head, f"are connected by {at_least}{count} shortest path{'s' if count != 1 else ''} of {len(first.hops)} "
                   f"hop{'s' if len(first.hops) != 1 else ''}" + (f"; showing the first {shown}" if shown < count
                                                                   else "") + ":"]
    for number, connection in enumerate(connections.paths, start=1):
        lines += ["", f"Path {number}", f"  {_entity(connection.entities[0])}"]
        for hop, entity in zip(connection.hops, connection.entities[1:]):
            arrow = f"-[{hop.type}]->" if hop.forward else f"<-[{hop.type}]-"
            lines.append(f"  {arrow} {_entity(entity)}")
            lines.append(f"      {_hop_facts(hop)}")
            for sid in hop.sources:
                lines.append(f"      source: {_source(connections.sources.get(sid), sid)}")
    return "\n".join(lines) + "\n"


def _entity(node) -> str:
    return f"{node.name} ({node.kind} {node.id})"


def _hop_facts(hop) -> str:
    p = hop.properties
    facts = [str(p.get("confidence") or "confidence not recorded")]
    if p.get("start_date") or p.get("end_date"):
        facts.append(f"{p.get('start_date') or '?'} to {p.get('end_date') or 'open'}" if p.get("end_date")
                     else f"from {p['start_date']}")
    if p.get("as_of"):
        facts.append(f"as of {p['as_of']}")
    if p.get("role"):
        facts.append(f"role: {p['role']}")
    if p.get("amount_usd") is not None:
        facts.append(f"amount ${p['amount_usd']:,.2f}")
    if p.get("data_volume_tb") is not None:
        facts.append(f"{p['data_volume_tb']:g} TB")
    if p.get("notes"):
        facts.append(f"notes: {p['notes']}")
    return "; ".join(facts)


def _source(props: dict[str, Any] | None, sid: str) -> str:
    if not props:
        return f"{sid} (no Source record in the graph)"
    return f"{props.get('title')} ({props.get('publisher')}, {props.get('published')}) {props.get('url')}"
