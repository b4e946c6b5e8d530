"""``statetech serve``: the read-only browser explorer over the current store."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address lets other machines in (there is no login).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the explorer in the default browser.")
@click.pass_obj
def serve_command(app, host: str, port: int, open_browser: bool) -> None:
    """Explore the graph in a browser: search, entity pages, expandable maps, paths and the query catalog.

    Serves the current store (embedded by default, Neo4j with --neo4j or NEO4J_URI) read-only; every page also
    has a JSON twin under /api. Ctrl-C stops it.
    """
    from statetech.web.server import serve

    serve(app.graph(), host=host, port=port, open_browser=open_browser,
          announce=lambda text: click.echo(text, err=True))
