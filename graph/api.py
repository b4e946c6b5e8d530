"""The library front door: ``Graph.open(...)`` then load, count, query and select subgraphs.

The CLI is a thin layer over this class; everything here is usable from Python without Click.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statetech.graph import cypher
from statetech.graph.errors import UnknownEntity, ValidationFailed
from statetech.graph.model import RecordSet
from statetech.graph.store import GrafeoStore, GraphStore, Neo4jStore, QueryResult, WriteSummary
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode


@dataclass
class Coverage:
    total: int
    sourced: int

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else round(100.0 * self.sourced / self.total, 1)


@dataclass
class Stats:
    nodes_by_kind: dict[str, int] = field(default_factory=dict)
    relationships_by_type: dict[str, int] = field(default_factory=dict)
    sources: int = 0
    node_coverage: Coverage = field(default_factory=lambda: Coverage(0, 0))
    relationship_coverage: Coverage = field(default_factory=lambda: Coverage(0, 0))
    nodes_by_confidence: dict[str, int] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        return sum(self.nodes_by_kind.values())

    @property
    def relationships(self) -> int:
        return sum(self.relationships_by_type.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "relationships": self.relationships,
            "sources": self.sources,
            "nodes_by_kind": self.nodes_by_kind,
            "relationships_by_type": self.relationships_by_type,
            "nodes_by_confidence": self.nodes_by_confidence,
            "node_source_coverage_percent": self.node_coverage.percent,
            "relationship_source_coverage_percent": self.relationship_coverage.percent,
        }


def shipped_seeds_path() -> Path:
    """The curated records that ship inside the package."""
    from importlib.resources import files

    return Path(str(files("statetech.seeds")))


class Graph:
    """A statetech graph on one store (Neo4j or the embedded default)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    @classmethod
    def open(cls, neo4j_uri: str | None = None, db_path: str | Path | None = None, *, user: str | None = None,
             password: str | None = None, database: str | None = None) -> Graph:
        """Neo4j when a URI is given (argument or NEO4J_URI), else the embedded store (``db_path``/STATETECH_DB)."""
        uri = neo4j_uri or os.environ.get("NEO4J_URI")
        if uri and db_path is None:
            store: GraphStore = Neo4jStore(
                uri,
                user=user or os.environ.get("NEO4J_USERNAME") or os.environ.get("NEO4J_USER"),
                password=password if password is not None else os.environ.get("NEO4J_PASSWORD"),
                database=database or os.environ.get("NEO4J_DATABASE"),
            )
        else:
            store = GrafeoStore(db_path)
        return cls(store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Graph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        return self.store.location

    # -- writing ---------------------------------------------------------------------------------------------------

    def load(self, records: RecordSet, **kwargs: Any) -> WriteSummary:
        """Write validated records (idempotent upserts)."""
        self.store.ensure_schema()
        return self.store.write_records(records, **kwargs)

    def load_files(self, paths: Iterable[str | Path]) -> WriteSummary:
        """Validate curated files (they may refer to records already stored), then write them; all or nothing."""
        from statetech.loaders.curated import read_curated

        bundle = read_curated(paths, known_ids=self.store.known_ids(), known_sources=self.store.known_sources())
        if bundle.problems:
            raise ValidationFailed(bundle.problems)
        return self.load(bundle.record_set())

    def clear(self) -> int:
        return self.store.clear()

    # -- reading ---------------------------------------------------------------------------------------------------

    def query(self, text: str, params: dict[str, Any] | None = None, *, write: bool = False) -> QueryResult:
        """Run Cypher; read-only unless ``write`` is set, enforced by the store itself."""
        return self.store.run_write(text, params) if write else self.store.run_read(text, params)

    def stats(self) -> Stats:
        read = self.store.run_read
        stats = Stats()
        stats.nodes_by_kind = {r["kind"]: r["count"] for r in read(cypher.COUNT_NODES_BY_KIND)}
        stats.relationships_by_type = {r["type"]: r["count"] for r in read(cypher.COUNT_RELATIONSHIPS_BY_TYPE)}
        rows = read(cypher.COUNT_SOURCES).rows
        stats.sources = rows[0]["count"] if rows else 0
        stats.nodes_by_confidence = {r["confidence"]: r["count"] for r in read(cypher.COUNT_BY_CONFIDENCE)}
        for attr, query in (("node_coverage", cypher.NODE_SOURCE_COVERAGE),
                            ("relationship_coverage", cypher.RELATIONSHIP_SOURCE_COVERAGE)):
            rows = read(query).rows
            total = rows[0]["total"] if rows else 0
            sourced = (rows[0]["sourced"] or 0) if rows else 0
            setattr(stats, attr, Coverage(int(total or 0), int(sourced)))
        return stats

    def resolve(self, ref: str) -> str:
        """An entity id from an id or an unambiguous name or alias; ambiguity lists the candidates."""
        ref = ref.strip()
        rows = self.store.run_read(cypher.ENTITY_BY_ID, {"id": ref}).rows
        if rows:
            return rows[0]["id"]
        rows = self.store.run_read(cypher.ENTITIES_BY_NAME, {"name": ref}).rows
        if not rows:
            rows = self.store.run_read(cypher.ENTITIES_NAME_CONTAINS, {"name": ref}).rows
        if len(rows) == 1:
            return rows[0]["id"]
        if not rows:
            raise UnknownEntity(f"no entity has the id or name {ref!r}; try 'statetech query run entities/search "
                                f"--param text=...' to look it up")
        listing = "\n".join(f"  {r['id']}  ({r['kind']}) {r['name']}" for r in rows)
        raise UnknownEntity(f"{ref!r} matches {len(rows)} entities; give one of these ids:\n{listing}")

    # -- subgraphs ---------------------------------------------------------------------------------------------------

    def whole_graph(self) -> Subgraph:
        sub = Subgraph(title="Whole graph")
        for row in self.store.run_read(cypher.ALL_ENTITIES):
            sub.add_node(SubgraphNode(row["id"], row["kind"], row["props"]))
        for row in self.store.run_read(cypher.ALL_RELATIONSHIPS):
            sub.add_edge(SubgraphEdge(row["id"], row["type"], row["source"], row["target"], row["props"]))
        self.attach_sources(sub)
        return sub

    def neighbourhood(self, focus: str, depth: int = 1, max_neighbours: int | None = None) -> Subgraph:
        """The ego network of ``focus`` out to ``depth`` hops, walking hop by hop.

        With ``max_neighbours``, a node that would add more new neighbours than that keeps the first ones (by id,
        so the result is stable) and the count left out is recorded, so a hub cannot flood a map.
        """
        if depth < 0:
            raise ValueError("depth must be 0 or more")
        centre = self.resolve(focus)
        sub = Subgraph(focus=centre)
        frontier = [centre]
        seen = {centre}
        for _ in range(depth):
            if not frontier:
                break
            rows = self.store.run_read(cypher.NEIGHBOURHOOD_HOP, {"ids": frontier}).rows
            added_by: dict[str, int] = {}
            next_frontier: list[str] = []
            for row in rows:
                neighbour = row["neighbour"]
                if neighbour not in seen:
                    count = added_by.get(row["origin"], 0)
                    if max_neighbours is not None and count >= max_neighbours:
                        sub.truncated[row["origin"]] = sub.truncated.get(row["origin"], 0) + 1
                        continue
                    added_by[row["origin"]] = count + 1
                    seen.add(neighbour)
                    next_frontier.append(neighbour)
            frontier = next_frontier
        self._fill(sub, sorted(seen))
        name = sub.nodes[centre].name if centre in sub.nodes else centre
        sub.title = f"{name}: {depth}-hop neighbourhood"
        return sub

    def subgraph_for_ids(self, ids: Iterable[str], title: str = "") -> Subgraph:
        sub = Subgraph(title=title)
        self._fill(sub, sorted(set(ids)))
        return sub

    def _fill(self, sub: Subgraph, ids: list[str]) -> None:
        for row in self.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ids}):
            sub.add_node(SubgraphNode(row["id"], row["kind"], row["props"]))
        for row in self.store.run_read(cypher.RELATIONSHIPS_AMONG, {"ids": ids}):
            sub.add_edge(SubgraphEdge(row["id"], row["type"], row["source"], row["target"], row["props"]))
        self.attach_sources(sub)

    def attach_sources(self, sub: Subgraph) -> None:
        ids = sorted(sub.cited_source_ids())
        if ids:
            for row in self.store.run_read(cypher.SOURCES_BY_IDS, {"ids": ids}):
                sub.sources[row["props"]["id"]] = row["props"]
