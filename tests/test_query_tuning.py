"""Exact answers of stored queries rewritten for speed at 1M nodes (task B, session 4), on both stores.

records/known-on and records/new-since read Neo4j's indexes (a range index on entities' added and updated days, a
full-text index on every relationship type's days) and cut each part at $limit; the embedded store scans. These cases
pin the edges of that rewrite: month and year precision, an update after the date of a record added before it, ties
between an entity and a relationship on the same day, a limit that cuts across the two parts, relationships without
any day (as imports write them) and an edge drawn by hand. contracts/by-agency now looks up vendors and products only
for the rows that make the list: a limit must give exactly the first rows of the whole answer, ties included.
"""

from __future__ import annotations

import pytest

from statetech.graph.catalog import Catalog
from statetech.graph.errors import QueryError
from statetech.graph.model import Agency, Company, Contract, Product, RecordSet, Relationship, Source

CATALOG = Catalog.load()
SOURCE = "source:tuning"


def _rel(rel_id: str, frm: str, rel_type: str, to: str, **extra) -> Relationship:
    return Relationship(id=rel_id, **{"from": frm, "to": to}, type=rel_type, sources=[SOURCE],
                        confidence="reported", **extra)


HISTORY = RecordSet(
    sources=[Source(id=SOURCE, url="https://example.org/tuning", title="Tuning document", publisher="Example",
                    published="2023-01-01")],
    nodes=[
        Agency(id="agency:early", name="Early Agency", sources=[SOURCE], confidence="confirmed", added="2023-03-01"),
        Agency(id="agency:changed", name="Changed Agency", sources=[SOURCE], confidence="confirmed", added="2023-03-01",
               updated="2024-02-10"),
        Company(id="company:late", name="Late Company", sources=[SOURCE], confidence="confirmed", added="2024-02-10"),
        # as an import writes it: no curation day at all
        Company(id="company:imported", name="Imported Company", sources=[SOURCE], confidence="reported"),
        Product(id="product:tool", name="Tool", sources=[SOURCE], confidence="confirmed", added="2023-02-28"),
    ],
    relationships=[
        _rel("rel:early-uses-tool", "agency:early", "USES", "product:tool", added="2023-03-01"),
        _rel("rel:late-provides-tool", "company:late", "PROVIDES", "product:tool", added="2023-03-01",
             updated="2024-02-11"),
        _rel("rel:changed-part-of-early", "agency:changed", "PART_OF", "agency:early", added="2024-02-10"),
        _rel("rel:imported-provides-tool", "company:imported", "PROVIDES", "product:tool"),
    ],
)

# An edge drawn by hand in Neo4j Browser: no from/to properties, but an added day.
HAND_EDGE = ("MATCH (a:Entity {id: 'agency:changed'}) MATCH (p:Entity {id: 'product:tool'}) "
             "CREATE (a)-[:USES {id: 'rel:hand-uses-tool', added: '2023-03-01', confidence: 'reported', "
             "sources: ['source:tuning']}]->(p)")

# records/known-on for 2024: every record with an added day, by day, entities before relationships, then id
KNOWN_2024 = [
    ("2023-02-28", "entity", "product:tool"),
    ("2023-03-01", "entity", "agency:changed"),
    ("2023-03-01", "entity", "agency:early"),
    ("2023-03-01", "relationship", "rel:early-uses-tool"),
    ("2023-03-01", "relationship", "rel:hand-uses-tool"),
    ("2023-03-01", "relationship", "rel:late-provides-tool"),
    ("2024-02-10", "entity", "company:late"),
    ("2024-02-10", "relationship", "rel:changed-part-of-early"),
]


def _history(graph):
    graph.load(HISTORY)
    graph.query(HAND_EDGE, write=True)
    return graph


def _known(graph, **params):
    rows = CATALOG.run(graph, "records/known-on", params).rows
    return [(r["added"], r["record"], r["id"]) for r in rows]


def _new(graph, **params):
    rows = CATALOG.run(graph, "records/new-since", params).rows
    return [(r["changed"], r["change"], r["record"], r["id"]) for r in rows]


def test_known_on_by_day_month_and_year(graph):
    _history(graph)
    assert _known(graph, date="2024") == KNOWN_2024
    assert _known(graph, date="2023-03") == KNOWN_2024[:6]
    assert _known(graph, date="2023-03-01") == KNOWN_2024[:6]
    assert _known(graph, date="2023-02") == KNOWN_2024[:1]
    assert _known(graph, date="2023-02-27") == []
    assert _known(graph, date="2024-02-10", record="relationship") == [r for r in KNOWN_2024 if r[1] == "relationship"]
    assert _known(graph, date="2024", record="entity") == [r for r in KNOWN_2024 if r[1] == "entity"]


def test_known_on_limit_cuts_across_entities_and_relationships(graph):
    _history(graph)
    for limit in range(1, len(KNOWN_2024) + 1):
        assert _known(graph, date="2024", limit=str(limit)) == KNOWN_2024[:limit], limit


def test_known_on_keeps_every_column(graph):
    rows = CATALOG.run(_history(graph), "records/known-on", {"date": "2023-03-01", "record": "relationship"}).rows
    assert rows[-1] == {"added": "2023-03-01", "updated": "2024-02-11", "record": "relationship",
                        "id": "rel:late-provides-tool", "kind": "PROVIDES",
                        "description": "Late Company PROVIDES Tool", "confidence": "reported", "sources": [SOURCE]}
    hand = rows[1]
    assert (hand["id"], hand["description"]) == ("rel:hand-uses-tool", "Changed Agency USES Tool")


NEW_SINCE_2023_12 = [
    ("2024-02-11", "updated", "relationship", "rel:late-provides-tool"),
    ("2024-02-10", "updated", "entity", "agency:changed"),
    ("2024-02-10", "added", "entity", "company:late"),
    ("2024-02-10", "added", "relationship", "rel:changed-part-of-early"),
]


def test_new_since_added_or_updated(graph):
    _history(graph)
    assert _new(graph, since="2023-12") == NEW_SINCE_2023_12
    assert _new(graph, since="2023") == NEW_SINCE_2023_12
    assert _new(graph, since="2024-02-10") == NEW_SINCE_2023_12[:1]
    assert _new(graph, since="2024-02-11") == []
    # added after the day as well: 'added' wins, the newest change still orders it
    assert _new(graph, since="2023-02-28", record="relationship") == [
        ("2024-02-11", "added", "relationship", "rel:late-provides-tool"),
        ("2024-02-10", "added", "relationship", "rel:changed-part-of-early"),
        ("2023-03-01", "added", "relationship", "rel:early-uses-tool"),
        ("2023-03-01", "added", "relationship", "rel:hand-uses-tool"),
    ]
    assert _new(graph, since="2022", record="entity")[-1] == ("2023-02-28", "added", "entity", "product:tool")


def test_new_since_limit_cuts_across_entities_and_relationships(graph):
    _history(graph)
    for limit in range(1, len(NEW_SINCE_2023_12) + 1):
        assert _new(graph, since="2023-12", limit=str(limit)) == NEW_SINCE_2023_12[:limit], limit


# --- contracts/by-agency and by-vendor: the limit is applied before vendors, products, agencies are looked up -------

AWARDS = RecordSet(
    sources=HISTORY.sources,
    nodes=[
        Agency(id="agency:parent", name="Parent Agency", sources=[SOURCE], confidence="confirmed"),
        Agency(id="agency:child", name="Child Agency", sources=[SOURCE], confidence="confirmed"),
        Company(id="company:a", name="Vendor A", sources=[SOURCE], confidence="confirmed"),
        Company(id="company:b", name="Vendor B", sources=[SOURCE], confidence="confirmed"),
        Product(id="product:p", name="Product P", sources=[SOURCE], confidence="confirmed"),
        Contract(id="contract:big", name="Big", sources=[SOURCE], confidence="confirmed", obligated_usd=500.0),
        # a tie on the obligation: broken by contract id, then by the awarding agency
        Contract(id="contract:tie-b", name="Tie B", sources=[SOURCE], confidence="confirmed", obligated_usd=100.0),
        Contract(id="contract:tie-a", name="Tie A", sources=[SOURCE], confidence="confirmed", obligated_usd=100.0),
        Contract(id="contract:unvalued", name="Unvalued", sources=[SOURCE], confidence="confirmed"),
    ],
    relationships=[
        _rel("rel:child-part-of-parent", "agency:child", "PART_OF", "agency:parent"),
        _rel("rel:parent-awarded-big", "agency:parent", "AWARDED", "contract:big"),
        _rel("rel:parent-awarded-tie-a", "agency:parent", "AWARDED", "contract:tie-a"),
        _rel("rel:child-awarded-tie-a", "agency:child", "AWARDED", "contract:tie-a"),
        _rel("rel:child-awarded-tie-b", "agency:child", "AWARDED", "contract:tie-b"),
        _rel("rel:child-awarded-unvalued", "agency:child", "AWARDED", "contract:unvalued"),
        _rel("rel:big-to-b", "contract:big", "AWARDED_TO", "company:b"),
        _rel("rel:big-to-a", "contract:big", "AWARDED_TO", "company:a"),
        _rel("rel:tie-a-to-a", "contract:tie-a", "AWARDED_TO", "company:a"),
        _rel("rel:big-for-p", "contract:big", "FOR_PRODUCT", "product:p"),
        _rel("rel:unvalued-for-p", "contract:unvalued", "FOR_PRODUCT", "product:p"),
        _rel("rel:b-provides-p", "company:b", "PROVIDES", "product:p"),
    ],
)

BY_PARENT = [
    ("contract:big", "agency:parent", ["company:a", "company:b"], ["product:p"], 500.0),
    ("contract:tie-a", "agency:child", ["company:a"], [], 100.0),
    ("contract:tie-a", "agency:parent", ["company:a"], [], 100.0),
    ("contract:tie-b", "agency:child", [], [], 100.0),
    ("contract:unvalued", "agency:child", [], ["product:p"], None),
]


def _by_agency(graph, **params):
    rows = CATALOG.run(graph, "contracts/by-agency", params).rows
    return [(r["contract"], r["awarded_by"], r["vendors"], r["products"], r["obligated_usd"]) for r in rows]


def test_by_agency_limit_gives_the_first_rows_with_their_vendors_and_products(graph):
    graph.load(AWARDS)
    assert _by_agency(graph, agency="agency:parent") == BY_PARENT
    for limit in range(1, len(BY_PARENT) + 1):
        assert _by_agency(graph, agency="agency:parent", limit=str(limit)) == BY_PARENT[:limit], limit
    assert _by_agency(graph, agency="agency:parent", include_sub_agencies="false") == [
        r for r in BY_PARENT if r[1] == "agency:parent"]
    assert _by_agency(graph, agency="agency:child", limit="2") == [r for r in BY_PARENT if r[1] == "agency:child"][:2]



def _by_vendor(graph, **params):
    rows = CATALOG.run(graph, "contracts/by-vendor", params).rows
    return [(r["contract"], r["vendor"], r["role"], r["agencies"], r["obligated_usd"]) for r in rows]


def test_by_vendor_limit_gives_the_first_rows_with_their_agencies(graph):
    graph.load(AWARDS)
    by_a = [("contract:big", "company:a", "prime", ["agency:parent"], 500.0),
            ("contract:tie-a", "company:a", "prime", ["agency:child", "agency:parent"], 100.0)]
    # company:b provides the product the unvalued contract buys from no named vendor; the big contract, which names
    # it, counts once, as prime
    by_b = [("contract:big", "company:b", "prime", ["agency:parent"], 500.0),
            ("contract:unvalued", "company:b", "product", ["agency:child"], None)]
    assert _by_vendor(graph, company="company:a") == by_a
    assert _by_vendor(graph, company="company:b") == by_b
    assert _by_vendor(graph, company="company:a", limit="1") == by_a[:1]
    assert _by_vendor(graph, company="company:b", limit="1") == by_b[:1]

@pytest.mark.neo4j
def test_a_missing_search_index_says_how_to_create_it(neo4j_store):
    """A store last written by an older statetech lacks the newest indexes; the error says what to run."""
    with pytest.raises(QueryError) as caught:
        neo4j_store.run_read("CALL db.index.fulltext.queryRelationships('statetech_no_such_index', 'x') "
                             "YIELD relationship RETURN relationship")
    assert str(caught.value).endswith("this store lacks an index statetech creates when it writes: run "
                                      "'statetech db refresh' once to create it")
    assert "statetech_no_such_index" in str(caught.value)
