"""Every structural Cypher statement statetech runs: schema, upserts, counts, lookups and subgraph fetches.

Kept in one module so a reviewer can read every write the system makes in one place. Values always travel as
parameters. Labels and relationship types cannot be parameters in Cypher, so each one pasted below passes through
:func:`checked_label` / :func:`checked_rel_type`, which accept only names from the model.

The same text runs on Neo4j and on the embedded Grafeo store. Where the two dialects differ, the store module says so.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from statetech.graph.vocabulary import (
    AGENCY_COUNT,
    AMOUNT_KEYS,
    CITATION_ESCAPES,
    CITATION_PREFIX,
    CITED,
    ENTITY_LABEL,
    FORMAT_LABEL,
    FORMAT_PROPERTY,
    NODE_KIND_NAMES,
    OUT_CITED,
    OUT_MISSING_SOURCES,
    OUT_NEWEST,
    OUT_UNDATED,
    PROVENANCE_PROPERTIES,
    RELATIONSHIP_TYPES,
    SEARCH_TEXT,
    SOURCE_LABEL,
    checked_label,
    checked_rel_type,
)


def _joined(tokens: str) -> str:
    """Cypher for vocabulary.citation_text of a list of tokens already sorted: space-separated, null for none."""
    return (f"CASE WHEN size({tokens}) = 0 THEN null "
            f"ELSE reduce(text = '', t IN {tokens} | text + CASE WHEN text = '' THEN '' ELSE ' ' END + t) END")


def citation_token_expression(expression: str) -> str:
    """Cypher for statetech.graph.vocabulary.citation_token of ``expression`` (a string): the same escapes in the
    same order, so a token computed in a statement equals the one Python wrote."""
    for char, escape in CITATION_ESCAPES:
        expression = f"replace({expression}, '{char}', '{escape}')"
    return f"'{CITATION_PREFIX}' + {expression}"


# --- schema -------------------------------------------------------------------------------------------------------


def schema_statements() -> list[str]:
    """Uniqueness on ``id`` per label first, so every MERGE below is an index lookup, not a label scan."""
    statements = []
    for label in (*NODE_KIND_NAMES, ENTITY_LABEL, SOURCE_LABEL):
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
    # Indexes the stored queries read through (queries/), so questions about the whole graph do not scan it:
    # records by confidence (records/alleged: equality, then id order from the same index), contracts by obligation
    # (contracts/largest sorts on it).
    statements.append(f"CREATE INDEX entity_confidence_id IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.confidence, n.id)")
    statements.append(f"CREATE INDEX entity_confidence IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.confidence)")
    statements.append(f"CREATE INDEX contract_obligated IF NOT EXISTS FOR (n:{checked_label('Contract')}) "
                      "ON (n.obligated_usd)")
    statements.extend(neo4j_search_indexes())
    statements.extend(neo4j_provenance_indexes())
    statements.append(VENDOR_AGENCY_COUNT_INDEX)
    return statements


def neo4j_provenance_indexes() -> list[str]:
    """Neo4j-only range indexes on the provenance fields (statetech.graph.provenance) that records/unsourced and
    records/newest find their rows through: records flagged missing a source, entities by newest source (index order
    serves the ORDER BY ... LIMIT), start nodes by their relationships' summary. The embedded engine scans entities
    for these instead (tens of ms at 1M nodes), which costs less than maintaining five more indexes on every write."""
    return [f"CREATE INDEX entity_{name} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.{name})"
            for name in PROVENANCE_PROPERTIES]


def neo4j_only_indexes() -> list[str]:
    """The statements of :func:`schema_statements` the embedded store skips."""
    return [*neo4j_search_indexes(), *neo4j_provenance_indexes(), VENDOR_AGENCY_COUNT_INDEX]


# agencies/shared-vendors seeks vendors by their stored agency count (statetech.graph.vendors) and reads them in index
# order, so its ORDER BY ... LIMIT stops after $limit vendors. The embedded engine answers only equality from a
# property index, so it scans the Company label instead (see the query) and is spared the upkeep.
VENDOR_AGENCY_COUNT_INDEX = (f"CREATE INDEX company_{AGENCY_COUNT} IF NOT EXISTS FOR (n:{checked_label('Company')}) "
                             f"ON (n.{AGENCY_COUNT})")


# After a bulk import (statetech.graph.bulk) the schema is created on a full database: its indexes fill in the
# background, and the queries that name an index fail until it is online, so the schema script ends waiting for them.
AWAIT_INDEXES = "CALL db.awaitIndexes(600)"

# Names of the Neo4j search indexes that stored queries call by name (db.index.fulltext.query*).
CITATIONS_INDEX = "entity_citations"
RELATIONSHIP_CITATIONS_INDEX = "relationship_citations"
RELATIONSHIP_HISTORY_INDEX = "relationship_history"


def neo4j_search_indexes() -> list[str]:
    """Neo4j-only indexes (the embedded engine has no TEXT or FULLTEXT index statements; it skips these).

    * A text index on each entity's ``search_text`` (see :mod:`statetech.graph.vocabulary`): Neo4j answers
      ``CONTAINS`` from it, so a name search does not fold the name and aliases of every node.
    * Full-text indexes with the 'keyword' analyzer (each list item one exact, case-sensitive term) on the
      ``sources`` and ``confidence`` of every entity and relationship: which records cite a source, or are alleged,
      becomes an index lookup (sources/supports, records/alleged). Relationship property indexes are per type in
      Neo4j; a full-text index is the one kind that covers every type at once.
    * The same on every relationship's ``added`` and ``updated`` days (one term each, so a Lucene range of terms
      selects the days on or before, or after, a date), and range indexes on the entities' days (read in order):
      records/known-on and records/new-since. Their embedded forms scan, which these indexes would not speed up.
    """
    keyword = "OPTIONS {indexConfig: {`fulltext.analyzer`: 'keyword'}}"
    rel_types = "|".join(checked_rel_type(t) for t in RELATIONSHIP_TYPES)
    return [
        f"CREATE TEXT INDEX entity_search_text IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.{SEARCH_TEXT})",
        f"CREATE FULLTEXT INDEX {CITATIONS_INDEX} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) "
        f"ON EACH [n.sources, n.confidence] {keyword}",
        f"CREATE FULLTEXT INDEX {RELATIONSHIP_CITATIONS_INDEX} IF NOT EXISTS FOR ()-[r:{rel_types}]-() "
        f"ON EACH [r.sources, r.confidence] {keyword}",
        f"CREATE FULLTEXT INDEX {RELATIONSHIP_HISTORY_INDEX} IF NOT EXISTS FOR ()-[r:{rel_types}]-() "
        f"ON EACH [r.added, r.updated] {keyword}",
        f"CREATE INDEX entity_added IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.added)",
        f"CREATE INDEX entity_updated IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.updated)",
    ]


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


# --- batched writes (statetech.graph.writer) --------------------------------------------------------------------------
# The writer looks up which records of a batch exist before writing it (it needs that for the created/updated counts
# and the precedence rule anyway), so the batched path never asks the store to MERGE: records known to be new are
# CREATEd, and records known to exist are found by id and their properties replaced. That avoids what a profile of the
# MERGE upserts showed on Neo4j: relationship MERGE walking Expand(Into) from a hub, and an Eager barrier from
# `SET r = row.props` on an entity the same statement has just matched. `SET x += row.props` on a fresh entity writes
# the same properties as `SET x = row.props` without reading any.


def create_nodes(kind: str) -> str:
    label = checked_label(kind)
    return f"""
UNWIND $rows AS row
CREATE (n:{ENTITY_LABEL}:{label})
SET n += row.props
RETURN count(n) AS written
"""


# Replacing properties needs `=` (a field a record no longer has must go); the node is found through its id index.
REPLACE_NODES = f"""
UNWIND $rows AS row
MATCH (n:{ENTITY_LABEL} {{id: row.id}})
SET n = row.props
RETURN count(n) AS written
"""


# An import adds to a stored entity's properties, never removing one its record lacks (see PreparedBatch.keep_stored).
MERGE_NODE_PROPERTIES = f"""
UNWIND $rows AS row
MATCH (n:{ENTITY_LABEL} {{id: row.id}})
SET n += row.props
RETURN count(n) AS written
"""


def create_relationships(rel_type: str) -> str:
    rel_type = checked_rel_type(rel_type)
    return f"""
UNWIND $rows AS row
MATCH (a:{ENTITY_LABEL} {{id: row.from}})
MATCH (b:{ENTITY_LABEL} {{id: row.to}})
CREATE (a)-[r:{rel_type}]->(b)
SET r += row.props
RETURN count(r) AS written
"""


def replace_relationships(rel_type: str, keep_stored: bool = False) -> str:
    """Neo4j: anchored on the relationship-id index (``rel_<type>_id``), so no endpoint is expanded.

    ``keep_stored`` (imports): add to the stored properties instead of replacing them."""
    rel_type = checked_rel_type(rel_type)
    operator = "+=" if keep_stored else "="
    return f"""
UNWIND $rows AS row
MATCH ()-[r:{rel_type} {{id: row.id}}]->()
WHERE r.from = row.from AND r.to = row.to
SET r {operator} row.props
RETURN count(r) AS written
"""


def existing_relationships_by_id(rel_type: str) -> str:
    """Neo4j: which of ``$rows`` ({id, from, to}) exist, through the relationship-id index."""
    rel_type = checked_rel_type(rel_type)
    return f"""
UNWIND $rows AS row
MATCH ()-[r:{rel_type} {{id: row.id}}]->()
WHERE r.from = row.from AND r.to = row.to
RETURN r.id AS id, r.imported_from AS imported_from
"""


# A load of unique records into a store without entities (a first load) needs no lookups at all.
ANY_ENTITY = f"MATCH (n:{ENTITY_LABEL}) RETURN n.id AS id LIMIT 1"

# Embedded store: the engine's bulk calls take its internal node ids, looked up once per batch through the id index.
INTERNAL_NODE_IDS = f"""
UNWIND $ids AS node_id
MATCH (n:{ENTITY_LABEL} {{id: node_id}})
RETURN n.id AS id, id(n) AS internal
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

# A record counts as sourced when it cites at least one source that exists as a Source node. $known maps the id of
# every Source node to true (KNOWN_SOURCES, read first): one map lookup per cited id, where an OPTIONAL MATCH per
# record made the embedded engine scan every Source for every record.
NODE_SOURCE_COVERAGE = f"""
MATCH (n:{ENTITY_LABEL})
RETURN count(n) AS total,
       sum(CASE WHEN any(sid IN coalesce(n.sources, []) WHERE $known[toString(sid)]) THEN 1 ELSE 0 END) AS sourced
"""

RELATIONSHIP_SOURCE_COVERAGE = f"""
MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL})
RETURN count(r) AS total,
       sum(CASE WHEN any(sid IN coalesce(r.sources, []) WHERE $known[toString(sid)]) THEN 1 ELSE 0 END) AS sourced
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

# Exact (case-insensitive) name or alias first; the caller falls back to a substring search. Both first narrow the
# candidates through search_text (the id, name and aliases lower-cased, stored with every entity; a text index on
# Neo4j), so resolving a name does not fold every name and alias of the graph.
ENTITIES_BY_NAME = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.{SEARCH_TEXT} CONTAINS toLower($name)
WITH n WHERE toLower(n.name) = toLower($name)
   OR any(alias IN coalesce(n.aliases, []) WHERE toLower(alias) = toLower($name))
RETURN n.id AS id, n.kind AS kind, n.name AS name
ORDER BY id
"""

ENTITIES_NAME_CONTAINS = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.{SEARCH_TEXT} CONTAINS toLower($name)
WITH n WHERE toLower(n.name) CONTAINS toLower($name)
   OR any(alias IN coalesce(n.aliases, []) WHERE toLower(alias) CONTAINS toLower($name))
RETURN n.id AS id, n.kind AS kind, n.name AS name
ORDER BY id
LIMIT 25
"""

# --- subgraph fetches (maps, exports) -------------------------------------------------------------------------------

# Unordered: Graph.whole_graph sorts by id in Python, which costs a few milliseconds where ORDER BY in the embedded
# engine took about half of its time on 40,000 relationships.
ALL_ENTITIES = f"""
MATCH (n:{ENTITY_LABEL})
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
"""

ALL_RELATIONSHIPS = f"""
MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL})
RETURN r.id AS id, type(r) AS type, a.id AS source, b.id AS target, properties(r) AS props
"""

# Lists of ids are unwound into one id lookup each: `WHERE n.id IN $ids` made the embedded engine test every node
# against the whole list (8.7 s for 23,000 ids on 100,000 nodes, and a timeout for the relationships among them).
ENTITIES_BY_IDS = f"""
UNWIND $ids AS wanted
WITH DISTINCT wanted
MATCH (n:{ENTITY_LABEL} {{id: wanted}})
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
ORDER BY id
"""

# One hop out from a frontier of ids; the caller walks hop by hop so both stores expand identically and hubs can be
# capped per node before the next hop. Every statetech relationship stores its ends' ids as r.from / r.to: reading them
# avoids startNode()/endNode(), which the embedded engine answers by scanning all edges.
NEIGHBOURHOOD_HOP = f"""
UNWIND $ids AS wanted
WITH DISTINCT wanted
MATCH (a:{ENTITY_LABEL} {{id: wanted}})-[r]-(b:{ENTITY_LABEL})
RETURN a.id AS origin, r.id AS id, type(r) AS type,
       coalesce(r.from, startNode(r).id) AS source, coalesce(r.to, endNode(r).id) AS target,
       properties(r) AS props, b.id AS neighbour
ORDER BY origin, id
"""

# The relationships among the given entities: walked out of each one, keeping those whose other end is in $among, a map
# {id: true} of the same ids (a map lookup per relationship; `b.id IN $ids` tested each against the whole list).
RELATIONSHIPS_AMONG = f"""
UNWIND $ids AS wanted
WITH DISTINCT wanted
MATCH (a:{ENTITY_LABEL} {{id: wanted}})-[r]->(b:{ENTITY_LABEL})
WHERE $among[b.id]
RETURN r.id AS id, type(r) AS type, a.id AS source, b.id AS target, properties(r) AS props
ORDER BY id
"""

SOURCES_BY_IDS = f"""
UNWIND $ids AS wanted
WITH DISTINCT wanted
MATCH (s:{SOURCE_LABEL} {{id: wanted}})
RETURN properties(s) AS props
ORDER BY s.id
"""


# --- lookups for writing and resolution (statetech.graph.writer, Graph.resolution_candidates) ------------------------
# Reads that let an importer resolve upstream names and identifiers against the graph, and let the writer check which
# of a batch's records already exist (for created/updated counts and the precedence rule) before it writes. All batched: one query
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


# --- explorer reads (statetech.graph.explore) ---
# What `statetech serve` reads: typeahead search, entity pages, hub-safe expansion, timelines and source pages. All
# are read-only and bounded: anything that could return a hub's 100,000 relationships takes $offset/$limit, and
# counts are computed apart from the rows. Each relationship's ends are read from r.from / r.to (stored on every
# statetech relationship) rather than startNode()/endNode(), which the embedded engine answers by scanning all edges.
# Measured on the embedded engine (benchmarks/bench_serve.py): a typed pattern -[r:TYPE]- is far cheaper than
# grouping on type(r), and ORDER BY ... LIMIT in a WITH before properties are projected is several times cheaper than
# the same order in RETURN. The far end of a relationship is left unlabelled where only its id is needed: every
# statetech relationship joins two :Entity nodes.

# Typeahead over ids, names and aliases, case-insensitive ($text is given in lower case). Exact matches rank first,
# then names or aliases that start with the text, then the rest; by name, then id. Kept as one constant behind
# explore.search_entities so that an indexed (full-text) version can replace it in one place.
# The stored search_text (id, name and aliases, lower-cased; every write path stores it) narrows the candidates: Neo4j
# answers the CONTAINS from its text index (entity_search_text), the embedded engine with one string test per node.
# The name, aliases and id themselves then decide the match and rank. (Allowing nodes without search_text here made
# Neo4j add a scan of every node to the index lookup; a store loaded before search_text existed needs a reload.)
EXPLORE_SEARCH = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.{SEARCH_TEXT} CONTAINS $text
WITH n WHERE n.id CONTAINS $text OR toLower(n.name) CONTAINS $text
   OR (n.aliases IS NOT NULL AND any(a IN n.aliases WHERE toLower(a) CONTAINS $text))
WITH n WHERE $kinds IS NULL OR n.kind IN $kinds
WITH n, toLower(n.name) AS name
WITH n, name,
     CASE WHEN n.id = $text OR name = $text OR any(a IN coalesce(n.aliases, []) WHERE toLower(a) = $text) THEN 0
          WHEN name STARTS WITH $text OR any(a IN coalesce(n.aliases, []) WHERE toLower(a) STARTS WITH $text) THEN 1
          ELSE 2 END AS rank
ORDER BY rank, name, n.id
LIMIT $limit
RETURN n.id AS id, n.kind AS kind, n.name AS name, coalesce(n.aliases, []) AS aliases, rank
"""

# The entities of one kind, for the explorer's in-process search index (statetech.graph.search_index) on the embedded
# store; read kind by kind so the read-only store's other readers get turns in between. The engine's own toLower of
# any name or alias that is not plain ASCII comes from FOLD_TEXT, so the index folds text as EXPLORE_SEARCH does.
SEARCH_INDEX_ENTITIES = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.kind = $kind
RETURN n.id AS id, n.kind AS kind, n.name AS name, coalesce(n.aliases, []) AS aliases
"""

SEARCH_INDEX_COUNT = f"""
MATCH (n:{ENTITY_LABEL})
RETURN count(n) AS count
"""

FOLD_TEXT = """
UNWIND $values AS value
RETURN value, toLower(value) AS folded
"""

EXPLORE_ENTITY = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
"""

# An entity's degree as a COUNT {} subquery: Neo4j answers it from the node's degree store (MATCH ... count(r)
# expands every relationship, 100,000 on a hub: PROFILE shows Expand(All) against getDegree), and the embedded
# engine in 1.7 ms against 13 on that hub (benchmarks/bench_serve.py data).
EXPLORE_DEGREE = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
RETURN COUNT {{ (n)-[]-() }} AS count
"""


EXPLORE_NEIGHBOUR_COUNT = f"""
MATCH (a:{ENTITY_LABEL} {{id: $id}})-[r]-(b)
WHERE b <> a
RETURN count(DISTINCT b) AS count
"""


def _explore_pattern(rel_type: str, direction: str) -> str:
    rel_type = checked_rel_type(rel_type)
    if direction == "out":
        return f"(n)-[r:{rel_type}]->(m)"
    if direction == "in":
        return f"(n)<-[r:{rel_type}]-(m)"
    raise ValueError(f"direction must be 'out' or 'in', not {direction!r}")


def explore_relationship_count(rel_type: str, direction: str) -> str:
    """How many relationships of one type and direction an entity has (the model says which pairs a kind can have).
    MATCH ... count(r), not a COUNT {} subquery: on the embedded engine the subquery is faster for the hub's one big
    group (7 against 12 ms at 100,000) but reads the hub's whole adjacency for each empty group (7 ms against 0.03),
    and a hub has many empty groups (benchmarks/bench_serve.py data)."""
    return f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
MATCH {_explore_pattern(rel_type, direction)}
RETURN count(r) AS count
"""


# Neo4j form of the same counts: one query (Neo4j answers each COUNT from the node's degree store), where the
# embedded engine is many times faster with one small query per group (measured in benchmarks/bench_serve.py).
def explore_relationship_counts(groups: list[tuple[str, str]], *, with_entity: bool = False) -> str:
    """Every group's count in one row (columns c0, c1, ... in the order of ``groups``), and the entity's degree;
    ``with_entity`` adds the entity's id, kind and properties (EXPLORE_ENTITY's columns), saving a round trip."""
    counts = []
    for i, (rel_type, direction) in enumerate(groups):
        pattern = _explore_pattern(rel_type, direction).replace("[r:", "[:")
        counts.append(f"COUNT {{ MATCH {pattern} }} AS c{i}")
    counts.append("COUNT { (n)-[]-() } AS degree")
    head = "n.id AS id, n.kind AS kind, properties(n) AS props, " if with_entity else ""
    return f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
RETURN {head}{", ".join(counts)}
"""


# Every (type, direction) group of an entity in one pass: used only when the per-type counts above do not add up to
# the entity's degree (relationships outside the model's table, written by something other than statetech). The
# embedded engine rejects a CASE expression as a grouping key in RETURN, so the direction is named in a WITH first.
EXPLORE_RELATIONSHIP_GROUPS = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m)
WITH type(r) AS type, CASE WHEN coalesce(r.from, startNode(r).id) = $id THEN 'out' ELSE 'in' END AS direction
RETURN type, direction, count(*) AS count
ORDER BY type, direction
"""


def _explore_page_order(storage_order: bool, first: bool) -> str:
    """The ORDER/SKIP/LIMIT of a relationship page. Sorted by the other end's id, then the relationship's (the same
    rows on both stores), or in storage order, which a big group needs: a sort reads the whole group, where an
    unsorted LIMIT stops after the page. A read-only store returns the same storage order on every call (the
    explorer opens the embedded file read-only and Neo4j through read sessions), so pages walked in it are disjoint
    and complete; the order differs between the two stores. A first page leaves SKIP out: the embedded engine reads
    the whole group for any SKIP, even SKIP 0 (measured in benchmarks/bench_serve.py)."""
    order = "" if storage_order else "ORDER BY m.id, r.id "
    return f"{order}LIMIT $limit" if first else f"{order}SKIP $offset LIMIT $limit"


def explore_relationship_page(rel_type: str, direction: str, *, storage_order: bool = False, first: bool = False,
                              kinds: bool = False) -> str:
    """One page of an entity's relationships of one type and direction (see :func:`_explore_page_order`), with the
    other end's id, kind, name and properties (for the page's map, saving a second read); with ``kinds`` only those
    whose other end is of a kind in $kinds."""
    kind_test = "\nWHERE m.kind IN $kinds" if kinds else ""
    return f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
MATCH {_explore_pattern(rel_type, direction)}{kind_test}
WITH r, m {_explore_page_order(storage_order, first)}
RETURN r.id AS id, properties(r) AS props, m.id AS other, m.kind AS kind, m.name AS name,
       properties(m) AS other_props
"""


def explore_relationship_kind_count(rel_type: str, direction: str) -> str:
    """How many relationships of one type and direction an entity has whose other end is of a kind in $kinds."""
    return f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
MATCH {_explore_pattern(rel_type, direction)}
WHERE m.kind IN $kinds
RETURN count(r) AS count
"""


def explore_relationship_first_pages(groups: list[tuple[str, str]],
                                     storage_order: Collection[tuple[str, str]] = ()) -> str:
    """Neo4j form of :func:`explore_relationship_page` for several groups at once: the first $limit of each, in one
    query (one round trip instead of one per group), each row naming its group; the groups in ``storage_order``
    (the big ones) unsorted."""
    if not groups:
        raise ValueError("no relationship groups given")
    parts = []
    for rel_type, direction in groups:
        order = _explore_page_order((rel_type, direction) in storage_order, first=True)
        parts.append(f"""  MATCH {_explore_pattern(rel_type, direction)}
  WITH r, m {order}
  RETURN '{checked_rel_type(rel_type)}' AS type, '{direction}' AS direction, r.id AS id, properties(r) AS props,
         m.id AS other, m.kind AS kind, m.name AS name, properties(m) AS other_props""")
    union = "\n  UNION ALL\n".join(parts)
    return f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})
CALL (n) {{
{union}
}}
RETURN type, direction, id, props, other, kind, name, other_props
"""


# Neo4j form of the first pages for an entity with few relationships (at most explore.SORTED_UP_TO): one query of
# fixed text for every entity. The per-group UNION above has a text for each set of groups, and Neo4j plans each new
# text afresh (tens of ms, more than the page itself), so most ordinary entity pages paid for a plan. Reading a
# small entity's relationships whole costs less. A relationship from the entity to itself comes out in both
# directions, as the per-group pages give it; the page keeps the rows of the groups it shows (an entity's groups list
# such a relationship once, outgoing: tests/test_explore_paging.py).
EXPLORE_SMALL_FIRST_PAGES = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m)
WITH DISTINCT n, r, m
UNWIND CASE WHEN m = n THEN ['out', 'in']
            WHEN coalesce(r.from, startNode(r).id) = $id THEN ['out'] ELSE ['in'] END AS direction
WITH r, m, type(r) AS type, direction
ORDER BY type, direction, m.id, r.id
WITH type, direction, collect([r, m])[..$limit] AS page
UNWIND page AS pair
WITH type, direction, pair[0] AS r, pair[1] AS m
RETURN type, direction, r.id AS id, properties(r) AS props, m.id AS other, m.kind AS kind, m.name AS name,
       properties(m) AS other_props
"""


# Dated relationships of an entity, oldest first: a relationship's date is its start, else its as-of reading, else
# its end.
EXPLORE_TIMELINE_COUNT = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m)
WHERE r.start_date IS NOT NULL OR r.as_of IS NOT NULL OR r.end_date IS NOT NULL
RETURN count(r) AS total
"""

EXPLORE_TIMELINE = f"""
MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m)
WHERE r.start_date IS NOT NULL OR r.as_of IS NOT NULL OR r.end_date IS NOT NULL
WITH r, m, coalesce(r.start_date, r.as_of, r.end_date) AS date
ORDER BY date, r.id SKIP $offset LIMIT $limit
RETURN date, r.id AS id, type(r) AS type, properties(r) AS props, m.id AS other, m.kind AS kind, m.name AS name
"""


def _explore_any_type(types: list[str] | None) -> str:
    """A relationship pattern's type part: every type given (each checked against the model), or any type."""
    if not types:
        return "r"
    return "r:" + "|".join(checked_rel_type(t) for t in types)


def explore_expand(types: list[str] | None = None, *, kinds: bool = False) -> str:
    """How many distinct neighbours an entity has (optionally only through some types, and with ``kinds`` only of
    the kinds in $kinds), and the ids of one page of them in id order, so that "the next 25" is the same on every
    click and on both stores. One pass over the hub's relationships gives both; the kinds test is left out of the
    text when not wanted, because even a test of a null parameter costs a read per relationship on the embedded
    engine."""
    kind_test = " AND b.kind IN $kinds" if kinds else ""
    return f"""
MATCH (a:{ENTITY_LABEL} {{id: $id}})-[{_explore_any_type(types)}]-(b)
WHERE b <> a{kind_test}
WITH DISTINCT b
WITH b.id AS neighbour ORDER BY neighbour
WITH collect(neighbour) AS neighbours
RETURN size(neighbours) AS total, neighbours[$offset..($offset + $limit)] AS page
"""


def explore_expand_relationships(types: list[str] | None = None, *, from_entity: bool = False) -> str:
    """The relationships joining an entity to some of its neighbours. Walked from each neighbour towards the
    entity, a page costs its own size when the entity is a hub; walked from the entity (``from_entity``), it costs
    the entity's degree, which is the cheaper way when the entity is small and a neighbour may be a hub. Each row
    also carries the neighbour's kind and properties (every neighbour of the page has a row), which saves a round
    trip per expansion."""
    if from_entity:
        return f"""
MATCH (a:{ENTITY_LABEL} {{id: $id}})-[{_explore_any_type(types)}]-(b)
WHERE b.id IN $neighbours
WITH DISTINCT r, b
RETURN r.id AS id, type(r) AS type, coalesce(r.from, startNode(r).id) AS source,
       coalesce(r.to, endNode(r).id) AS target, properties(r) AS props,
       b.id AS other, b.kind AS other_kind, properties(b) AS other_props
ORDER BY id
"""
    return f"""
UNWIND $neighbours AS neighbour_id
MATCH (b:{ENTITY_LABEL} {{id: neighbour_id}})
MATCH (b)-[{_explore_any_type(types)}]-(a:{ENTITY_LABEL} {{id: $id}})
WITH DISTINCT r, b
RETURN r.id AS id, type(r) AS type, coalesce(r.from, startNode(r).id) AS source,
       coalesce(r.to, endNode(r).id) AS target, properties(r) AS props,
       b.id AS other, b.kind AS other_kind, properties(b) AS other_props
ORDER BY id
"""


EXPLORE_ENTITIES = f"""
UNWIND $ids AS entity_id
MATCH (n:{ENTITY_LABEL} {{id: entity_id}})
RETURN n.id AS id, n.kind AS kind, properties(n) AS props
ORDER BY id
"""

EXPLORE_SOURCE = f"""
MATCH (s:{SOURCE_LABEL} {{id: $id}})
RETURN properties(s) AS props
"""

EXPLORE_SOURCE_ENTITIES_COUNT = f"""
MATCH (n:{ENTITY_LABEL})
WHERE $id IN n.sources
RETURN count(n) AS total
"""

EXPLORE_SOURCE_ENTITIES = f"""
MATCH (n:{ENTITY_LABEL})
WHERE $id IN n.sources
WITH n ORDER BY n.id SKIP $offset LIMIT $limit
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.confidence AS confidence
"""

EXPLORE_SOURCE_RELATIONSHIPS_COUNT = """
MATCH ()-[r]->()
WHERE $id IN r.sources
RETURN count(r) AS total
"""

EXPLORE_SOURCE_RELATIONSHIPS = """
MATCH (a)-[r]->(b)
WHERE $id IN r.sources
WITH a, r, b ORDER BY r.id SKIP $offset LIMIT $limit
RETURN r.id AS id, type(r) AS type, a.id AS source, a.kind AS source_kind, a.name AS source_name,
       b.id AS target, b.kind AS target_kind, b.name AS target_name, r.confidence AS confidence,
       r.start_date AS start_date, r.end_date AS end_date
"""

# Relationship counts by type for the home page, one typed count per type of the model (grouping on type(r) reads
# every relationship's type on the embedded engine, many times slower).


def explore_count_relationships(rel_type: str) -> str:
    return f"MATCH ()-[r:{checked_rel_type(rel_type)}]->() RETURN count(r) AS count"


# The newest sources by publication date, for the home page.
EXPLORE_NEWEST_SOURCES = f"""
MATCH (s:{SOURCE_LABEL})
WHERE s.published IS NOT NULL
WITH s ORDER BY s.published DESC, s.id LIMIT $limit
RETURN s.id AS id, s.title AS title, s.publisher AS publisher, s.published AS published, s.url AS url
"""

# The newest dated entities (contracts, actions, policies...) by start date, for the home page.
EXPLORE_NEWEST_ENTITIES = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.start_date IS NOT NULL
WITH n ORDER BY n.start_date DESC, n.id LIMIT $limit
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.start_date AS start_date, n.confidence AS confidence
"""

# Curated contracts and their award ids (PIIDs): an imported award with the same id, punctuation aside, is that
# contract, so the import lands on it instead of adding a duplicate beside it.
CURATED_AWARD_IDS = """
MATCH (c:Contract)
WHERE c.imported_from IS NULL AND c.award_id IS NOT NULL
RETURN c.id AS id, c.award_id AS award_id
"""

# Curated worker actions with the companies they involve and the URLs of their sources: an imported action of the
# same company on the same date that shares a source or its title is that action (matched in loaders/resolve.py).
CURATED_ACTIONS = """
MATCH (a:EmployeeAction)
WHERE a.imported_from IS NULL
OPTIONAL MATCH (a)-[:TARGETS|ORGANIZED_AT]->(c:Company)
WITH a, collect(DISTINCT c.id) AS companies
OPTIONAL MATCH (s:Source)
WHERE s.id IN a.sources
RETURN a.id AS id, a.name AS name, a.start_date AS date, companies, collect(DISTINCT s.url) AS urls
ORDER BY id
"""


# --- provenance fields derived at write time (statetech.graph.provenance) -------------------------------------------
# Every entity and relationship stores what records/unsourced and records/newest used to compute from its `sources`
# at read time (missing_sources, newest_source), and every entity the summary of its outgoing relationships' values
# (out_newest, out_undated, out_missing_sources), so those queries find relationships by expanding a few start nodes
# instead of reading every relationship. The values are computed in Python (statetech.graph.provenance); these
# statements only read what that needs and write the results back. A null value removes the property on both stores.

STORE_FORMAT = f"MATCH (m:{FORMAT_LABEL}) RETURN m.{FORMAT_PROPERTY} AS version LIMIT 1"

WRITE_STORE_FORMAT = f"""
MERGE (m:{FORMAT_LABEL} {{id: $id}})
SET m.{FORMAT_PROPERTY} = $version
RETURN count(m) AS written
"""


def store_format_statement(format_id: str, version: int) -> str:
    """WRITE_STORE_FORMAT with its two constants written in, for schema.cypher (statetech.graph.bulk), which
    cypher-shell runs without parameters. Both values are statetech's own constants, never data."""
    if not (isinstance(version, int) and format_id.replace(":", "").replace("-", "").isalnum()):
        raise ValueError(f"not a format marker: {format_id!r} {version!r}")
    return f"MERGE (m:{FORMAT_LABEL} {{id: '{format_id}'}}) SET m.{FORMAT_PROPERTY} = {version}"


SOURCE_DATES = f"MATCH (s:{SOURCE_LABEL}) RETURN s.id AS id, s.published AS published"

SOURCE_DATES_BY_IDS = f"""
UNWIND $ids AS wanted
MATCH (s:{SOURCE_LABEL} {{id: wanted}})
RETURN s.id AS id, s.published AS published
"""

# The ids a store flags as missing today: a new Source with one of these ids changes the records that cite it.
FLAGGED_ENTITY_MISSING = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.missing_sources IS NOT NULL
RETURN n.missing_sources AS missing
"""

FLAGGED_RELATIONSHIP_MISSING = f"""
MATCH (a:{ENTITY_LABEL})
WHERE a.out_missing_sources = true
MATCH (a)-[r]->(:{ENTITY_LABEL})
WHERE r.missing_sources IS NOT NULL
RETURN r.missing_sources AS missing
"""

ENTITY_IDS = f"MATCH (n:{ENTITY_LABEL}) RETURN n.id AS id"


def _has_days(var: str) -> str:
    """Whether the record bound to ``var`` has an 'added' or 'updated' day (what the history flags say)."""
    return f"({var}.added IS NOT NULL OR {var}.updated IS NOT NULL)"


# What recomputing a record's fields reads: its cited sources and the fields stored now (only changes are written).
_ENTITY_PROVENANCE_COLUMNS = ("n.id AS id, n.sources AS sources, n.newest_source AS newest_source, "
                              "n.missing_sources AS missing_sources, n.out_newest AS out_newest, "
                              "n.out_undated AS out_undated, n.out_missing_sources AS out_missing_sources, "
                              "n.out_history AS out_history, n.has_history AS has_history, "
                              f"n.{CITED} AS {CITED}, n.{OUT_CITED} AS {OUT_CITED}, "
                              f"{_has_days('n')} AS dated")
_RELATIONSHIP_PROVENANCE_COLUMNS = ("a.id AS start, id(r) AS rid, r.sources AS sources, "
                                    "r.newest_source AS newest_source, r.missing_sources AS missing_sources, "
                                    f"{_has_days('r')} AS dated")

ENTITIES_PROVENANCE = f"""
UNWIND $ids AS wanted
MATCH (n:{ENTITY_LABEL} {{id: wanted}})
RETURN {_ENTITY_PROVENANCE_COLUMNS}
"""

OUT_RELATIONSHIPS_PROVENANCE = f"""
UNWIND $ids AS wanted
MATCH (a:{ENTITY_LABEL} {{id: wanted}})-[r]->(:{ENTITY_LABEL})
RETURN {_RELATIONSHIP_PROVENANCE_COLUMNS}
"""

# Records flagged missing one of $ids (a map {id: true}): a new Source with that id may complete them.
ENTITIES_MISSING_ANY = f"""
MATCH (n:{ENTITY_LABEL})
WHERE n.missing_sources IS NOT NULL AND any(sid IN n.missing_sources WHERE $ids[toString(sid)])
RETURN {_ENTITY_PROVENANCE_COLUMNS}
"""

RELATIONSHIPS_MISSING_ANY = f"""
MATCH (a:{ENTITY_LABEL})
WHERE a.out_missing_sources = true
MATCH (a)-[r]->(:{ENTITY_LABEL})
WHERE r.missing_sources IS NOT NULL AND any(sid IN r.missing_sources WHERE $ids[toString(sid)])
RETURN {_RELATIONSHIP_PROVENANCE_COLUMNS}
"""

# Records citing one of $ids (a map {id: true}): a Source whose date changed. Rare, so a scan is acceptable here.
ENTITIES_CITING_ANY = f"""
MATCH (n:{ENTITY_LABEL})
WHERE any(sid IN coalesce(n.sources, []) WHERE $ids[toString(sid)])
RETURN {_ENTITY_PROVENANCE_COLUMNS}
"""

RELATIONSHIPS_CITING_ANY = f"""
MATCH (a:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL})
WHERE any(sid IN coalesce(r.sources, []) WHERE $ids[toString(sid)])
RETURN {_RELATIONSHIP_PROVENANCE_COLUMNS}
"""

SET_ENTITY_PROVENANCE = f"""
UNWIND $rows AS row
MATCH (n:{ENTITY_LABEL} {{id: row.id}})
SET n.newest_source = row.newest_source, n.missing_sources = row.missing_sources, n.has_history = row.has_history,
    n.{CITED} = row.{CITED}
RETURN count(n) AS written
"""

# Relationships are found from their start node (a relationship scan is what these fields exist to avoid; hand-drawn
# edges may have no id), each start node's fixes keyed by the engine's relationship id.
SET_RELATIONSHIP_PROVENANCE = f"""
UNWIND $groups AS g
MATCH (a:{ENTITY_LABEL} {{id: g.start}})-[r]->(:{ENTITY_LABEL})
WITH r, g.fixes[toString(id(r))] AS fix
WHERE fix IS NOT NULL
SET r.newest_source = fix.newest_source, r.missing_sources = fix.missing_sources
RETURN count(r) AS written
"""

SET_MARKERS = f"""
UNWIND $rows AS row
MATCH (n:{ENTITY_LABEL} {{id: row.id}})
SET n.out_newest = row.out_newest, n.out_undated = row.out_undated, n.out_missing_sources = row.out_missing_sources,
    n.out_history = row.out_history, n.{OUT_CITED} = row.{OUT_CITED}
RETURN count(n) AS written
"""

# New relationships only add values, so a start node's summary grows by a maximum, two ORs and a merge of tokens,
# without reading its other relationships (a hub with 100,000 awards would otherwise be read again for every batch of
# an import).
def _raise_markers(citations: bool) -> str:
    # the new relationships' citation tokens merged into the stored ones (both sorted), kept sorted so that every
    # write path stores the same text
    merge = f"""
WITH n, row, reduce(held = CASE WHEN n.{OUT_CITED} IS NULL THEN [] ELSE split(n.{OUT_CITED}, ' ') END,
                    token IN row.cited_tokens |
                    CASE WHEN token IN held THEN held
                         ELSE [t IN held WHERE t < token] + [token] + [t IN held WHERE t > token] END) AS cited"""
    return f"""
UNWIND $rows AS row
MATCH (n:{ENTITY_LABEL} {{id: row.id}}){merge if citations else ""}
SET n.out_newest = CASE WHEN row.out_newest IS NULL OR (n.out_newest IS NOT NULL AND n.out_newest >= row.out_newest)
                        THEN n.out_newest ELSE row.out_newest END,
    n.out_undated = CASE WHEN row.out_undated THEN true ELSE n.out_undated END,
    n.out_missing_sources = CASE WHEN row.out_missing_sources THEN true ELSE n.out_missing_sources END{
    f", n.{OUT_CITED} = {_joined('cited')}" if citations else ""}
RETURN count(n) AS written
"""


# Neo4j keeps no out_cited (vocabulary.OUT_CITED) and runs RAISE_MARKERS_WITHOUT_CITATIONS; RAISE_MARKERS is what the
# embedded store's Python raising is held to (tests/test_text_index_upkeep.py).
RAISE_MARKERS = _raise_markers(citations=True)
RAISE_MARKERS_WITHOUT_CITATIONS = _raise_markers(citations=False)

# The embedded store raises the summaries itself (GrafeoStore.raise_markers): it reads them with this, works out the
# same values as RAISE_MARKERS in Python and sets only those that change through the engine's own property calls.
# RAISE_MARKERS took a second per batch of 10,000 relationships there (the engine ran the merge a token at a time,
# copying the list and the joined text at each step, and a SET costs it 15-20 us per property), 38% of a load
# written in several calls.
STORED_MARKERS = f"""
UNWIND $ids AS wanted
MATCH (n:{ENTITY_LABEL} {{id: wanted}})
RETURN n.id AS id, id(n) AS internal, n.{OUT_NEWEST} AS out_newest, n.{OUT_UNDATED} AS out_undated,
       n.{OUT_MISSING_SOURCES} AS out_missing_sources, n.{OUT_CITED} AS out_cited
"""


# Only the few start nodes of relationships with curation days get out_history: a statement of its own, so an import
# (whose relationships have none) writes no extra property on every start node of every batch.
RAISE_HISTORY = f"""
UNWIND $ids AS wanted
MATCH (n:{ENTITY_LABEL} {{id: wanted}})
SET n.out_history = true
RETURN count(n) AS written
"""

# A replaced relationship may have lost the newest date its start node summarised (or a replaced entity lost the
# summary itself): the summary is recomputed from every outgoing relationship.
def _recompute_markers(citations: bool) -> str:
    # the distinct tokens of the string ids its relationships cite, sorted (as vocabulary.citation_text writes them),
    # from the lists gathered with the other summaries: the relationships are read once
    tokens = f"""
CALL (cited) {{
  UNWIND cited AS sources
  UNWIND sources AS sid
  WITH sid WHERE sid = toString(sid)
  WITH DISTINCT {citation_token_expression('sid')} AS token
  ORDER BY token
  RETURN collect(token) AS tokens
}}"""
    return f"""
UNWIND $ids AS wanted
MATCH (n:{ENTITY_LABEL} {{id: wanted}})
OPTIONAL MATCH (n)-[r]->(:{ENTITY_LABEL})
WITH n, max(CASE WHEN r.newest_source <> $undated THEN r.newest_source END) AS newest,
     sum(CASE WHEN r.newest_source = $undated THEN 1 ELSE 0 END) AS undated,
     sum(CASE WHEN r.missing_sources IS NOT NULL THEN 1 ELSE 0 END) AS missing,
     sum(CASE WHEN {_has_days('r')} THEN 1 ELSE 0 END) AS history{
     ", collect(r.sources) AS cited" + tokens if citations else ""}
SET n.out_newest = newest, n.out_undated = CASE WHEN undated > 0 THEN true END,
    n.out_missing_sources = CASE WHEN missing > 0 THEN true END, n.out_history = CASE WHEN history > 0 THEN true END{
    f", n.{OUT_CITED} = {_joined('tokens')}" if citations else ""}
RETURN count(n) AS written
"""


RECOMPUTE_MARKERS = _recompute_markers(citations=True)
RECOMPUTE_MARKERS_WITHOUT_CITATIONS = _recompute_markers(citations=False)


def recompute_markers_statement(citations: bool) -> str:
    """RECOMPUTE_MARKERS for a store that keeps out_cited (GraphStore.keeps_citation_words), else the form without."""
    return RECOMPUTE_MARKERS if citations else RECOMPUTE_MARKERS_WITHOUT_CITATIONS


# --- vendor agency counts (statetech.graph.vendors) ------------------------------------------------------------------
# Each Company stores how many distinct agencies reach it (agency_count), so agencies/shared-vendors reads one number
# per vendor instead of walking every vendor's contracts. After a write, the vendors its relationships can affect are
# found from the written ends (these lookups), and only those are recomputed.

# Vendors a new AWARDED_TO / SUBCONTRACTED_TO (or AWARDED, through the contract) reaches.
CONTRACT_VENDORS = f"""
UNWIND $ids AS wanted
MATCH (:{ENTITY_LABEL} {{id: wanted}})-[:AWARDED_TO|SUBCONTRACTED_TO]->(v:Company)
RETURN DISTINCT v.id AS id
"""

# Products a contract buys: a new AWARDED reaches their providers.
CONTRACT_PRODUCTS = f"""
UNWIND $ids AS wanted
MATCH (:{ENTITY_LABEL} {{id: wanted}})-[:FOR_PRODUCT]->(p:Product)
RETURN DISTINCT p.id AS id
"""

# Providers of products a new FOR_PRODUCT / USES points at.
PRODUCT_PROVIDERS = f"""
UNWIND $ids AS wanted
MATCH (:{ENTITY_LABEL} {{id: wanted}})<-[:PROVIDES]-(v:Company)
RETURN DISTINCT v.id AS id
"""

COMPANY_IDS = "MATCH (v:Company) RETURN v.id AS id"

# Each Contract's amount keys (statetech.graph.vocabulary.AMOUNT_KEYS) are computed in Python when written; a refresh
# reads every contract's id, amount and stored keys and writes the keys that differ.
CONTRACT_AMOUNT_KEYS = f"""
MATCH (c:{checked_label('Contract')})
RETURN c.id AS id, c.obligated_usd AS amount, {", ".join(f"c.{name} AS {name}" for name in AMOUNT_KEYS)}
"""

SET_CONTRACT_AMOUNT_KEYS = f"""
UNWIND $rows AS row
MATCH (c:{ENTITY_LABEL} {{id: row.id}})
SET {", ".join(f"c.{name} = row.{name}" for name in AMOUNT_KEYS)}
RETURN count(c) AS written
"""

# The one definition of the count: the agencies of the three path shapes of agencies/shared-vendors, each agency once
# (the UNION de-duplicates per vendor), counted in an aggregating subquery so a vendor with none gets 0. Only counts
# that differ are written; the statement returns how many it changed.
RECOMPUTE_AGENCY_COUNTS = f"""
UNWIND $ids AS wanted
MATCH (v:Company {{id: wanted}})
CALL (v) {{
  CALL (v) {{
    MATCH (v)<-[:AWARDED_TO|SUBCONTRACTED_TO]-(:Contract)<-[:AWARDED]-(a:Agency)
    RETURN a
    UNION
    MATCH (v)-[:PROVIDES]->(:Product)<-[:FOR_PRODUCT]-(:Contract)<-[:AWARDED]-(a:Agency)
    RETURN a
    UNION
    MATCH (v)-[:PROVIDES]->(:Product)<-[:USES]-(a:Agency)
    RETURN a
  }}
  RETURN count(a) AS agencies
}}
WITH v, agencies
WHERE v.{AGENCY_COUNT} IS NULL OR v.{AGENCY_COUNT} <> agencies
SET v.{AGENCY_COUNT} = agencies
RETURN count(v) AS changed
"""


# --- stored queries, packed for the Neo4j driver -----------------------------------------------------------------

# String literals, backtick-quoted names and comments: blanked before Cypher text is read for its structure, so a
# keyword, bracket or $name inside them is not taken for code.
NOT_CODE_RE = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`[^`\n]*`|//[^\n]*|/\*.*?\*/", re.S)


def blank_non_code(text: str) -> str:
    """``text`` with literals and comments replaced by spaces, newlines kept: same length, same line numbers."""
    return NOT_CODE_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


_STRUCTURE_RE = re.compile(r"[()\[\]{},]|(?<![.\w])(?:RETURN|UNION|ORDER\s+BY|SKIP|LIMIT|OFFSET|DISTINCT)(?!\w)", re.I)
_ALIASED_RE = re.compile(r"\sAS\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.I)
_VARIABLE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
PACKED_COLUMN = "statetech_rows"


@dataclass(frozen=True)
class PackedQuery:
    """A read query rewritten to return all its rows in one record: ``text`` returns one row whose
    :data:`PACKED_COLUMN` is the list of the original rows, each a list of ``columns`` in order."""

    text: str
    columns: tuple[str, ...]


def packed_query(query: str) -> PackedQuery | None:
    """The query with its final ``RETURN`` made a ``WITH`` and its rows collected into one list, or None.

    Why: the Neo4j Python driver reads every record with its own socket reads (about 50 us each on this machine), so
    a query returning 4,000 rows spent 190 of its 240 ms in the client while the server took 47. One record holding
    the same rows is read in one go. Ordering is kept because ``collect`` gathers the rows in the order the
    ``ORDER BY`` of the ``WITH`` gives them (the Cypher manual's idiom for an ordered list).

    Only the plain shape is rewritten: one top-level ``RETURN [DISTINCT] item, ...`` (each item a variable or
    ``expression AS name``) followed by nothing but ``ORDER BY`` / ``SKIP`` / ``LIMIT``, and no top-level ``UNION``.
    Anything else returns None and runs unchanged, so the rewrite can never change what a query means.
    """
    code = blank_non_code(query)
    depth = 0
    top: list[re.Match[str]] = []
    for match in _STRUCTURE_RE.finditer(code):
        token = match.group(0)
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif depth == 0:
            top.append(match)
    words = [m.group(0).upper().split()[0] for m in top]
    if "UNION" in words or "RETURN" not in words:
        return None
    last = len(words) - 1 - words[::-1].index("RETURN")
    start = top[last].end()
    tail = [w for w in words[last + 1:] if w != ","]
    if tail[:1] == ["DISTINCT"]:
        start = top[last + 1].end()
        tail = tail[1:]
    if any(w not in ("ORDER", "SKIP", "LIMIT", "OFFSET") for w in tail):
        return None  # a DISTINCT further on, or a keyword this reading does not expect
    after = list(zip(top[last + 1:], words[last + 1:]))
    clause_end = next((m.start() for m, w in after if w in ("ORDER", "SKIP", "LIMIT", "OFFSET")), len(code))
    commas = [m for m, w in after if w == "," and m.start() < clause_end]
    columns: list[str] = []
    for a, b in zip([start] + [m.end() for m in commas], [m.start() for m in commas] + [clause_end]):
        item = code[a:b]
        named = _ALIASED_RE.search(item) or _VARIABLE_RE.match(item)
        if not named:
            return None  # '*' or an unnamed expression: leave the query as it is
        columns.append(named.group(1))
    if len(set(columns)) != len(columns) or PACKED_COLUMN in columns:
        return None
    text = (query[:top[last].start()] + "WITH" + query[top[last].end():].rstrip()
            + f"\nRETURN collect([{', '.join(columns)}]) AS {PACKED_COLUMN}\n")
    return PackedQuery(text, tuple(columns))
