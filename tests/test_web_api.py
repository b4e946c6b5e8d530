"""The browser explorer through FastAPI's test client, on both stores: exact JSON, HTML that says the same, paging of
a hub, error pages, read-only enforcement, and hostile data rendered inert.

Each test loads fictional fixtures (tests/fixtures/curated/) into the parametrised ``graph`` fixture, then builds the
app over it (the app wraps the store read-only, as ``statetech serve`` does).
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from statetech.graph import explore
from statetech.graph.catalog import Catalog
from statetech.graph.errors import StoreUnavailable
from statetech.graph.formats import render_rows
from statetech.graph.model import Agency, Contract, RecordSet, Relationship, Source
from statetech.loaders.curated import load_files
from statetech.web.app import create_app

CURATED = Path(__file__).parent / "fixtures" / "curated"
SMALL = CURATED / "small.yaml"
MAP_HOSTILE = CURATED / "map_hostile.yaml"
WEB_HOSTILE = CURATED / "web_hostile.yaml"
HUB = "agency:example-hub"
HUB_CONTRACTS = 60


def client_for(graph, **options) -> TestClient:
    return TestClient(create_app(graph, **options), raise_server_exceptions=False)


@pytest.fixture
def small(graph):
    load_files(graph, [SMALL])
    return client_for(graph)


def hub_records() -> RecordSet:
    """An agency that awarded 60 contracts (ids padded so id order is numeric order), one of them twice linked."""
    source = Source(id="source:example-hub", url="https://example.org/hub", title="Example hub notice",
                    publisher="Example Gazette", published="2024-05-01")
    nodes = [Agency(id=HUB, name="Example Hub Agency", sources=[source.id], confidence="confirmed")]
    relationships = []
    for i in range(HUB_CONTRACTS):
        contract = f"contract:example-hub-{i:03d}"
        nodes.append(Contract(id=contract, name=f"Example hub contract {i:03d}", sources=[source.id],
                              confidence="reported", start_date=f"2024-{(i % 12) + 1:02d}"))
        relationships.append(Relationship(**{"from": HUB, "to": contract}, type="AWARDED", sources=[source.id],
                                          confidence="reported", start_date=f"2024-{(i % 12) + 1:02d}"))
    relationships.append(Relationship(**{"from": HUB, "to": "agency:example-dept"}, type="PART_OF",
                                      sources=[source.id], confidence="confirmed"))
    return RecordSet(sources=[source], nodes=nodes, relationships=relationships)


@pytest.fixture
def hub(graph):
    load_files(graph, [SMALL])
    graph.load(hub_records())
    return client_for(graph)


# --- search -----------------------------------------------------------------------------------------------------------


def test_search_ranks_exact_matches_first_and_filters_by_kind(small):
    body = small.get("/api/search", params={"q": "EXB"}).json()
    assert body["results"] == [{"id": "agency:example-bureau", "kind": "Agency", "name": "Example Bureau",
                                "aliases": ["EXB"], "exact": True}]
    body = small.get("/api/search", params={"q": "example cloud"}).json()
    # names containing the text, those that start with it first, then by name
    assert [r["id"] for r in body["results"]] == ["policy:example-ai-principles", "company:example-cloud"]
    body = small.get("/api/search", params={"q": "cloud", "kinds": "company"}).json()
    assert body["kinds"] == ["Company"]
    assert [r["id"] for r in body["results"]] == ["company:example-cloud"]
    body = small.get("/api/search", params={"q": "example", "limit": "3"}).json()
    assert [r["id"] for r in body["results"]] == ["agency:example-bureau", "policy:example-ai-principles",
                                                  "company:example-cloud"]
    # ids are searched too, and an exact id ranks first
    body = small.get("/api/search", params={"q": "agency:example-dept"}).json()
    assert [(r["id"], r["exact"]) for r in body["results"]] == [("agency:example-dept", True)]
    assert small.get("/api/search", params={"q": "  "}).json()["results"] == []
    assert small.get("/api/search", params={"q": "no such thing"}).json()["results"] == []


def test_search_page_is_a_get_form_that_works_without_javascript(small):
    page = small.get("/search", params={"q": "exb"})
    assert page.status_code == 200
    assert '<form class="big-search" role="search" method="get" action="/search"' in page.text
    assert '<a class="entity-link" href="/entity/agency:example-bureau">Example Bureau</a>' in page.text
    assert "1 match for “exb”" in page.text


@pytest.mark.parametrize(("params", "message"), [
    ({"q": "x", "limit": "0"}, "limit must be a whole number from 1 to 100, not '0'"),
    ({"q": "x", "limit": "many"}, "limit must be a whole number from 1 to 100, not 'many'"),
    ({"q": "x", "kinds": "Spaceship"}, "'Spaceship' is not a kind; use one of Agency, Company, Contract, "
                                       "EmployeeAction, Policy, Person, Product"),
    ({"q": "x" * 201}, "search text is 201 characters long; give at most 200"),
])
def test_search_rejects_bad_parameters_with_a_clear_message(small, params, message):
    response = small.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "title": "Bad request", "message": message}}
    page = small.get("/search", params=params)
    assert page.status_code == 400
    assert str(escape(message)) in page.text


# --- entity pages -----------------------------------------------------------------------------------------------------


def test_entity_page_json_groups_counts_and_sources(small):
    body = small.get("/api/entity/company:example-cloud").json()
    assert body["entity"] == {"id": "company:example-cloud", "kind": "Company", "name": "Example Cloud Inc.",
                              "properties": {"aliases": ["ExampleCloud"], "confidence": "confirmed",
                                             "id": "company:example-cloud", "kind": "Company",
                                             "name": "Example Cloud Inc.",
                                             "sources": ["source:example-20240102-award"], "uei": "EXAMPLEUEI01"}}
    assert body["relationship_count"] == 6
    assert body["neighbour_count"] == 5
    assert [(g["type"], g["direction"], g["count"], g["remaining"]) for g in body["groups"]] == [
        ("AWARDED_TO", "in", 1, 0), ("PROVIDES", "out", 1, 0), ("ORGANIZED_AT", "in", 1, 0),
        ("WORKS_FOR", "in", 1, 0), ("ISSUED", "out", 1, 0), ("RESPONDED_TO", "out", 1, 0)]
    provides = body["groups"][1]["relationships"][0]
    assert provides == {
        "id": "rel:company:example-cloud>PROVIDES>product:example-platform", "type": "PROVIDES",
        "direction": "out", "from": "company:example-cloud", "to": "product:example-platform",
        "other": {"id": "product:example-platform", "kind": "Product", "name": "Example Platform"},
        "confidence": "confirmed", "start_date": None, "end_date": None, "as_of": None, "amount_usd": None,
        "data_volume_tb": None, "role": None, "notes": None, "sources": ["source:example-20240102-award"],
        "properties": {"confidence": "confirmed"}}
    assert sorted(body["sources"]) == ["source:example-20240102-award", "source:example-20240301-letter"]
    assert body["sources"]["source:example-20240301-letter"] == {
        "id": "source:example-20240301-letter", "published": "2024-03", "publisher": "Example Workers",
        "title": "Example open letter", "url": "https://example.org/letter"}
    assert body["timeline"]["total"] == 0 and body["timeline"]["events"] == []
    assert "_map" not in body  # the map's drawing data is for the HTML page only


def test_entity_page_shows_data_volume_dates_and_sources(small):
    body = small.get("/api/entity/agency:example-bureau").json()
    uses = next(g for g in body["groups"] if g["type"] == "USES")
    rel = uses["relationships"][0]
    assert (rel["id"], rel["data_volume_tb"], rel["as_of"], rel["confidence"]) == (
        "rel:example-bureau-uses-platform-2024", 400, "2024-01", "confirmed")
    assert body["timeline"]["events"][0]["id"] == "rel:example-bureau-uses-platform-2024"
    assert body["timeline"]["events"][0]["date"] == "2024-01"
    page = small.get("/entity/agency:example-bureau").text
    row = page[page.index('<tr data-relationship="rel:example-bureau-uses-platform-2024">'):]
    row = row[:row.index("</tr>")]
    assert '<a class="entity-link" href="/entity/product:example-platform">Example Platform</a>' in row
    assert "as of 2024-01" in row and "400 TB of data" in row
    assert '<a class="source-link" href="/source/source:example-20240102-award">Example award notice</a>' in row
    assert 'href="https://example.org/awards/1" rel="noopener noreferrer nofollow"' in row
    # the map's data travels as JSON in a non-executable element; scripts come only from /static
    assert '<script type="application/json" id="statetech-data">' in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert all('src="/static/' in s or 'type="application/json"' in s for s in scripts), scripts


def test_a_hub_shows_counts_and_the_first_page_of_each_group(hub):
    body = hub.get("/api/entity/" + HUB).json()
    assert [(g["type"], g["direction"], g["count"], len(g["relationships"]), g["remaining"])
            for g in body["groups"]] == [("PART_OF", "out", 1, 1, 0), ("AWARDED", "out", 60, 10, 50)]
    awarded = body["groups"][1]["relationships"]
    assert [r["other"]["id"] for r in awarded] == [f"contract:example-hub-{i:03d}" for i in range(10)]
    assert body["neighbour_count"] == 61
    page = hub.get("/entity/" + HUB).text
    assert ('<a href="/relationships/agency:example-hub?type=AWARDED&amp;direction=out&amp;offset=10&amp;limit=50">'
            "50 more AWARDED relationships</a>") in page

    more = hub.get("/api/relationships/" + HUB, params={"type": "AWARDED", "direction": "out", "offset": "10",
                                                        "limit": "25"}).json()
    assert (more["total"], more["offset"], more["limit"], more["remaining"]) == (60, 10, 25, 25)
    assert [r["other"]["id"] for r in more["relationships"]] == [f"contract:example-hub-{i:03d}"
                                                                  for i in range(10, 35)]
    last = hub.get("/api/relationships/" + HUB, params={"type": "awarded", "offset": "55", "limit": "25"}).json()
    assert [r["other"]["id"] for r in last["relationships"]] == [f"contract:example-hub-{i:03d}"
                                                                  for i in range(55, 60)]
    assert last["remaining"] == 0
    timeline = hub.get("/api/timeline/" + HUB, params={"limit": "5"}).json()
    assert (timeline["total"], timeline["remaining"]) == (60, 55)
    # oldest first, then by relationship id: the five contracts dated 2024-01 (i = 0, 12, 24, 36, 48)
    assert [e["other"]["id"] for e in timeline["events"]] == [f"contract:example-hub-{i:03d}"
                                                              for i in (0, 12, 24, 36, 48)]


def test_expand_pages_neighbours_in_a_stable_order_with_counts(hub):
    first = hub.get("/api/expand", params={"id": HUB}).json()
    assert {k: first[k] for k in ("id", "offset", "limit", "total", "remaining")} == {
        "id": HUB, "offset": 0, "limit": 25, "total": 61, "remaining": 36}
    # the hub itself plus the first 25 neighbours by id: the department ('agency:...') sorts before the contracts
    assert sorted(first["entities"]) == sorted([HUB, "agency:example-dept"] +
                                               [f"contract:example-hub-{i:03d}" for i in range(24)])
    assert sorted(first["relationships"]) == sorted(
        [f"rel:{HUB}>PART_OF>agency:example-dept"] +
        [f"rel:{HUB}>AWARDED>contract:example-hub-{i:03d}" for i in range(24)])
    assert sorted(node["id"] for node in first["nodes"]) == sorted(first["entities"])
    assert "source:example-hub" in first["sources"]
    second = hub.get("/api/expand", params={"id": HUB, "offset": "50", "limit": "25"}).json()
    assert (second["total"], second["remaining"]) == (61, 0)
    assert sorted(second["entities"]) == sorted([HUB] + [f"contract:example-hub-{i:03d}" for i in range(49, 60)])
    agencies = hub.get("/api/expand", params={"id": HUB, "kinds": "Agency"}).json()
    assert (agencies["total"], sorted(agencies["entities"])) == (1, ["agency:example-dept", HUB])
    part_of = hub.get("/api/expand", params={"id": HUB, "types": "PART_OF,USES"}).json()
    assert (part_of["total"], list(part_of["relationships"])) == (1, [f"rel:{HUB}>PART_OF>agency:example-dept"])


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"id": HUB, "limit": "201"}, 400, "limit must be a whole number from 1 to 200, not '201'"),
    ({"id": HUB, "offset": "-1"}, 400, "offset must be a whole number, 0 or more, not '-1'"),
    ({"id": HUB, "types": "LIKES"}, 400, "'LIKES' is not a relationship type; use one of PART_OF, SHARES_DATA_WITH, "
                                         "SUBSIDIARY_OF, AWARDED, AWARDED_TO, SUBCONTRACTED_TO, CHILD_OF, "
                                         "FOR_PRODUCT, PROVIDES, RUNS_ON, USES, TARGETS, ORGANIZED_AT, CITES, "
                                         "PARTICIPATED_IN, WORKS_FOR, ISSUED, GOVERNS, RESPONDED_TO"),
    ({}, 400, "give the entity to expand: /api/expand?id=agency:ice"),
    ({"id": "agency:nowhere"}, 404, "no entity has the id 'agency:nowhere'; search for it by name instead"),
])
def test_expand_rejects_bad_requests(hub, params, status, message):
    response = hub.get("/api/expand", params=params)
    assert response.status_code == status
    assert response.json()["error"]["message"] == message


# --- errors -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/entity/agency:nowhere", "/entity/__proto__", "/entity/constructor",
                                  "/entity/toString", "/source/source:nowhere", "/queries/no/such-query",
                                  "/timeline/agency:nowhere", "/relationships/agency:nowhere?type=USES",
                                  "/no/such/page"])
def test_unknown_things_are_404_pages_and_json(small, path):
    page = small.get(path)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Not found</h1>" in page.text and "Traceback" not in page.text
    if not path.startswith("/no/"):
        api = small.get("/api" + path)
        assert api.status_code == 404
        assert api.json()["error"]["status"] == 404


def test_error_messages_are_exact(small):
    assert small.get("/api/entity/agency:nowhere").json() == {"error": {
        "status": 404, "title": "Not found",
        "message": "no entity has the id 'agency:nowhere'; search for it by name instead"}}
    assert small.get("/api/source/source:nowhere").json()["error"]["message"] == \
        "no source has the id 'source:nowhere'"
    assert small.get("/api/queries/contracts/by-agenci").json()["error"]["message"] == \
        "no stored query named 'contracts/by-agenci'; did you mean contracts/by-agency, contracts/by-vendor, " \
        "contracts/largest?"
    response = small.get("/api/path", params={"from": "agency:example-bureau"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "give both ends: /path?from=agency:ice&to=company:microsoft"
    response = small.get("/api/path", params={"from": "EXB", "to": "agency:example-bureau"})
    assert response.json()["error"]["message"] == ("'EXB' and 'agency:example-bureau' are the same entity "
                                                   "(agency:example-bureau); give two different ones")
    response = small.post("/api/search")
    assert response.status_code == 405
    assert response.json()["error"]["message"] == "the explorer only reads: use GET"


def test_a_store_that_is_down_gives_503_and_the_server_keeps_serving(tmp_path):
    from statetech.graph.api import Graph
    from statetech.graph.store import GrafeoStore

    path = tmp_path / "vanished.grafeo"
    graph = Graph(GrafeoStore(path))
    path.mkdir()  # the file is gone and a folder is in its place: the store cannot be opened
    client = client_for(graph)
    for _ in range(2):
        response = client.get("/api/entity/agency:ice")
        assert response.status_code == 503
        assert response.json()["error"]["title"] == "The graph store is unavailable"
        assert response.json()["error"]["message"].startswith(f"cannot open the embedded store {path}")
        page = client.get("/")
        assert page.status_code == 503 and "The graph store is unavailable" in page.text
    assert client.get("/static/explorer.css").status_code == 200
    with pytest.raises(StoreUnavailable):
        graph.store.run_read("RETURN 1 AS x")


def test_a_page_over_its_time_limit_is_a_504(graph):
    load_files(graph, [SMALL])
    client = client_for(graph, timeout=0.000001)
    response = client.get("/api/path", params={"from": "agency:example-bureau", "to": "company:example-cloud"})
    assert response.status_code == 504
    assert response.json()["error"]["message"].startswith("this page took longer than 1e-06 s")
    assert client_for(graph).get("/api/entity/agency:example-bureau").status_code == 200


# --- source pages, home, paths ----------------------------------------------------------------------------------------


def test_source_page_lists_everything_that_cites_it_paged(small):
    body = small.get("/api/source/source:example-20240301-letter", params={"limit": "2"}).json()
    assert body["source"]["title"] == "Example open letter"
    assert (body["entities"]["total"], body["entities"]["remaining"]) == (3, 1)
    assert [r["id"] for r in body["entities"]["rows"]] == ["action:example-letter", "person:example-organiser"]
    assert (body["relationships"]["total"], body["relationships"]["remaining"]) == (8, 6)
    assert body["relationships"]["rows"][0] == {
        "id": "rel:action:example-letter>CITES>policy:example-ai-principles", "type": "CITES",
        "source": "action:example-letter", "source_kind": "EmployeeAction",
        "source_name": "Example workers' open letter", "target": "policy:example-ai-principles",
        "target_kind": "Policy", "target_name": "Example Cloud AI principles", "confidence": "reported",
        "start_date": None, "end_date": None}
    page = small.get("/source/source:example-20240301-letter").text
    assert '<a href="https://example.org/letter" class="external"' not in page  # attribute order as rendered:
    assert '<a class="external" href="https://example.org/letter" rel="noopener noreferrer nofollow"' in page


def test_home_counts_newest_records_and_sources(small, graph):
    body = small.get("/api/home").json()
    assert (body["nodes"], body["relationships"], body["sources"]) == (8, 14, 2)
    assert body["nodes_by_kind"] == [{"kind": k, "count": c} for k, c in (
        ("Agency", 2), ("Company", 1), ("Contract", 1), ("EmployeeAction", 1), ("Policy", 1), ("Person", 1),
        ("Product", 1))]
    assert sum(r["count"] for r in body["relationships_by_type"]) == 14
    assert [r["id"] for r in body["newest"]] == ["action:example-letter", "contract:example-award-1"]
    assert [r["id"] for r in body["newest_sources"]] == ["source:example-20240301-letter",
                                                         "source:example-20240102-award"]
    assert body["featured"] == []
    assert body["queries"] == len(Catalog.load())
    assert body["store"] == graph.location
    page = small.get("/").text
    assert '<form class="big-search" role="search" method="get" action="/search"' in page
    assert 'data-typeahead="go"' in page


def test_path_between_two_entities_as_json_and_text(small):
    body = small.get("/api/path", params={"from": "EXB", "to": "Example Organiser"}).json()
    result = body["result"]
    assert (result["from"]["id"], result["to"]["id"], result["total_paths"]) == (
        "agency:example-bureau", "person:example-organiser", 3)
    path = result["paths"][0]
    # the three shortest paths, sorted by the ids along them
    assert [e["id"] for e in path["entities"]] == ["agency:example-bureau", "contract:example-award-1",
                                                   "action:example-letter", "person:example-organiser"]
    assert [(s["type"], s["direction"]) for s in path["steps"]] == [
        ("AWARDED", "forward"), ("TARGETS", "backward"), ("PARTICIPATED_IN", "backward")]
    assert path["steps"][2]["role"] == "organiser"
    assert [[e["id"] for e in p["entities"]][2] for p in result["paths"]] == [
        "action:example-letter", "company:example-cloud", "company:example-cloud"]
    page = small.get("/path", params={"from": "EXB", "to": "Example Organiser"}).text
    assert "are connected by 3 shortest paths of 3 hops." in page
    assert '<span class="arrow">←[TARGETS]─</span>' in page
    assert '<span class="fact">role: organiser</span>' in page
    assert '<script type="application/json" id="statetech-data">' in page


# --- stored queries ---------------------------------------------------------------------------------------------------


def test_query_form_is_built_from_typed_parameters(small):
    body = small.get("/api/queries/contracts/by-agency").json()
    assert body["ran"] is False and "rows" not in body
    fields = {f["name"]: f for f in body["fields"]}
    assert (fields["agency"]["input"], fields["agency"]["kinds"], fields["agency"]["required"]) == (
        "entity", ["Agency"], True)
    assert (fields["include_sub_agencies"]["input"], fields["include_sub_agencies"]["choices"],
            fields["include_sub_agencies"]["value"]) == ("select", ["true", "false"], "true")
    assert fields["since"]["input"] == "date"
    assert (fields["limit"]["input"], fields["limit"]["value"], fields["limit"]["step"]) == ("number", "100", "1")
    assert body["cypher"].startswith("MATCH (top:Agency {id: $agency})")
    page = small.get("/queries/contracts/by-agency").text
    assert ('<input id="param-agency" name="agency" type="text" value="" data-typeahead="fill" '
            'data-kinds="Agency"') in page
    assert '<input id="param-since" name="since" type="date" value=""' in page
    assert '<option value="true" selected>true</option>' in page
    assert "MATCH (top:Agency {id: $agency})" in page
    choices = small.get("/queries/entities/search").text
    assert '<select id="param-kind" name="kind">' in choices


def test_query_runs_from_its_form_and_downloads_match_the_cli(small, graph):
    params = {"agency": "EXB", "run": "1"}
    body = small.get("/api/queries/contracts/by-agency", params=params).json()
    assert body["ran"] is True and body["row_count"] == 1
    assert body["bound"]["agency"] == "agency:example-bureau"
    assert body["rows"][0]["contract"] == "contract:example-award-1"
    assert body["rows"][0]["vendors"] == ["company:example-cloud"]
    expected = Catalog.load().run(graph, "contracts/by-agency", {"agency": "EXB"})
    csv_response = small.get("/download/csv/contracts/by-agency", params={"agency": "EXB"})
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.headers["content-disposition"] == 'attachment; filename="contracts-by-agency.csv"'
    assert csv_response.text == render_rows(expected, "csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [(r["contract"], r["awarded_by"], r["obligated_usd"]) for r in rows] == [
        ("contract:example-award-1", "agency:example-bureau", "1500000.5")]
    assert json.loads(small.get("/download/json/contracts/by-agency", params={"agency": "EXB"}).text) == \
        expected.rows
    jsonl = small.get("/download/jsonl/contracts/by-agency", params={"agency": "EXB"}).text
    assert [json.loads(line) for line in jsonl.splitlines()] == expected.rows
    gexf = small.get("/download/gexf/contracts/by-agency", params={"agency": "EXB"})
    assert gexf.headers["content-type"] == "application/gexf+xml"
    import networkx as nx

    network = nx.read_gexf(io.BytesIO(gexf.content))
    assert sorted(network.nodes) == ["agency:example-bureau", "company:example-cloud", "contract:example-award-1",
                                     "product:example-platform"]
    page = small.get("/queries/contracts/by-agency", params=params).text
    assert '<a href="/download/csv/contracts/by-agency?agency=EXB" download>CSV</a>' in page
    assert '<a class="show-map" href="/map?query=contracts%2Fby-agency&amp;param.agency=EXB">Show as map</a>' in page
    assert '<td><a href="/entity/contract:example-award-1">contract:example-award-1</a></td>' in page
    shown = small.get("/api/map", params={"query": "contracts/by-agency", "param.agency": "EXB"}).json()
    assert shown["nodes"] == 4 and shown["selection"] == {"query": "contracts/by-agency",
                                                          "params": {"agency": "EXB"}}


@pytest.mark.parametrize(("params", "message"), [
    ({"agency": "EXB", "limit": "lots"}, "parameter 'limit' expects a whole number, got 'lots'"),
    ({"agency": "EXB", "colour": "red"}, "query 'contracts/by-agency' has no parameter 'colour'; its parameters: "
                                         "agency, include_sub_agencies, since, limit"),
    ({"agency": "company:example-cloud"}, "parameter 'agency' expects an Agency; 'company:example-cloud' is a Company"),
    ({"agency": "Example Cloud Inc."}, "parameter 'agency': no entity has the id or name 'Example Cloud Inc.'; try "
                                       "'statetech query run entities/search --param text=...' to look it up"),
])
def test_query_parameters_are_checked(small, params, message):
    response = small.get("/api/queries/contracts/by-agency", params=params)
    assert response.status_code in (400, 404)
    assert response.json()["error"]["message"] == message
    download = small.get("/download/csv/contracts/by-agency", params=params)
    assert download.status_code == response.status_code


def test_the_explorer_cannot_write(small, graph, tmp_path):
    app_graph = small.app.state.graph
    with pytest.raises(explore.ReadOnly):
        app_graph.query("CREATE (:Entity {id: 'agency:sneaky'})", write=True)
    with pytest.raises(explore.ReadOnly):
        app_graph.store.write_records(RecordSet())
    with pytest.raises(explore.ReadOnly):
        app_graph.store.clear()
    # a stored query that declares it writes is refused, and the store is unchanged
    folder = tmp_path / "queries" / "admin"
    folder.mkdir(parents=True)
    (folder / "rename.cypher").write_text(
        "// title: Rename\n// description: Renames an entity.\n// writes: true\n// params:\n"
        "//   id: {type: string, required: true}\n// returns: [id]\n"
        "MATCH (n:Entity {id: $id}) SET n.name = 'Renamed' RETURN n.id AS id\n", encoding="utf-8")
    client = client_for(graph, catalog=Catalog.load(tmp_path / "queries"))
    response = client.get("/api/queries/admin/rename", params={"id": "agency:example-bureau"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == \
        "query 'admin/rename' writes to the graph; the explorer runs only read queries"
    assert graph.query("MATCH (n:Entity {id: 'agency:example-bureau'}) RETURN n.name AS name").rows == [
        {"name": "Example Bureau"}]


# --- maps -------------------------------------------------------------------------------------------------------------


def test_map_selections(small):
    focus = small.get("/api/map", params={"focus": "EXB", "depth": "1"}).json()
    assert focus["selection"] == {"focus": "agency:example-bureau", "depth": 1, "max_neighbours": 25}
    assert (focus["nodes"], focus["relationships"]) == (4, 4)
    assert sorted(focus["fragment"]["entities"]) == ["agency:example-bureau", "agency:example-dept",
                                                     "contract:example-award-1", "product:example-platform"]
    for params, message in (
            ({"focus": "EXB", "query": "contracts/by-agency"}, "give one of focus, query or view, not focus and query"),
            ({"focus": "EXB", "depth": "9"}, "depth must be a whole number from 0 to 3, not '9'"),
            ({"view": "not-a-view!"}, None)):
        response = small.get("/api/map", params=params)
        assert response.status_code == 400, params
        if message:
            assert response.json()["error"]["message"] == message
    assert small.get("/map").status_code == 200


# --- safety -----------------------------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


SAFE_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "nav", "a", "form", "label", "input",
             "button", "main", "footer", "script", "section", "p", "span", "h1", "h2", "h3", "table", "thead",
             "tbody", "tr", "th", "td", "ul", "ol", "li", "code", "div", "aside", "datalist", "noscript", "article",
             "blockquote", "select", "option", "dl", "dt", "dd", "pre", "br", "strong", "em"}


@pytest.fixture
def hostile(graph):
    load_files(graph, [SMALL, MAP_HOSTILE, WEB_HOSTILE])
    # Written straight into the store, as if by another program: things the loader refuses.
    graph.query("MATCH (s:Source {id: 'source:example-20250101-web-hostile'}) "
                "SET s.archive_url = 'javascript:alert(11)'", write=True)
    graph.query("MATCH (n:Entity {id: 'company:constructor'}) SET n.website = 'javascript:alert(12)'", write=True)
    graph.query("CREATE (:Entity:Company {id: '__proto__', kind: 'Company', name: 'toString', "
                "sources: ['source:example-20250101-web-hostile'], confidence: 'alleged'})", write=True)
    graph.query("MATCH (a:Entity {id: '__proto__'}), (b:Entity {id: 'company:constructor'}) "
                "CREATE (a)-[:SUBSIDIARY_OF {id: 'rel:__proto__', from: '__proto__', to: 'company:constructor', "
                "sources: ['source:example-20250101-web-hostile'], confidence: 'alleged'}]->(b)", write=True)
    return client_for(graph)


HOSTILE_PAGES = [
    "/", "/search?q=%3Cimg", "/search?q=constructor", "/search?q=tostring", "/entity/company:example-hostile",
    "/entity/company:constructor", "/entity/product:tostring", "/entity/person:example-long-name", "/entity/__proto__",
    "/source/source:example-20250101-web-hostile", "/source/source:example-20230105-hostile",
    "/timeline/person:example-long-name", "/relationships/company:constructor?type=PROVIDES",
    "/path?from=__proto__&to=product:tostring", "/map?focus=company:constructor&depth=2",
    "/queries/sources/supports?source=source:example-20250101-web-hostile",
    "/queries/entities/search?text=%3C", "/entity/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
]


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_hostile_data_renders_inert(hostile, path):
    response = hostile.get(path)
    assert response.status_code in (200, 404), response.text[:500]
    page = response.text
    assert "Traceback" not in page
    found = elements(page)
    assert {tag for tag, _ in found} <= SAFE_TAGS, {tag for tag, _ in found} - SAFE_TAGS
    for tag, attrs in found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/") or attrs.get("type") == "application/json"
        for name in ("href", "src", "action"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#", "https://", "http://")), (tag, name, value)
                assert "javascript:" not in value.lower()
        if tag == "a" and (attrs.get("href") or "").startswith("http"):
            assert attrs.get("rel") == "noopener noreferrer nofollow"
    # no markup from the data survives as markup, inside or outside the map's JSON
    assert "<img src=x" not in page and "<svg" not in page.lower() and "<iframe" not in page
    data = re.search(r'<script type="application/json" id="statetech-data">(.*?)</script>', page, re.S)
    if data:
        assert "<" not in data.group(1)
        json.loads(data.group(1))
    assert response.headers["content-security-policy"].count("unsafe-inline") == 0


def test_hostile_names_are_shown_as_text(hostile):
    page = hostile.get("/entity/company:example-hostile").text
    assert "<h1>&lt;img src=x onerror=alert(1)&gt;</h1>" in page
    constructor = hostile.get("/entity/company:constructor").text
    assert "&lt;script&gt;window.__pwned = &#39;constructor notes&#39;&lt;/script&gt;" in constructor
    assert "javascript:alert(12)" in constructor  # shown as text, never a link
    assert 'href="javascript' not in constructor
    long_name = hostile.get("/entity/person:example-long-name").text
    name = ("Long name " * 500)[:4990] + " END"
    assert f"<h1>{name}</h1>" in long_name
    proto = hostile.get("/api/entity/__proto__").json()
    assert proto["entity"]["name"] == "toString"
    assert [(g["type"], g["direction"], g["count"]) for g in proto["groups"]] == [("SUBSIDIARY_OF", "out", 1)]
    source = hostile.get("/source/source:example-20250101-web-hostile").text
    assert "javascript:alert(11)" in source and 'href="javascript' not in source
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned = &#39;excerpt&#39;&lt;/script&gt;" in source
    rtl = hostile.get("/entity/product:tostring").text
    assert "<h1>\u202etxt.exe &lt;svg/onload=alert(3)&gt;</h1>" in rtl


def test_every_response_carries_the_security_headers(small):
    for path in ("/", "/api/home", "/entity/agency:nowhere", "/static/explorer.js", "/openapi.json", "/api"):
        response = small.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    static = small.get("/static/map.js")
    assert static.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert static.headers["content-type"] == "text/javascript; charset=utf-8"
    assert small.get("/docs").status_code == 404  # FastAPI's default docs load Swagger UI from a CDN
    spec = small.get("/openapi.json").json()
    assert "/api/expand" in spec["paths"] and "/api/entity/{entity_id}" in spec["paths"]


def test_pages_request_nothing_from_another_host(small):
    for path in ("/", "/entity/company:example-cloud", "/queries/contracts/by-agency?agency=EXB&run=1",
                 "/path?from=EXB&to=company:example-cloud", "/map?focus=EXB", "/api"):
        for tag, attrs in elements(small.get(path).text):
            if tag in ("script", "link", "img", "iframe") and attrs.get("type") != "application/json":
                target = attrs.get("src") or attrs.get("href") or ""
                assert target.startswith("/static/"), (path, tag, target)


# --- the serve command's pieces ------------------------------------------------------------------------------------------


def test_serve_binds_where_asked_and_says_clearly_when_it_cannot():
    from statetech.web.server import ServeError, bind, is_loopback, url_for

    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.5", "example.org")] == [
        True, True, True, False, False, False]
    first = bind("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        assert url_for(first, "127.0.0.1") == f"http://127.0.0.1:{port}/"
        with pytest.raises(ServeError) as taken:
            bind("127.0.0.1", port)
        assert str(taken.value).startswith(f"cannot listen on 127.0.0.1:{port}: ")
        assert str(taken.value).endswith("is another server using that port? Give another with --port "
                                         "(or --port 0 for any free one)")
    finally:
        first.close()
    with pytest.raises(ServeError) as unknown:
        bind("no-such-host.invalid", 0)
    assert str(unknown.value).startswith("cannot listen on 'no-such-host.invalid': ")


def test_serve_warns_when_other_machines_can_reach_it(tmp_path, monkeypatch):
    from statetech.graph.api import Graph
    from statetech.graph.store import GrafeoStore
    from statetech.web import server

    said: list[str] = []
    monkeypatch.setattr(server, "_uvicorn_server", lambda app, **_: type("S", (), {"run": lambda self, sockets: None})())
    with Graph(GrafeoStore(tmp_path / "s.grafeo")) as graph:
        server.serve(graph, host="0.0.0.0", port=0, announce=said.append)
    assert said[0] == ("warning: listening on 0.0.0.0, which other machines can reach; the explorer has no login. "
                       "Use --host 127.0.0.1 to keep it on this machine.")
    assert said[1].startswith(f"statetech explorer on embedded store at {tmp_path / 's.grafeo'}: http://127.0.0.1:")
    assert said[1].endswith("/  (read-only; Ctrl-C to stop)")


def test_a_big_hub_page_does_not_count_its_neighbours(hub, monkeypatch):
    """Above NEIGHBOUR_COUNT_UP_TO relationships the page skips the distinct-neighbour count (it reads every
    relationship) and says so; the map's expand calls count them exactly."""
    monkeypatch.setattr(explore, "NEIGHBOUR_COUNT_UP_TO", 50)
    body = hub.get("/api/entity/" + HUB).json()
    assert (body["relationship_count"], body["neighbour_count"]) == (61, None)
    page = hub.get("/entity/" + HUB).text
    assert ("61 relationships (a hub: its neighbours are not counted, which would read every relationship; the map "
            "draws them page by page as you expand it)") in page
    assert hub.get("/api/expand", params={"id": HUB}).json()["total"] == 61


def test_a_long_list_in_a_result_cell_is_shortened_and_says_how_many_more():
    # A stored query can return one row holding a list of tens of thousands of ids (actions/by-year on a large
    # graph); the HTML table shows the first CELL_ITEMS, linked and escaped, and names how many the downloads hold.
    from statetech.web.app import CELL_ITEMS, cell

    ids = [f"company:c{i}" for i in range(CELL_ITEMS + 7)]
    html = str(cell(ids))
    assert html.count("<a href=") == CELL_ITEMS
    assert 'href="/entity/company:c0"' in html and "company:c49" in html and "company:c50" not in html
    assert "and 7 more (all in the downloads)" in html
    short = str(cell(["<b>x</b>", "company:a"]))
    assert "&lt;b&gt;x&lt;/b&gt;" in short and "more" not in short
