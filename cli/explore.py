"""``statetech cypher`` (ad-hoc queries) and ``statetech path`` (how two entities are connected)."""

from __future__ import annotations

import sys

import click

from statetech.cli.params import parse_json_params, parse_params
from statetech.cli.paths import OutputPath
from statetech.cli.query import FORMATS
from statetech.graph.errors import QueryError


@click.command("cypher")
@click.argument("text")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="A string parameter; repeatable.")
@click.option("--json-param", "json_params", multiple=True, metavar="KEY=JSON",
              help="A parameter given as JSON (numbers, booleans, lists, maps); repeatable.")
@click.option("--write", is_flag=True, help="Allow the query to change data. Without it the query runs read-only.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=OutputPath(allow_dash=True), default="-",
              help="File to write (default: stdout).")
@click.option("--raw-csv", is_flag=True,
              help="CSV: write cells exactly as stored. By default a cell starting with = + - @ (which a "
                   "spreadsheet would run as a formula) is prefixed with a quote.")
@click.pass_obj
def cypher(app, text: str, params: tuple[str, ...], json_params: tuple[str, ...], write: bool, fmt: str,
           output: str, raw_csv: bool) -> None:
    """Run an ad-hoc Cypher query (TEXT, or '-' to read it from stdin).

    The query runs in a read-only transaction unless --write is given, so a mistyped query cannot change the
    graph. Pass values as parameters ($name), never pasted into the text.
    """
    from statetech.cli.results import write_result
    from statetech.graph.dialect import run_adhoc

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise click.BadParameter("the query is empty", param_hint="TEXT")
    values = parse_params(params)
    values.update(parse_json_params(json_params))
    try:
        # engine differences of the embedded store fixed, or warned about (graph/dialect.py)
        result = run_adhoc(app.graph(), text, values, write=write)
    except QueryError as exc:
        if not write and "ran read-only" in str(exc):
            reason = str(exc).split(";")[0]
            raise QueryError(f"{reason}; add --write to let 'statetech cypher' change data") from None
        raise
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    write_result(result, fmt, output, formula_guard=not raw_csv)


@click.command("path")
@click.argument("origin", metavar="A")
@click.argument("destination", metavar="B")
@click.option("--max-hops", type=click.IntRange(1, 10), default=6, show_default=True,
              help="Longest path to look for.")
@click.option("--limit", type=click.IntRange(1, None), default=5, show_default=True,
              help="Show at most this many of the shortest paths.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", type=OutputPath(allow_dash=True), default="-",
              help="File to write (default: stdout).")
@click.pass_obj
def path(app, origin: str, destination: str, max_hops: int, limit: int, fmt: str, output: str) -> None:
    """Explain how entities A and B are connected.

    A and B are ids or unambiguous names. Prints every shortest path (up to --max-hops), each hop with its
    relationship, direction, dates, confidence and the sources behind it.
    """
    from statetech.cli.results import render_connections, write_text

    connections = app.graph().paths(origin, destination, max_hops=max_hops, limit=limit)
    write_text(render_connections(connections, fmt), output, human=fmt == "text")
