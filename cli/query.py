"""``statetech query ...``: list, show and run the stored queries."""

from __future__ import annotations

import click

from statetech.cli.params import parse_params


@click.group()
def query() -> None:
    """Stored Cypher queries: the analyst's catalog."""


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
    """Description, parameters and the Cypher of a stored query (paste it into Neo4j Browser)."""
    from statetech.graph.catalog import Catalog

    q = Catalog.load().get(name)
    click.echo(f"{q.name}: {q.title}\n\n{q.description}\n")
    if q.params:
        click.echo("parameters:")
        for p in q.params.values():
            need = "required" if p.required else f"default {p.default!r}"
            click.echo(f"  {p.name} ({p.type}, {need}){': ' + p.help if p.help else ''}")
        click.echo("")
    click.echo(q.body.rstrip())


@query.command("run")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="A query parameter; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "jsonl"]), default="table",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-", help="File to write (default stdout).")
@click.pass_obj
def run(app, name: str, params: tuple[str, ...], fmt: str, output: str) -> None:
    """Run a stored query with typed parameters."""
    from statetech.cli.results import write_result
    from statetech.graph.catalog import Catalog

    result = Catalog.load().run(app.graph(), name, parse_params(params))
    write_result(result, fmt, output)
