"""Static pictures of a subgraph for reports: SVG or PNG, labelled, with a legend, laid out on the server.

People paste networks into documents and slides; a screenshot of the interactive map loses the legend and the
sources' date. This draws the same selection (or a saved view, where the reader arranged it) with matplotlib, which
escapes text in SVG itself and renders the same picture to PNG. Text is kept as text in the SVG (``svg.fonttype:
none``), so labels stay searchable and editable. Nothing from the data is ever read as markup or as matplotlib's
math syntax (``parse_math=False``): a company called ``$\\alpha$ <b>`` is drawn as those characters.

The styling follows the interactive map: one colour and shape per kind, one colour per relationship type, and
confidence drawn so that an alleged record never looks like a confirmed one (dashed for alleged, lighter for
reported).
"""

from __future__ import annotations

import io
import math
from collections import defaultdict

from statetech.graph.errors import StatetechError
from statetech.graph.maps import (
    LABEL_ALL_UP_TO, _confidence, _in_model_order, _plural, kind_style, layout_positions, newest_source_date,
    rel_colour,
)
from statetech.graph.model import NODE_KINDS, RELATIONSHIP_TYPES
from statetech.graph.selection import Filters, apply_filters
from statetech.graph.subgraph import Subgraph
from statetech.graph.views import MapView

FORMATS = ("svg", "png")
DEFAULT_WIDTH = 1600
DEFAULT_HEIGHT = 1100
# A picture is read, not explored: past this it is a hairball whatever the layout.
MAX_IMAGE_NODES = 2000
HUB_LABELS = 40
LABEL_CHARS = 32
# matplotlib marker per vis shape
MARKERS = {"square": "s", "dot": "o", "diamond": "D", "triangle": "^", "star": "*", "triangleDown": "v",
           "hexagon": "h"}
CONFIDENCE_STYLE = {
    "confirmed": {"alpha": 0.9, "linestyle": "solid"},
    "reported": {"alpha": 0.4, "linestyle": "solid"},
    "alleged": {"alpha": 0.8, "linestyle": (0, (4, 3))},
}


class VisualError(StatetechError):
    """A static picture could not be drawn as asked."""


def render_image(subgraph: Subgraph, fmt: str = "svg", *, title: str | None = None, view: MapView | None = None,
                 width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, data_date: str | None = None,
                 max_nodes: int = MAX_IMAGE_NODES) -> bytes:
    """The picture of ``subgraph`` as SVG or PNG bytes (``width`` x ``height`` pixels for PNG, the same in points/px
    for SVG). With ``view``, its positions and filters are used."""
    if fmt not in FORMATS:
        raise VisualError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not (200 <= width <= 10000 and 200 <= height <= 10000):
        raise VisualError(f"width and height must be 200 to 10,000 pixels, got {width} x {height}")
    sub = _apply_view_filters(subgraph, view) if view else subgraph
    if len(sub.nodes) > max_nodes:
        raise VisualError(f"this selection has {len(sub.nodes):,} nodes, more than a readable picture can hold "
                          f"(limit {max_nodes:,}); narrow it with --focus and --depth, --kinds or --rel-types, or "
                          f"draw the interactive map instead")
    title = title or (view.title if view else None) or subgraph.title or "statetech map"
    data_date = data_date or newest_source_date(sub) or "unknown"

    # Figure without pyplot: no global state, no GUI backend; savefig picks the renderer from the format.
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    positions = layout_positions(sub)
    if view:
        positions.update({node_id: xy for node_id, xy in view.positions.items() if node_id in sub.nodes})
    # vis-network's y axis points down, matplotlib's up
    xy = {node_id: (x, -y) for node_id, (x, y) in positions.items()}

    degree: dict[str, int] = defaultdict(int)
    for edge in sub.edges:
        degree[edge.source] += 1
        degree[edge.target] += 1

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "statetech", "font.family": "DejaVu Sans",
                                "text.usetex": False}):
        figure = Figure(figsize=(width / 100, height / 100), dpi=100)
        figure.patch.set_facecolor("white")
        axes = figure.add_axes((0.01, 0.06, 0.76, 0.84))
        axes.set_axis_off()
        _draw_edges(axes, sub, xy)
        kinds = _draw_nodes(axes, sub, xy, degree)
        _draw_labels(axes, sub, xy, degree, focus=(view.focus if view and view.focus else sub.focus))
        if xy:
            xs = [p[0] for p in xy.values()]
            ys = [p[1] for p in xy.values()]
            pad_x = max(60.0, (max(xs) - min(xs)) * 0.12)
            pad_y = max(40.0, (max(ys) - min(ys)) * 0.06)
            axes.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
            axes.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
        figure.text(0.01, 0.965, title, fontsize=16, fontweight="bold", va="top", parse_math=False,
                    wrap=True)
        dateline = (f"Data as of {data_date} \u00b7 {_plural(len(sub.nodes), 'node')} \u00b7 "
                    f"{_plural(len(sub.edges), 'relationship')} \u00b7 {_plural(len(_cited(sub)), 'source')}")
        left_out = sum(sub.truncated.values())
        if left_out:
            dateline += f" \u00b7 {_plural(left_out, 'more neighbour')} of hubs not drawn"
        figure.text(0.01, 0.925, dateline, fontsize=10, color="#555555", va="top", parse_math=False)
        figure.text(0.01, 0.02, "Drawn by statetech from sourced records; every node and relationship cites public "
                    "sources ('statetech map' for the interactive map with sources).", fontsize=8,
                    color="#777777", parse_math=False)
        _draw_legend(figure, sub, kinds, Line2D)
        buffer = io.BytesIO()
        if fmt == "svg":
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            figure.savefig(buffer, format="png", dpi=100, metadata={"Software": "statetech"})
    return buffer.getvalue()


def _apply_view_filters(sub: Subgraph, view: MapView) -> Subgraph:
    filters = Filters(exclude_kinds=frozenset(view.hidden_kinds), exclude_types=frozenset(view.hidden_types),
                      since=view.since, until=view.until)
    out = apply_filters(sub, filters)
    if view.confidence:
        shown = set(view.confidence)
        keep = {node_id for node_id, node in out.nodes.items()
                if node_id == out.focus or _confidence(node.properties) in shown}
        out.nodes = {node_id: node for node_id, node in out.nodes.items() if node_id in keep}
        out.edges = [edge for edge in out.edges if edge.source in keep and edge.target in keep
                     and _confidence(edge.properties) in shown]
    return out


def _cited(sub: Subgraph) -> set[str]:
    return sub.cited_source_ids() & set(sub.sources)


def _draw_edges(axes, sub: Subgraph, xy: dict[str, tuple[float, float]]) -> None:
    from matplotlib.collections import LineCollection

    groups: dict[tuple[str, str], list] = defaultdict(list)
    for edge in sub.edges:
        if edge.source in xy and edge.target in xy and edge.source != edge.target:
            groups[(edge.type, _confidence(edge.properties))].append((xy[edge.source], xy[edge.target]))
    for (rel_type, level), segments in sorted(groups.items()):
        style = CONFIDENCE_STYLE[level]
        axes.add_collection(LineCollection(segments, colors=rel_colour(rel_type), linewidths=1.1,
                                           linestyles=[style["linestyle"]], alpha=style["alpha"], zorder=1))


def _draw_nodes(axes, sub: Subgraph, xy, degree) -> dict[str, int]:
    by_group: dict[tuple[str, str], list[str]] = defaultdict(list)
    for node_id, node in sub.nodes.items():
        by_group[(node.kind, _confidence(node.properties))].append(node_id)
    for (kind, level), ids in sorted(by_group.items()):
        colour, shape = kind_style(kind)
        sizes = [_marker_area(degree[node_id]) for node_id in ids]
        axes.scatter([xy[i][0] for i in ids], [xy[i][1] for i in ids], s=sizes, c=colour,
                     marker=MARKERS.get(shape, "o"), edgecolors="#222222" if level == "alleged" else "#333333",
                     linewidths=1.2 if level == "alleged" else 0.6,
                     linestyles="--" if level == "alleged" else "-",
                     alpha=0.55 if level == "reported" else 1.0, zorder=2)
    counts: dict[str, int] = defaultdict(int)
    for node in sub.nodes.values():
        counts[node.kind] += 1
    return counts


def _marker_area(degree: int) -> float:
    return 60 + 40 * math.sqrt(degree)


def _label_text(name: str) -> str:
    text = " ".join(str(name).split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "\u2026"


def _draw_labels(axes, sub: Subgraph, xy, degree, focus: str | None) -> None:
    ids = sorted(sub.nodes, key=lambda n: (-degree[n], n))
    if len(ids) > LABEL_ALL_UP_TO:
        ids = ids[:HUB_LABELS]
    if focus in sub.nodes and focus not in ids:
        ids.append(focus)
    top = max((degree[n] for n in ids), default=1) or 1
    for node_id in ids:
        x, y = xy[node_id]
        size = 7 + 4 * math.sqrt(degree[node_id] / top)
        # above the marker: half its height (area in points squared) plus a gap
        lift = math.sqrt(_marker_area(degree[node_id])) / 2 + 2
        axes.annotate(_label_text(sub.nodes[node_id].name), (x, y), xytext=(0, lift), textcoords="offset points",
                      fontsize=size, ha="center", va="bottom", parse_math=False, zorder=3, color="#111111",
                      fontweight="bold" if node_id == focus else "normal",
                      bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.6})


def _draw_legend(figure, sub: Subgraph, kinds: dict[str, int], line_cls) -> None:
    handles = []
    for kind, count in _in_model_order(kinds, NODE_KINDS):
        colour, shape = kind_style(kind)
        handles.append(line_cls([], [], marker=MARKERS.get(shape, "o"), color=colour, linestyle="none",
                                markersize=9, label=f"{kind} ({count:,})"))
    legend = figure.legend(handles=handles, title="Kinds", loc="upper left", bbox_to_anchor=(0.78, 0.9),
                           frameon=False, fontsize=9, title_fontsize=10, alignment="left")
    for text in legend.get_texts():
        text.set_parse_math(False)
    types: dict[str, int] = defaultdict(int)
    for edge in sub.edges:
        types[edge.type] += 1
    type_handles = [line_cls([], [], color=rel_colour(rel_type), linewidth=2.5, label=f"{rel_type} ({count:,})")
                    for rel_type, count in _in_model_order(types, RELATIONSHIP_TYPES)]
    levels = [
        line_cls([], [], color="#333333", linewidth=2, label="confirmed (primary source)"),
        line_cls([], [], color="#333333", linewidth=2, alpha=0.4, label="reported (press)"),
        line_cls([], [], color="#333333", linewidth=2, linestyle=(0, (4, 3)), label="alleged (claims, leaks)"),
    ]
    offset = 0.9 - 0.028 * (len(handles) + 2)
    second = figure.legend(handles=type_handles + levels, title="Relationships and confidence", loc="upper left",
                           bbox_to_anchor=(0.78, offset), frameon=False, fontsize=8, title_fontsize=10,
                           alignment="left")
    for text in second.get_texts():
        text.set_parse_math(False)

