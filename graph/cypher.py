"""Every structural Cypher statement statetech runs: schema, upserts, counts, lookups and subgraph fetches.

Kept in one module so a reviewer can read every write the system makes in one place. Values always travel as
parameters. Labels and relationship types cannot be parameters in Cypher, so each one pasted below passes through
:func:`checked_label` / :func:`checked_rel_type`, which accept only names from the model.

The same text runs on Neo4j and on the embedded Grafeo store. Where the two dialects differ, the store module says so.
"""

from __future__ import annotations

from statetech.graph.model import (
    ENTITY_LABEL,
    NODE_KINDS,
    RELATIONSHIP_TYPES,
    SOURCE_LABEL,
    checked_label,
    checked_rel_type,
)

# --- schema -------------------------------------------------------------------------------------------------------


def schema_statements() -> list[str]:
    """Uniqueness on ``id`` per label first, so every MERGE below is an index lookup, not a label scan."""
    statements = []
    for label in (*NODE_KINDS, ENTITY_LABEL, SOURCE_LABEL):
        label = checked_label(label)
        statements.append(
            f"CREATE CONSTRAINT {label.lower()}_id_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        )
    statements.append(f"CREATE INDEX entity_name IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.name)")
    for rel_type in RELATIONSHIP_TYPES:
        rel_type = checked_rel_type(rel_type)
        statements.append(
            f"CREATE INDEX rel_{rel_type.lower()}_id IF NOT EXISTS FOR ()-[r:{rel_type}]-() ON (r.id)"
        )
    return statements


# --- upserts (idempotent: MERGE on id, then replace the properties with the record's) -----------------------------

UPSERT_SOURCES = f"""
UNWIND $rows AS row
MERGE (s:{SOURCE_LABEL} {{id: row.id}})
SET s = row.props
RETURN count(s) AS written
"""


def upsert_nodes(kind: str) -> str:
    label = checked_label(kind)
    # MERGE on the shared Entity label (ids are unique across kinds), then add the kind label.
    return f"""
UNWIND $rows AS row
MERGE (n:{ENTITY_LABEL} {{id: row.id}})
SET n:{label}
SET n = row.props
RETURN count(n) AS written
"""


def upsert_relationships(rel_type: str, anchor: str = "from") -> str:
    """``anchor`` names the end whose relationships MERGE walks to find an existing edge.

    Both texts mean the same. Grafeo walks from the node written first in the MERGE pattern, so an agency that
    AWARDED 100,000 contracts made every new AWARDED edge scan all of them (quadratic over an import); writing the
    pattern from the other, low-degree end keeps it constant. Neo4j picks the cheaper end itself.
    """
    rel_type = checked_rel_type(rel_type)
    pattern = (f"(b)<-[r:{rel_type} {{id: row.id}}]-(a)" if anchor == "to"
               else f"(a)-[r:{rel_type} {{id: row.id}}]->(b)")
    return f"""
UNWIND $rows AS row
MATCH (a:{ENTITY_LABEL} {{id: row.from}})
MATCH (b:{ENTITY_LABEL} {{id: row.to}})
MERGE {pattern}
SET r = row.props
RETURN count(r) AS written
"""


# --- housekeeping ---------------------------------------------------------------------------------------------------

# Relationships go first, in bounded batches: DETACH DELETE of a hub (an agency with 100k awards) would pull all its
# relationships into one transaction and exceed Neo4j's transaction memory limit on a large graph.
DELETE_RELATIONSHIP_BATCH = """
MATCH ()-[r]->()
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""

DELETE_BATCH = """
MATCH (n)
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""

KNOWN_ENTITIES = f"MATCH (n:{ENTITY_LABEL}) RETURN n.id AS id, n.kind AS kind"
KNOWN_SOURCES = f"MATCH (s:{SOURCE_LABEL}) RETURN s.id AS id"

# --- stats ----------------------------------------------------------------------------------------------------------

COUNT_NODES_BY_KIND = f"""
MATCH (n:{ENTITY_LABEL})
RETURN n.kind AS kind, count(n) AS count
ORDER BY kind
"""

COUNT_SOURCES = f"MATCH (s:{SOURCE_LABEL}) RETURN count(s) AS count"

COUNT_RELATIONSHIPS_BY_TYPE = f"""
MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL})
RETURN type(r) AS type, count(r) AS count
ORDER BY type
"""

# A record counts as sourced when it cites at least one source that exists as a Source node.
NODE_SOURCE_COVERAGE = f"""
MATCH (n:{ENTITY_LABEL})
OPTIONAL MATCH (s:{SOURCE_LABEL}) WHERE s.id IN coalesce(n.sources, [])
WITH n, count(s) AS found
RETURN count(n) AS total, sum(CASE WHEN found > 0 THEN 1 ELSE 0 END) AS sourced
"""

RELATIONSHIP_SOURCE_COVERAGE = f"""
MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL})
OPTIONAL MATCH (s:{SOURCE_LABEL}) WHERE s.id IN coalesce(r.sources, [])
WITH r, count(s) AS found
RETURN count(r) AS total, sum(CASE WHEN found > 0 THEN 1 ELSE 0 END) AS sourced
"""

COUNT_BY_CONFIDENCE = f"""
MATCH (n:{ENTITY_LABEL})
RETURN n.confidence AS confidence, count(n) AS count
ORDER BY confidence
"""

# --- lookups --------------------------------------------------------------------------------------------------------

ENTITY_BY_ID = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
RETURN n.id AS id, n.kind AS kind, n.name AS name
"""

# Exact (case-insensitive) name or alias first; the caller falls back to a substring search.
ENTITIES_BY_NAME = f"""
MATCH (n:{ENTITY_LABEL})
WHERE toLower(n.name) = toLower($name)
   OR any(alias IN coalesce(n.aliases, []) WHERE toLower(alias) = toLower($name))
RETURN n.id AS id, n.kind AS kind, n.name AS name
ORDER BY id
"""

ENTITIES_NAME_CONTAINS = f"""
MATCH (n:{ENTITY_LABEL})
WHERE toLower(n.name) CONTAINS toLower($name)
   OR any(alias IN coalesce(n.aliases, []) WHERE toLower(alias) CONTAINS toLower($name))
RETURN n.id AS id, n.kind AS kind, n.name AS name
ORDER BY id
LIMIT 25
"""

# --- subgraph fetches (maps, exports) -------------------------------------------------------------------------------

ALL_ENTITIES = f"""
MATCH (n:{ENTITY_LABEL})
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
ORDER BY id
"""

ALL_RELATIONSHIPS = f"""
MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL})
RETURN r.id AS id, type(r) AS type, a.id AS source, b.id AS target, properties(r) AS props
ORDER BY id
"""

ENTITIES_BY_IDS = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.id IN $ids
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
ORDER BY id
"""

# One hop out from a frontier of ids; the caller walks hop by hop so both stores expand identically and hubs can be
# capped per node before the next hop. Every statetech relationship stores its ends' ids as r.from / r.to: reading them
# avoids startNode()/endNode(), which the embedded engine answers by scanning all edges.
NEIGHBOURHOOD_HOP = f"""
MATCH (a:{ENTITY_LABEL})-[r]-(b:{ENTITY_LABEL})
WHERE a.id IN $ids
RETURN a.id AS origin, r.id AS id, type(r) AS type,
       coalesce(r.from, startNode(r).id) AS source, coalesce(r.to, endNode(r).id) AS target,
       properties(r) AS props, b.id AS neighbour
ORDER BY origin, id
"""

RELATIONSHIPS_AMONG = f"""
MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL})
WHERE a.id IN $ids AND b.id IN $ids
RETURN r.id AS id, type(r) AS type, a.id AS source, b.id AS target, properties(r) AS props
ORDER BY id
"""

SOURCES_BY_IDS = f"""
MATCH (s:{SOURCE_LABEL})
WHERE s.id IN $ids
RETURN properties(s) AS props
ORDER BY s.id
"""


# --- imports (statetech.loaders.importing / resolve) ----------------------------------------------------------------
# Reads that let an importer resolve upstream names and identifiers against the graph, and check which of a batch's
# records already exist (for created/matched counts and the precedence rule) before it writes. All batched: one query
# per batch, never one per row. Lookups are written as UNWIND + MATCH on {id: ...} so both stores use their id index.


def resolver_entities(kind: str) -> str:
    """Every node of one kind with the fields entity resolution matches on."""
    label = checked_label(kind)
    return f"""
MATCH (n:{label})
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.aliases AS aliases, n.external_ids AS external_ids,
       n.uei AS uei, n.duns AS duns, n.cik AS cik, n.agency_code AS agency_code, n.imported_from AS imported_from
"""


EXISTING_NODES = f"""
UNWIND $ids AS node_id
MATCH (n:{ENTITY_LABEL} {{id: node_id}})
RETURN n.id AS id, n.imported_from AS imported_from
"""


def existing_relationships(rel_type: str, anchor: str = "from") -> str:
    """Which of ``$rows`` ({id, from, to}) exist; ``anchor`` as in :func:`upsert_relationships` (the low-degree end)."""
    rel_type = checked_rel_type(rel_type)
    pattern = (f"(b:{ENTITY_LABEL} {{id: row.to}})<-[r:{rel_type} {{id: row.id}}]-(a:{ENTITY_LABEL} {{id: row.from}})"
               if anchor == "to" else
               f"(a:{ENTITY_LABEL} {{id: row.from}})-[r:{rel_type} {{id: row.id}}]->(b:{ENTITY_LABEL} {{id: row.to}})")
    return f"""
UNWIND $rows AS row
MATCH {pattern}
RETURN r.id AS id, r.imported_from AS imported_from
"""


# --- paths between two entities (statetech path, Graph.paths) --------------------------------------------------------
# Cypher cannot take a variable-length bound as a parameter, so the hop limit is pasted into the text; it passes the
# same kind of guard as a label: only a small whole number gets through.

MAX_PATH_HOPS = 10


def shortest_paths(max_hops: int) -> str:
    """Every shortest path of up to ``max_hops`` hops, in either direction, between ``$from`` and ``$to``.

    At most ``$cap`` paths come back, in engine order; the caller sorts them, so both stores show the same ones.
    Each hop's start is read from ``r.from`` (stored on every statetech relationship): Grafeo answers startNode()
    by scanning the edges, and coalesce() only evaluates it for an edge made outside statetech.
    """
    if isinstance(max_hops, bool) or not isinstance(max_hops, int) or not 1 <= max_hops <= MAX_PATH_HOPS:
        raise ValueError(f"max_hops must be a whole number from 1 to {MAX_PATH_HOPS}, not {max_hops!r}")
    return f"""
MATCH (a:{ENTITY_LABEL} {{id: $from}})
MATCH (b:{ENTITY_LABEL} {{id: $to}})
MATCH p = allShortestPaths((a)-[*..{max_hops}]-(b))
WITH p LIMIT $cap
RETURN [n IN nodes(p) | properties(n)] AS nodes,
       [r IN relationships(p) | properties(r)] AS relationships,
       [r IN relationships(p) | type(r)] AS types,
       [r IN relationships(p) | coalesce(r.from, startNode(r).id)] AS starts
"""
