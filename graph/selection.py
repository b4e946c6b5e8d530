"""What a map or an export shows: a focus's ego network, the entities a stored query returns, or the whole graph,
narrowed by node kind, relationship type and dates.

Maps and exports share this module so ``statetech map`` and ``statetech export`` given the same options draw and
write the same subgraph.
"""

from __future__ import annotations

import gc
import math
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from statetech.graph.dates import first_day, is_partial_date, last_day
from statetech.graph.errors import StatetechError
from statetech.graph.model import KIND_BY_PREFIX, NODE_KINDS, RELATIONSHIP_TYPES
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode

ENTITY_ID_RE = re.compile(rf"^(?:{'|'.join(map(re.escape, KIND_BY_PREFIX))}):[a-z0-9][a-z0-9._-]*$")
RELATIONSHIP_ID_RE = re.compile(r"^rel:\S+$")
_DERIVED_REL_ID_RE = re.compile(r"^rel:(?P<source>[^>\s]+)>(?P<type>[A-Z_]+)>(?P<target>[^>\s]+)$")
MONEY_FIELDS = ("obligated_usd", "current_usd", "potential_usd")
# Kinds whose records are events on their date rather than states that last until an end date.
EVENT_KINDS = frozenset({"EmployeeAction"})


class SelectionError(StatetechError):
    """A map or export selection was contradictory or named something the model does not have."""


@dataclass(frozen=True)
class Filters:
    """Which node kinds, relationship types and dates a selection keeps.

    Empty ``include_*`` sets mean "all"; ``exclude_*`` sets remove from whatever is included.
    """

    include_kinds: frozenset[str] = frozenset()
    exclude_kinds: frozenset[str] = frozenset()
    include_types: frozenset[str] = frozenset()
    exclude_types: frozenset[str] = frozenset()
    since: str | None = None
    until: str | None = None

    @classmethod
    def parse(cls, kinds: str | Iterable[str] | None = None, rel_types: str | Iterable[str] | None = None,
              since: str | None = None, until: str | None = None) -> Filters:
        """Filters from command-line text: ``"Agency,Company"`` keeps only those, ``"-Person"`` drops one."""
        include_kinds, exclude_kinds = _split_names(kinds, NODE_KINDS, "--kinds", "node kind")
        include_types, exclude_types = _split_names(rel_types, RELATIONSHIP_TYPES, "--rel-types", "relationship type")
        since = _check_date(since, "--since")
        until = _check_date(until, "--until")
        if since and until and first_day(since) > last_day(until):
            raise SelectionError(f"--since {since} is after --until {until}; swap them")
        return cls(include_kinds, exclude_kinds, include_types, exclude_types, since, until)

    @property
    def active(self) -> bool:
        return bool(self.include_kinds or self.exclude_kinds or self.include_types or self.exclude_types
                    or self.since or self.until)

    def keeps_kind(self, kind: str) -> bool:
        return (not self.include_kinds or kind in self.include_kinds) and kind not in self.exclude_kinds

    def keeps_type(self, rel_type: str) -> bool:
        return (not self.include_types or rel_type in self.include_types) and rel_type not in self.exclude_types

    def keeps_dates(self, properties: dict[str, Any], *, event: bool = False) -> bool:
        """Whether a record's time span overlaps [since, until]; undated records are kept (nothing rules them out).

        A record with a start and no end date is taken as still running, except events (``EVENT_KINDS`` and
        ``as_of`` readings), which happen on their date.
        """
        if not (self.since or self.until):
            return True
        start = properties.get("start_date") or properties.get("as_of")
        end = properties.get("end_date")
        if not start and not end:
            return True
        if end is None and (event or not properties.get("start_date")):
            end = start
        if self.since and end and last_day(str(end)) < first_day(self.since):
            return False
        if self.until and start and first_day(str(start)) > last_day(self.until):
            return False
        return True


@dataclass
class Selection:
    """One of: ``focus`` (ego network to ``depth`` hops), ``query`` (a stored query's entities), or neither (the whole
    graph); then ``filters``. ``max_neighbours`` caps hubs: walking out from a focus, each node adds at most that many
    new neighbours; otherwise a node keeps at most that many of the neighbours that connect only to it
    (:func:`cap_hubs`). Either way the count left out is recorded in ``truncated``."""

    focus: str | None = None
    depth: int = 2
    query: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    max_neighbours: int | None = None


def select(graph, selection: Selection, *, catalog=None) -> Subgraph:
    """The subgraph a selection names, with its sources attached."""
    with _no_cycle_collection():
        return _select(graph, selection, catalog=catalog)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a selection is built.

    A whole-graph selection allocates a few hundred thousand dicts and lists, none of them in a reference cycle;
    the collector, triggered by the allocations alone, walked the growing heap again and again and took about 30 % of
    the CPU time of selecting 40,000 relationships. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _select(graph, selection: Selection, *, catalog=None) -> Subgraph:
    if selection.focus and selection.query:
        raise SelectionError("give either --focus or --query, not both")
    if selection.params and not selection.query:
        raise SelectionError("--param only applies with --query NAME")
    if selection.depth < 0:
        raise SelectionError(f"--depth must be 0 or more, got {selection.depth}")
    if selection.focus:
        sub = graph.neighbourhood(selection.focus, selection.depth, max_neighbours=selection.max_neighbours)
        return apply_filters(sub, selection.filters, depth=selection.depth)
    if selection.query:
        sub = subgraph_for_query(graph, selection.query, selection.params, catalog=catalog)
    else:
        sub = graph.whole_graph()
    sub = apply_filters(sub, selection.filters)
    if selection.max_neighbours is not None:
        sub = cap_hubs(sub, selection.max_neighbours)
    return sub


def subgraph_for_query(graph, name: str, params: dict[str, Any] | None = None, *, catalog=None) -> Subgraph:
    """The entities and relationships a stored query returns, plus the entities its parameters name.

    Any value in the rows that is an entity id (or a list or record holding them) selects that entity. If the rows
    hold relationship ids, the map shows exactly those relationships; otherwise every relationship among the
    selected entities.
    """
    from statetech.graph.catalog import Catalog

    catalog = catalog or Catalog.load()
    params = dict(params or {})
    if catalog.get(name).writes:
        raise SelectionError(f"query {name!r} writes to the graph; maps and exports run only read queries")
    stored, bound = catalog.bind(graph, name, params)
    result = catalog.run(graph, name, params)
    entity_ids, relationship_ids = ids_in_rows(result.rows)
    named = []
    for pname, param in stored.params.items():
        if bound.get(pname) is None:
            continue
        if param.type == "entity":
            entity_ids.add(bound[pname])
            named.append(f"{pname}={bound[pname]}")
        elif pname in params:
            named.append(f"{pname}={bound[pname]}")
    for rel_id in relationship_ids:
        derived = _DERIVED_REL_ID_RE.match(rel_id)
        if derived:
            entity_ids.update((derived["source"], derived["target"]))
    if not entity_ids:
        columns = ", ".join(result.columns) or "none"
        raise SelectionError(f"query {name!r} returned {len(result.rows)} rows but no entity ids (columns: {columns}); "
                             f"a map or export needs a query that returns ids such as 'agency:ice'")
    title = stored.title + (f" ({', '.join(named)})" if named else "")
    sub = graph.subgraph_for_ids(entity_ids, title=title)
    if relationship_ids:
        sub.edges = [edge for edge in sub.edges if edge.id in relationship_ids]
        _prune_sources(sub)
    return sub


def ids_in_rows(rows: Iterable[Any]) -> tuple[set[str], set[str]]:
    """Entity ids and relationship ids anywhere in query rows: plain values, lists, node and relationship records."""
    entity_ids: set[str] = set()
    relationship_ids: set[str] = set()
    stack: list[Any] = list(rows)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if ENTITY_ID_RE.match(value):
                entity_ids.add(value)
            elif RELATIONSHIP_ID_RE.match(value):
                relationship_ids.add(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set)):
            stack.extend(value)
    return entity_ids, relationship_ids


def apply_filters(sub: Subgraph, filters: Filters, *, depth: int | None = None) -> Subgraph:
    """A copy of ``sub`` keeping what ``filters`` allow; with a focus, only what still connects to it within ``depth``.

    The focus itself is always kept, so a map never loses its centre to a filter.
    """
    if not filters.active:
        return sub
    nodes = {
        node_id: node for node_id, node in sub.nodes.items()
        if node_id == sub.focus or (filters.keeps_kind(node.kind)
                                    and filters.keeps_dates(node.properties, event=node.kind in EVENT_KINDS))
    }
    edges = [
        edge for edge in sub.edges
        if edge.source in nodes and edge.target in nodes and filters.keeps_type(edge.type)
        and filters.keeps_dates(edge.properties)
    ]
    if sub.focus and sub.focus in nodes and depth is not None:
        reachable = _within(sub.focus, edges, depth)
        nodes = {node_id: node for node_id, node in nodes.items() if node_id in reachable}
        edges = [edge for edge in edges if edge.source in reachable and edge.target in reachable]
    out = Subgraph(title=sub.title, focus=sub.focus)
    for node in nodes.values():
        out.add_node(SubgraphNode(node.id, node.kind, dict(node.properties)))
    out.edges = [SubgraphEdge(e.id, e.type, e.source, e.target, dict(e.properties)) for e in edges]
    out.truncated = {node_id: count for node_id, count in sub.truncated.items() if node_id in nodes}
    out.sources = dict(sub.sources)
    _prune_sources(out)
    return out


def cap_hubs(sub: Subgraph, max_neighbours: int) -> Subgraph:
    """A copy of ``sub`` where no node keeps more than ``max_neighbours`` neighbours that connect only to it.

    Only such leaves are dropped (by smallest contract value, then name), so no path between the nodes that remain
    is lost; the count left out is added to ``truncated`` for the hub. The focus is never dropped.
    """
    if max_neighbours < 0:
        raise SelectionError("max_neighbours must be 0 or more")
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in sub.edges:
        if edge.source != edge.target:
            neighbours[edge.source].add(edge.target)
            neighbours[edge.target].add(edge.source)
    dropped: set[str] = set()
    truncated = dict(sub.truncated)
    for hub, around in neighbours.items():
        if len(around) <= max_neighbours or hub in dropped:
            continue
        leaves = [n for n in around if len(neighbours[n]) == 1 and n != sub.focus and n in sub.nodes]
        room = max(0, max_neighbours - (len(around) - len(leaves)))
        if len(leaves) <= room:
            continue
        leaves.sort(key=lambda n: (-contract_value(sub.nodes[n]), sub.nodes[n].name, n))
        cut = leaves[room:]
        dropped.update(cut)
        truncated[hub] = truncated.get(hub, 0) + len(cut)
    if not dropped:
        return sub
    out = Subgraph(title=sub.title, focus=sub.focus)
    out.nodes = {node_id: node for node_id, node in sub.nodes.items() if node_id not in dropped}
    out.edges = [edge for edge in sub.edges if edge.source not in dropped and edge.target not in dropped]
    out.truncated = {node_id: count for node_id, count in truncated.items() if node_id in out.nodes}
    cited = out.cited_source_ids()
    out.sources = {sid: record for sid, record in sub.sources.items() if sid in cited}
    return out


def contract_value(node: SubgraphNode) -> float:
    """A contract's money: obligated, else current, else potential value (0 when none is recorded)."""
    for name in MONEY_FIELDS:
        value = usd_amount(node.properties.get(name))
        if value:
            return value
    return 0.0


def usd_amount(value: Any) -> float:
    """A money value as a non-negative float; anything that is not a finite number counts as 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


def _within(start: str, edges: list[SubgraphEdge], depth: int) -> set[str]:
    adjacency: dict[str, set[str]] = {}
    for edge in edges:
        adjacency.setdefault(edge.source, set()).add(edge.target)
        adjacency.setdefault(edge.target, set()).add(edge.source)
    seen = {start}
    queue = deque([(start, 0)])
    while queue:
        node_id, hops = queue.popleft()
        if hops == depth:
            continue
        for neighbour in adjacency.get(node_id, ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append((neighbour, hops + 1))
    return seen


def _prune_sources(sub: Subgraph) -> None:
    cited = sub.cited_source_ids()
    sub.sources = {sid: record for sid, record in sub.sources.items() if sid in cited}


def _split_names(text: str | Iterable[str] | None, allowed: Iterable[str], flag: str,
                 what: str) -> tuple[frozenset[str], frozenset[str]]:
    if not text:
        return frozenset(), frozenset()
    items = text.split(",") if isinstance(text, str) else list(text)
    by_folded = {name.lower(): name for name in allowed}
    include: set[str] = set()
    exclude: set[str] = set()
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        negate = item.startswith("-")
        name = by_folded.get(item.lstrip("-").strip().lower())
        if name is None:
            raise SelectionError(f"{flag}: {item.lstrip('-')!r} is not a {what}; use one of {', '.join(allowed)} "
                                 f"(prefix one with '-' to leave it out)")
        (exclude if negate else include).add(name)
    return frozenset(include), frozenset(exclude)


def _check_date(value: str | None, flag: str) -> str | None:
    if value is None or value == "":
        return None
    value = str(value).strip()
    if not is_partial_date(value):
        raise SelectionError(f"{flag}: {value!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    return value

