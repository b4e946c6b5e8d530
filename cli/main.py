"""The ``statetech`` command: each subcommand parses options, makes one library call and prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from statetech.graph.errors import StatetechError


class StatetechGroup(click.Group):
    """Turns the library's errors into one clear message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StatetechError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


class AppContext:
    """Store options from the group, opened lazily so 'validate' and '--help' never touch a store."""

    def __init__(self, neo4j: str | None, db: str | None, database: str | None) -> None:
        self.neo4j = neo4j
        self.db = db
        self.database = database
        self._graph = None

    def graph(self):
        from statetech.graph.api import Graph

        if self._graph is None:
            self._graph = Graph.open(self.neo4j, self.db, database=self.database)
        return self._graph

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()


pass_app = click.make_pass_decorator(AppContext)


@click.group(cls=StatetechGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--neo4j", "neo4j", metavar="URI", envvar="NEO4J_URI",
              help="Neo4j Bolt URI (e.g. neo4j://localhost:7687, neo4j+s://xxxx.databases.neo4j.io); "
                   "credentials from NEO4J_USERNAME / NEO4J_PASSWORD. Default: the embedded store.")
@click.option("--db", "db", metavar="PATH", envvar="STATETECH_DB", type=click.Path(dir_okay=False),
              help="Embedded store file (default: per-user data directory).")
@click.option("--database", metavar="NAME", envvar="NEO4J_DATABASE", help="Neo4j database name.")
@click.version_option(package_name="statetech")
@click.pass_context
def cli(ctx: click.Context, neo4j: str | None, db: str | None, database: str | None) -> None:
    """statetech: a sourced knowledge graph of state agencies and technology companies.

    Load curated records, count and query them, and draw relationship maps, on a real Neo4j or on the
    zero-setup embedded store.
    """
    app = AppContext(neo4j if not db else None, db, database)
    ctx.obj = app
    ctx.call_on_close(app.close)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check curated YAML files (default: the shipped seeds) without writing anything.

    Reports every problem at once with file:line, the record id and a fix hint; exits 1 if any.
    """
    from statetech.graph.api import shipped_seeds_path
    from statetech.graph.errors import ValidationFailed
    from statetech.loaders.curated import read_curated

    bundle = read_curated(paths or [shipped_seeds_path()])
    if bundle.problems:
        raise ValidationFailed(bundle.problems)
    records = bundle.record_set()
    click.echo(f"ok: {len(records.sources)} sources, {len(records.nodes)} nodes, "
               f"{len(records.relationships)} relationships")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@pass_app
def load(app: AppContext, paths: tuple[str, ...]) -> None:
    """Validate curated YAML files (default: the shipped seeds), then write them; all or nothing.

    Loading the same records again changes nothing (idempotent upserts).
    """
    from statetech.graph.api import shipped_seeds_path

    graph = app.graph()
    summary = graph.load_files(paths or [shipped_seeds_path()])
    click.echo(f"loaded into {graph.location}: {summary.sources} sources, {summary.nodes} nodes, "
               f"{summary.relationships} relationships")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_app
def stats(app: AppContext, fmt: str) -> None:
    """Counts by node kind and relationship type, and how much of the graph cites a source."""
    from statetech.cli.output import format_stats

    graph = app.graph()
    result = graph.stats()
    if fmt == "json":
        click.echo(json.dumps({"store": graph.location, **result.as_dict()}, indent=2))
    else:
        click.echo(format_stats(result, graph.location))


@cli.command()
@click.option("--out", "-o", type=click.Path(dir_okay=False), default="statetech-demo.html", show_default=True,
              help="HTML map to write.")
@click.pass_context
def demo(ctx: click.Context, out: str) -> None:
    """Load the shipped seeds into the embedded store, print stats and write the seed case's map."""
    from statetech.cli.output import format_stats
    from statetech.graph.api import Graph, shipped_seeds_path
    from statetech.graph.maps import render_map

    app: AppContext = ctx.obj
    with Graph.open(None, app.db) as graph:  # the demo is the zero-setup path: always the embedded store
        summary = graph.load_files([shipped_seeds_path()])
        click.echo(f"loaded {summary.sources} sources, {summary.nodes} nodes, {summary.relationships} relationships "
                   f"into {graph.location}")
        click.echo(format_stats(graph.stats(), graph.location))
        sub = graph.neighbourhood("agency:ice", depth=2)
        Path(out).write_text(render_map(sub), encoding="utf-8")
        click.echo(f"wrote {out}: map of {len(sub.nodes)} nodes and {len(sub.edges)} relationships around ICE")


def _register_subcommands() -> None:
    from statetech.cli import maps as map_commands
    from statetech.cli import explore as explore_commands
    from statetech.cli import query as query_commands

    cli.add_command(query_commands.query)
    cli.add_command(explore_commands.cypher)
    cli.add_command(explore_commands.path)
    cli.add_command(map_commands.map_command)
    cli.add_command(map_commands.export_command)
    from statetech.cli import imports as import_commands

    cli.add_command(import_commands.import_command)


_register_subcommands()


def main() -> None:
    cli(prog_name="statetech")


if __name__ == "__main__":  # pragma: no cover
    main()
