"""``statetech map`` and ``statetech export``: draw or write the same selection of the graph."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from statetech.cli.params import parse_params
from statetech.cli.paths import OutputPath

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
@click.option("--format", "fmt", type=click.Choice(["html", "svg", "png"]), default="html", show_default=True,
              help="html: the interactive offline map; svg/png: a labelled picture with a legend for reports.")
@click.option("--view", "view_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Draw a view saved from a map ('Save view'): its nodes, positions and filters.")
@click.option("--out", "-o", type=OutputPath(allow_dash=True), default=None,
              help="File to write ('-' for stdout) [default: statetech-map.html, .svg or .png].")
@click.option("--title", help="Heading of the map (default: from the selection).")
@click.option("--size-by", type=click.Choice(["degree", "value"]), default="degree", show_default=True,
              help="Node size: number of relationships, or contract money.")
@click.option("--max-nodes", type=click.IntRange(1), default=5000, show_default=True,
              help="Refuse selections larger than this (browsers slow down past a few thousand nodes).")
@click.option("--physics/--no-physics", default=True, show_default=True,
              help="Keep the layout moving after it settles (always off above 1,000 nodes and for saved views).")
@click.option("--width", type=click.IntRange(200, 10000), default=1600, show_default=True,
              help="Picture width in pixels (svg/png).")
@click.option("--height", type=click.IntRange(200, 10000), default=1100, show_default=True,
              help="Picture height in pixels (svg/png).")
@click.pass_obj
def map_command(app, fmt: str, view_file: str | None, out: str | None, title: str | None, size_by: str,
                max_nodes: int, physics: bool, width: int, height: int, **selection) -> None:
    """Draw an interactive relationship map as one offline HTML file, or a picture (--format svg/png).

    Styled by kind with a legend, searchable, with filters (kinds, types, confidence, dates), neighbourhood
    highlight, physics toggle, PNG export and saved views; hovering or clicking shows properties and sources.
    """
    from statetech.graph.maps import DEFAULT_CAP_ABOVE, DEFAULT_MAX_NEIGHBOURS, render_map
    from statetech.graph.views import read_view, subgraph_for_view

    out = out or f"statetech-map.{fmt}"
    view = None
    if view_file:
        given = [f"--{name.replace('_name', '').replace('_', '-')}" for name, value in selection.items()
                 if (value != 2 if name == "depth" else value not in (None, ()))]
        if given:
            raise click.UsageError(f"--view draws the saved view's own nodes; leave out {', '.join(sorted(given))}")
        view = read_view(view_file)
        sub, missing = subgraph_for_view(app.graph(), view)
        if missing:
            click.echo(f"warning: {len(missing)} node(s) of the view are not in this graph and are left out "
                       f"(e.g. {missing[0]})", err=True)
        chosen = None
    else:
        from statetech.graph.selection import select

        chosen = _selection(**selection)
        sub = select(app.graph(), chosen)
    if fmt == "html":
        cap = chosen.max_neighbours if chosen and chosen.max_neighbours is not None else DEFAULT_MAX_NEIGHBOURS
        explicit_cap = chosen is not None and chosen.max_neighbours is not None
        body = render_map(sub, title=title, size_by=size_by, max_neighbours=cap, max_nodes=max_nodes,
                          physics=physics, cap_above=0 if explicit_cap else DEFAULT_CAP_ABOVE,
                          view=view).encode("utf-8")
    else:
        from statetech.graph.visuals import render_image

        body = render_image(sub, fmt, title=title, view=view, width=width, height=height,
                            max_nodes=min(max_nodes, 2000))
    if out == "-":
        if fmt == "png":
            click.get_binary_stream("stdout").write(body)
        else:
            click.echo(body.decode("utf-8"), nl=False)
        return
    Path(out).write_bytes(body)
    click.echo(f"wrote {out}: {len(sub.nodes)} nodes, {len(sub.edges)} relationships ({len(body) / 1e6:.1f} MB)")


@click.command("export", epilog=SELECTION_HELP)
@selection_options
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml", "json", "csv", "ftm"]), required=True,
              help="gexf/graphml for Gephi and other graph tools, json (networkx node-link), csv (a folder of "
                   "nodes.csv, edges.csv, sources.csv), ftm (FollowTheMoney entities).")
@click.option("--out", "-o", metavar="PATH", type=OutputPath(allow_dash=True, folder_ok=True), default="-",
              show_default=True,
              help="File to write ('-' for stdout); a folder for csv.")
@click.option("--raw-csv", is_flag=True,
              help="CSV: write cells exactly as stored. By default a cell starting with = + - @ (which a "
                   "spreadsheet would run as a formula) is prefixed with a quote.")
@click.pass_obj
def export_command(app, fmt: str, out: str, raw_csv: bool, **selection) -> None:
    """Write the selected subgraph for Gephi, networkx or a spreadsheet, with kinds, types, dates and sources."""
    from statetech.graph.export import export
    from statetech.graph.selection import select

    sub = select(app.graph(), _selection(**selection))
    written = export(sub, fmt, out, formula_guard=not raw_csv)
    if written:
        click.echo(f"wrote {', '.join(map(str, written))}: {len(sub.nodes)} nodes, {len(sub.edges)} relationships",
                   err=True)
