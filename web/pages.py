"""One function per explorer page: library calls in, one dict out (rendered as HTML or returned as JSON).

Request values arrive as text; the library checks them and raises the statetech error a person can act on, which
the app turns into a 400/404 page or JSON error. Keys starting with ``_`` are for the HTML page only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from statetech.graph import explore
from statetech.graph.errors import QueryError
from statetech.web import mapdata

SEARCH_PAGE_LIMIT = 50
TYPEAHEAD_LIMIT = 8
MAP_PARAM_PREFIX = "param."


def home_data(graph, catalog) -> dict[str, Any]:
    return explore.home(graph, catalog=catalog)


def search_data(graph, text: str, kinds: str, limit: str) -> dict[str, Any]:
    limit_n = explore.check_limit(limit, default=SEARCH_PAGE_LIMIT, maximum=explore.MAX_SEARCH_LIMIT)
    return explore.search_page(graph, text, limit=limit_n, kinds=kinds or None)


def entity_data(graph, entity_id: str, per_group: str = "") -> dict[str, Any]:
    page = explore.entity_page(graph, entity_id, per_group=per_group or explore.GROUP_PAGE)
    sub = explore.page_subgraph(graph, page)
    page["map_nodes"] = len(sub.nodes)
    page["_map"] = mapdata.map_data(sub, title=sub.title, live=mapdata.LIVE)
    return page


def relationships_data(graph, entity_id: str, rel_type: str, direction: str, offset: str, limit: str
                       ) -> dict[str, Any]:
    if not rel_type:
        raise QueryError("give the relationship type: ?type=AWARDED&direction=out")
    return explore.relationship_page(graph, entity_id, rel_type, direction or "out", offset=offset or 0,
                                     limit=limit or 50)


def timeline_data(graph, entity_id: str, offset: str, limit: str) -> dict[str, Any]:
    return explore.timeline(graph, entity_id, offset=offset or 0, limit=limit or explore.TIMELINE_PAGE)


def source_data(graph, source_id: str, offset: str, limit: str) -> dict[str, Any]:
    return explore.source_page(graph, source_id, offset=offset or 0, limit=limit or explore.SOURCE_PAGE)


def queries_data(catalog) -> dict[str, Any]:
    return {"queries": explore.query_list(catalog)}


def query_data(graph, catalog, name: str, params: dict[str, str]) -> dict[str, Any]:
    params = dict(params)
    run_flag = params.pop("run", None)
    run = True if run_flag else None
    page = explore.query_page(graph, catalog, name, params, run=run)
    page["table_rows"] = mapdata.TABLE_ROWS
    query_string = urlencode(page["params"])
    page["downloads"] = {fmt: f"/download/{fmt}/{page['name']}" + (f"?{query_string}" if query_string else "")
                         for fmt in ("csv", "json", "jsonl", "gexf")} if page["ran"] else {}
    map_params = urlencode({"query": page["name"], **{MAP_PARAM_PREFIX + k: v for k, v in page["params"].items()}})
    page["map_url"] = f"/map?{map_params}" if page["ran"] and page.get("has_entities") else None
    return page


def download_data(graph, catalog, name: str, fmt: str, params: dict[str, str]) -> tuple[bytes, str, str]:
    from statetech.graph.formats import MEDIA_TYPES, ROW_FORMATS, render_rows

    stem = name.replace("/", "-")
    if fmt == "gexf":
        return explore.query_gexf(graph, catalog, name, params), "application/gexf+xml", f"{stem}.gexf"
    if fmt not in ROW_FORMATS:
        raise QueryError(f"unknown download format {fmt!r}; use csv, json, jsonl or gexf")
    text = render_rows(explore.run_stored_query(graph, catalog, name, params), fmt)
    media = MEDIA_TYPES[fmt] + "; charset=utf-8"
    return text.encode("utf-8"), media, f"{stem}.{fmt}"


def path_data(graph, origin: str, destination: str, max_hops: str, limit: str) -> dict[str, Any]:
    origin, destination = (origin or "").strip(), (destination or "").strip()
    page: dict[str, Any] = {"from": origin, "to": destination, "max_hops": max_hops or 6, "limit": limit or 5,
                            "result": None}
    if not origin and not destination:
        return page
    if not origin or not destination:
        raise QueryError("give both ends: /path?from=agency:ice&to=company:microsoft")
    hops = explore.check_limit(max_hops, default=6, maximum=10, what="max_hops")
    count = explore.check_limit(limit, default=5, maximum=50, what="limit")
    connections, sub = explore.path_between(graph, origin, destination, max_hops=hops, limit=count)
    page.update(max_hops=hops, limit=count, result=connections.as_dict())
    if connections.paths:
        page["_map"] = mapdata.map_data(sub, title=sub.title, live=mapdata.LIVE)
    return page


def map_data_for(graph, catalog, params: dict[str, str]) -> dict[str, Any]:
    """A map around a focus (``focus``, ``depth``, ``max_neighbours``), of a stored query's result (``query`` and
    ``param.NAME`` values), or of a saved view (``view``)."""
    params = dict(params)
    focus, query, view_code = params.get("focus", "").strip(), params.get("query", "").strip(), params.get("view", "")
    chosen = [name for name, value in (("focus", focus), ("query", query), ("view", view_code)) if value]
    if len(chosen) > 1:
        raise QueryError(f"give one of focus, query or view, not {' and '.join(chosen)}")
    view = None
    if view_code:
        view = mapdata.decode_view(view_code)
        sub = graph.subgraph_for_ids(view.nodes, title=getattr(view, "title", "") or "Saved view")
        source = {"view": view_code}
    elif query:
        values = {k[len(MAP_PARAM_PREFIX):]: v for k, v in params.items() if k.startswith(MAP_PARAM_PREFIX)}
        sub = explore.query_subgraph(graph, query, values, catalog=catalog)
        source = {"query": query, "params": values}
    elif focus:
        depth = _depth(params.get("depth"))
        limit = explore.check_limit(params.get("max_neighbours"), default=explore.MAP_MAX_NEIGHBOURS,
                                    maximum=explore.EXPAND_MAX, what="max_neighbours")
        sub = explore.focus_subgraph(graph, focus, depth=depth, max_neighbours=limit)
        source = {"focus": sub.focus, "depth": depth, "max_neighbours": limit}
    else:
        return {"selection": None, "nodes": 0, "relationships": 0}
    page = {"selection": source, "title": sub.title, "nodes": len(sub.nodes), "relationships": len(sub.edges),
            "sources": len(sub.sources), "truncated": dict(sub.truncated),
            "fragment": mapdata.map_fragment(sub)}
    page["_map"] = mapdata.map_data(sub, title=sub.title, live=mapdata.LIVE, view=view)
    return page


def _depth(value: str | None) -> int:
    if value in (None, ""):
        return 1
    try:
        depth = int(value)
    except ValueError:
        raise QueryError(f"depth must be a whole number from 0 to {explore.MAP_DEPTH_MAX}, not {value!r}") from None
    if not 0 <= depth <= explore.MAP_DEPTH_MAX:
        raise QueryError(f"depth must be a whole number from 0 to {explore.MAP_DEPTH_MAX}, not {value!r}")
    return depth


def expand_data(graph, entity_id: str, offset: str, limit: str, kinds: str, types: str) -> dict[str, Any]:
    """The live map's expand call: the new nodes and relationships in the map's own format, plus the counts."""
    if not entity_id:
        raise QueryError("give the entity to expand: /api/expand?id=agency:ice")
    expansion = explore.expand(graph, entity_id, offset=offset or 0, limit=limit or explore.EXPAND_LIMIT,
                               kinds=kinds or None, types=types or None)
    return {**mapdata.map_fragment(expansion.subgraph), **expansion.counts()}
