"""A selected part of the graph, with the sources behind it: what maps and exports are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statetech.graph.vocabulary import DERIVED_PROPERTIES


def _facts_only(properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` without those derived at write time (search_text, the provenance fields, agency_count): they
    are bookkeeping, not facts, and maps and exports show what the records say."""
    if DERIVED_PROPERTIES.isdisjoint(properties):
        return properties
    properties = dict(properties)  # a copy: the caller's dict may be shared (C-speed, then a few pops)
    for name in DERIVED_PROPERTIES:
        properties.pop(name, None)
    return properties


@dataclass
class SubgraphNode:
    id: str
    kind: str
    properties: dict[str, Any]

    def __post_init__(self) -> None:
        self.properties = _facts_only(self.properties)

    @property
    def name(self) -> str:
        return str(self.properties.get("name") or self.id)

    @property
    def sources(self) -> list[str]:
        return list(self.properties.get("sources") or [])


@dataclass
class SubgraphEdge:
    id: str
    type: str
    source: str
    target: str
    properties: dict[str, Any]

    def __post_init__(self) -> None:
        self.properties = _facts_only(self.properties)

    @property
    def sources(self) -> list[str]:
        return list(self.properties.get("sources") or [])


@dataclass
class Subgraph:
    """Nodes by id, edges, the Source records they cite, and what was left out to keep the view usable."""

    nodes: dict[str, SubgraphNode] = field(default_factory=dict)
    edges: list[SubgraphEdge] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    # node id -> number of neighbours left out because of a per-node cap (hubs)
    truncated: dict[str, int] = field(default_factory=dict)
    title: str = ""
    focus: str | None = None

    def add_node(self, node: SubgraphNode) -> None:
        self.nodes.setdefault(node.id, node)

    # Ids of ``edges``, so add_edge is constant time (rebuilding the set per call made selecting 40,000 relationships
    # take over a minute). ``edges`` is public and callers replace or append to it directly, so the set remembers
    # which list object and length it describes and is rebuilt once when either changed behind its back.
    _edge_index: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(0, -1), init=False, repr=False, compare=False)

    def add_edge(self, edge: SubgraphEdge) -> None:
        ids = self._edge_ids()
        if edge.id not in ids:
            self.edges.append(edge)
            ids.add(edge.id)
            self._indexed = (id(self.edges), len(self.edges))

    def _edge_ids(self) -> set[str]:
        if self._indexed != (id(self.edges), len(self.edges)):
            self._edge_index = {e.id for e in self.edges}
            self._indexed = (id(self.edges), len(self.edges))
        return self._edge_index

    def cited_source_ids(self) -> set[str]:
        ids: set[str] = set()
        for node in self.nodes.values():
            ids.update(node.sources)
        for edge in self.edges:
            ids.update(edge.sources)
        return ids

    def to_networkx(self):
        """A MultiDiGraph with kinds, types, dates and sources kept as attributes."""
        import networkx as nx

        graph = nx.MultiDiGraph(title=self.title)
        for node in self.nodes.values():
            attrs = {k: v for k, v in node.properties.items() if k not in ("id", "kind")}
            graph.add_node(node.id, kind=node.kind, **attrs)
        for edge in self.edges:
            attrs = {k: v for k, v in edge.properties.items() if k not in ("id", "from", "to", "type")}
            graph.add_edge(edge.source, edge.target, key=edge.id, id=edge.id, type=edge.type, **attrs)
        return graph
