"""LittleSis API responses and bulk JSON: entities, relationship categories, resolution, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statetech.graph import cypher
from statetech.graph.errors import ValidationFailed
from statetech.loaders.curated import load_files
from statetech.loaders.importing import run_import

FIXTURES = Path(__file__).parent / "fixtures"
LS = FIXTURES / "littlesis"
FILES = [LS / "api_entity.json", LS / "api_relationship.json", LS / "bulk.json"]
CURATED = FIXTURES / "usaspending" / "curated.yaml"


def imp(graph, *paths, tmp_path, **kwargs):
    return run_import(graph.store, "littlesis", [str(p) for p in paths], seeds=None,
                      review_path=tmp_path / "review.csv", **kwargs)


def dump(graph) -> dict:
    read = graph.store.run_read
    return {"nodes": {r["id"]: r["props"] for r in read(cypher.ALL_ENTITIES)},
            "relationships": sorted(json.dumps(r, sort_keys=True) for r in read(cypher.ALL_RELATIONSHIPS))}


@pytest.fixture
def curated(graph):
    load_files(graph, [CURATED])
    return graph


def test_entities_and_relationships(curated, tmp_path):
    summary = imp(curated, *FILES, tmp_path=tmp_path)
    assert summary.rows_read == 9
    assert summary.rows_skipped == {
        "LittleSis Donation/Grant relationships have no statetech equivalent": 1,
        "relationship refers to an entity that is neither in the files nor in the graph": 1,
    }
    assert dict(summary.nodes_created) == {"Agency": 1, "Company": 1, "Contract": 1, "Person": 1}
    assert summary.matched == {"Company": {"normalised_name": 1}}
    rows = curated.query("MATCH (a:Entity)-[r]->(b:Entity) WHERE r.imported_from = 'littlesis' RETURN r.id AS id, "
                         "a.id AS a, type(r) AS t, b.id AS b, r.role AS role, r.amount_usd AS usd, "
                         "r.start_date AS start ORDER BY id").rows
    assert [(r["id"], r["a"], r["t"], r["b"], r["role"], r["usd"], r["start"]) for r in rows] == [
        ("rel:ls-880001", "person:ls-990001", "WORKS_FOR", "company:palantir", "Chief Test Officer", None, "2019-02"),
        ("rel:ls-880002-awarded", "agency:ls-990003", "AWARDED", "contract:ls-880002", None, None, "2021-01-01"),
        ("rel:ls-880002-awarded-to", "contract:ls-880002", "AWARDED_TO", "company:ls-990004", None, 75000.0,
         "2021-01-01"),
        ("rel:ls-880003", "company:ls-990004", "SUBSIDIARY_OF", "company:palantir", None, None, None),
    ]
    person = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["person:ls-990001"]}).rows[0]["props"]
    assert (person["name"], person["description"], person["external_ids"], person["confidence"]) == (
        "Test Person Example", "TEST DATA: an executive", ["littlesis:990001"], "reported")
    source = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": person["sources"]}).rows[0]["props"]
    assert source == {"id": "source:littlesis-entity-990001",
                      "url": "https://littlesis.org/entities/990001-Test_Person_Example",
                      "title": "LittleSis: Test Person Example", "publisher": "LittleSis (Public Accountability "
                                                                             "Initiative)", "published": "2023-04-05"}
    agency = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["agency:ls-990003"]}).rows[0]["props"]
    assert agency["start_date"] == "1921"  # LittleSis writes unknown month and day as 00


def test_reimport_changes_nothing(curated, tmp_path):
    imp(curated, *FILES, tmp_path=tmp_path)
    before = dump(curated)
    again = imp(curated, *FILES, tmp_path=tmp_path)
    assert dump(curated) == before
    assert sum(again.nodes_created.values()) == sum(again.relationships_created.values()) == 0


def test_relationship_file_alone_finds_entities_of_an_earlier_import(curated, tmp_path):
    imp(curated, LS / "api_entity.json", tmp_path=tmp_path)
    bulk = json.loads((LS / "bulk.json").read_text(encoding="utf-8"))
    (tmp_path / "rels.json").write_text(json.dumps([r for r in bulk if r.get("entity1_id") == 990003]),
                                        encoding="utf-8")
    (tmp_path / "ents.json").write_text(json.dumps([r for r in bulk if "primary_ext" in r]), encoding="utf-8")
    imp(curated, tmp_path / "ents.json", tmp_path=tmp_path)
    summary = imp(curated, tmp_path / "rels.json", tmp_path=tmp_path)
    assert dict(summary.relationships_created) == {"AWARDED": 1, "AWARDED_TO": 1}


def test_bad_date_is_located(curated, tmp_path):
    doc = json.loads((LS / "api_entity.json").read_text(encoding="utf-8"))
    doc["data"]["attributes"]["updated_at"] = "yesterday"
    path = tmp_path / "e.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, path, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{path}:1 (column updated_at): [entity 990003] 'yesterday' is not a date")


def test_lists_documents_are_skipped(curated, shared_fixtures, tmp_path):
    summary = imp(curated, shared_fixtures / "littlesis" / "littlesis_api_entity_lists_example.json",
                  tmp_path=tmp_path)
    assert summary.rows_skipped == {"LittleSis lists items are not imported": 2}


def test_real_relationship_example(curated, shared_fixtures, tmp_path):
    summary = imp(curated, shared_fixtures / "littlesis" / "littlesis_api_relationship_297069_example.json",
                  tmp_path=tmp_path)
    assert summary.rows_read == 3 and summary.problems_total == 0
    assert dict(summary.nodes_created) == {"Company": 1, "Person": 1}
    assert summary.rows_skipped == {"LittleSis Donation/Grant relationships have no statetech equivalent": 1}
    rnc = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["company:ls-28778"]}).rows[0]["props"]
    assert (rnc["name"], rnc["aliases"], rnc["start_date"]) == ("Republican National Committee", ["RNC"], "1856")
