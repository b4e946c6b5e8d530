"""``statetech map`` and ``statetech export``: draw or write the same selection of the graph."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from statetech.cli.params import parse_params

SELECTION_HELP = """
Select what to draw: --focus ID_OR_NAME --depth N (the ego network), --query NAME --param KEY=VALUE (the entities and
relationships a stored query returns), or neither (the whole graph). Then narrow it: --kinds Agency,Company keeps only
those kinds and --kinds -Person leaves one out (the same for --rel-types); --since/--until keep records whose dates
overlap the window (undated records stay). With --focus, only what still connects to it within --depth stays.
"""


def selection_options(command):
    """The options ``map`` and ``export`` share, so both select exactly the same subgraph."""

    @click.option("--focus", metavar="ID_OR_NAME", help="Centre on this entity (id, name or alias).")
    @click.option("--depth", type=click.IntRange(0, 6), default=2, show_default=True,
                  help="Hops out from --focus.")
    @click.option("--query", "query_name", metavar="NAME",
                  help="A stored query whose rows name the entities to show ('statetech query list').")
    @click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
                  help="A parameter of --query; repeatable.")
    @click.option("--kinds", metavar="KINDS",
                  help="Comma-separated node kinds to keep, or to leave out with a leading '-' (e.g. -Person).")
    @click.option("--rel-types", metavar="TYPES",
                  help="Comma-separated relationship types to keep, or to leave out with a leading '-'.")
    @click.option("--since", metavar="DATE", help="Leave out records that ended before this date (YYYY[-MM[-DD]]).")
    @click.option("--until", metavar="DATE", help="Leave out records that started after this date.")
    @click.option("--max-neighbours", type=click.IntRange(0), default=None,
                  help="Cap on a hub's neighbours (with --focus: new neighbours per node while walking out; "
                       "otherwise: neighbours linked to nothing else). What is left out is counted. "
                       "Maps default to 40 once they pass 300 nodes; exports to no cap.")
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        return command(*args, **kwargs)

    return wrapper


def _selection(focus, depth, query_name, params, kinds, rel_types, since, until, max_neighbours):
    from statetech.graph.selection import Filters, Selection

    return Selection(focus=focus, depth=depth, query=query_name, params=parse_params(params),
                     filters=Filters.parse(kinds, rel_types, since, until), max_neighbours=max_neighbours)


@click.command("map", epilog=SELECTION_HELP)
@selection_options
@click.option("--out", "-o", type=click.Path(dir_okay=False), default="statetech-map.html", show_default=True,
              help="HTML file to write ('-' for stdout).")
@click.option("--title", help="Heading of the map (default: from the selection).")
@click.option("--size-by", type=click.Choice(["degree", "value"]), default="degree", show_default=True,
              help="Node size: number of relationships, or contract money.")
@click.option("--max-nodes", type=click.IntRange(1), default=5000, show_default=True,
              help="Refuse selections larger than this (browsers slow down past a few thousand nodes).")
@click.option("--physics/--no-physics", default=True, show_default=True,
              help="Keep the layout moving after it settles (always off above 1,000 nodes).")
@click.pass_obj
def map_command(app, out: str, title: str | None, size_by: str, max_nodes: int, physics: bool, **selection) -> None:
    """Draw an interactive relationship map as one offline HTML file.

    Styled by kind with a legend, searchable, with filters, neighbourhood highlight, physics toggle and PNG export;
    hovering or clicking shows properties and sources.
    """
    from statetech.graph.maps import DEFAULT_CAP_ABOVE, DEFAULT_MAX_NEIGHBOURS, render_map
    from statetech.graph.selection import select

    chosen = _selection(**selection)
    sub = select(app.graph(), chosen)
    cap = chosen.max_neighbours if chosen.max_neighbours is not None else DEFAULT_MAX_NEIGHBOURS
    html = render_map(sub, title=title, size_by=size_by, max_neighbours=cap, max_nodes=max_nodes, physics=physics,
                      cap_above=0 if chosen.max_neighbours is not None else DEFAULT_CAP_ABOVE)
    if out == "-":
        click.echo(html, nl=False)
        return
    Path(out).write_text(html, encoding="utf-8")
    click.echo(f"wrote {out}: {len(sub.nodes)} nodes, {len(sub.edges)} relationships ({len(html) / 1e6:.1f} MB)")


@click.command("export", epilog=SELECTION_HELP)
@selection_options
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml", "json", "csv", "ftm"]), required=True,
              help="gexf/graphml for Gephi and other graph tools, json (networkx node-link), csv (a folder of "
                   "nodes.csv, edges.csv, sources.csv), ftm (FollowTheMoney entities).")
@click.option("--out", "-o", metavar="PATH", default="-", show_default=True,
              help="File to write ('-' for stdout); a folder for csv.")
@click.pass_obj
def export_command(app, fmt: str, out: str, **selection) -> None:
    """Write the selected subgraph for Gephi, networkx or a spreadsheet, with kinds, types, dates and sources."""
    from statetech.graph.export import export
    from statetech.graph.selection import select

    sub = select(app.graph(), _selection(**selection))
    written = export(sub, fmt, out)
    if written:
        click.echo(f"wrote {', '.join(map(str, written))}: {len(sub.nodes)} nodes, {len(sub.edges)} relationships",
                   err=True)
