"""Exact answers of stored queries rewritten for speed at 1M nodes (task B, session 4), on both stores.

records/known-on and records/new-since read Neo4j's indexes (a range index on entities' added and updated days, a
full-text index on every relationship type's days) and cut each part at $limit; the embedded store scans. These cases
pin the edges of that rewrite: month and year precision, an update after the date of a record added before it, ties
between an entity and a relationship on the same day, a limit that cuts across the two parts, relationships without
any day (as imports write them) and an edge drawn by hand. contracts/by-agency now looks up vendors and products only
for the rows that make the list: a limit must give exactly the first rows of the whole answer, ties included.
Session 5: paths/between's embedded form meets in the middle away from hubs (every shortest path, each once, checked
against a brute-force enumeration), and the edges of actions/by-year's counting.
"""

from __future__ import annotations

import pytest

from statetech.graph.catalog import Catalog
from statetech.graph.errors import QueryError
from statetech.graph.model import Agency, Company, Contract, EmployeeAction, Product, RecordSet, Relationship, Source

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


# --- paths/between (the embedded form meets in the middle away from hubs, queries/paths/between.grafeo.cypher) ------
# A chain of 7 hops with a second route at the start (two shortest paths to everything past contract:c1), two
# parallel relationships between the same two nodes, a hub agency with 80 contracts to one company (over 5,000 paths
# of up to 3 hops from either, so there the embedded form falls back to the engine's own search), an edge drawn by hand
# (no from/to properties) and a path from an entity to itself (no rows). Every answer is checked against the shortest
# paths enumerated here in Python: every shortest path, each once, in the documented order.

def _chain_records() -> RecordSet:
    made = {"agency": Agency, "contract": Contract, "company": Company, "product": Product}
    ids = ["agency:a0", "contract:c1", "contract:c1b", "company:k2", "product:p3", "agency:a4", "contract:c5",
           "company:k6", "product:p7", "company:k8", *(f"contract:hub-{i:02d}" for i in range(80))]
    nodes = [made[i.split(":")[0]](id=i, name=i.split(":")[1].upper(), sources=[SOURCE], confidence="reported")
             for i in ids]
    rels = [_rel("rel:01", "agency:a0", "AWARDED", "contract:c1"),
            _rel("rel:02", "contract:c1", "AWARDED_TO", "company:k2"),
            _rel("rel:01b", "agency:a0", "AWARDED", "contract:c1b"),
            _rel("rel:02b", "contract:c1b", "AWARDED_TO", "company:k2"),
            _rel("rel:03", "company:k2", "PROVIDES", "product:p3"),
            _rel("rel:04", "agency:a4", "USES", "product:p3"),
            _rel("rel:05", "agency:a4", "AWARDED", "contract:c5"),
            _rel("rel:06", "contract:c5", "AWARDED_TO", "company:k6"),
            _rel("rel:06-again", "contract:c5", "AWARDED_TO", "company:k6"),
            _rel("rel:07", "company:k6", "PROVIDES", "product:p7")]
    for i in range(80):
        rels += [_rel(f"rel:hub-{i:02d}", "agency:a4", "AWARDED", f"contract:hub-{i:02d}"),
                 _rel(f"rel:hub-to-{i:02d}", f"contract:hub-{i:02d}", "AWARDED_TO", "company:k6")]
    return RecordSet(sources=HISTORY.sources, nodes=nodes, relationships=rels)


# drawn by hand: company:k8 provides product:p7, with no from/to properties (direction from the edge itself)
CHAIN_HAND_EDGE = ("MATCH (k:Entity {id: 'company:k8'}) MATCH (p:Entity {id: 'product:p7'}) "
                   "CREATE (k)-[:PROVIDES {id: 'rel:hand-08', confidence: 'reported', "
                   "sources: ['source:tuning']}]->(p)")


def _expected_paths(records: RecordSet, frm: str, to: str) -> list[tuple]:
    """Every shortest path of at most 6 hops, in either direction, by brute force; ordered as the query orders."""
    edges = [(r.id, r.from_id, r.type, r.to_id) for r in records.relationships] + [
        ("rel:hand-08", "company:k8", "PROVIDES", "product:p7")]
    found: list[tuple[list[str], list[tuple]]] = []

    def walk(nodes: list[str], rels: list[tuple]) -> None:
        if nodes[-1] == to and rels:
            found.append((list(nodes), list(rels)))
            return
        if len(rels) == 6:
            return
        for edge in edges:
            if edge in rels:
                continue
            for here, there in ((edge[1], edge[3]), (edge[3], edge[1])):
                if here == nodes[-1] and there not in nodes:
                    walk(nodes + [there], rels + [edge])

    if frm != to:
        walk([frm], [])
    if not found:
        return []
    shortest = min(len(rels) for _, rels in found)
    rows = []
    for nodes, rels in found:
        if len(rels) != shortest:
            continue
        arrows = [f"-[{e[2]}]->" if e[1] == nodes[i] else f"<-[{e[2]}]-" for i, e in enumerate(rels)]
        rows.append((shortest, nodes, arrows, [e[0] for e in rels]))
    rows.sort(key=lambda r: ("".join(n + " " for n in r[1]), "".join(i + " " for i in r[3])))
    return [r[:3] for r in rows]


def test_paths_between_gives_every_shortest_path_of_up_to_6_hops(graph):
    records = _chain_records()
    graph.load(records)
    graph.query(CHAIN_HAND_EDGE, write=True)
    pairs = [("agency:a0", to) for to in ("contract:c1", "company:k2", "product:p3", "agency:a4", "contract:c5",
                                         "company:k6", "product:p7", "company:k8", "contract:hub-03")]
    pairs += [("company:k6", "agency:a0"), ("contract:hub-03", "contract:hub-11"), ("company:k8", "agency:a4"),
              ("product:p7", "contract:c1b"), ("agency:a0", "agency:a0")]
    sizes = {}
    for frm, to in pairs:
        rows = CATALOG.run(graph, "paths/between", {"from": frm, "to": to}).rows
        got = [(r["hops"], r["entities"], r["relationships"]) for r in rows]
        assert got == _expected_paths(records, frm, to), (frm, to)
        assert all(r["hop_sources"] == [[SOURCE]] * r["hops"] for r in rows)
        assert all(r["names"] == [e.split(":")[1].upper() for e in r["entities"]] for r in rows)
        sizes[(frm, to)] = len(rows)
    # the cases the rewrite must not get wrong, as counts: 2 routes x (2 parallel edges + 80 hub contracts)
    assert sizes[("agency:a0", "company:k6")] == 164
    assert sizes[("agency:a0", "product:p7")] == 0  # 7 hops: beyond the limit
    assert sizes[("agency:a0", "agency:a0")] == 0
    assert sizes[("company:k8", "agency:a4")] == 82  # through the hand-drawn edge, then k6's 82 ways to a4
    assert sizes[("agency:a0", "company:k2")] == 2


# --- actions/by-year: what a rewrite counting the whole graph in a part of its own must keep (measured in session 5:
# faster for the whole graph on Neo4j, slower for one company, not kept). Several actions in one year and type (their
# ids listed in id order whatever order they were written in), an undated action (counted under ''), one without a
# type ('other'), unknown participant counts (0 in the sum), and a company reached by one action two ways (counted
# once).

def _action(slug: str, action_type: str | None, start: str | None, participants: int | None) -> EmployeeAction:
    return EmployeeAction(id=f"action:{slug}", name=slug.title(), sources=[SOURCE], confidence="reported",
                          action_type=action_type, start_date=start, participants=participants)


ACTIONS = RecordSet(
    sources=HISTORY.sources,
    nodes=[Company(id="company:target", name="Target", sources=[SOURCE], confidence="reported"),
           Product(id="product:target-tool", name="Target Tool", sources=[SOURCE], confidence="reported"),
           _action("zeta", "petition", "2021-05-01", 10), _action("alpha", "petition", "2021-01", None),
           _action("mid", "petition", "2021", 5), _action("walk", "walkout", "2021-09-09", 200),
           _action("undated", "protest", None, 7), _action("untyped", None, "2022-02-02", None)],
    relationships=[_rel("rel:zeta-targets", "action:zeta", "TARGETS", "company:target"),
                   _rel("rel:zeta-at", "action:zeta", "ORGANIZED_AT", "company:target"),
                   _rel("rel:alpha-tool", "action:alpha", "TARGETS", "product:target-tool"),
                   _rel("rel:target-provides", "company:target", "PROVIDES", "product:target-tool"),
                   _rel("rel:untyped-targets", "action:untyped", "TARGETS", "company:target")],
)


def _by_year(graph, **params):
    rows = CATALOG.run(graph, "actions/by-year", params).rows
    return [(r["year"], r["action_type"], r["actions"], r["known_participants"], r["action_ids"]) for r in rows]


def test_by_year_counts_every_action_once_in_id_order(graph):
    graph.load(ACTIONS)
    assert _by_year(graph) == [
        ("", "protest", 1, 7, ["action:undated"]),
        ("2021", "petition", 3, 15, ["action:alpha", "action:mid", "action:zeta"]),
        ("2021", "walkout", 1, 200, ["action:walk"]),
        ("2022", "other", 1, 0, ["action:untyped"]),
    ]
    assert _by_year(graph, company="company:target") == [
        ("2021", "petition", 2, 10, ["action:alpha", "action:zeta"]),
        ("2022", "other", 1, 0, ["action:untyped"]),
    ]
