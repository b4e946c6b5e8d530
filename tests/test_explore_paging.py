"""Hub paging in the store's own order, on both stores: an entity with more than ``explore.SORTED_UP_TO``
relationships in one group is listed and expanded without sorting them, so a page stops reading once it is full.

The pages must still be honest: totals exact, every page different from the others, and walking them to the end
lists every relationship exactly once. The fixture is a generated worker action (fictional) that targets more
companies than the threshold, plus a few policies (so one group holds two kinds of other end), organised at one of
those companies (two relationships to one neighbour) and citing one policy.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from statetech.graph import explore
from statetech.graph.model import Company, EmployeeAction, Policy, RecordSet, Relationship, Source
from statetech.web.app import create_app

HUB = "action:example-walkout"
COMPANIES = explore.SORTED_UP_TO + 37
POLICIES = 3
SOURCE = "source:example-walkout"


def walkout_records() -> RecordSet:
    source = Source(id=SOURCE, url="https://example.org/walkout", title="Example walkout notice",
                    publisher="Example Gazette", published="2024-05-01")
    common = {"sources": [SOURCE], "confidence": "reported"}
    nodes = [EmployeeAction(id=HUB, name="Example walkout", start_date="2024-05-01", **common)]
    relationships = []
    for i in range(COMPANIES):
        company = f"company:example-{i:04d}"
        nodes.append(Company(id=company, name=f"Example company {i:04d}", **common))
        relationships.append(Relationship(**{"from": HUB, "to": company}, type="TARGETS", **common))
    for i in range(POLICIES):
        policy = f"policy:example-{i}"
        nodes.append(Policy(id=policy, name=f"Example policy {i}", **common))
        relationships.append(Relationship(**{"from": HUB, "to": policy}, type="TARGETS", **common))
    relationships.append(Relationship(**{"from": HUB, "to": "company:example-0005"}, type="ORGANIZED_AT", **common))
    relationships.append(Relationship(**{"from": HUB, "to": "policy:example-1"}, type="CITES", **common))
    return RecordSet(sources=[source], nodes=nodes, relationships=relationships)


@pytest.fixture
def walkout(graph):
    records = walkout_records()
    graph.load(records)
    expected = {}
    for rel in records.relationships:
        expected[rel.id or f"rel:{rel.from_id}>{rel.type}>{rel.to_id}"] = (rel.type, rel.to_id)
    return TestClient(create_app(graph), raise_server_exceptions=False), expected


def test_a_big_group_is_listed_in_storage_order_and_its_pages_walk_every_relationship_once(walkout):
    client, expected = walkout
    body = client.get("/api/entity/" + HUB).json()
    assert [(g["type"], g["direction"], g["count"], g["order"], len(g["relationships"]), g["remaining"])
            for g in body["groups"]] == [
        ("TARGETS", "out", COMPANIES + POLICIES, "storage", 10, COMPANIES + POLICIES - 10),
        ("ORGANIZED_AT", "out", 1, "id", 1, 0),
        ("CITES", "out", 1, "id", 1, 0)]
    first_ten = [r["id"] for r in body["groups"][0]["relationships"]]
    page = client.get("/entity/" + HUB).text
    assert page.count("In storage order: too many to sort for every page") == 1

    walked: list[str] = []
    offset = 0
    while True:
        more = client.get("/api/relationships/" + HUB, params={"type": "TARGETS", "direction": "out",
                                                              "offset": str(offset), "limit": "200"}).json()
        assert (more["total"], more["offset"], more["order"]) == (COMPANIES + POLICIES, offset, "storage")
        assert more["remaining"] == COMPANIES + POLICIES - offset - len(more["relationships"])
        walked.extend(r["id"] for r in more["relationships"])
        offset += len(more["relationships"])
        if not more["remaining"]:
            break
        assert len(more["relationships"]) == 200
    targets = {rel_id for rel_id, (rel_type, _) in expected.items() if rel_type == "TARGETS"}
    assert len(walked) == len(set(walked)) == COMPANIES + POLICIES  # disjoint pages
    assert set(walked) == targets  # complete
    assert walked[:10] == first_ten  # the entity page shows the first page of the same order
    # the same page twice is the same page (a read-only store keeps its order)
    again = [client.get("/api/relationships/" + HUB, params={"type": "TARGETS", "direction": "out", "offset": "400",
                                                             "limit": "50"}).json()["relationships"]
             for _ in range(2)]
    assert [r["id"] for r in again[0]] == [r["id"] for r in again[1]] == walked[400:450]
    assert "In storage order" in client.get("/relationships/" + HUB, params={"type": "TARGETS",
                                                                            "direction": "out"}).text


def walk_expand(client, **params) -> tuple[list[dict], list[str], set[str]]:
    """Every page of a hub's expansion, 150 at a time, checking each page's counts on the way."""
    pages, relationships, entities = [], [], set()
    offset = 0
    while True:
        body = client.get("/api/expand", params={"id": HUB, "offset": str(offset), "limit": "150", **params}).json()
        assert "error" not in body, body
        assert body["offset"] == offset
        returned = len(body["relationships"])
        if body["unit"] == "relationships":
            assert body["remaining"] == body["total"] - offset - returned
        pages.append(body)
        relationships.extend(body["relationships"])
        entities.update(body["entities"])
        hub_left = body["entities"][HUB]["truncated"]
        assert hub_left == body["remaining"]  # what the map shows as "not shown" is what is left
        offset += body["limit"]
        if not body["remaining"]:
            return pages, relationships, entities
        assert returned == 150


def test_expanding_a_hub_pages_its_relationships_with_exact_counts(walkout):
    client, expected = walkout
    pages, walked, entities = walk_expand(client)
    assert {(p["unit"], p["order"], p["total"]) for p in pages} == {("relationships", "storage", len(expected))}
    # the company targeted and organised at is one neighbour with two relationships: the count is of relationships
    assert len(walked) == len(set(walked)) == len(expected)
    assert set(walked) == set(expected)
    assert entities == {HUB} | {to for _, to in expected.values()}
    assert len(entities) == 1 + COMPANIES + POLICIES


def test_a_hub_expansion_filtered_by_kind_counts_only_that_kind(walkout):
    client, expected = walkout
    pages, walked, entities = walk_expand(client, kinds="Company")
    companies = {rel_id for rel_id, (_, to) in expected.items() if to.startswith("company:")}
    assert pages[0]["total"] == len(companies) == COMPANIES + 1
    assert len(walked) == len(set(walked)) and set(walked) == companies
    assert entities == {HUB} | {f"company:example-{i:04d}" for i in range(COMPANIES)}
    # a kind the model allows for none of the hub's groups finds nothing, and counts nothing
    none = client.get("/api/expand", params={"id": HUB, "kinds": "Person"}).json()
    assert (none["total"], none["remaining"], list(none["entities"])) == (0, 0, [HUB])


def test_a_hub_expansion_through_small_groups_keeps_the_id_order(walkout):
    client, _ = walkout
    body = client.get("/api/expand", params={"id": HUB, "types": "CITES,ORGANIZED_AT"}).json()
    assert {k: body[k] for k in ("total", "remaining", "unit", "order")} == {
        "total": 2, "remaining": 0, "unit": "neighbours", "order": "id"}
    assert sorted(body["entities"]) == sorted([HUB, "company:example-0005", "policy:example-1"])


def test_pages_read_from_eight_threads_at_once_match_the_pages_read_one_at_a_time(graph):
    """The explorer no longer makes reads take turns (explore.ReadOnlyStore): one store handle shared by eight
    threads must give exactly the pages one thread gives, the embedded engine's included."""
    from concurrent.futures import ThreadPoolExecutor

    graph.load(walkout_records())
    shared = explore.read_only(graph, serialise=False)
    assert (shared.store.serialised, shared.store.readers) == (False, None)

    def pages(i: int):
        company = f"company:example-{i % COMPANIES:04d}"
        hub = explore.entity_page(shared, HUB)
        expansion = explore.expand(shared, HUB, offset=(i * 97) % 1000, limit=50)
        other = explore.entity_page(shared, company)
        return ([(g["type"], g["count"], [r["id"] for r in g["relationships"]]) for g in hub["groups"]],
                expansion.counts(), sorted(expansion.subgraph.nodes), sorted(e.id for e in expansion.subgraph.edges),
                other["neighbour_count"], [(g["type"], g["count"]) for g in other["groups"]])

    one_at_a_time = [pages(i) for i in range(48)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        side_by_side = list(pool.map(pages, range(48)))
    assert side_by_side == one_at_a_time


def test_a_relationship_from_an_entity_to_itself_is_listed_once_on_both_stores(graph):
    from statetech.graph.model import Agency

    common = {"sources": [SOURCE], "confidence": "reported"}
    source = Source(id=SOURCE, url="https://example.org/walkout", title="Example walkout notice",
                    publisher="Example Gazette")
    graph.load(RecordSet(sources=[source], nodes=[Agency(id="agency:example-loop", name="Loop", **common),
                                                  Agency(id="agency:example-other", name="Other", **common)],
                         relationships=[
                             Relationship(**{"from": "agency:example-loop", "to": "agency:example-loop"},
                                          type="PART_OF", **common),
                             Relationship(**{"from": "agency:example-loop", "to": "agency:example-other"},
                                          type="SHARES_DATA_WITH", **common)]))
    page = explore.entity_page(explore.read_only(graph), "agency:example-loop")
    assert (page["relationship_count"], page["neighbour_count"]) == (2, 1)
    assert [(g["type"], g["direction"], g["count"], [r["id"] for r in g["relationships"]]) for g in page["groups"]] == [
        ("PART_OF", "out", 1, ["rel:agency:example-loop>PART_OF>agency:example-loop"]),
        ("SHARES_DATA_WITH", "out", 1, ["rel:agency:example-loop>SHARES_DATA_WITH>agency:example-other"])]
    expansion = explore.expand(graph, "agency:example-loop")
    assert (expansion.total, sorted(expansion.subgraph.nodes)) == (1, ["agency:example-loop", "agency:example-other"])
