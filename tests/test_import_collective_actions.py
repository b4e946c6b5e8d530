"""Collective Actions in Tech: CSV (pandas export with Python-style lists) and JSON, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statetech.graph import cypher
from statetech.graph.errors import ValidationFailed
from statetech.graph.vocabulary import DERIVED_PROPERTIES
from statetech.loaders.curated import load_files
from statetech.loaders.importing import run_import

FIXTURES = Path(__file__).parent / "fixtures"
CSV = FIXTURES / "collective_actions" / "actions.csv"
JSON = FIXTURES / "collective_actions" / "actions.json"
CURATED = FIXTURES / "usaspending" / "curated.yaml"


def imp(graph, *paths, tmp_path, **kwargs):
    return run_import(graph.store, "collective_actions", [str(p) for p in paths], seeds=None,
                      review_path=tmp_path / "review.csv", **kwargs)


def dump(graph) -> dict:
    read = graph.store.run_read
    return {"nodes": {r["id"]: r["props"] for r in read(cypher.ALL_ENTITIES)},
            "relationships": sorted(json.dumps(r, sort_keys=True) for r in read(cypher.ALL_RELATIONSHIPS)),
            "sources": sorted(json.dumps(r["props"], sort_keys=True)
                              for r in read("MATCH (s:Source) RETURN properties(s) AS props"))}


def targets(graph) -> list[tuple[str, str, str]]:
    rows = graph.query("MATCH (a:EmployeeAction)-[r:TARGETS]->(b:Entity) RETURN a.id AS a, b.id AS b, "
                       "r.to_match AS m ORDER BY a, b").rows
    return [(r["a"], r["b"], r["m"]) for r in rows]


@pytest.fixture
def curated(graph):
    load_files(graph, [CURATED])
    return graph


def test_actions_target_curated_companies_and_tagged_agencies(curated, tmp_path):
    summary = imp(curated, CSV, tmp_path=tmp_path)
    assert summary.rows_read == 4
    assert summary.rows_skipped == {"action names no company": 1}
    assert dict(summary.nodes_created) == {"Company": 1, "EmployeeAction": 3}
    assert targets(curated) == [
        ("action:cat-9001", "agency:ice", "alias"),
        ("action:cat-9001", "company:github", "id"),
        ("action:cat-9001", "company:microsoft", "id"),
        ("action:cat-9002", "agency:cbp", "alias"),
        ("action:cat-9002", "company:palantir", "id"),
        ("action:cat-9003", "company:cat-acme_analytics", "imported"),
    ]
    action = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["action:cat-9001"]}).rows[0]["props"]
    action = {k: v for k, v in action.items() if k not in DERIVED_PROPERTIES}  # search_text is bookkeeping
    assert action == {
        "id": "action:cat-9001", "kind": "EmployeeAction", "name": "Microsoft, Github workers: open letter (2019-07-11)",
        "action_type": "open_letter", "participants": 250, "start_date": "2019-07-11",
        "description": "TEST DATA: employees sign an open letter asking the company to end its cloud contract with ICE.",
        "notes": "struggles: ethics; workers: white collar workers; locations: seattle-washington-usa; tags: ice, "
                 "immigration",
        "external_ids": ["collective-action:9001"], "confidence": "reported", "imported_from": "collective_actions",
        "sources": action["sources"],  # checked below through the Source records
    }
    assert len(action["sources"]) == 2
    sources = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": action["sources"]}).rows
    # a URL without a date in it gives the source no date (unknown), never the action's date
    assert sorted((s["props"]["url"], s["props"]["publisher"], s["props"].get("published")) for s in sources) == [
        ("https://example.com/test-data/letter-followup", "example.com", None),
        ("https://example.org/news/2019/07/11/test-data-letter", "example.org", "2019-07-11"),
    ]
    assert {s["props"]["title"] for s in sources} == {"Report cited by Collective Actions in Tech (action 9001)"}
    # a URL with a date in its path gives the source that date
    third = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["action:cat-9003"]}).rows[0]["props"]
    source = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": third["sources"]}).rows[0]["props"]
    assert source["published"] == "2020-01-15"
    company = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["company:cat-acme_analytics"]}).rows[0]["props"]
    assert (company["name"], company["confidence"]) == ("Acme Analytics", "reported")


def test_csv_and_json_give_the_same_graph(graph, tmp_path):
    load_files(graph, [CURATED])
    imp(graph, CSV, tmp_path=tmp_path)
    from_csv = dump(graph)
    graph.clear()
    load_files(graph, [CURATED])
    imp(graph, JSON, tmp_path=tmp_path)
    assert dump(graph) == from_csv


def test_reimport_changes_nothing(curated, tmp_path):
    imp(curated, CSV, tmp_path=tmp_path)
    before = dump(curated)
    again = imp(curated, JSON, tmp_path=tmp_path)
    assert dump(curated) == before
    assert sum(again.nodes_created.values()) == sum(again.relationships_created.values()) == 0


def test_broken_list_literal_is_located(curated, tmp_path):
    text = CSV.read_text(encoding="utf-8").replace("\"['microsoft', 'github']\"", "\"['microsoft', 'github'\"")
    bad = tmp_path / "actions.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, bad, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{bad}:2 (column companies): [9001] \"['microsoft', 'github'\" is not a list like ['a', 'b']; "
        "lists look like ['a', 'b']")


def test_json_with_wrong_shape_is_rejected(curated, tmp_path):
    bad = tmp_path / "actions.json"
    bad.write_text('[{"id": 1, "date": "2020/01/01"}]', encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, bad, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1:3] == [
        f"{bad}:1 (column sources): action has no 'sources' field; is this the Collective Actions actions.json?",
        f"{bad}:1 (column actions): action has no 'actions' field; is this the Collective Actions actions.json?",
    ]


def test_truncated_json_is_reported(curated, tmp_path):
    text = JSON.read_text(encoding="utf-8")
    bad = tmp_path / "actions.json"
    bad.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, bad, tmp_path=tmp_path)
    assert "the file looks truncated" in str(err.value).splitlines()[1]
    assert not [n for n in dump(curated)["nodes"] if n.startswith("action:")]


def test_real_samples(curated, shared_fixtures, tmp_path):
    folder = shared_fixtures / "collective_action_tech"
    summary = imp(curated, folder / "actions_ice_cbp_subset.csv", tmp_path=tmp_path)
    assert summary.rows_read == 33 and summary.problems_total == 0
    assert summary.rows_skipped == {"action names no company": 1}
    assert summary.nodes_created["EmployeeAction"] == 32
    hits = targets(curated)
    assert ("action:cat-89", "company:microsoft", "id") in hits
    assert ("action:cat-89", "agency:ice", "alias") in hits
    before = dump(curated)
    imp(curated, folder / "actions_ice_cbp_subset.json", tmp_path=tmp_path)
    assert dump(curated) == before
