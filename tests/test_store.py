"""Store behaviour, proven on both backends: load, idempotency, stats, read-only reads, lookups, failed loads."""

from __future__ import annotations

import pytest

from statetech.graph.errors import QueryError, StoreUnavailable, UnknownEntity, ValidationFailed
from statetech.graph.store import GrafeoStore, Neo4jStore, redact_uri
from statetech.loaders.curated import load_files

SMALL_NODES = {"Agency": 2, "Company": 1, "Contract": 1, "EmployeeAction": 1, "Person": 1, "Policy": 1, "Product": 1}
SMALL_RELS = {t: 1 for t in ("AWARDED", "AWARDED_TO", "CITES", "FOR_PRODUCT", "GOVERNS", "ISSUED", "ORGANIZED_AT",
                             "PARTICIPATED_IN", "PART_OF", "PROVIDES", "RESPONDED_TO", "TARGETS", "USES", "WORKS_FOR")}


def test_load_and_stats(graph, small_fixture):
    summary = load_files(graph, [small_fixture])
    assert (summary.sources, summary.nodes, summary.relationships) == (2, 8, 14)
    stats = graph.stats()
    assert stats.nodes_by_kind == SMALL_NODES
    assert stats.relationships_by_type == SMALL_RELS
    assert stats.sources == 2
    assert stats.nodes_by_confidence == {"alleged": 1, "confirmed": 5, "reported": 2}
    assert (stats.node_coverage.sourced, stats.node_coverage.total) == (8, 8)
    assert (stats.relationship_coverage.sourced, stats.relationship_coverage.total) == (14, 14)


def test_loading_twice_leaves_identical_counts(graph, small_fixture):
    load_files(graph, [small_fixture])
    first = graph.stats().as_dict()
    load_files(graph, [small_fixture])
    assert graph.stats().as_dict() == first


def test_properties_round_trip(graph, small_fixture):
    load_files(graph, [small_fixture])
    rows = graph.query(
        "MATCH (c:Contract {id: $id}) RETURN c.award_id AS award, c.obligated_usd AS obligated, "
        "c.potential_usd AS potential, c.start_date AS start, c.sources AS sources", {"id": "contract:example-award-1"}
    ).rows
    assert rows == [{"award": "EX-0001", "obligated": 1500000.5, "potential": 9000000.0, "start": "2024-01-02",
                     "sources": ["source:example-20240102-award"]}]
    rows = graph.query(
        "MATCH (:Agency {id: 'agency:example-bureau'})-[u:USES]->(p:Product) "
        "RETURN p.id AS product, u.data_volume_tb AS tb, u.as_of AS as_of, u.id AS id").rows
    assert rows == [{"product": "product:example-platform", "tb": 400.0, "as_of": "2024-01",
                     "id": "rel:example-bureau-uses-platform-2024"}]


def test_every_node_has_kind_label_and_entity_label(graph, small_fixture):
    load_files(graph, [small_fixture])
    rows = graph.query("MATCH (n:Entity) RETURN n.id AS id, labels(n) AS labels ORDER BY id").rows
    for row in rows:
        assert sorted(row["labels"]) == sorted(["Entity", row["id"] and {
            "agency": "Agency", "company": "Company", "contract": "Contract", "action": "EmployeeAction",
            "policy": "Policy", "person": "Person", "product": "Product"}[row["id"].split(":")[0]]])


def test_failed_validation_writes_nothing(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture])
    before = graph.stats().as_dict()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "nodes:\n  - id: company:new-co\n    kind: Company\n    name: New Co\n    sources: [source:example-20240102-award]\n"
        "    confidence: reported\nrelationships:\n  - from: company:new-co\n    type: PROVIDES\n    to: product:nope\n"
        "    sources: [source:example-20240102-award]\n    confidence: reported\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        load_files(graph, [bad])
    assert "'to' node 'product:nope' is not defined" in str(info.value)
    assert graph.stats().as_dict() == before


def test_a_file_may_refer_to_records_already_stored(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture])
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "nodes:\n  - id: person:another-example\n    name: Another Example\n"
        "    sources: [source:example-20240301-letter]\n    confidence: reported\n"
        "relationships:\n  - from: person:another-example\n    type: PARTICIPATED_IN\n    to: action:example-letter\n"
        "    sources: [source:example-20240301-letter]\n    confidence: reported\n", encoding="utf-8")
    summary = load_files(graph, [extra])
    assert (summary.nodes, summary.relationships) == (1, 1)
    assert graph.stats().relationships_by_type["PARTICIPATED_IN"] == 2


@pytest.mark.parametrize("statement", [
    "CREATE (n:Agency {id: 'agency:intruder'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH (n:Entity {id: 'agency:example-dept'}) SET n.name = 'changed'",
])
def test_reads_are_read_only(graph, small_fixture, statement):
    load_files(graph, [small_fixture])
    before = graph.stats().as_dict()
    with pytest.raises(QueryError) as info:
        graph.query(statement)
    assert "ran read-only" in str(info.value)
    assert graph.stats().as_dict() == before
    assert graph.query("MATCH (n:Entity {id: 'agency:example-dept'}) RETURN n.name AS name").rows == [
        {"name": "Example Department"}]


def test_resolve_by_id_name_alias_and_ambiguity(graph, small_fixture):
    load_files(graph, [small_fixture])
    assert graph.resolve("agency:example-bureau") == "agency:example-bureau"
    assert graph.resolve("example bureau") == "agency:example-bureau"
    assert graph.resolve("EXB") == "agency:example-bureau"
    assert graph.resolve("ExampleCloud") == "company:example-cloud"
    with pytest.raises(UnknownEntity) as info:
        graph.resolve("Example")
    assert "matches" in str(info.value) and "agency:example-dept" in str(info.value)
    with pytest.raises(UnknownEntity):
        graph.resolve("no such thing at all")


def test_neighbourhood_and_hub_cap(graph, small_fixture):
    load_files(graph, [small_fixture])
    sub = graph.neighbourhood("company:example-cloud", depth=1)
    assert sorted(sub.nodes) == ["action:example-letter", "company:example-cloud", "contract:example-award-1",
                                 "person:example-organiser", "policy:example-ai-principles",
                                 "product:example-platform"]
    assert {e.type for e in sub.edges} >= {"PROVIDES", "AWARDED_TO", "ISSUED"}
    assert set(sub.sources) == {"source:example-20240102-award", "source:example-20240301-letter"}
    capped = graph.neighbourhood("company:example-cloud", depth=1, max_neighbours=2)
    assert len(capped.nodes) == 3
    assert capped.truncated == {"company:example-cloud": 3}


def test_clear_empties_the_store(graph, small_fixture):
    load_files(graph, [small_fixture])
    graph.clear()
    assert graph.stats().nodes == 0 and graph.stats().sources == 0


def test_embedded_store_is_persistent(tmp_path, small_fixture):
    from statetech.graph.api import Graph

    path = tmp_path / "persist.grafeo"
    with Graph(GrafeoStore(path)) as g:
        load_files(g, [small_fixture])
    with Graph(GrafeoStore(path)) as g:
        assert g.stats().nodes == 8


def test_embedded_store_in_use_elsewhere_is_a_clear_error(tmp_path):
    import grafeo

    path = tmp_path / "locked.grafeo"
    holder = grafeo.GrafeoDB(str(path))
    try:
        store = GrafeoStore(path)
        with pytest.raises(StoreUnavailable) as info:
            store.run_read("MATCH (n) RETURN count(n) AS c")
        assert str(info.value).startswith(f"the embedded store {path} is in use by another statetech process")
    finally:
        holder.close()


def test_unreachable_neo4j_names_uri_but_not_password():
    with pytest.raises(StoreUnavailable) as info:
        Neo4jStore("bolt://127.0.0.1:1", user="neo4j", password="s3cret-pass")
    message = str(info.value)
    assert message.startswith("cannot reach Neo4j at bolt://127.0.0.1:1;")
    assert "s3cret-pass" not in message


def test_redact_uri_strips_credentials():
    assert redact_uri("neo4j+s://user:pw@abc.databases.neo4j.io") == "neo4j+s://abc.databases.neo4j.io"
