"""A selected part of the graph, with the sources behind it: what maps and exports are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SubgraphNode:
    id: str
    kind: str
    properties: dict[str, Any]

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

    def add_edge(self, edge: SubgraphEdge) -> None:
        if edge.id not in self._edge_ids():
            self.edges.append(edge)

    def _edge_ids(self) -> set[str]:
        return {e.id for e in self.edges}

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
