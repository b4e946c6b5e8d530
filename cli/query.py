"""``statetech query ...``: list, show and run the stored queries."""

from __future__ import annotations

import click

from statetech.cli.params import parse_params
from statetech.cli.paths import OutputPath

FORMATS = ["table", "json", "csv", "jsonl"]


@click.group()
def query() -> None:
    """Stored Cypher queries: the analyst's catalog (queries/*.cypher)."""


@query.command("list")
def list_queries() -> None:
    """Name and title of every stored query."""
    from statetech.cli.output import format_table
    from statetech.graph.catalog import Catalog

    catalog = Catalog.load()
    click.echo(format_table(["name", "title"], [[q.name, q.title] for q in catalog], max_width=90))


@query.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Description, parameters, columns and the Cypher of a stored query (paste it into Neo4j Browser)."""
    from statetech.cli.results import describe_query
    from statetech.graph.catalog import Catalog

    click.echo(describe_query(Catalog.load().get(name)), nl=False)


@query.command("run")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="A query parameter, checked against its declared type; repeat for several (or for list items).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=OutputPath(allow_dash=True), default="-",
              help="File to write (default: stdout).")
@click.option("--raw-csv", is_flag=True,
              help="CSV: write cells exactly as stored. By default a cell starting with = + - @ (which a "
                   "spreadsheet would run as a formula) is prefixed with a quote.")
@click.pass_obj
def run(app, name: str, params: tuple[str, ...], fmt: str, output: str, raw_csv: bool) -> None:
    """Run a stored query with typed parameters, in a read-only transaction.

    Entity parameters take an id (agency:ice) or an unambiguous name or alias (ICE).
    """
    from statetech.cli.results import write_result
    from statetech.graph.catalog import Catalog

    result = Catalog.load().run(app.graph(), name, parse_params(params))
    write_result(result, fmt, output, formula_guard=not raw_csv)
