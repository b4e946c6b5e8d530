"""The library front door: ``Graph.open(...)`` then load, count, query and select subgraphs.

The CLI is a thin layer over this class; everything here is usable from Python without Click.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statetech.graph import cypher
from statetech.graph.errors import QueryError, UnknownEntity
from statetech.graph.store import GrafeoStore, GraphStore, Neo4jStore, QueryResult, WriteSummary
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode

if TYPE_CHECKING:  # the record classes need pydantic, which commands that only read never import
    from statetech.graph.model import RecordSet
    from statetech.graph.provenance import RefreshSummary
    from statetech.graph.writer import ImportCounts, RecordBatch


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


def _by_id(row: dict) -> tuple[bool, str]:
    return row["id"] is None, row["id"] or ""


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

    def load(self, records: RecordSet, *, batch_size: int | None = None,
             single_transaction: bool | None = None) -> WriteSummary:
        """Write validated records, every one of them (curated data wins over anything stored).

        Up to 50,000 records go in one transaction (all or nothing); more are written in batches by the writer's
        fast path (:mod:`statetech.graph.writer`), which converges if re-run after a failure.
        """
        from statetech.graph.writer import DEFAULT_BATCH, load_records

        self.store.ensure_schema()
        return load_records(self.store, records, batch_size=batch_size or DEFAULT_BATCH,
                            single_transaction=single_transaction)

    def import_(self, stream: Iterable[RecordBatch], *, batch_size: int | None = None,
                dry_run: bool = False) -> ImportCounts:
        """Write an importer's records: batched, never overwriting curated records or more authoritative imports.

        ``stream`` yields what each input row contributes (anything with ``sources``, ``nodes`` and
        ``relationships``); the counts say what was created, updated or kept as it was. With ``dry_run`` everything
        is looked up and counted, and nothing is written.
        """
        import contextlib

        from statetech.graph.writer import DEFAULT_BATCH, GraphWriter

        writer = GraphWriter(self.store, batch_size=batch_size or DEFAULT_BATCH, importing=True, dry_run=dry_run)
        if not dry_run:
            self.store.ensure_schema()
        with contextlib.nullcontext() if dry_run else self.store.writing():
            writer.write(stream)
        return writer.counts

    def known_ids(self) -> dict[str, str]:
        """Every stored entity id -> its kind: curated files may refer to them without redefining them."""
        return self.store.known_ids()

    def known_sources(self) -> set[str]:
        return self.store.known_sources()

    def curated_actions(self) -> list[dict[str, Any]]:
        """Curated worker actions (``id``, ``name``, ``date``, ``companies``, ``urls``), for imports to land on."""
        return self.store.run_read(cypher.CURATED_ACTIONS).rows

    def curated_award_ids(self) -> list[dict[str, Any]]:
        """Curated contracts with an award id (``id``, ``award_id``), for imports to land on."""
        return self.store.run_read(cypher.CURATED_AWARD_IDS).rows

    def resolution_candidates(self, kind: str) -> list[dict[str, Any]]:
        """Every stored node of ``kind`` with the fields entity resolution matches on (ids, names, identifiers)."""
        return self.store.run_read(cypher.resolver_entities(kind)).rows

    def clear(self) -> int:
        return self.store.clear()

    def refresh_provenance(self) -> RefreshSummary:
        """Recompute every field statetech derives at write time (the provenance fields records/unsourced and
        records/newest read, the vendor agency counts agencies/shared-vendors reads): once for a store written by an
        older statetech, and after edits made outside statetech."""
        from statetech.graph.provenance import refresh

        return refresh(self.store)

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
        # The ids of the Source nodes, as a map the coverage queries look each cited id up in.
        known = {row["id"]: True for row in read(cypher.KNOWN_SOURCES) if isinstance(row["id"], str)}
        for attr, query in (("node_coverage", cypher.NODE_SOURCE_COVERAGE),
                            ("relationship_coverage", cypher.RELATIONSHIP_SOURCE_COVERAGE)):
            rows = read(query, {"known": known}).rows
            total = rows[0]["total"] if rows else 0
            sourced = (rows[0]["sourced"] or 0) if rows else 0
            setattr(stats, attr, Coverage(int(total or 0), int(sourced)))
        return stats

    def resolve(self, ref: str, kinds: Collection[str] | None = None) -> str:
        """An entity id from an id or an unambiguous name or alias; ambiguity lists the candidates.

        With ``kinds``, a name resolves only among entities of those kinds, so 'Example' can pick the one agency
        among many entities of that name; an id is returned whatever its kind (the caller checks it).
        """
        ref = ref.strip()
        rows = self.store.run_read(cypher.ENTITY_BY_ID, {"id": ref}).rows
        if rows:
            return rows[0]["id"]
        rows = [r for r in self.store.run_read(cypher.ENTITIES_BY_NAME, {"name": ref}).rows
                if not kinds or r["kind"] in kinds]
        if not rows:
            rows = [r for r in self.store.run_read(cypher.ENTITIES_NAME_CONTAINS, {"name": ref}).rows
                    if not kinds or r["kind"] in kinds]
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
        # Sorted here rather than by ORDER BY in the store (see cypher.ALL_ENTITIES); ids missing sort last, as there.
        for row in sorted(self.store.run_read(cypher.ALL_ENTITIES), key=_by_id):
            sub.add_node(SubgraphNode(row["id"], row["kind"], row["props"]))
        for row in sorted(self.store.run_read(cypher.ALL_RELATIONSHIPS), key=_by_id):
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
        among = dict.fromkeys(ids, True)
        for row in self.store.run_read(cypher.RELATIONSHIPS_AMONG, {"ids": ids, "among": among}):
            sub.add_edge(SubgraphEdge(row["id"], row["type"], row["source"], row["target"], row["props"]))
        self.attach_sources(sub)

    def attach_sources(self, sub: Subgraph) -> None:
        ids = sorted(sub.cited_source_ids())
        if ids:
            for row in self.store.run_read(cypher.SOURCES_BY_IDS, {"ids": ids}):
                sub.sources[row["props"]["id"]] = row["props"]

    # -- paths (statetech path; Hop, Connection and Connections are defined at the end of the module) ------------

    def paths(self, origin: str, destination: str, max_hops: int = 6, limit: int = 10) -> Connections:
        """Every shortest path (up to ``max_hops``) between two entities, each hop with its relationship and sources."""
        if isinstance(max_hops, bool) or not isinstance(max_hops, int) or not 1 <= max_hops <= cypher.MAX_PATH_HOPS:
            raise QueryError(f"max hops must be a whole number from 1 to {cypher.MAX_PATH_HOPS}, not {max_hops!r}")
        if limit < 1:
            raise QueryError(f"the number of paths to show must be 1 or more, not {limit!r}")
        start, end = self.resolve(origin), self.resolve(destination)
        if start == end:
            raise QueryError(f"{origin!r} and {destination!r} are the same entity ({start}); give two different ones")
        ends = {row["id"]: SubgraphNode(row["id"], row["kind"], row["props"])
                for row in self.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": [start, end]})}
        result = Connections(ends[start], ends[end], max_hops)
        rows = self.store.run_read(cypher.shortest_paths(max_hops),
                                   {"from": start, "to": end, "cap": PATH_FETCH_CAP}).rows
        found = []
        for row in rows:
            entities = [SubgraphNode(n["id"], n.get("kind", ""), n) for n in row["nodes"]]
            hops = []
            for i, (props, rel_type, first) in enumerate(zip(row["relationships"], row["types"], row["starts"])):
                here, there = entities[i].id, entities[i + 1].id
                forward = first == here
                hops.append(Hop(props.get("id", f"{here}-{rel_type}-{there}"), rel_type,
                                here if forward else there, there if forward else here, forward, props))
            found.append(Connection(entities, hops))
        found.sort(key=lambda c: c.key)
        result.total = len(found)
        result.capped = len(rows) >= PATH_FETCH_CAP
        result.paths = found[:limit]
        cited = sorted({s for c in result.paths for h in c.hops for s in h.sources})
        if cited:
            for row in self.store.run_read(cypher.SOURCES_BY_IDS, {"ids": cited}):
                result.sources[row["props"]["id"]] = row["props"]
        return result


# --- paths between two entities (statetech path) --------------------------------------------------------------------

# Hub-heavy graphs can have thousands of equally short paths; this many are fetched, sorted and the first kept.
PATH_FETCH_CAP = 1000


@dataclass
class Hop:
    """One step of a path: the relationship, which way it points along the path, and what backs it."""

    id: str
    type: str
    source: str
    target: str
    forward: bool
    properties: dict[str, Any]

    @property
    def sources(self) -> list[str]:
        return list(self.properties.get("sources") or [])


@dataclass
class Connection:
    """One shortest path: entities[i] and entities[i + 1] are joined by hops[i]."""

    entities: list[SubgraphNode]
    hops: list[Hop]

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(n.id for n in self.entities), tuple(h.id for h in self.hops)


@dataclass
class Connections:
    """How two entities are connected: the shortest paths (sorted by the ids along them) and their sources."""

    origin: SubgraphNode
    destination: SubgraphNode
    max_hops: int
    paths: list[Connection] = field(default_factory=list)
    total: int = 0  # shortest paths found (at most PATH_FETCH_CAP), before ``limit`` kept the first ones
    capped: bool = False  # True when PATH_FETCH_CAP stopped the search: there are at least ``total`` paths
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def entity(node: SubgraphNode) -> dict[str, Any]:
            return {"id": node.id, "kind": node.kind, "name": node.name}

        def hop(h: Hop) -> dict[str, Any]:
            extra = {k: v for k, v in h.properties.items()
                     if k not in ("id", "type", "from", "to", "sources", "confidence")}
            return {"relationship": h.id, "type": h.type, "from": h.source, "to": h.target,
                    "direction": "forward" if h.forward else "backward",
                    "confidence": h.properties.get("confidence"), **extra,
                    "sources": [self.sources.get(s, {"id": s}) for s in h.sources]}

        return {"from": entity(self.origin), "to": entity(self.destination), "max_hops": self.max_hops,
                "total_paths": self.total, "total_is_a_lower_bound": self.capped,
                "paths": [{"hops": len(p.hops), "entities": [entity(n) for n in p.entities],
                           "steps": [hop(h) for h in p.hops]} for p in self.paths]}
