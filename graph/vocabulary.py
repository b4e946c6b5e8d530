"""The model's vocabulary: node kinds, labels and the allowed relationship triples, without the record classes.

This is the allowlist for everything that reaches a label or relationship-type slot in Cypher (see
:func:`checked_label`). It lives apart from :mod:`statetech.graph.model` so the structural Cypher, the stores and the
CLI can use it without importing pydantic and building the record classes, which cost most of a command's start-up;
``statetech.graph.model`` re-exports every name here, and checks that its classes match :data:`NODE_KIND_NAMES`.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

# Node kinds and the prefix of their ids ("agency:ice"), in the model's order.
KIND_BY_PREFIX: dict[str, str] = {
    "agency": "Agency", "company": "Company", "contract": "Contract", "action": "EmployeeAction", "policy": "Policy",
    "person": "Person", "product": "Product",
}
NODE_KIND_NAMES: tuple[str, ...] = tuple(KIND_BY_PREFIX.values())
SOURCE_LABEL = "Source"
# Every curated node also carries this label so an id lookup across kinds can use one uniqueness constraint.
ENTITY_LABEL = "Entity"

# (from kind, TYPE, to kind) triples, kept as data so validation, the stores and the docs read one table.
ALLOWED_TRIPLES: tuple[tuple[str, str, str], ...] = (
    ("Agency", "PART_OF", "Agency"),
    ("Agency", "SHARES_DATA_WITH", "Agency"),
    ("Company", "SUBSIDIARY_OF", "Company"),
    ("Agency", "AWARDED", "Contract"),
    ("Contract", "AWARDED_TO", "Company"),
    ("Contract", "SUBCONTRACTED_TO", "Company"),
    ("Contract", "CHILD_OF", "Contract"),
    ("Contract", "FOR_PRODUCT", "Product"),
    ("Company", "PROVIDES", "Product"),
    ("Product", "RUNS_ON", "Product"),
    ("Agency", "USES", "Product"),
    ("EmployeeAction", "TARGETS", "Company"),
    ("EmployeeAction", "TARGETS", "Contract"),
    ("EmployeeAction", "TARGETS", "Agency"),
    ("EmployeeAction", "TARGETS", "Policy"),
    ("EmployeeAction", "TARGETS", "Product"),
    ("EmployeeAction", "ORGANIZED_AT", "Company"),
    ("EmployeeAction", "CITES", "Policy"),
    ("Person", "PARTICIPATED_IN", "EmployeeAction"),
    ("Person", "WORKS_FOR", "Company"),
    ("Person", "WORKS_FOR", "Agency"),
    ("Company", "ISSUED", "Policy"),
    ("Agency", "ISSUED", "Policy"),
    ("Policy", "GOVERNS", "Agency"),
    ("Policy", "GOVERNS", "Company"),
    ("Policy", "GOVERNS", "Product"),
    ("Policy", "GOVERNS", "Contract"),
    ("Company", "RESPONDED_TO", "EmployeeAction"),
    ("Person", "RESPONDED_TO", "EmployeeAction"),
)
RELATIONSHIP_TYPES: tuple[str, ...] = tuple(dict.fromkeys(t for _, t, _ in ALLOWED_TRIPLES))

RELATIONSHIP_DESCRIPTIONS: dict[str, str] = {
    "PART_OF": "a component or sub-agency of",
    "SHARES_DATA_WITH": "shares data with",
    "SUBSIDIARY_OF": "is a subsidiary of",
    "AWARDED": "awarded the contract",
    "AWARDED_TO": "contract awarded to the vendor",
    "SUBCONTRACTED_TO": "work under the contract subcontracted to",
    "CHILD_OF": "task or delivery order under an IDV",
    "FOR_PRODUCT": "contract buys the product or service",
    "PROVIDES": "sells or operates the product",
    "RUNS_ON": "product hosted on another product",
    "USES": "agency uses the product (optional data volume and as-of date)",
    "TARGETS": "employee action aimed at",
    "ORGANIZED_AT": "employee action by workers of",
    "CITES": "employee action invokes the policy",
    "PARTICIPATED_IN": "took part in the employee action",
    "WORKS_FOR": "works or worked for (role, dates)",
    "ISSUED": "issued the policy",
    "GOVERNS": "policy applies to",
    "RESPONDED_TO": "publicly responded to the employee action",
}

# Properties a relationship may carry beyond the common ones, by type.
RELATIONSHIP_PROPERTIES: dict[str, frozenset[str]] = {
    "USES": frozenset({"data_volume_tb", "as_of"}),
    "WORKS_FOR": frozenset({"role"}),
    "PARTICIPATED_IN": frozenset({"role"}),
    "AWARDED_TO": frozenset({"amount_usd"}),
    "SUBCONTRACTED_TO": frozenset({"amount_usd"}),
}


def allowed_targets(from_kind: str, rel_type: str) -> list[str]:
    return [t for f, r, t in ALLOWED_TRIPLES if f == from_kind and r == rel_type]


def is_allowed(from_kind: str, rel_type: str, to_kind: str) -> bool:
    return (from_kind, rel_type, to_kind) in _TRIPLE_SET


_TRIPLE_SET = frozenset(ALLOWED_TRIPLES)


def kind_of_id(node_id: str) -> str | None:
    prefix = node_id.split(":", 1)[0]
    return KIND_BY_PREFIX.get(prefix)


def checked_label(name: str) -> str:
    """Return ``name`` if it is a label of the model, else raise: the guard in front of every label slot."""
    if name in NODE_KIND_NAMES or name in (SOURCE_LABEL, ENTITY_LABEL):
        return name
    raise ValueError(f"{name!r} is not a node kind of the model")


def checked_rel_type(name: str) -> str:
    """Return ``name`` if it is a relationship type of the model, else raise."""
    if name in RELATIONSHIP_TYPES:
        return name
    raise ValueError(f"{name!r} is not a relationship type of the model")


# --- properties derived at write time -------------------------------------------------------------------------------
# Kept on every entity by Node.properties(), so every write path stores them, and indexed where the store allows:
# reads that would otherwise compute them for every node of a large graph use the stored copy instead.
# They are bookkeeping, not facts: subgraphs (maps, exports) leave them out.

# The id, name and aliases, lower-cased and one per line. Searches filter on it first (Neo4j answers CONTAINS on it
# from a text index; the embedded engine scans one string instead of folding the name and every alias per node), then
# check the name and aliases themselves, so the stored copy only narrows the candidates and never decides a match.
SEARCH_TEXT = "search_text"

# Provenance summaries (statetech.graph.provenance keeps them right on every write): on every entity and relationship
# the newest publication date of the sources it cites that are in the graph (UNDATED when those have no date; absent
# when none is) and, only when some are not in the graph, the sorted missing ids; on every entity the summary of its
# outgoing relationships' values, so those relationships are found from their start node.
NEWEST_SOURCE = "newest_source"
MISSING_SOURCES = "missing_sources"
OUT_NEWEST = "out_newest"
OUT_UNDATED = "out_undated"
OUT_MISSING_SOURCES = "out_missing_sources"
PROVENANCE_PROPERTIES = (NEWEST_SOURCE, MISSING_SOURCES, OUT_NEWEST, OUT_UNDATED, OUT_MISSING_SOURCES)

# Curation history flags: true on an entity that has an 'added' or 'updated' day, and on an entity with an outgoing
# relationship that has one (absent otherwise). The curated records are a few among millions of imported ones; the
# embedded store finds them for records/known-on and records/new-since through these flags' indexes instead of
# reading every entity and relationship. with_derived sets the first, statetech.graph.provenance keeps the second.
HAS_HISTORY = "has_history"
OUT_HISTORY = "out_history"

# On every Company: how many distinct agencies reach it through a contract, a subcontract, a contract for one of its
# products, or recorded use of one of its products (0 when none); agencies/shared-vendors sorts vendors by it.
# statetech.graph.vendors keeps it right on every write.
AGENCY_COUNT = "agency_count"

# On every Contract with an obligated amount: two integer keys that never decrease as the amount grows, so a larger
# key means a larger amount. The octave is floor(log2(amount)) (-1 below 1, negative amounts included; 64 from 2**64
# up) and the rank splits each octave into 64 equal steps (octave * 64 + step). On one contract in 64 (chosen by a
# checksum of its id, so every write and a refresh choose the same ones) the same two keys are also stored as sample
# keys. The embedded engine answers equality from a property index but has no ordered one, and reading a key's
# contracts costs as much as there are, so contracts/largest walks the sample keys from the top (1/64 of the
# contracts) to the floor above which $limit samples lie, hence at least $limit contracts, then reads the contracts
# above that floor through the full keys and sorts only those (queries/contracts/largest.grafeo.cypher).
OBLIGATED_OCTAVE = "obligated_octave"
OBLIGATED_RANK = "obligated_rank"
SAMPLE_OCTAVE = "obligated_sample_octave"
SAMPLE_RANK = "obligated_sample_rank"
AMOUNT_STEPS = 64
TOP_OCTAVE = 64
SAMPLE_EVERY = 64
AMOUNT_KEYS = (OBLIGATED_OCTAVE, OBLIGATED_RANK, SAMPLE_OCTAVE, SAMPLE_RANK)
# Citation tokens, for sources/supports on the embedded store, which has no index on list elements nor on relationship
# properties but has full-text indexes on node properties (dropped for a run of writes and created again when it ends:
# GrafeoStore.writing). ``cited`` on every entity holds one token per source id it cites; ``out_cited`` on every entity
# of the embedded store holds the tokens of the sources its outgoing relationships cite (new relationships add theirs;
# a replaced one makes it be recomputed, like the out_* fields). Neo4j, whose full-text indexes hold the sources lists
# themselves, keeps no out_cited (GraphStore.keeps_citation_words). A token is the id made one word the index's
# tokenizer keeps whole (see citation_token), so a search for the token of a source finds a superset of the records
# citing it (ids that differ only in case share one), and the query keeps only those whose sources hold the id: the
# answer is exact, the tokens only find the candidates.
CITED = "cited"
OUT_CITED = "out_cited"
CITATION_PREFIX = "stc"
# The characters a source id may hold besides [a-z0-9] (graph.model: source:[a-z0-9][a-z0-9._-]*), each written as
# 'z' and a letter; 'z' itself first, as 'zz', so no two ids share a token. Cypher computes the same
# (graph.cypher.citation_token_expression).
CITATION_ESCAPES = (("z", "zz"), (":", "zc"), (".", "zd"), ("_", "zu"), ("-", "zh"))
DERIVED_PROPERTIES = frozenset({SEARCH_TEXT, *PROVENANCE_PROPERTIES, HAS_HISTORY, OUT_HISTORY, AGENCY_COUNT,
                                *AMOUNT_KEYS, CITED, OUT_CITED})

# A store whose provenance fields are kept by statetech holds one node of this label, written with its first records
# (or by 'statetech db refresh'); a store written by an older statetech lacks it, and the queries reading the fields
# refuse to answer from it.
FORMAT_LABEL = "StatetechFormat"
FORMAT_PROPERTY = "provenance_fields"


def search_text(entity_id: str, name: str, aliases: list[str] | tuple[str, ...] = ()) -> str:
    """The value of :data:`SEARCH_TEXT` for an entity."""
    return "\n".join(part.lower() for part in (entity_id, name, *aliases))


def citation_token(source_id: str) -> str:
    """The one word standing for ``source_id`` in :data:`CITED` and :data:`OUT_CITED` (see there)."""
    token = source_id
    for char, escape in CITATION_ESCAPES:
        token = token.replace(char, escape)
    return CITATION_PREFIX + token


def citation_tokens(cited: Any) -> set[str]:
    """The tokens of the ids in a ``sources`` list; anything not a string (a hand edit) cannot be a source id."""
    return {citation_token(sid) for sid in cited or () if isinstance(sid, str)}


def citation_text(tokens: Any) -> str | None:
    """The stored value for a set of tokens: sorted, space-separated; None (absent) for none."""
    return " ".join(sorted(tokens)) or None


def amount_keys(amount: float | int) -> tuple[int, int]:
    """(octave, rank) of an obligated amount: see :data:`OBLIGATED_OCTAVE`. Exact: frexp splits the float itself."""
    if amount < 1:
        return -1, -AMOUNT_STEPS
    mantissa, exponent = math.frexp(amount)  # amount = mantissa * 2**exponent, 0.5 <= mantissa < 1
    octave = exponent - 1
    if octave >= TOP_OCTAVE:
        return TOP_OCTAVE, TOP_OCTAVE * AMOUNT_STEPS
    # mantissa * 2 - 1 is in [0, 1) and exact (scaling by 2 and subtracting 1 lose nothing), so is the step
    return octave, octave * AMOUNT_STEPS + int((mantissa * 2 - 1) * AMOUNT_STEPS)


def is_amount_sample(contract_id: str) -> bool:
    """Whether a contract also stores its amount keys as sample keys (see :data:`SAMPLE_OCTAVE`)."""
    return zlib.crc32(contract_id.encode()) % SAMPLE_EVERY == 0


def amount_key_values(contract_id: str, amount: float | int | None) -> dict[str, int | None]:
    """The four amount key properties of a contract (None: absent), from its id and amount."""
    if amount is None:
        return dict.fromkeys(AMOUNT_KEYS)
    octave, rank = amount_keys(amount)
    sampled = is_amount_sample(contract_id)
    return {OBLIGATED_OCTAVE: octave, OBLIGATED_RANK: rank,
            SAMPLE_OCTAVE: octave if sampled else None, SAMPLE_RANK: rank if sampled else None}


def with_derived(props: dict) -> dict:
    """``props`` of a record with its derived properties added (entities only; sources and relationships have none).

    Every write path calls this on what it writes (Node.properties(), the writer's fast path), so no store holds an
    entity without them.
    """
    if "kind" in props and "name" in props and "id" in props:
        props[SEARCH_TEXT] = search_text(props["id"], props["name"], props.get("aliases") or ())
        # with the sources it follows: a merged import row without sources keeps the stored ones and their tokens
        if "sources" in props:
            props[CITED] = citation_text(citation_tokens(props["sources"]))
        # only ever set, never cleared here: a merged import row carries no days and keeps the stored ones
        if props.get("added") is not None or props.get("updated") is not None:
            props[HAS_HISTORY] = True
        # written with the amount they follow: an import merging a row without an amount keeps all stored; an amount
        # given as None (removed, when merged) removes the keys with it
        if props["kind"] == "Contract" and "obligated_usd" in props:
            amount = props["obligated_usd"]
            for name, value in amount_key_values(props["id"], amount).items():
                if value is not None or amount is None:
                    props[name] = value
    return props
