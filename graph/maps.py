"""Relationship maps: one self-contained, offline HTML file per subgraph.

pyvis builds the network (node and edge data, vis options); the page comes from statetech's own template, because
pyvis's template loads Bootstrap and vis-network from CDNs and builds tooltips from HTML strings. Here vis-network is
inlined from ``templates/``, a Content-Security-Policy allows only the page's own inline scripts (by hash) and no
request to any host, and every value from the data reaches the page as JSON in a non-executable script element that
the page renders with ``textContent``. A company called ``<img src=x onerror=alert(1)>`` shows as that text.

Hubs cannot freeze the page: above ``cap_above`` nodes, a node with more than ``max_neighbours`` neighbours keeps
only that many of the neighbours that connect to nothing else (the map says how many it left out); above
``freeze_above`` nodes physics stops once the layout settles; above ``max_nodes`` the request is refused with a
message saying how to narrow it.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import math
import re
from collections import defaultdict
from functools import lru_cache
from importlib.resources import files
from typing import Any

from statetech.graph.dates import is_partial_date
from statetech.graph.errors import StatetechError
from statetech.graph.model import CONFIDENCE_LEVELS, NODE_KINDS, RELATIONSHIP_DESCRIPTIONS, RELATIONSHIP_TYPES
from statetech.graph.selection import cap_hubs, contract_value, usd_amount
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode
from statetech.graph.views import MAX_VIEW_NODES, VIEW_VERSION, MapView

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), one shape per kind as a second cue.
KIND_STYLES: dict[str, tuple[str, str]] = {
    "Agency": ("#0072B2", "square"),
    "Company": ("#D55E00", "dot"),
    "Contract": ("#E69F00", "diamond"),
    "Product": ("#009E73", "triangle"),
    "EmployeeAction": ("#CC79A7", "star"),
    "Policy": ("#56B4E9", "triangleDown"),
    "Person": ("#7F7F7F", "hexagon"),
}
UNKNOWN_KIND_STYLE = ("#B0B0B0", "dot")

# Relationship colours by family: money (ambers), structure (blues/purples), technology (greens), workers (pinks),
# policy (steel blues).
REL_COLOURS: dict[str, str] = {
    "AWARDED": "#B07A00",
    "AWARDED_TO": "#C45A00",
    "SUBCONTRACTED_TO": "#D9914A",
    "CHILD_OF": "#9C8A5A",
    "FOR_PRODUCT": "#5E9C3A",
    "PART_OF": "#3B6EA8",
    "SUBSIDIARY_OF": "#7A4F9A",
    "SHARES_DATA_WITH": "#C0392B",
    "PROVIDES": "#2E8B57",
    "RUNS_ON": "#3F9C9C",
    "USES": "#1F77B4",
    "TARGETS": "#C2185B",
    "ORGANIZED_AT": "#AD6FA0",
    "CITES": "#8E5EA2",
    "PARTICIPATED_IN": "#B0709A",
    "WORKS_FOR": "#777777",
    "RESPONDED_TO": "#D4729B",
    "ISSUED": "#4C78A8",
    "GOVERNS": "#2A6F97",
}
UNKNOWN_REL_COLOUR = "#999999"

SIZE_BY = ("degree", "value")
# (up to this many nodes, (layout iterations, iterations per batch)) for physics in the browser, which starts from
# the server's layout and so needs far fewer rounds than from scratch; measured in benchmarks/bench_maps.py.
_STABILISATION = ((300, (150, 25)), (1000, (100, 10)), (5000, (60, 5)), (math.inf, (30, 1)))
DEFAULT_MAX_NEIGHBOURS = 40
DEFAULT_CAP_ABOVE = 300
DEFAULT_FREEZE_ABOVE = 1000
DEFAULT_MAX_NODES = 5000
EDGE_LABELS_UP_TO = 1500
SEARCH_LIST_UP_TO = 5000
LABEL_CHARS = 28
# Neighbours of capped hubs kept in an offline file for the reader to reveal (beyond it: statetech serve).
DEFAULT_RESERVE_LIMIT = 2000
# The most nodes a page draws at once, however they got there (expansions included); a saved view holds as many.
MAX_DRAWN_NODES = MAX_VIEW_NODES
EXPAND_PAGE = 40
# Labels the page places are drawn at MIN_LABEL_PX on screen whatever the zoom (map.js keepLabelsLegible); static
# pictures label every node up to LABEL_ALL_UP_TO nodes, the best-connected ones above.
LABEL_ALL_UP_TO = 150
MIN_LABEL_PX = 11
# Layout: exact spring layout up to this many nodes, sampled forces above; about this many units between nodes.
EXACT_LAYOUT_UP_TO = 400
NODE_SPACING = 70
LIVE_KEYS = ("expandUrl", "entityUrl", "sourceUrl", "viewUrl")
LABEL_COLOUR = "#1a1a1a"
# Properties shown elsewhere in the page (heading, badge, sources list), so not repeated in the property table.
_NODE_KEYS_SHOWN = frozenset({"id", "kind", "name", "sources"})
_EDGE_KEYS_SHOWN = frozenset({"id", "from", "to", "type", "sources"})


class MapError(StatetechError):
    """A map could not be drawn as asked."""


class MapTooLarge(MapError):
    """The selection is larger than a browser can lay out smoothly."""


def render_map(subgraph: Subgraph, *, title: str | None = None, data_date: str | None = None,
               size_by: str = "degree", max_neighbours: int | None = DEFAULT_MAX_NEIGHBOURS,
               cap_above: int | None = DEFAULT_CAP_ABOVE, max_nodes: int | None = DEFAULT_MAX_NODES,
               physics: bool = True, freeze_above: int | None = DEFAULT_FREEZE_ABOVE,
               edge_labels: bool | None = None, view: MapView | None = None,
               reserve_limit: int = DEFAULT_RESERVE_LIMIT) -> str:
    """The map of ``subgraph`` as one HTML document (a string; the CLI writes it to a file).

    ``title`` defaults to the subgraph's; ``data_date`` to the newest date its sources were accessed or published.
    ``size_by`` is ``"degree"`` or ``"value"`` (contract money: a contract's own value, an agency's or vendor's
    total over the contracts linked to it). ``physics=False`` stops the simulation once the layout settles, as
    happens anyway above ``freeze_above`` nodes. ``edge_labels`` defaults to on up to 1,500 relationships.

    Above ``cap_above`` nodes (at any size when it is None) hubs keep at most ``max_neighbours`` of their leaf
    neighbours (:func:`~statetech.graph.selection.cap_hubs`; None never caps); up to ``reserve_limit`` of the
    neighbours left out stay in the file, so a reader can reveal them hub by hub. More than ``max_nodes`` nodes
    after capping raises :class:`MapTooLarge` (None lifts the limit). A saved ``view`` draws its nodes where they
    were, with its filters on and physics off.
    """
    data = map_data(subgraph, title=title, data_date=data_date, size_by=size_by, max_neighbours=max_neighbours,
                    cap_above=cap_above, max_nodes=max_nodes, physics=physics, freeze_above=freeze_above,
                    edge_labels=edge_labels, view=view, reserve_limit=reserve_limit)
    return _render_page(data=data, **map_body_context(data))


def map_data(subgraph: Subgraph, *, title: str | None = None, live: dict[str, str] | None = None,
             view: MapView | None = None, data_date: str | None = None, size_by: str = "degree",
             max_neighbours: int | None = DEFAULT_MAX_NEIGHBOURS, cap_above: int | None = DEFAULT_CAP_ABOVE,
             max_nodes: int | None = DEFAULT_MAX_NODES, physics: bool = True,
             freeze_above: int | None = DEFAULT_FREEZE_ABOVE, edge_labels: bool | None = None,
             reserve_limit: int = DEFAULT_RESERVE_LIMIT) -> dict[str, Any]:
    """The JSON the map front end (``templates/map.js``) reads from ``<script id="statetech-data">``.

    The offline page (:func:`render_map`) and the explorer (``statetech serve``) both draw from this. ``live`` (the
    explorer's URLs: ``expandUrl``, ``entityUrl``, ``sourceUrl``, ``viewUrl``) turns on expansion from the server
    and links to entity and source pages; without it, capped hubs expand from the neighbours kept in the data.
    """
    if size_by not in SIZE_BY:
        raise MapError(f"size_by must be one of {', '.join(SIZE_BY)}, got {size_by!r}")
    if live is not None:
        unknown = set(live) - set(LIVE_KEYS)
        if unknown or not all(isinstance(v, str) for v in live.values()):
            raise MapError(f"live settings take text values for {', '.join(LIVE_KEYS)}; got {sorted(live)}")
    original_nodes = len(subgraph.nodes)
    sub = subgraph
    if view is None and max_neighbours is not None and (cap_above is None or original_nodes > cap_above):
        sub = cap_hubs(subgraph, max_neighbours)
    if max_nodes is not None and len(sub.nodes) > max_nodes:
        after = f" ({original_nodes:,} before capping hubs)" if len(sub.nodes) != original_nodes else ""
        raise MapTooLarge(
            f"this selection has {len(sub.nodes):,} nodes{after}, more than a map can lay out smoothly in a browser "
            f"(limit {max_nodes:,}); narrow it with --focus and --depth, a --query, --kinds, --rel-types or "
            f"--since/--until, lower --max-neighbours, raise --max-nodes, or use 'statetech export --format gexf' "
            f"and open it in Gephi")
    title = title or (view.title if view else None) or subgraph.title or "statetech map"
    data_date = data_date or newest_source_date(sub) or _dt.date.today().isoformat()
    large = freeze_above is not None and len(sub.nodes) > freeze_above
    if edge_labels is None:
        edge_labels = len(sub.edges) <= EDGE_LABELS_UP_TO
    focus = view.focus if view and view.focus else sub.focus

    sizes = _size_values(sub, size_by)
    nodes, edges, options = _pyvis_network(sub, sizes, edge_labels=edge_labels, large=large, focus=focus)
    positions = layout_positions(sub)
    if view is not None:
        positions.update(view.positions)
    for node in nodes:
        x, y = positions.get(node["id"], (0.0, 0.0))
        node["x"], node["y"] = round(x, 1), round(y, 1)
    # live maps expand from the server; only an offline file carries the left-out neighbours itself
    reserve = (_reserve(subgraph, sub, reserve_limit, edge_labels=edge_labels)
               if sub is not subgraph and live is None else None)
    if reserve:
        # kept-back neighbours draw with the same groups as the rest
        kinds_kept = {item["group"] for item in reserve["nodes"]}
        for kind in kinds_kept - set(options["groups"]):
            options["groups"][kind] = _group_options(kind)
    drawn_edges = {edge["id"] for edge in edges}
    drawn = [edge for edge in sub.edges if edge.id in drawn_edges]
    kinds_present = _counts(node.kind for node in sub.nodes.values())
    types_present = _counts(edge.type for edge in drawn)
    cited = _cited(sub.nodes.values(), drawn)
    left_out = sum(sub.truncated.values())
    dateline = (f"Data as of {data_date} \u00b7 {_plural(len(nodes), 'node')} \u00b7 "
                f"{_plural(len(drawn), 'relationship')} \u00b7 {_plural(len(cited), 'source')}")
    if left_out:
        dateline += (f" \u00b7 {_plural(left_out, 'more neighbour')} of {_plural(len(sub.truncated), 'hub')} "
                     f"not drawn")
    # physics runs (from the precomputed layout) only on small maps that are not a saved arrangement
    physics_on = physics and not large and view is None
    options["physics"]["enabled"] = physics_on
    settings: dict[str, Any] = {
        "title": title,
        "dateline": dateline,
        "dataDate": data_date,
        "focus": focus,
        "physics": physics_on,
        "freezeAfterLayout": large or not physics or view is not None,
        "searchList": len(sub.nodes) <= SEARCH_LIST_UP_TO,
        "fileStem": _slug(title),
        "notices": _notices(sub, max_neighbours, large=large, physics=physics, edge_labels=edge_labels,
                            reserve=reserve, live=live is not None, view=view is not None),
        "maxDrawn": max(MAX_DRAWN_NODES, len(nodes)),
        "expandPage": EXPAND_PAGE,
        "minLabelPx": MIN_LABEL_PX,
        "confidenceLevels": list(CONFIDENCE_LEVELS),
        "live": dict(live) if live else None,
        "view": view.as_dict() if view else None,
        "version": VIEW_VERSION,
    }
    return {
        "nodes": nodes,
        "edges": edges,
        "options": options,
        "entities": {node.id: _entity_record(node, sub.truncated.get(node.id, 0)) for node in sub.nodes.values()},
        "relationships": {edge.id: _relationship_record(edge) for edge in drawn},
        "sources": {sid: _plain(record) for sid, record in sorted(subgraph.sources.items())
                    if sid in cited or (reserve and sid in reserve["cited"])},
        "kinds": [{"kind": kind, "colour": kind_style(kind)[0], "shape": kind_style(kind)[1], "count": count}
                  for kind, count in _in_model_order(kinds_present, NODE_KINDS)],
        "types": [{"type": rel_type, "colour": rel_colour(rel_type), "count": count,
                   "description": RELATIONSHIP_DESCRIPTIONS.get(rel_type, "")}
                  for rel_type, count in _in_model_order(types_present, RELATIONSHIP_TYPES)],
        "styles": _style_catalogue(),
        "reserve": ({key: value for key, value in reserve.items() if key != "cited"} if reserve else None),
        "settings": settings,
    }


def map_fragment(subgraph: Subgraph, *, edge_labels: bool = True) -> dict[str, Any]:
    """Nodes, edges, entities, relationships and sources of ``subgraph`` in :func:`map_data`'s per-item format, for
    merging into a map that is already drawn (the explorer's expand endpoint). No positions: the page places new
    nodes around the one that was expanded."""
    sizes = _size_values(subgraph, "degree")
    nodes, edges, _options = _pyvis_network(subgraph, sizes, edge_labels=edge_labels, large=False,
                                            focus=None, network_options=False)
    drawn_edges = {edge["id"] for edge in edges}
    drawn = [edge for edge in subgraph.edges if edge.id in drawn_edges]
    cited = _cited(subgraph.nodes.values(), drawn)
    return {
        "nodes": nodes,
        "edges": edges,
        "entities": {node.id: _entity_record(node, subgraph.truncated.get(node.id, 0))
                     for node in subgraph.nodes.values()},
        "relationships": {edge.id: _relationship_record(edge) for edge in drawn},
        "sources": {sid: _plain(record) for sid, record in sorted(subgraph.sources.items()) if sid in cited},
    }


def map_body_context(data: dict[str, Any]) -> dict[str, Any]:
    """The variables ``templates/map_body.html`` needs, from :func:`map_data`'s result."""
    settings = data["settings"]
    return {
        "title": settings["title"],
        "dateline": settings["dateline"],
        "notices": settings["notices"],
        "physics_checked": settings["physics"],
        "map_label": f"Relationship map: {len(data['nodes']):,} nodes and {len(data['edges']):,} relationships",
        "initial_status": "Laying out the map\u2026" if data["nodes"] else "This selection has no nodes.",
    }


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _cited(nodes, edges) -> set[str]:
    cited: set[str] = set()
    for item in (*nodes, *edges):
        cited.update(item.sources)
    return cited


def _reserve(original: Subgraph, capped: Subgraph, limit: int, *, edge_labels: bool) -> dict[str, Any] | None:
    """The neighbours :func:`cap_hubs` left out, per hub in the order it ranks them (biggest contracts first), up to
    ``limit`` in all: what an offline map reveals when a reader expands a hub."""
    if limit <= 0:
        return None
    dropped = set(original.nodes) - set(capped.nodes)
    by_hub: dict[str, list[str]] = defaultdict(list)
    edges_of: dict[str, list[SubgraphEdge]] = defaultdict(list)
    for edge in original.edges:
        if edge.source in dropped and edge.target in capped.nodes:
            by_hub[edge.target].append(edge.source)
            edges_of[edge.source].append(edge)
        elif edge.target in dropped and edge.source in capped.nodes:
            by_hub[edge.source].append(edge.target)
            edges_of[edge.target].append(edge)
    hubs: dict[str, list[str]] = {}
    kept: list[str] = []
    # hubs with the most left out first, so the biggest hubs get their share of the limit
    for hub in sorted(by_hub, key=lambda h: (-len(by_hub[h]), h)):
        leaves = sorted(set(by_hub[hub]), key=lambda n: (-contract_value(original.nodes[n]),
                                                         original.nodes[n].name, n))
        room = limit - len(kept)
        if room <= 0:
            break
        hubs[hub] = leaves[:room]
        kept.extend(hubs[hub])
    part = Subgraph(title=original.title)
    for node_id in kept:
        part.add_node(original.nodes[node_id])
        for edge in edges_of[node_id]:
            part.edges.append(edge)
    # the hubs come along so their relationships to the kept-back nodes are drawn; they are already on the map
    for hub in hubs:
        part.add_node(capped.nodes[hub])
    part.sources = original.sources
    fragment = map_fragment(part, edge_labels=edge_labels)
    fragment["nodes"] = [node for node in fragment["nodes"] if node["id"] not in hubs]
    for hub in hubs:
        fragment["entities"].pop(hub, None)
    cited = set(fragment.pop("sources"))
    return {"hubs": hubs, **fragment, "cited": cited}


def _style_catalogue() -> dict[str, Any]:
    """Colour and shape of every kind and type the model has, for kinds and types that arrive with an expansion."""
    return {
        "kinds": {kind: {"colour": kind_style(kind)[0], "shape": kind_style(kind)[1]} for kind in NODE_KINDS},
        "types": {rel_type: {"colour": rel_colour(rel_type),
                             "description": RELATIONSHIP_DESCRIPTIONS.get(rel_type, "")}
                  for rel_type in RELATIONSHIP_TYPES},
        "kindOrder": list(NODE_KINDS),
        "typeOrder": list(RELATIONSHIP_TYPES),
    }


# ---- server-side layout ------------------------------------------------------------------------------------------


def layout_positions(sub: Subgraph, *, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Positions in the map's units, so the page draws at once without running physics to find a layout.

    Up to ``EXACT_LAYOUT_UP_TO`` nodes this is networkx's spring layout (Fruchterman-Reingold); above it the same
    forces with repulsion estimated from a random sample of nodes each round (every pair costs too much at 2,000
    nodes on a busy machine; sampling keeps the cost linear). Spread grows with the square root of the node count
    so the average spacing stays about ``NODE_SPACING`` units whatever the size.
    """
    ids = sorted(sub.nodes)
    n = len(ids)
    if n == 0:
        return {}
    if n == 1:
        return {ids[0]: (0.0, 0.0)}
    star = _star_layout(sub, ids)
    if star is not None:
        return star
    index = {node_id: i for i, node_id in enumerate(ids)}
    pairs = sorted({tuple(sorted((index[e.source], index[e.target]))) for e in sub.edges
                    if e.source in index and e.target in index and e.source != e.target})
    if n <= EXACT_LAYOUT_UP_TO:
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(pairs)
        raw = nx.spring_layout(graph, seed=seed, iterations=100)
        coords = [raw[i] for i in range(n)]
    else:
        coords = _sampled_force_layout(n, pairs, seed=seed)
    xs = [float(c[0]) for c in coords]
    ys = [float(c[1]) for c in coords]
    cx, cy = sum(xs) / n, sum(ys) / n
    spread = max(max(abs(x - cx) for x in xs), max(abs(y - cy) for y in ys)) or 1.0
    scale = NODE_SPACING * math.sqrt(n) / 2 / spread
    return {node_id: ((xs[i] - cx) * scale, (ys[i] - cy) * scale) for i, node_id in enumerate(ids)}


def _star_layout(sub: Subgraph, ids: list[str]) -> dict[str, tuple[float, float]] | None:
    """An entity's neighbourhood (every relationship touches the focus, as on an entity page) laid out as rings
    around it, neighbours grouped by kind, then id; None for any other shape.

    A spring layout of a star settles into roughly this anyway, but costs 15 ms at 60 neighbours and 50 ms at 120,
    held on the web server's one interpreter lock for every entity page; rings cost microseconds and keep the
    spacing between neighbours even, so their labels stay apart.
    """
    focus = sub.focus
    if focus not in sub.nodes or len(ids) < 3:
        return None
    if any(e.source != focus and e.target != focus for e in sub.edges):
        return None
    others = sorted((node_id for node_id in ids if node_id != focus), key=lambda i: (sub.nodes[i].kind, i))
    positions: dict[str, tuple[float, float]] = {focus: (0.0, 0.0)}
    spacing = NODE_SPACING * 1.5
    placed, ring = 0, 1
    while placed < len(others):
        radius = ring * spacing * 1.6
        room = max(6, int(2 * math.pi * radius / spacing))
        members = others[placed:placed + room]
        # alternate rings start half a step round, so neighbours on adjacent rings do not line up
        start = (math.pi / len(members)) * (ring % 2 == 0)
        for i, node_id in enumerate(members):
            angle = start + 2 * math.pi * i / len(members) - math.pi / 2
            positions[node_id] = (radius * math.cos(angle), radius * math.sin(angle))
        placed += len(members)
        ring += 1
    return positions


def _sampled_force_layout(n: int, pairs: list[tuple[int, int]], *, seed: int, iterations: int = 60,
                          sample: int = 150):
    import numpy as np

    rng = np.random.default_rng(seed)
    k = 1.0
    pos = (rng.random((n, 2)) - 0.5) * math.sqrt(n)
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    temperature = math.sqrt(n) / 10
    sample = min(sample, n)
    for _ in range(iterations):
        chosen = rng.choice(n, size=sample, replace=False)
        delta = pos[:, None, :] - pos[None, chosen, :]
        dist2 = np.maximum((delta ** 2).sum(axis=2), 1e-4)
        disp = (delta * (k * k / dist2)[:, :, None]).sum(axis=1) * (n / sample)
        if len(edges):
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            length = np.sqrt((d ** 2).sum(axis=1))[:, None]
            pull = d * length / k
            np.add.at(disp, edges[:, 0], -pull)
            np.add.at(disp, edges[:, 1], pull)
        # a weak pull to the centre keeps separate components from drifting apart
        disp -= pos * 0.05
        length = np.maximum(np.sqrt((disp ** 2).sum(axis=1)), 1e-9)[:, None]
        pos += disp / length * np.minimum(length, temperature)
        temperature *= 0.95
    return pos


# ---- pyvis network -----------------------------------------------------------------------------------------------


class _IndexedIds(list):
    """pyvis keeps node ids in a list and tests membership on every add_node and add_edge, which is quadratic on a
    20,000-node map; a set beside the list makes those tests constant-time."""

    def __init__(self) -> None:
        super().__init__()
        self._index: set[Any] = set()

    def append(self, item: Any) -> None:
        super().append(item)
        self._index.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._index


def _pyvis_network(sub: Subgraph, sizes: dict[str, float], *, edge_labels: bool, large: bool,
                   focus: str | None, network_options: bool = True) -> tuple[list[dict], list[dict], dict]:
    from pyvis.network import Network

    # directed=True also stops pyvis merging a pair's relationships into one edge (it does for undirected graphs).
    net = Network(height="100%", width="100%", directed=True)
    net.node_ids = _IndexedIds()
    for node in sorted(sub.nodes.values(), key=lambda n: n.id):
        colour, shape = kind_style(node.kind)
        label = _short(node.name)
        left_out = sub.truncated.get(node.id, 0)
        if left_out:
            label += f"\n(+{left_out:,} not shown)"
        extra: dict[str, Any] = {"confidence": _confidence(node.properties)}
        if node.id == focus:
            extra.update(borderWidth=4, focus=True)
        net.add_node(node.id, label=label, shape=shape, group=node.kind, value=sizes.get(node.id, 0), **extra)
    drawn: set[str] = set()
    for edge, smooth in zip(sub.edges, _curves(sub.edges)):
        # vis refuses a whole DataSet over one repeated id, so a repeat or a dangling edge is left out, not fatal
        if edge.id in drawn or edge.source not in sub.nodes or edge.target not in sub.nodes:
            continue
        drawn.add(edge.id)
        colour = rel_colour(edge.type)
        extra = {"label": edge.type} if edge_labels else {}
        extra["confidence"] = _confidence(edge.properties)
        if smooth is not None:
            extra["smooth"] = smooth
        # One colour string sets vis's normal, highlight and hover colours alike.
        net.add_edge(edge.source, edge.target, id=edge.id, color=colour, **extra)

    n = len(sub.nodes)
    # ForceAtlas2 (Gephi's layout) pulls the clusters around each vendor and agency apart; overlap avoidance costs
    # too much on big maps.
    net.force_atlas_2based(gravity=-40 if large else -90, central_gravity=0.008 if large else 0.005,
                           spring_length=80 if large else 120, spring_strength=0.06, damping=0.5,
                           overlap=0 if large else 0.4)
    net.toggle_hide_edges_on_drag(large)
    net.toggle_stabilization(True)
    nodes, edges, _heading, _height, _width, options_json = net.get_network_data()
    # pyvis writes a shape on every node and arrows on every edge; the groups and edge options below say the same
    # once, which keeps a 20,000-node page a few MB smaller.
    for node in nodes:
        node.pop("shape", None)
    for edge in edges:
        edge.pop("arrows", None)
    if not network_options:
        return nodes, edges, {}
    options = json.loads(options_json)
    options.pop("configure", None)
    options["physics"]["enabled"] = True
    options["physics"]["minVelocity"] = 0.75
    # Fewer layout iterations on bigger maps, and fewer per batch: the browser handles input between batches, so a
    # big map lays out visibly instead of freezing the tab.
    iterations, per_batch = next(setting for limit, setting in _STABILISATION if n <= limit)
    options["physics"]["stabilization"].update(iterations=iterations, updateInterval=per_batch, fit=True)
    options["edges"] = {
        "smooth": {"enabled": False},
        "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
        "color": {"inherit": False},
        "width": 1.2,
        "selectionWidth": 1.5,
        "hoverWidth": 0.8,
        "font": {"size": 10, "color": "#555555", "strokeWidth": 3, "strokeColor": "#ffffff", "align": "middle"},
    }
    options["nodes"] = {
        "borderWidth": 1.5,
        # Label sizes are set by the page from the zoom (map.js keepLabelsLegible), so hubs stay legible when the
        # whole map is in view; labels smaller than drawThreshold on screen are not drawn at all.
        "scaling": {"min": 9, "max": 42, "label": {"enabled": False, "drawThreshold": 8, "maxVisible": 22}},
        "font": {"size": 13, "face": "system-ui, sans-serif", "color": LABEL_COLOUR, "strokeWidth": 3,
                 "strokeColor": "#ffffff"},
    }
    options["groups"] = {kind: _group_options(kind) for kind in sorted({node.kind for node in sub.nodes.values()})}
    options["interaction"].update({"hover": True, "hoverConnectedEdges": True, "tooltipDelay": 150,
                                   "hideEdgesOnZoom": large, "multiselect": False,
                                   "keyboard": {"enabled": True, "bindToWindow": False}})
    options["layout"] = {"randomSeed": 7, "improvedLayout": n <= 150}
    return nodes, edges, options


def _group_options(kind: str) -> dict[str, Any]:
    return {"shape": kind_style(kind)[1], "color": _group_colour(kind_style(kind)[0])}


def _confidence(properties: dict[str, Any]) -> str:
    """The record's confidence; a record without one is drawn as the least certain, never as confirmed."""
    value = properties.get("confidence")
    return value if value in CONFIDENCE_LEVELS else "alleged"


def _curves(edges: list[SubgraphEdge]) -> list[dict | None]:
    """Straight lines for a pair's only relationship; alternating curves when a pair has several."""
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, edge in enumerate(edges):
        by_pair[tuple(sorted((edge.source, edge.target)))].append(index)
    smooth: list[dict | None] = [None] * len(edges)
    for (first, _second), indexes in by_pair.items():
        if len(indexes) < 2:
            continue
        offsets = [0] if len(indexes) % 2 else []
        step = 1
        while len(offsets) < len(indexes):
            offsets.extend((step, -step))
            step += 1
        for index, offset in zip(indexes, offsets):
            if offset == 0:
                continue
            # Flip for edges drawn the other way round, so curves of one pair fan out on both sides.
            clockwise = (offset > 0) == (edges[index].source == first)
            smooth[index] = {"enabled": True, "type": "curvedCW" if clockwise else "curvedCCW",
                             "roundness": round(0.18 * abs(offset), 2)}
    return smooth


def _size_values(sub: Subgraph, size_by: str) -> dict[str, float]:
    """vis ``value`` per node: sqrt of the degree, or log10 of contract money, so a few giants do not dwarf the rest."""
    if size_by == "degree":
        degree: dict[str, int] = defaultdict(int)
        for edge in sub.edges:
            degree[edge.source] += 1
            degree[edge.target] += 1
        return {node_id: round(math.sqrt(degree[node_id] + sub.truncated.get(node_id, 0)), 3)
                for node_id in sub.nodes}
    money = {node_id: contract_value(node) for node_id, node in sub.nodes.items()}
    totals: dict[str, float] = defaultdict(float)
    for edge in sub.edges:
        if edge.type == "AWARDED" and edge.target in money:
            totals[edge.source] += money[edge.target]
        elif edge.type in ("AWARDED_TO", "SUBCONTRACTED_TO"):
            amount = usd_amount(edge.properties.get("amount_usd"))
            totals[edge.target] += amount if amount else money.get(edge.source, 0.0)
    return {node_id: round(math.log10(1 + (money[node_id] or totals.get(node_id, 0.0))), 3) for node_id in sub.nodes}


# ---- page data ---------------------------------------------------------------------------------------------------


def _entity_record(node: SubgraphNode, truncated: int) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "name": node.name,
        "props": {k: _plain(v) for k, v in sorted(node.properties.items()) if k not in _NODE_KEYS_SHOWN},
        "sources": node.sources,
        "truncated": truncated,
    }


def _relationship_record(edge: SubgraphEdge) -> dict[str, Any]:
    return {
        "type": edge.type,
        "from": edge.source,
        "to": edge.target,
        "props": {k: _plain(v) for k, v in sorted(edge.properties.items()) if k not in _EDGE_KEYS_SHOWN},
        "sources": edge.sources,
    }


def _plain(value: Any) -> Any:
    """JSON-safe values: non-finite numbers become null, anything unusual becomes its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def _notices(sub: Subgraph, max_neighbours: int | None, *, large: bool, physics: bool, edge_labels: bool,
             reserve: dict[str, Any] | None = None, live: bool = False, view: bool = False) -> list[str]:
    notices = []
    if sub.truncated:
        left_out = sum(sub.truncated.values())
        hubs = len(sub.truncated)
        cap = f" (at most {max_neighbours} each)" if max_neighbours is not None else ""
        if live:
            how = "Expand a hub to draw more of them."
        elif reserve:
            kept = sum(len(ids) for ids in reserve["hubs"].values())
            how = (f"{kept:,} of them are kept in this file: select a hub and press Expand to draw them."
                   if kept < left_out else "Select a hub and press Expand to draw them.")
        else:
            how = "Narrow the selection or raise --max-neighbours to see them."
        notices.append(f"{left_out:,} neighbour{'s' if left_out != 1 else ''} of {hubs:,} "
                       f"hub{'s' if hubs != 1 else ''} left out to keep the map responsive{cap}; each hub's label "
                       f"says how many. {how}")
    if view:
        notices.append("A saved view: nodes are where they were saved and physics is off; tick Physics to move them.")
    if large:
        notices.append(f"{len(sub.nodes):,} nodes: laid out in advance, physics off; tick Physics to start it.")
    elif not physics and not view:
        notices.append("Physics stops once the layout settles; tick Physics to resume it.")
    if not edge_labels and sub.edges:
        notices.append("Relationship labels are off at this size; colours and the Relationships legend show types.")
    return notices


def newest_source_date(sub: Subgraph) -> str | None:
    """The newest date on which a cited source was accessed (or, failing that, published)."""
    dates = [str(record.get("accessed") or record.get("published") or "") for record in sub.sources.values()]
    dates = [d for d in dates if is_partial_date(d)]
    return max(dates) if dates else None


def kind_style(kind: str) -> tuple[str, str]:
    return KIND_STYLES.get(kind, UNKNOWN_KIND_STYLE)


def rel_colour(rel_type: str) -> str:
    return REL_COLOURS.get(rel_type, UNKNOWN_REL_COLOUR)


def _group_colour(colour: str) -> dict[str, Any]:
    border = _darken(colour, 0.7)
    return {"background": colour, "border": border,
            "highlight": {"background": colour, "border": "#111111"},
            "hover": {"background": colour, "border": "#111111"}}


def _darken(colour: str, factor: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(c * factor) for c in (r, g, b)))


def _counts(values) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


def _in_model_order(counts: dict[str, int], model_order) -> list[tuple[str, int]]:
    order = {name: i for i, name in enumerate(model_order)}
    return sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "\u2026"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "statetech-map"


# ---- the page ----------------------------------------------------------------------------------------------------


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and U+2028/9 are written as escapes, so
    no value can close the element or start markup."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# vis-network comes from the pyvis wheel (pinned in pyproject.toml), which ships it for offline use; the project
# keeps no copy of third-party code of its own.
VIS_NETWORK_VERSION = "9.1.2"


MAP_ASSETS = ("vis-network.min.js", "map.js", "map.css")


def map_asset(name: str) -> str:
    """The text of one of the map front end's static files (the explorer serves them from /static/)."""
    if name not in MAP_ASSETS:
        raise MapError(f"no map asset called {name!r}; there are {', '.join(MAP_ASSETS)}")
    return _asset(name)


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    if name == "vis-network.min.js":
        source = files("pyvis") / "lib" / f"vis-{VIS_NETWORK_VERSION}" / name
    else:
        source = files("statetech.graph") / "templates" / name
    text = source.read_text(encoding="utf-8")
    if name.endswith(".js") and re.search(r"</script|<!--", text, re.IGNORECASE):
        raise MapError(f"templates/{name} contains '</script' or '<!--' and cannot be inlined")
    return text


@lru_cache(maxsize=None)
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(files("statetech.graph") / "templates")),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    return env.get_template("map.html")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@lru_cache(maxsize=None)
def _static_parts() -> tuple[str, str, str, str]:
    vis_js, app_js, css = _asset("vis-network.min.js"), _asset("map.js"), _asset("map.css")
    # Only these two scripts may run and this one stylesheet apply; no fetch, image, font or frame from anywhere.
    csp = ("default-src 'none'; "
           f"script-src {_csp_hash(vis_js)} {_csp_hash(app_js)}; "
           f"style-src {_csp_hash(css)}; "
           "img-src data: blob:; base-uri 'none'; form-action 'none'")
    return vis_js, app_js, css, csp


def _render_page(*, data: dict[str, Any], **fields: Any) -> str:
    from markupsafe import Markup

    from statetech import __version__

    vis_js, app_js, css, csp = _static_parts()
    return _template().render(
        csp=csp,
        version=__version__,
        css=Markup(css),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
        data_json=Markup(script_json(data)),
        footer=("Drawn by statetech from sourced records; every node and relationship lists its sources. "
                f"vis-network {VIS_NETWORK_VERSION} (Apache-2.0 / MIT, shipped by pyvis) is embedded."),
        **fields,
    )
