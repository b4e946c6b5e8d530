"""EFF Atlas of Surveillance CSV (28 columns, every field quoted), on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statetech.graph import cypher
from statetech.graph.errors import ValidationFailed
from statetech.loaders.curated import load_files
from statetech.loaders.importing import run_import

FIXTURES = Path(__file__).parent / "fixtures"
ATLAS = FIXTURES / "atlas" / "atlas.csv"
CURATED = FIXTURES / "usaspending" / "curated.yaml"


def imp(graph, *paths, tmp_path, **kwargs):
    return run_import(graph.store, "atlas", [str(p) for p in paths], seeds=None,
                      review_path=tmp_path / "review.csv", **kwargs)


def dump(graph) -> dict:
    read = graph.store.run_read
    return {"nodes": {r["id"]: r["props"] for r in read(cypher.ALL_ENTITIES)},
            "relationships": sorted(json.dumps(r, sort_keys=True) for r in read(cypher.ALL_RELATIONSHIPS))}


def props(graph, node_id):
    return graph.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": [node_id]}).rows[0]["props"]


@pytest.fixture
def curated(graph):
    load_files(graph, [CURATED])
    return graph


TESTVILLE = "agency:aos-tx-testville-police-department"
SPRINGFIELD_MO = "agency:aos-mo-springfield-police-department"
SPRINGFIELD_IL = "agency:aos-il-springfield-police-department"
FLOCK_ALPR = "product:aos-flock-safety-automated-license-plate-readers"


def test_agencies_use_vendor_products(curated, tmp_path):
    summary = imp(curated, ATLAS, tmp_path=tmp_path)
    assert summary.rows_read == 5
    assert summary.rows_skipped == {"record names no agency": 1}
    assert dict(summary.nodes_created) == {"Agency": 3, "Company": 1, "Product": 3}
    assert [str(w) for w in summary.warnings] == [
        f"{ATLAS}:5 (column Link 1 Date): [AOS900004] 'Meeting documents' is not a date; the link is kept, undated, "
        "in the notes"]
    uses = curated.query("MATCH (a:Agency)-[r:USES]->(p:Product) RETURN r.id AS id, a.id AS a, p.id AS p, "
                         "r.as_of AS as_of, r.from_match AS fm, r.to_match AS tm ORDER BY id").rows
    assert [(u["id"], u["a"], u["p"], u["as_of"]) for u in uses] == [
        ("rel:aos-aos900001", TESTVILLE, FLOCK_ALPR, "2022-03-15"),
        ("rel:aos-aos900002", TESTVILLE, "product:aos-unknown-vendor-body-worn-cameras", "2019"),
        ("rel:aos-aos900003", SPRINGFIELD_MO, "product:aos-example-vision-systems-automated-license-plate-readers",
         "2019-09-12"),
        ("rel:aos-aos900004", SPRINGFIELD_IL, FLOCK_ALPR, None),
    ]
    provides = curated.query("MATCH (c:Company)-[r:PROVIDES]->(p:Product) RETURN c.id AS c, p.id AS p, "
                             "r.from_match AS m ORDER BY p").rows
    assert [(r["c"], r["p"], r["m"]) for r in provides] == [
        ("company:aos-example-vision-systems", "product:aos-example-vision-systems-automated-license-plate-readers",
         "imported"),
        ("company:flock-safety", FLOCK_ALPR, "name"),
    ]
    # same-named town departments in two states stay apart
    assert props(curated, SPRINGFIELD_MO)["name"] == "Springfield Police Department (MO)"
    assert props(curated, SPRINGFIELD_IL)["external_ids"] == ["ori:IL9990000"]


def test_links_become_dated_sources_and_notes(curated, tmp_path):
    imp(curated, ATLAS, tmp_path=tmp_path)
    first = curated.query("MATCH ()-[r:USES {id: 'rel:aos-aos900001'}]->() RETURN properties(r) AS p").rows[0]["p"]
    assert first["notes"] == (
        "TEST DATA: The Testville Police Department uses Flock Safety automated license plate readers. Also "
        "(undated): https://example.net/test-data/extra-1 https://example.net/test-data/extra-2")
    assert first["confidence"] == "reported"
    sources = curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": first["sources"]}).rows
    assert sorted((s["props"]["url"], s["props"]["publisher"], s["props"]["published"]) for s in sources) == [
        ("https://atlasofsurveillance.org/", "Electronic Frontier Foundation", "2020-07"),
        ("https://example.com/test-data/council-minutes.pdf", "Testville City Council", "2021-01-27"),
        ("https://example.org/test-data/testville-alpr", "Example Gazette", "2022-03-15"),
    ]
    # a link swapped with its source name upstream is still used as the link
    third = curated.query("MATCH ()-[r:USES {id: 'rel:aos-aos900003'}]->() RETURN r.sources AS s").rows[0]["s"]
    urls = {s["props"]["url"]: s["props"]["publisher"] for s in
            curated.store.run_read(cypher.SOURCES_BY_IDS, {"ids": third}).rows}
    assert urls["https://example.org/test-data/springfield-mo"] == "Example Tribune"
    fourth = curated.query("MATCH ()-[r:USES {id: 'rel:aos-aos900004'}]->() RETURN r.notes AS n").rows[0]["n"]
    assert fourth.endswith("Also (undated): https://example.org/test-data/springfield-il")


def test_reimport_changes_nothing(curated, tmp_path):
    imp(curated, ATLAS, tmp_path=tmp_path)
    before = dump(curated)
    again = imp(curated, ATLAS, tmp_path=tmp_path)
    assert dump(curated) == before
    assert sum(again.nodes_created.values()) == sum(again.relationships_created.values()) == 0


def test_curated_lookalike_goes_to_review(curated, tmp_path):
    load_files(curated, [_curated_springfield(tmp_path)])
    summary = imp(curated, ATLAS, tmp_path=tmp_path)
    assert summary.review_items == 2
    review = (tmp_path / "review.csv").read_text(encoding="utf-8").splitlines()
    assert review[1].endswith(",agency:springfield-pd,Springfield Police Department,one name starts with the other "
                              "('springfield police department mo' / 'springfield police department')")


def _curated_springfield(tmp_path: Path) -> Path:
    path = tmp_path / "springfield.yaml"
    path.write_text(
        "nodes:\n  - {id: agency:springfield-pd, kind: Agency, name: Springfield Police Department, "
        "sources: [source:example-import-tests], confidence: reported}\n", encoding="utf-8")
    return path


def test_header_of_another_format_is_rejected(curated, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("contract_award_unique_key,award_id_piid\nX,Y\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, wrong, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{wrong}:1: this is a USAspending download, not an Atlas of Surveillance CSV; use 'statetech import "
        "usaspending'")


def test_real_sample(curated, shared_fixtures, tmp_path):
    summary = imp(curated, shared_fixtures / "atlas" / "atlas_of_surveillance_sample_subset.csv", tmp_path=tmp_path)
    assert summary.rows_read == 14 and summary.problems_total == 0
    assert summary.warnings_total == 1  # 'Meeting documents' in a date column
    assert summary.nodes_created["Agency"] == 14
    assert sum(summary.relationships_created.values()) >= 14
    flock = curated.query("MATCH (:Company {id: 'company:flock-safety'})-[:PROVIDES]->(p) RETURN p.id AS p").rows
    assert flock == [{"p": FLOCK_ALPR}]
