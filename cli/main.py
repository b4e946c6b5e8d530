"""The ``statetech`` command: each subcommand parses options, makes one library call and prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from statetech.cli.paths import OutputPath
from statetech.graph.errors import StatetechError


class StatetechGroup(click.Group):
    """Turns the library's errors into one clear message and exit code 1, never a traceback.

    Commands named in :data:`LAZY_COMMANDS` are imported only when they run; ``--help`` lists them from the table.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            command = _lazy_command(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                limit = formatter.width - 6 - len(name)
                rows.append((name, click.utils.make_default_short_help(LAZY_COMMANDS[name][2], limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StatetechError as exc:
            from statetech.cli.terminal import terminal_safe

            raise click.ClickException(terminal_safe(str(exc))) from None
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
            if getattr(self, "note", None):
                click.echo(self.note, err=True)  # stderr: stdout may be CSV or JSON going to another program
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
    neo4j, db, note = _choose_store(ctx, neo4j, db)
    app = AppContext(neo4j, db, database)
    app.note = note
    ctx.obj = app
    ctx.call_on_close(app.close)


def _choose_store(ctx: click.Context, neo4j: str | None, db: str | None) -> tuple[str | None, str | None, str | None]:
    """Which store a command uses when both a Neo4j URI and an embedded file are configured, and a note saying so.

    An option typed on the command line beats a variable from the environment (NEO4J_URI is shared with Neo4j's own
    tools, so it is often set for other reasons). When both come from the environment, the configuration is
    ambiguous: STATETECH_DB, the statetech-specific one, wins, and a note on stderr says which store is used and how
    to pick the other.
    """
    if not (neo4j and db):
        return neo4j, db, None
    from statetech.graph.store import redact_uri

    typed = click.core.ParameterSource.COMMANDLINE
    neo4j_typed = ctx.get_parameter_source("neo4j") == typed
    db_typed = ctx.get_parameter_source("db") == typed
    if neo4j_typed and db_typed:
        raise click.UsageError("give either --neo4j URI or --db PATH, not both")
    if neo4j_typed:  # an option typed for this command is not ambiguous: it wins without a note
        return neo4j, None, None
    if db_typed:
        return None, db, None
    return None, db, (f"note: both NEO4J_URI and STATETECH_DB are set; using the embedded store at {db} "
                      f"(STATETECH_DB); pass --neo4j URI to use Neo4j at {redact_uri(neo4j)}")


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
    for warning in bundle.warnings:
        from statetech.cli.terminal import terminal_safe

        click.echo(terminal_safe(f"warning: {warning}"), err=True)
    if bundle.problems:
        raise ValidationFailed(bundle.problems)
    records = bundle.record_set()
    click.echo(f"ok: {len(records.sources)} sources, {len(records.nodes)} nodes, "
               f"{len(records.relationships)} relationships")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--bulk-import-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write no store: write neo4j-admin import files for a first load into an empty Neo4j database "
                   "into DIR, and print the import command.")
@pass_app
def load(app: AppContext, paths: tuple[str, ...], bulk_import_dir: str | None) -> None:
    """Validate curated YAML files (default: the shipped seeds), then write them; all or nothing.

    Loading the same records again changes nothing (idempotent upserts).
    """
    from statetech.graph.api import shipped_seeds_path
    from statetech.loaders.curated import load_files

    if bulk_import_dir is not None:
        from statetech.graph.bulk import write_import_files
        from statetech.loaders.curated import load_curated

        files = write_import_files(load_curated(paths or [shipped_seeds_path()]), bulk_import_dir)
        click.echo(f"wrote import files for {files.sources} sources, {files.nodes} nodes, {files.relationships} "
                   f"relationships to {files.directory}\n"
                   f"with Neo4j stopped and no database 'neo4j' yet, run:\n  {files.command()}\n"
                   f"then start Neo4j and run {files.schema_file} (e.g. cypher-shell -f {files.schema_file})")
        return
    graph = app.graph()
    summary = load_files(graph, paths or [shipped_seeds_path()])
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


@cli.group()
def db() -> None:
    """Maintenance of the store itself."""


@db.command("refresh")
@pass_app
def db_refresh(app: AppContext) -> None:
    """Recompute the fields statetech derives at write time: the provenance fields records/unsourced and
    records/newest read, the vendor agency counts agencies/shared-vendors reads, and the contract amount keys
    contracts/largest and the citation words sources/supports read on the embedded store.

    Once for a store written by an older statetech (those queries refuse it until then), and after editing records
    outside statetech (e.g. in Neo4j Browser). Only fields that differ are written; running it again changes nothing.
    """
    graph = app.graph()
    done = graph.refresh_provenance()
    click.echo(f"refreshed {graph.location}: read {done.entities_read} entities and {done.relationships_read} "
               f"relationships; updated {done.entities} entities, {done.relationships} relationships, "
               f"{done.markers} relationship summaries, {done.vendors} vendor agency counts and "
               f"{done.contracts} contract amount keys")


@cli.command()
@click.option("--out", "-o", type=OutputPath(), default="statetech-demo.html", show_default=True,
              help="HTML map to write.")
@click.option("--serve", "serve_after", is_flag=True,
              help="Then open the browser explorer on it (as 'statetech serve'; Ctrl-C stops it).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port for --serve (0: any free port).")
@click.pass_context
def demo(ctx: click.Context, out: str, serve_after: bool, port: int) -> None:
    """Load the shipped seeds into the embedded store, print stats and write the seed case's map."""
    from statetech.cli.output import format_stats
    from statetech.graph.api import Graph, shipped_seeds_path
    from statetech.graph.maps import render_map
    from statetech.loaders.curated import load_files

    app: AppContext = ctx.obj
    with Graph.open(None, app.db) as graph:  # the demo is the zero-setup path: always the embedded store
        summary = load_files(graph, [shipped_seeds_path()])
        click.echo(f"loaded {summary.sources} sources, {summary.nodes} nodes, {summary.relationships} relationships "
                   f"into {graph.location}")
        click.echo(format_stats(graph.stats(), graph.location))
        sub = graph.neighbourhood("agency:ice", depth=2)
        Path(out).write_text(render_map(sub), encoding="utf-8")
        click.echo(f"wrote {out}: map of {len(sub.nodes)} nodes and {len(sub.edges)} relationships around ICE")
    if serve_after:
        from statetech.web.server import serve

        with Graph.open(None, app.db) as graph:  # reopened: the explorer reads the store read-only
            serve(graph, port=port, announce=lambda text: click.echo(text, err=True))


# Subcommands that live in their own modules, loaded only when that command runs: importing them all (and the
# library, pydantic, the Neo4j driver and the loaders behind them) made every command, even --help, take half a
# second. Each entry: command name -> (module, attribute, the one-line help 'statetech --help' shows). A test checks
# that each line matches the command's own help, so this table cannot drift from the commands. A new command module
# registers here (or, eagerly, with cli.add_command).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "query": ("statetech.cli.query", "query", "Stored Cypher queries: the analyst's catalog (queries/*.cypher)."),
    "cypher": ("statetech.cli.explore", "cypher", "Run an ad-hoc Cypher query (TEXT, or '-' to read it from stdin)."),
    "path": ("statetech.cli.explore", "path", "Explain how entities A and B are connected."),
    "map": ("statetech.cli.maps", "map_command",
            "Draw an interactive relationship map as one offline HTML file, or a picture (--format svg/png)."),
    "export": ("statetech.cli.maps", "export_command", "Write the selected subgraph for Gephi, networkx or a "
               "spreadsheet, with kinds, types, dates and sources."),
    "import": ("statetech.cli.imports", "import_command",
               "Import public data files into the graph, resolving names against the curated records."),
    "fetch": ("statetech.cli.fetch", "fetch_group",
              "Download public datasets into a cache and import them, with the same summary as 'import'."),
    "serve": ("statetech.cli.serve", "serve_command",
              "Explore the graph in a browser: search, entity pages, expandable maps, paths and the query catalog."),
}


def _lazy_command(name: str) -> click.Command:
    import importlib

    module, attribute, _ = LAZY_COMMANDS[name]
    return getattr(importlib.import_module(module), attribute)


def main() -> None:
    cli(prog_name="statetech")


if __name__ == "__main__":  # pragma: no cover
    main()
