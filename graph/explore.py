"""The reads behind the browser explorer (``statetech serve``), usable from Python without the web layer.

Each function takes a :class:`~statetech.graph.api.Graph` and returns plain data (dicts, lists, a Subgraph) that the
explorer renders as HTML or returns as JSON. Everything is bounded so that one page never reads a hub whole: an
entity with 100,000 relationships shows the count of each group and the first page of it; the rest is paged by
offset. Both stores give the same answers: every page has a stable order that ends in ids.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from statetech.graph import cypher
from statetech.graph.errors import QueryError, UnknownEntity
from statetech.graph.vocabulary import (
    ALLOWED_TRIPLES,
    DERIVED_PROPERTIES,
    NODE_KIND_NAMES,
    RELATIONSHIP_DESCRIPTIONS,
    RELATIONSHIP_TYPES,
)
from statetech.graph.selection import ENTITY_ID_RE
from statetech.graph.store import GraphStore, QueryResult
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode

DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 100
MAX_SEARCH_TEXT = 200
GROUP_PAGE = 10
MAX_PAGE = 200
TIMELINE_PAGE = 50
SOURCE_PAGE = 50
EXPAND_LIMIT = 25
EXPAND_MAX = 200
MAP_DEPTH_MAX = 3
MAP_MAX_NEIGHBOURS = 25
NEWEST = 10
# An entity page shows the timeline inline up to this many relationships; a bigger hub links to its timeline page,
# so the page never sorts 100,000 relationships by date.
TIMELINE_INLINE_UP_TO = 2000
# Above this many relationships an entity page does not count distinct neighbours (see entity_page).
NEIGHBOUR_COUNT_UP_TO = 10_000
# A relationship group, or the relationships a map expansion walks, bigger than this is paged in the store's own
# order: sorting a hub's 100,000 relationships for every page of ten is what made hub pages slow, while an unsorted
# page stops reading once it is full. Smaller ones keep the id order that both stores share (and the seed pages
# show). A read-only store gives the same storage order on every call, so pages walked in it are disjoint and
# complete; the order differs between the two stores, and the pages say which order they are in.
SORTED_UP_TO = 1000
# The seed case, offered on the home page when the store holds it: the enforcement agency and its cloud vendor.
FEATURED = ("agency:ice", "company:microsoft", "product:azure")
# Properties shown in their own place on an entity or relationship, so not repeated in the property list.
_RELATIONSHIP_KEYS_SHOWN = frozenset({"id", "from", "to", "type", "sources"})
SOURCE_ID_RE = re.compile(r"^source:\S+$")


class UnknownSource(UnknownEntity):
    """A source id that is not in the graph."""


class UnknownQuery(UnknownEntity):
    """A stored query name that is not in the catalog."""


def stored_query(catalog, name: str):
    try:
        return catalog.get(name)
    except QueryError as exc:
        raise UnknownQuery(str(exc)) from None


class ReadOnly(QueryError):
    """Something tried to write through the explorer, which only reads."""


# --- a read-only, optionally serialised store ---------------------------------------------------------------------


class ReadOnlyStore:
    """A store the explorer cannot write through: it offers the reading part of a store and nothing else.

    Only the methods below exist; every write path (run_write, write_transaction, write_records, write_batch, clear,
    ensure_schema, writing, or any other attribute of the wrapped store) raises :class:`ReadOnly` before reaching the
    backend. ``readers`` bounds how many reads run at once (1: they take turns; None: no bound).

    Reads from several of the web server's threads may run side by side on both stores. The embedded handle allows
    it: grafeo's GrafeoDB is a Rust object that Python may share between threads (pyo3 refuses to share one that is
    not thread-safe), each query holds only the engine's shared read lock, the explorer opens the file read-only, and
    the engine lets go of the GIL while a query runs (a pure-Python thread kept running beside 1M-node queries).
    Eight threads on one handle give the same pages as one thread: at 1M nodes in benchmarks/bench_serve.py, and in
    tests/test_explore_paging.py. Whether it is faster depends on the machine: eight reads at once took half the
    time of one at a time on an idle 2-core machine and twice the time on the same machine loaded to 13, so the
    explorer bounds embedded reads to the number of CPUs (see :func:`read_only`). Only the first read, which opens
    the embedded file, is always taken alone, so that two threads never open it at once.
    """

    def __init__(self, inner: GraphStore, *, serialise: bool = False, readers: int | None = None) -> None:
        self._inner = inner
        self.backend = inner.backend
        self.readers = 1 if serialise else readers
        self._lock = threading.BoundedSemaphore(self.readers) if self.readers else None
        self._first_read: threading.Lock | None = threading.Lock()

    @property
    def location(self) -> str:
        return self._inner.location

    @property
    def serialised(self) -> bool:
        return self.readers == 1

    def run_read(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        if self._lock is not None:
            with self._lock:
                return self._inner.run_read(query, params)
        first = self._first_read
        if first is not None:
            with first:
                if self._first_read is not None:
                    result = self._inner.run_read(query, params)
                    self._first_read = None
                    return result
        return self._inner.run_read(query, params)

    # Stored queries reading derived fields first check the store's format marker (statetech.graph.provenance.check)
    # with these two reads; both go through run_read, so they stay reads.
    def lookup(self, query: str, params: dict[str, Any]) -> QueryResult:
        return self.run_read(query, params)

    def has_entities(self) -> bool:
        from statetech.graph import cypher

        return bool(self.run_read(cypher.ANY_ENTITY, {}).rows)

    def run_write(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        raise ReadOnly("the explorer only reads; this query tries to write")

    def write_transaction(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[QueryResult]:
        raise ReadOnly("the explorer only reads; this query tries to write")

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        # Anything a store offers beyond reading (loads, schema, clearing, batched writes) is refused here, so a
        # future write path of the store cannot be reached through the explorer by accident.
        if name.startswith("__"):
            raise AttributeError(name)
        raise ReadOnly(f"the explorer only reads; the store's {name!r} is not available here")


def read_only(graph, *, serialise: bool | None = None):
    """The same graph behind a :class:`ReadOnlyStore`. ``serialise`` true: reads take turns; false: no bound; None
    (the default): on the embedded store at most one read per CPU at once, so that concurrent queries do not crowd
    a busy machine, and no bound on Neo4j (a server with its own threads)."""
    import os

    from statetech.graph.api import Graph

    if isinstance(graph.store, ReadOnlyStore):
        return graph
    if serialise is None:
        readers = (os.cpu_count() or 1) if graph.store.backend == "embedded" else None
        return Graph(ReadOnlyStore(graph.store, readers=readers))
    return Graph(ReadOnlyStore(graph.store, serialise=serialise))


# --- checking what a request asks for -------------------------------------------------------------------------------


def check_limit(value: Any, *, default: int, maximum: int, what: str = "limit") -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a whole number from 1 to {maximum}, not {value!r}") from None
    if not 1 <= number <= maximum:
        raise QueryError(f"{what} must be a whole number from 1 to {maximum}, not {value!r}")
    return number


def check_offset(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError(f"offset must be a whole number, 0 or more, not {value!r}") from None
    if number < 0:
        raise QueryError(f"offset must be a whole number, 0 or more, not {value!r}")
    return number


def check_kinds(kinds: str | Iterable[str] | None) -> list[str] | None:
    """Node kinds from the model (any case); None or empty means all kinds."""
    return _check_names(kinds, NODE_KIND_NAMES, "kind")


def check_types(types: str | Iterable[str] | None) -> list[str] | None:
    """Relationship types from the model (any case); None or empty means all types."""
    return _check_names(types, RELATIONSHIP_TYPES, "relationship type")


def _check_names(names: str | Iterable[str] | None, allowed: Iterable[str], what: str) -> list[str] | None:
    if names is None:
        return None
    items = names.split(",") if isinstance(names, str) else list(names)
    folded = {name.lower(): name for name in allowed}
    out: list[str] = []
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        name = folded.get(item.lower())
        if name is None:
            raise QueryError(f"{item!r} is not a {what}; use one of {', '.join(allowed)}")
        if name not in out:
            out.append(name)
    return out or None


# --- search ----------------------------------------------------------------------------------------------------------


def search_entities(graph, text: str, *, limit: int = DEFAULT_SEARCH_LIMIT,
                    kinds: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Entities whose id, name or an alias contains ``text`` (case-insensitive): exact matches first, then names
    that start with it, then the rest; by name, then id. Empty text finds nothing."""
    text = (text or "").strip()
    limit = check_limit(limit, default=DEFAULT_SEARCH_LIMIT, maximum=MAX_SEARCH_LIMIT)
    kinds = check_kinds(kinds)
    if not text:
        return []
    if len(text) > MAX_SEARCH_TEXT:
        raise QueryError(f"search text is {len(text):,} characters long; give at most {MAX_SEARCH_TEXT}")
    # The explorer's embedded store has an in-process index (statetech.graph.search_index) giving the query's exact
    # answers without scanning every entity; None means it cannot answer (not built yet, or this text): ask the store.
    index = getattr(graph, "search_index", None)
    rows = index.search(text.lower(), limit=limit, kinds=kinds) if index is not None else None
    if rows is None:
        rows = graph.store.run_read(cypher.EXPLORE_SEARCH, {"text": text.lower(), "limit": limit,
                                                            "kinds": kinds}).rows
    return [{"id": r["id"], "kind": r["kind"], "name": r["name"] or r["id"], "aliases": list(r["aliases"] or []),
             "exact": r["rank"] == 0} for r in rows]


def search_page(graph, text: str, *, limit: int = 50, kinds: str | Iterable[str] | None = None) -> dict[str, Any]:
    kinds_checked = check_kinds(kinds)
    results = search_entities(graph, text, limit=limit, kinds=kinds_checked)
    return {"query": (text or "").strip(), "kinds": kinds_checked or [], "limit": limit, "results": results,
            "all_kinds": list(NODE_KIND_NAMES)}


# --- home ------------------------------------------------------------------------------------------------------------


def home(graph, *, newest: int = NEWEST, catalog=None) -> dict[str, Any]:
    """Counts by kind and type, the newest dated records and newest sources, the seed case's entry points and the
    stored queries."""
    from statetech.graph.catalog import Catalog

    read = graph.store.run_read
    by_kind = {r["kind"]: r["count"] for r in read(cypher.COUNT_NODES_BY_KIND)}
    by_type = {}
    for rel_type in RELATIONSHIP_TYPES:
        count = read(cypher.explore_count_relationships(rel_type)).rows[0]["count"]
        if count:
            by_type[rel_type] = count
    sources = read(cypher.COUNT_SOURCES).rows
    catalog = catalog or Catalog.load()
    featured = [{"id": r["id"], "kind": r["kind"], "name": r["props"].get("name") or r["id"]}
                for r in read(cypher.EXPLORE_ENTITIES, {"ids": list(FEATURED)})]
    order = {entity_id: i for i, entity_id in enumerate(FEATURED)}
    featured.sort(key=lambda e: order[e["id"]])
    return {
        "store": graph.location,
        "backend": graph.store.backend,
        "nodes": sum(by_kind.values()),
        "relationships": sum(by_type.values()),
        "sources": sources[0]["count"] if sources else 0,
        "nodes_by_kind": [{"kind": k, "count": by_kind[k]} for k in _model_order(by_kind, NODE_KIND_NAMES)],
        "relationships_by_type": [{"type": t, "count": by_type[t]} for t in _model_order(by_type, RELATIONSHIP_TYPES)],
        "newest": read(cypher.EXPLORE_NEWEST_ENTITIES, {"limit": newest}).rows,
        "newest_sources": read(cypher.EXPLORE_NEWEST_SOURCES, {"limit": newest}).rows,
        "featured": featured,
        "queries": len(catalog),
    }


def _model_order(counts: dict[str, int], model: Iterable[str]) -> list[str]:
    order = {name: i for i, name in enumerate(model)}
    return sorted(counts, key=lambda name: (order.get(name, len(order)), name))


# --- entity pages ----------------------------------------------------------------------------------------------------


def entity(graph, entity_id: str) -> dict[str, Any]:
    """An entity's id, kind and every property; :class:`UnknownEntity` if the id is not in the graph."""
    return _entity_from(graph.store.run_read(cypher.EXPLORE_ENTITY, {"id": entity_id}).rows, entity_id)


def _entity_from(rows: list[dict[str, Any]], entity_id: str) -> dict[str, Any]:
    if not rows:
        raise UnknownEntity(f"no entity has the id {entity_id!r}; search for it by name instead")
    row = rows[0]
    props = {k: v for k, v in row["props"].items() if k not in DERIVED_PROPERTIES}
    return {"id": row["id"], "kind": row["kind"], "name": props.get("name") or row["id"], "properties": props}


# Every (type, direction) pair of the model, for the Neo4j entity read below.
_ALL_GROUPS = sorted({(t, d) for t in RELATIONSHIP_TYPES for d in ("out", "in")})


def entity_with_groups(graph, entity_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`entity` and :func:`relationship_groups` together. On Neo4j one query reads both (every pair of the
    model counted from the degree store, cheap even for a hub), where two round trips were a good part of a page's
    time; on the embedded store the two reads as they are."""
    if graph.store.backend != "neo4j":
        head = entity(graph, entity_id)
        return head, relationship_groups(graph, entity_id, head["kind"])
    rows = graph.store.run_read(cypher.explore_relationship_counts(_ALL_GROUPS, with_entity=True),
                                {"id": entity_id}).rows
    head = _entity_from(rows, entity_id)
    found = [((t, d), rows[0][f"c{i}"]) for i, (t, d) in enumerate(_ALL_GROUPS)]
    return head, _groups_from_counts(graph, entity_id, found, rows[0]["degree"])


def relationship_groups(graph, entity_id: str, kind: str | None = None, *,
                        degree: int | None = None) -> list[dict[str, Any]]:
    """(type, direction, count) of an entity's relationships, in the model's order of types, outgoing first.

    One typed count per group the model allows for the entity's kind; if they do not add up to the entity's degree
    (relationships written outside the model), every group is counted in one pass instead, so none is missed.
    ``degree`` is the entity's relationship count when the caller has it already (a hub's costs a read of each).
    """
    read = graph.store.run_read
    kind = kind or entity(graph, entity_id)["kind"]
    possible = _possible_groups(kind)
    if graph.store.backend == "neo4j":
        # one round trip: Neo4j counts each group from its degree store
        counts = read(cypher.explore_relationship_counts(possible), {"id": entity_id}).rows[0]
        found = [((t, d), counts[f"c{i}"]) for i, (t, d) in enumerate(possible)]
        if degree is None:
            degree = counts["degree"]
    else:
        found = [((t, d), read(cypher.explore_relationship_count(t, d), {"id": entity_id}).rows[0]["count"])
                 for t, d in possible]
    if degree is None:
        degree = entity_degree(graph, entity_id)
    return _groups_from_counts(graph, entity_id, found, degree)


def _groups_from_counts(graph, entity_id: str, found: list[tuple[tuple[str, str], int]],
                        degree: int) -> list[dict[str, Any]]:
    read = graph.store.run_read
    rows = []
    for (rel_type, direction), count in found:
        if count:
            rows.append({"type": rel_type, "direction": direction, "count": count})
    if degree != sum(r["count"] for r in rows):
        rows = [r for r in read(cypher.EXPLORE_RELATIONSHIP_GROUPS, {"id": entity_id}).rows
                if r["type"] in RELATIONSHIP_TYPES]
    order = {name: i for i, name in enumerate(RELATIONSHIP_TYPES)}
    groups = [{"type": r["type"], "direction": r["direction"], "count": r["count"],
               "description": RELATIONSHIP_DESCRIPTIONS.get(r["type"], "")} for r in rows]
    groups.sort(key=lambda g: (order.get(g["type"], len(order)), g["type"], g["direction"] != "out"))
    for group in groups:
        group["order"] = "storage" if group["count"] > SORTED_UP_TO else "id"
    return groups


def entity_degree(graph, entity_id: str) -> int:
    """How many relationships an entity has, of any type and direction."""
    return graph.store.run_read(cypher.EXPLORE_DEGREE, {"id": entity_id}).rows[0]["count"]


def _far_kinds(kind: str, rel_type: str, direction: str) -> set[str]:
    """The kinds the model allows at the other end of an entity's relationships of one type and direction (every
    write path checks relationships against this table)."""
    if direction == "out":
        return {to for f, t, to in ALLOWED_TRIPLES if f == kind and t == rel_type}
    return {f for f, t, to in ALLOWED_TRIPLES if to == kind and t == rel_type}


def _possible_groups(kind: str) -> list[tuple[str, str]]:
    out = {(t, "out") for f, t, _ in ALLOWED_TRIPLES if f == kind}
    into = {(t, "in") for _, t, to in ALLOWED_TRIPLES if to == kind}
    return sorted(out | into)


def relationship_page(graph, entity_id: str, rel_type: str, direction: str, *, offset: int = 0,
                      limit: int = GROUP_PAGE) -> dict[str, Any]:
    """One page of an entity's relationships of one type and direction, with their sources."""
    types = check_types([rel_type])
    if direction not in ("out", "in"):
        raise QueryError(f"direction must be 'out' or 'in', not {direction!r}")
    offset = check_offset(offset)
    limit = check_limit(limit, default=GROUP_PAGE, maximum=MAX_PAGE)
    head, groups = entity_with_groups(graph, entity_id)
    rel_type = types[0]
    total = next((g["count"] for g in groups if g["type"] == rel_type and g["direction"] == direction), 0)
    storage_order = total > SORTED_UP_TO
    relationships = _relationship_rows(graph, entity_id, rel_type, direction, offset, limit,
                                       storage_order=storage_order)
    return {"entity": _summary(head), "type": rel_type, "direction": direction, "total": total, "offset": offset,
            "limit": limit, "remaining": max(0, total - offset - len(relationships)),
            "order": "storage" if storage_order else "id",
            "relationships": relationships, "sources": _sources_for(graph, relationships)}


def _relationship_page_rows(graph, entity_id: str, rel_type: str, direction: str, offset: int, limit: int, *,
                            storage_order: bool = False, kinds: list[str] | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"id": entity_id, "limit": limit}
    if offset:
        params["offset"] = offset
    if kinds:
        params["kinds"] = kinds
    query = cypher.explore_relationship_page(rel_type, direction, storage_order=storage_order, first=not offset,
                                             kinds=bool(kinds))
    return graph.store.run_read(query, params).rows


def _relationship_rows(graph, entity_id: str, rel_type: str, direction: str, offset: int, limit: int, *,
                       storage_order: bool = False) -> list[dict[str, Any]]:
    rows = _relationship_page_rows(graph, entity_id, rel_type, direction, offset, limit, storage_order=storage_order)
    return [_relationship(r["id"], rel_type, direction, r["props"], r["other"], r["kind"], r["name"],
                          other_props=r.get("other_props")) for r in rows]


def _relationship(rel_id: str, rel_type: str, direction: str, props: dict[str, Any], other: str, kind: str,
                  name: str | None, *, other_props: dict[str, Any] | None = None) -> dict[str, Any]:
    """A relationship as pages show it. ``other_props`` (every property of the other end, when the read gave them)
    is kept under a private key for the page's map: keys starting with '_' stay out of the JSON."""
    props = dict(props or {})
    return {
        "_other_props": other_props,
        "id": rel_id or props.get("id"),
        "type": rel_type,
        "direction": direction,
        "from": props.get("from"),
        "to": props.get("to"),
        "other": {"id": other, "kind": kind, "name": name or other},
        "confidence": props.get("confidence"),
        "start_date": props.get("start_date"),
        "end_date": props.get("end_date"),
        "as_of": props.get("as_of"),
        "amount_usd": props.get("amount_usd"),
        "data_volume_tb": props.get("data_volume_tb"),
        "role": props.get("role"),
        "notes": props.get("notes"),
        "sources": list(props.get("sources") or []),
        "properties": {k: v for k, v in sorted(props.items())
                       if k not in _RELATIONSHIP_KEYS_SHOWN and k not in DERIVED_PROPERTIES},
    }


def entity_page(graph, entity_id: str, *, per_group: int = GROUP_PAGE, timeline_limit: int = TIMELINE_PAGE
                ) -> dict[str, Any]:
    """Everything an entity page shows: the entity, each relationship group's count and first page, its dated
    relationships, and every source cited anywhere on the page."""
    per_group = check_limit(per_group, default=GROUP_PAGE, maximum=MAX_PAGE, what="per_group")
    head, groups = entity_with_groups(graph, entity_id)
    if graph.store.backend == "neo4j" and groups:
        # one round trip for every group's first page (the embedded engine is faster with one query per group)
        pages: dict[tuple[str, str], list[dict[str, Any]]] = {}
        big = {(g["type"], g["direction"]) for g in groups if g["order"] == "storage"}
        if sum(g["count"] for g in groups) <= SORTED_UP_TO:
            query = cypher.EXPLORE_SMALL_FIRST_PAGES  # one text for every small entity: planned once
        else:
            query = cypher.explore_relationship_first_pages([(g["type"], g["direction"]) for g in groups], big)
        rows = graph.store.run_read(query, {"id": entity_id, "limit": per_group}).rows
        wanted = {(g["type"], g["direction"]) for g in groups}
        for r in rows:
            if (r["type"], r["direction"]) not in wanted:
                continue  # a type outside the model, which the groups leave out too
            pages.setdefault((r["type"], r["direction"]), []).append(
                _relationship(r["id"], r["type"], r["direction"], r["props"], r["other"], r["kind"], r["name"],
                              other_props=r["other_props"]))
        for group in groups:
            group["relationships"] = pages.get((group["type"], group["direction"]), [])
    else:
        for group in groups:
            group["relationships"] = _relationship_rows(graph, entity_id, group["type"], group["direction"], 0,
                                                        per_group, storage_order=group["order"] == "storage")
    for group in groups:
        group["remaining"] = max(0, group["count"] - len(group["relationships"]))
    relationship_count = sum(g["count"] for g in groups)
    if relationship_count <= TIMELINE_INLINE_UP_TO:
        dated = timeline(graph, entity_id, limit=timeline_limit, _checked=head)
    else:
        dated = {"entity": _summary(head), "inline": False, "total": None, "offset": 0, "limit": timeline_limit,
                 "remaining": None, "events": []}
    cited = list(head["properties"].get("sources") or [])
    for group in groups:
        for rel in group["relationships"]:
            cited.extend(rel["sources"])
    for event in dated["events"]:
        cited.extend(event["sources"])
    neighbour_count: int | None = 0
    if not any(g["remaining"] for g in groups):
        # every relationship is on the page already: count their other ends here rather than read them again
        neighbour_count = len({rel["other"]["id"] for g in groups for rel in g["relationships"]} - {entity_id})
    elif relationship_count > NEIGHBOUR_COUNT_UP_TO:
        # Counting a hub's distinct neighbours reads all of its relationships; the map's expand calls count them
        # exactly, page by page, so the page says "not counted" rather than guess.
        neighbour_count = None
    elif relationship_count:
        neighbour_count = graph.store.run_read(cypher.EXPLORE_NEIGHBOUR_COUNT, {"id": entity_id}).rows[0]["count"]
    return {
        "entity": head,
        "relationship_count": relationship_count,
        "neighbour_count": neighbour_count,
        "groups": groups,
        "per_group": per_group,
        "timeline": dated,
        "sources": _sources_by_id(graph, cited),
    }


def page_subgraph(graph, page: dict[str, Any]) -> Subgraph:
    """The map of an entity page: the entity, the relationships the page lists (the first page of every group, so
    each kind of tie is represented) and their other ends. The entity records how many neighbours are left out."""
    head = page["entity"]
    sub = Subgraph(focus=head["id"], title=f"{head['name']}: neighbourhood")
    sub.add_node(SubgraphNode(head["id"], head["kind"], head["properties"]))
    known = {rel["other"]["id"]: rel["_other_props"] for group in page["groups"] for rel in group["relationships"]
             if rel.get("_other_props") is not None}
    others = sorted({rel["other"]["id"] for group in page["groups"] for rel in group["relationships"]})
    missing = [other for other in others if other not in known]
    if missing:
        for row in graph.store.run_read(cypher.EXPLORE_ENTITIES, {"ids": missing}):
            known[row["id"]] = row["props"]
    for other in others:
        if other in known:
            sub.add_node(SubgraphNode(other, known[other].get("kind", ""), known[other]))
    for group in page["groups"]:
        for rel in group["relationships"]:
            props = {"id": rel["id"], "type": group["type"], **rel["properties"], "sources": rel["sources"]}
            source, target = (head["id"], rel["other"]["id"]) if group["direction"] == "out" else \
                (rel["other"]["id"], head["id"])
            sub.add_edge(SubgraphEdge(rel["id"], group["type"], rel.get("from") or source, rel.get("to") or target,
                                      props))
    cited = sub.cited_source_ids()
    sub.sources = {sid: record for sid, record in page["sources"].items() if sid in cited and not record.get("missing")}
    if page.get("neighbour_count") is not None:
        left_out = page["neighbour_count"] - (len(sub.nodes) - 1)
        if left_out > 0:
            sub.truncated[head["id"]] = left_out
    return sub


def timeline(graph, entity_id: str, *, offset: int = 0, limit: int = TIMELINE_PAGE, _checked=None) -> dict[str, Any]:
    """An entity's dated relationships, oldest first (date: start, else as-of, else end), paged."""
    offset = check_offset(offset)
    limit = check_limit(limit, default=TIMELINE_PAGE, maximum=MAX_PAGE)
    head = _checked or entity(graph, entity_id)
    read = graph.store.run_read
    rows = read(cypher.EXPLORE_TIMELINE, {"id": entity_id, "offset": offset, "limit": limit}).rows
    if len(rows) < limit and (rows or not offset):
        total = offset + len(rows)  # the last page: nothing after it, so no need to count
    else:
        total = read(cypher.EXPLORE_TIMELINE_COUNT, {"id": entity_id}).rows[0]["total"]
    events = []
    for r in rows:
        props = r["props"] or {}
        direction = "out" if props.get("from") == entity_id else "in"
        event = _relationship(r["id"], r["type"], direction, props, r["other"], r["kind"], r["name"])
        event["date"] = r["date"]
        events.append(event)
    return {"entity": _summary(head), "inline": True, "total": total, "offset": offset, "limit": limit,
            "remaining": max(0, total - offset - len(events)), "events": events,
            "sources": _sources_for(graph, events)}


def _summary(head: dict[str, Any]) -> dict[str, Any]:
    return {"id": head["id"], "kind": head["kind"], "name": head["name"]}


def _sources_for(graph, relationships: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return _sources_by_id(graph, [sid for rel in relationships for sid in rel["sources"]])


def _sources_by_id(graph, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The Source records for ``ids``; an id with no record maps to ``{"id": ..., "missing": True}``."""
    wanted = sorted(set(ids))
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        for row in graph.store.run_read(cypher.SOURCES_BY_IDS, {"ids": wanted}):
            found[row["props"]["id"]] = dict(row["props"])
    return {sid: found.get(sid, {"id": sid, "missing": True}) for sid in wanted}


# --- source pages ----------------------------------------------------------------------------------------------------


def source_page(graph, source_id: str, *, offset: int = 0, limit: int = SOURCE_PAGE) -> dict[str, Any]:
    """A source and the entities and relationships that cite it (each list paged by the same offset and limit)."""
    offset = check_offset(offset)
    limit = check_limit(limit, default=SOURCE_PAGE, maximum=MAX_PAGE)
    read = graph.store.run_read
    rows = read(cypher.EXPLORE_SOURCE, {"id": source_id}).rows
    if not rows:
        raise UnknownSource(f"no source has the id {source_id!r}")
    params = {"id": source_id, "offset": offset, "limit": limit}
    entities_total = read(cypher.EXPLORE_SOURCE_ENTITIES_COUNT, {"id": source_id}).rows[0]["total"]
    relationships_total = read(cypher.EXPLORE_SOURCE_RELATIONSHIPS_COUNT, {"id": source_id}).rows[0]["total"]
    entities = read(cypher.EXPLORE_SOURCE_ENTITIES, params).rows
    relationships = read(cypher.EXPLORE_SOURCE_RELATIONSHIPS, params).rows
    return {
        "source": dict(rows[0]["props"]),
        "offset": offset,
        "limit": limit,
        "entities": {"total": entities_total, "remaining": max(0, entities_total - offset - len(entities)),
                     "rows": entities},
        "relationships": {"total": relationships_total,
                          "remaining": max(0, relationships_total - offset - len(relationships)),
                          "rows": relationships},
    }


# --- the live map -----------------------------------------------------------------------------------------------------


@dataclass
class Expansion:
    """One click on a map node: a page of its neighbours and how many match in all.

    Offsets, totals and what remains count ``unit``: distinct neighbours in id order for an ordinary entity, or
    relationships in the store's order for one with more than :data:`SORTED_UP_TO` of them (a hub), whose distinct
    neighbours cannot be counted without reading every relationship; each page then draws the other ends of its
    relationships, and "remaining" is exactly the relationships not drawn yet."""

    subgraph: Subgraph
    id: str
    offset: int
    limit: int
    total: int
    returned: int
    unit: str = "neighbours"
    order: str = "id"

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.offset - self.returned)

    def counts(self) -> dict[str, Any]:
        return {"id": self.id, "offset": self.offset, "limit": self.limit, "total": self.total,
                "remaining": self.remaining, "unit": self.unit, "order": self.order}


def expand(graph, entity_id: str, offset: int = 0, limit: int = EXPAND_LIMIT,
           kinds: str | Iterable[str] | None = None, types: str | Iterable[str] | None = None) -> Expansion:
    """The entity, the next ``limit`` of its neighbours after ``offset`` (ordered by id, optionally only some node
    kinds and relationship types), and the relationships joining them to it."""
    offset = check_offset(offset)
    limit = check_limit(limit, default=EXPAND_LIMIT, maximum=EXPAND_MAX)
    kinds = check_kinds(kinds)
    types = check_types(types)
    if graph.store.backend == "neo4j":
        # one query gives the entity, its groups and its degree (Neo4j counts from its degree store)
        head, groups = entity_with_groups(graph, entity_id)
        degree = sum(g["count"] for g in groups)
    else:
        # the embedded engine counts by reading: the degree first, the groups only for a big entity
        head = entity(graph, entity_id)
        degree = entity_degree(graph, entity_id)
        groups = relationship_groups(graph, entity_id, head["kind"], degree=degree) if degree > SORTED_UP_TO else []
    if degree > SORTED_UP_TO:
        groups = [g for g in groups if types is None or g["type"] in types]
        if sum(g["count"] for g in groups) > SORTED_UP_TO:
            return _expand_in_storage_order(graph, head, groups, offset, limit, kinds)
    read = graph.store.run_read
    rows = read(cypher.explore_expand(types, kinds=bool(kinds)),
                {"id": entity_id, "kinds": kinds, "offset": offset, "limit": limit}).rows
    total = rows[0]["total"] if rows else 0
    neighbours = list(rows[0]["page"] or []) if rows else []
    sub = Subgraph(focus=entity_id, title=f"{head['name']}: neighbours")
    sub.add_node(SubgraphNode(entity_id, head["kind"], head["properties"]))
    if neighbours:
        walk = cypher.explore_expand_relationships(types, from_entity=degree <= SORTED_UP_TO)
        rows = read(walk, {"id": entity_id, "neighbours": neighbours}).rows
        others = {row["other"]: (row["other_kind"], row["other_props"]) for row in rows}
        missing = [n for n in neighbours if n not in others]
        if missing:  # cannot happen through the model's writes; read them rather than draw fewer than counted
            for row in read(cypher.EXPLORE_ENTITIES, {"ids": missing}):
                others[row["id"]] = (row["kind"], row["props"])
        for other in sorted(others):
            sub.add_node(SubgraphNode(other, *others[other]))
        for row in rows:
            sub.add_edge(SubgraphEdge(row["id"], row["type"], row["source"], row["target"], row["props"]))
    left_out = total - offset - len(neighbours)
    if left_out > 0:
        sub.truncated[entity_id] = left_out
    graph.attach_sources(sub)
    return Expansion(sub, entity_id, offset, limit, total, len(neighbours))


def _expand_in_storage_order(graph, head: dict[str, Any], groups: list[dict[str, Any]], offset: int, limit: int,
                             kinds: list[str] | None) -> Expansion:
    """A hub's expansion: the next ``limit`` of its relationships (in the given groups, group after group, each in
    the order its entity page uses) and their other ends. Counting them costs a count per group, not a read of every
    relationship: a group whose other ends the model allows only among ``kinds`` counts whole, one allowed none of
    them is left out, and only a group with some of each is counted with the kinds test."""
    entity_id = head["id"]
    read = graph.store.run_read
    wanted = set(kinds) if kinds else None
    parts: list[tuple[dict[str, Any], int, list[str] | None]] = []
    for group in groups:
        far = _far_kinds(head["kind"], group["type"], group["direction"])
        if wanted is None or (far and far <= wanted):
            parts.append((group, group["count"], None))
        elif not far or far & wanted:
            test = sorted(wanted)
            count = read(cypher.explore_relationship_kind_count(group["type"], group["direction"]),
                         {"id": entity_id, "kinds": test}).rows[0]["count"]
            if count:
                parts.append((group, count, test))
    total = sum(count for _, count, _ in parts)
    picked: list[tuple[dict[str, Any], dict[str, Any]]] = []
    skip = offset
    for group, count, test in parts:
        if len(picked) >= limit:
            break
        if skip >= count:
            skip -= count
            continue
        rows = _relationship_page_rows(graph, entity_id, group["type"], group["direction"], skip,
                                       limit - len(picked), storage_order=count > SORTED_UP_TO, kinds=test)
        picked.extend((group, row) for row in rows)
        skip = 0
    sub = Subgraph(focus=entity_id, title=f"{head['name']}: neighbours")
    sub.add_node(SubgraphNode(entity_id, head["kind"], head["properties"]))
    others = {row["other"]: row["other_props"] for _, row in picked if row["other"] != entity_id}
    for other in sorted(others):
        sub.add_node(SubgraphNode(other, others[other].get("kind", ""), others[other]))
    for group, row in picked:
        props = dict(row["props"] or {})
        ends = (entity_id, row["other"]) if group["direction"] == "out" else (row["other"], entity_id)
        sub.add_edge(SubgraphEdge(row["id"], group["type"], props.get("from") or ends[0], props.get("to") or ends[1],
                                  props))
    left_out = total - offset - len(picked)
    if left_out > 0:
        sub.truncated[entity_id] = left_out
    graph.attach_sources(sub)
    return Expansion(sub, entity_id, offset, limit, total, len(picked), unit="relationships", order="storage")


def focus_subgraph(graph, focus: str, *, depth: int = 1, max_neighbours: int = MAP_MAX_NEIGHBOURS) -> Subgraph:
    """The map around an entity: ``depth`` hops, each node adding at most ``max_neighbours`` new neighbours."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAP_DEPTH_MAX:
        raise QueryError(f"depth must be a whole number from 0 to {MAP_DEPTH_MAX}, not {depth!r}")
    max_neighbours = check_limit(max_neighbours, default=MAP_MAX_NEIGHBOURS, maximum=EXPAND_MAX,
                                 what="max_neighbours")
    return graph.neighbourhood(graph.resolve(focus), depth=depth, max_neighbours=max_neighbours)


def query_subgraph(graph, name: str, params: dict[str, Any] | None = None, *, catalog=None) -> Subgraph:
    """The map of a stored query's result (its entities and relationships)."""
    from statetech.graph.selection import subgraph_for_query

    return subgraph_for_query(graph, name, params, catalog=catalog)


# --- paths ------------------------------------------------------------------------------------------------------------


def path_between(graph, origin: str, destination: str, *, max_hops: int = 6, limit: int = 5):
    """How two entities are connected (:meth:`Graph.paths`) and the subgraph of those paths, for a map."""
    connections = graph.paths(origin, destination, max_hops=max_hops, limit=limit)
    sub = Subgraph(title=f"{connections.origin.name} to {connections.destination.name}",
                   focus=connections.origin.id)
    sub.add_node(connections.origin)
    sub.add_node(connections.destination)
    for connection in connections.paths:
        for node in connection.entities:
            sub.add_node(node)
        for hop in connection.hops:
            sub.add_edge(SubgraphEdge(hop.id, hop.type, hop.source, hop.target, hop.properties))
    sub.sources = dict(connections.sources)
    return connections, sub


# --- the query catalog in a browser -----------------------------------------------------------------------------------

# How each parameter type is asked for in a form.
_INPUTS = {"string": "text", "entity": "entity", "int": "number", "float": "number", "date": "date",
           "bool": "select", "list": "text"}


def query_list(catalog) -> list[dict[str, Any]]:
    return [{"name": q.name, "namespace": q.name.split("/", 1)[0], "title": q.title, "description": q.description,
             "params": list(q.params), "writes": q.writes} for q in catalog]


def query_form(query, raw: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One form field per parameter: its input type, choices, default, help and the value the user gave."""
    raw = raw or {}
    fields = []
    for param in query.params.values():
        given = raw.get(param.name)
        default = param.default
        if param.type == "list" and isinstance(default, list):
            default = ", ".join(map(str, default))
        choices = None
        if param.type == "bool":
            choices = ["true", "false"]
            default = None if default is None else ("true" if default else "false")
        elif param.choices is not None and param.type != "list":
            choices = [str(c) for c in param.choices]
        value = given if given not in (None, "") else ("" if default is None else str(default))
        fields.append({
            "name": param.name,
            "type": param.type,
            "input": "select" if choices else _INPUTS.get(param.type, "text"),
            "required": param.required,
            "default": default,
            "value": value,
            "choices": choices,
            "help": param.help,
            "describe": param.describe(),
            "kinds": list(param.kinds),
            "step": "1" if param.type == "int" else ("any" if param.type == "float" else None),
            "items": param.items if param.type == "list" else None,
        })
    return fields


def form_values(query, raw: dict[str, Any]) -> dict[str, Any]:
    """The parameters a submitted form gives: empty fields are left out (so defaults apply); unknown names are
    errors, as on the command line."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            continue
        values[name] = value
    unknown = sorted(set(values) - set(query.params))
    if unknown:
        raise QueryError(f"query '{query.name}' has no parameter {', '.join(map(repr, unknown))}; "
                         f"its parameters: {', '.join(query.params) or 'none'}")
    return values


def query_page(graph, catalog, name: str, raw: dict[str, Any] | None = None, *, run: bool | None = None
               ) -> dict[str, Any]:
    """A stored query's description, form, Cypher and (once every required parameter is given) its result."""
    query = stored_query(catalog, name)
    raw = dict(raw or {})
    values = form_values(query, raw)
    if run is None:
        run = all(p in values for p, spec in query.params.items() if spec.required)
    page: dict[str, Any] = {
        "name": query.name,
        "title": query.title,
        "description": query.description,
        "returns": list(query.returns),
        "writes": query.writes,
        "cypher": query.text_for(graph.store.backend),
        "canonical_cypher": query.body,
        "fields": query_form(query, values),
        "params": values,
        "ran": False,
    }
    if not run:
        return page
    if query.writes:
        raise ReadOnly(f"query {query.name!r} writes to the graph; the explorer runs only read queries")
    result = catalog.run(graph, name, values)
    _stored, bound = catalog.bind(graph, name, values)
    page.update(ran=True, bound=bound, columns=list(result.columns), rows=result.rows, row_count=len(result.rows),
                has_entities=_holds_entity_id(result.rows))
    return page


def _holds_entity_id(rows: list[dict[str, Any]]) -> bool:
    """Whether any value in the rows is an entity id (so the result can be drawn as a map); stops at the first."""
    stack: list[Any] = list(rows)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if ENTITY_ID_RE.match(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return False


def run_stored_query(graph, catalog, name: str, raw: dict[str, Any] | None = None) -> QueryResult:
    """The rows of a stored query run with form values (downloads)."""
    query = stored_query(catalog, name)
    if query.writes:
        raise ReadOnly(f"query {query.name!r} writes to the graph; the explorer runs only read queries")
    return catalog.run(graph, name, form_values(query, dict(raw or {})))


def query_gexf(graph, catalog, name: str, raw: dict[str, Any] | None = None) -> bytes:
    """The subgraph of a stored query's result as GEXF (Gephi)."""
    import io

    from statetech.graph.export import write_gexf

    query = stored_query(catalog, name)
    sub = query_subgraph(graph, name, form_values(query, dict(raw or {})), catalog=catalog)
    buffer = io.BytesIO()
    write_gexf(sub, buffer)
    return buffer.getvalue()


def is_entity_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ENTITY_ID_RE.match(value))


def is_source_id(value: Any) -> bool:
    return isinstance(value, str) and bool(SOURCE_ID_RE.match(value))
