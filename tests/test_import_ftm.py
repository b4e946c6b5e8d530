"""FollowTheMoney JSON Lines: import of node and edge schemata, resolution, and the FtM export round trip."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from statetech.graph import cypher
from statetech.graph.errors import ValidationFailed
from statetech.loaders.curated import load_files
from statetech.loaders.ftm import write_ftm
from statetech.loaders.importing import DatasetSource, run_import

FIXTURES = Path(__file__).parent / "fixtures"
FTM = FIXTURES / "ftm" / "entities.ftm.json"
CURATED = FIXTURES / "usaspending" / "curated.yaml"


def imp(graph, *paths, tmp_path, **kwargs):
    return run_import(graph.store, "ftm", [str(p) for p in paths], seeds=None, review_path=tmp_path / "review.csv",
                      **kwargs)


def dump(graph) -> dict:
    read = graph.store.run_read
    return {"nodes": {r["id"]: r["props"] for r in read(cypher.ALL_ENTITIES)},
            "relationships": sorted(json.dumps(r, sort_keys=True) for r in read(cypher.ALL_RELATIONSHIPS))}


def edges(graph) -> list[tuple]:
    rows = graph.query("MATCH (a:Entity)-[r]->(b:Entity) WHERE r.imported_from = 'ftm' RETURN a.id AS a, type(r) AS t, "
                       "b.id AS b, r.role AS role, r.amount_usd AS usd ORDER BY a, t, b").rows
    return [(r["a"], r["t"], r["b"], r["role"], r["usd"]) for r in rows]


@pytest.fixture
def curated(graph):
    load_files(graph, [CURATED])
    return graph


def test_entities_and_edges(curated, tmp_path):
    summary = imp(curated, FTM, tmp_path=tmp_path)
    assert summary.rows_read == 17
    assert summary.rows_skipped == {
        "Employment refers to an entity that is neither in the files nor in the graph": 1,
        "FtM schema Address has no statetech equivalent": 1,
        "Payment from Person to Company has no statetech relationship": 1,
    }
    assert dict(summary.nodes_created) == {"Agency": 1, "Company": 3, "Contract": 2, "Person": 1}
    assert summary.matched == {"Agency": {"name": 1}, "Company": {"normalised_name": 1}}
    assert edges(curated) == [
        ("agency:ftm-test-pb-county", "AWARDED", "contract:ftm-test-contract-1", None, None),
        ("agency:ice", "AWARDED", "contract:ftm-test-pay-1", None, None),
        ("company:ftm-test-co-sub", "SUBSIDIARY_OF", "company:ftm-test-co-vendor", None, None),
        ("contract:ftm-test-contract-1", "AWARDED_TO", "company:ftm-test-co-vendor", None, 120000.0),
        ("contract:ftm-test-pay-1", "AWARDED_TO", "company:ftm-test-co-sub", None, 45000.0),
        ("person:ftm-test-person-1", "WORKS_FOR", "company:ftm-test-co-vendor", "director", None),
        ("person:ftm-test-person-1", "WORKS_FOR", "company:ftm-test-org-party", "member", None),
        ("person:ftm-test-person-1", "WORKS_FOR", "company:microsoft", "Principal Engineer", None),
    ]
    vendor = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["company:ftm-test-co-vendor"]}).rows[0]["props"]
    assert (vendor["name"], vendor["uei"], vendor["country"], vendor["external_ids"], vendor["confidence"]) == (
        "Example Analytics GmbH", "TSTUEI000077", "de", ["ftm:test-co-vendor"], "reported")
    source = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": vendor["sources"]}).rows[0]["props"]
    assert (source["url"], source["publisher"], source["published"]) == (
        "https://example.org/test-data/registry/vendor", "example.org", "2024-05-01")


def test_reimport_changes_nothing(curated, tmp_path):
    imp(curated, FTM, tmp_path=tmp_path)
    before = dump(curated)
    again = imp(curated, FTM, tmp_path=tmp_path)
    assert dump(curated) == before
    assert sum(again.nodes_created.values()) == sum(again.relationships_created.values()) == 0


def test_edges_and_entities_in_separate_files_of_one_import(curated, tmp_path):
    lines = FTM.read_text(encoding="utf-8").splitlines()
    entities = [line for line in lines if json.loads(line)["schema"] in ("PublicBody", "Company", "Person",
                                                                         "Organization", "Contract")]
    links = [line for line in lines if line not in entities]
    (tmp_path / "a.json").write_text("\n".join(entities) + "\n", encoding="utf-8")
    (tmp_path / "b.json").write_text("\n".join(links) + "\n", encoding="utf-8")
    imp(curated, tmp_path / "b.json", tmp_path / "a.json", tmp_path=tmp_path)
    split = dump(curated)
    curated.clear()
    load_files(curated, [CURATED])
    imp(curated, FTM, tmp_path=tmp_path)
    assert dump(curated) == split


def test_missing_source_needs_source_url(curated, tmp_path):
    entity = {"id": "x1", "schema": "Company", "properties": {"name": ["Nameless Source Co"]}}
    path = tmp_path / "e.json"
    path.write_text(json.dumps(entity) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, path, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{path}:1 (column sourceUrl): [x1] entity has no sourceUrl, and no --source-url was given; pass --source-url "
        "with the address the file was downloaded from")
    imp(curated, path, tmp_path=tmp_path,
        dataset_source=DatasetSource.checked("https://example.org/test-data/dump", None, "2024-02-03"))
    node = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["company:ftm-x1"]}).rows[0]["props"]
    source = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": node["sources"]}).rows[0]["props"]
    assert source == {"id": "source:ftm-e.json", "url": "https://example.org/test-data/dump",
                      "title": "FollowTheMoney dataset e.json", "publisher": "example.org", "published": "2024-02-03"}


@pytest.mark.parametrize("line, message", [
    ('{"id": "a", "schema": "Company", "properties": {"name": "ACME"}}',
     " (column name): [a] property 'name' must be a list of values; FtM writes every property as a list: "
     "\"name\": [\"ACME\"]"),
    ('{"id": "a", "schema": "Payment", "properties": {"payer": ["b"], "beneficiary": ["c"], "amountUsd": ["1O0"], '
     '"sourceUrl": ["https://example.org/x"]}}', " (column amountUsd): [a] '1O0' is not an amount of money"),
    ('["not", "an", "entity"]', ": not an FtM entity: expected an object with 'id', 'schema' and 'properties'; is "
                                "this a FollowTheMoney JSON Lines file?"),
    ('{"id": "a", "schema": "Company", "properties": {"name": ["A"]}', ": invalid JSON: Expecting ',' delimiter (the "
                                                                       "file looks truncated); download it again"),
    ('{"id": "a", "schema": "Company",\n "properties": {"name": ["A"],, }}', ": invalid JSON: Expecting property name "
     "enclosed in double quotes; check the JSON syntax near this line"),
])
def test_bad_entities_are_located(curated, tmp_path, line, message):
    path = tmp_path / "bad.json"
    path.write_text('{"id": "ok", "schema": "Address", "properties": {}}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, path, tmp_path=tmp_path)
    line_no = 3 if "property name" in message else 2
    assert str(err.value).splitlines()[1] == f"{path}:{line_no}{message}"


def test_csv_given_as_ftm_is_rejected(curated, tmp_path):
    path = tmp_path / "x.json"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, path, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{path}:1: this file is CSV (or other text), not JSON; use the importer for this CSV format")


# --- export -----------------------------------------------------------------------------------------------------------


def test_export_writes_ftm_entities(curated, tmp_path):
    imp(curated, FTM, tmp_path=tmp_path)
    buffer = io.StringIO()
    write_ftm(curated.whole_graph(), buffer)
    entities = [json.loads(line) for line in buffer.getvalue().splitlines()]
    by_id = {e["id"]: e for e in entities}
    assert {e["schema"] for e in entities} == {"PublicBody", "Company", "Person", "Contract", "ContractAward",
                                               "Employment", "Ownership", "Membership"}
    contract = by_id["test-contract-1"]
    assert contract["properties"]["authority"] == ["test-pb-county"]
    assert contract["properties"]["amountUsd"] == ["120000"]
    award = next(e for e in entities if e["schema"] == "ContractAward"
                 and e["properties"]["contract"] == ["test-contract-1"])
    assert award["properties"]["supplier"] == ["test-co-vendor"]
    assert by_id["statetech-company-microsoft"]["properties"]["name"] == ["Microsoft Corporation"]
    assert by_id["statetech-company-microsoft"]["properties"]["sourceUrl"] == [
        "https://example.org/statetech/import-tests"]
    for entity in entities:
        assert set(entity) == {"id", "schema", "properties", "datasets"}
        assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in entity["properties"].values())


def test_export_then_import_lands_on_the_same_nodes(curated, tmp_path):
    imp(curated, FTM, tmp_path=tmp_path)
    before = dump(curated)
    out = tmp_path / "export.ftm.json"
    with out.open("w", encoding="utf-8") as stream:
        write_ftm(curated.whole_graph(), stream)
    summary = imp(curated, out, tmp_path=tmp_path)
    assert sum(summary.nodes_created.values()) == 0
    assert summary.problems_total == 0
    # nothing new: every entity landed on the node it was exported from
    assert dump(curated)["nodes"].keys() == before["nodes"].keys()


def test_real_samples(curated, shared_fixtures, tmp_path):
    folder = shared_fixtures / "ftm"
    source = DatasetSource.checked("https://github.com/dataresearchcenter/ftmq", "ftmq test fixtures", "2025-01-01")
    summary = imp(curated, folder / "sample_eu_authorities_PublicBody.head25.ftm.json",
                  folder / "sample_donations.head60.ftm.json", tmp_path=tmp_path, dataset_source=source)
    assert summary.rows_read == 85 and summary.problems_total == 0
    assert summary.nodes_created["Agency"] == 25
    assert summary.rows_skipped["FtM schema Address has no statetech equivalent"] == 13
    # party donations have no place in the model: skipped, with the reason
    assert summary.rows_skipped["Payment from Company to Company has no statetech relationship"] == 26
    a29 = curated.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": ["agency:ftm-eu-authorities-a29wp"]}).rows
    assert a29[0]["props"]["name"] == "Article 29 Working Party"
