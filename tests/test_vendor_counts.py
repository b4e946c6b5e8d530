"""agencies/shared-vendors reads each Company's agency_count, kept at write time (statetech.graph.vendors).

Every step compares the query's rows (and every Company's stored count, 0 included) with a brute-force computation in
Python over what the store holds, every relevant relationship read back with the labels of its ends: after the seeds
and fixtures, a generated graph loaded in batches, later batches that raise counts (batched and in one transaction),
relationships re-pointed to other vendors and agencies and companies replaced by curated loads, imports and
re-imports that merge, curated records over imported ones, the bulk-import files, and hand edits followed by a
refresh. After each step a refresh must find nothing to change. A store written before the counts existed (format 1)
is refused until it is refreshed.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from statetech.graph.api import shipped_seeds_path
from statetech.graph.bulk import ARRAY_DELIMITER, write_import_files
from statetech.graph.catalog import Catalog
from statetech.graph.errors import QueryError
from statetech.graph.model import Agency, Company, Contract, Product, RecordSet, Relationship, Source
from statetech.graph.vendors import counts_from_records
from statetech.loaders.curated import load_files

CATALOG = Catalog.load()
FIXTURES = Path(__file__).parent / "fixtures" / "curated"
QUERY = "agencies/shared-vendors"
PARAMS = ({}, {"min_agencies": "1"}, {"min_agencies": "0", "limit": "1000"}, {"min_agencies": "3", "limit": "4"},
          {"min_agencies": "1", "limit": "1"}, {"min_agencies": "1000"})


# --- the brute force ------------------------------------------------------------------------------------------------


def stored_agencies(graph) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(company id -> name, company id -> the agency ids reaching it) from everything the store holds."""
    companies = {r["id"]: r["name"] for r in graph.query("MATCH (v:Company) RETURN v.id AS id, v.name AS name")}
    rels = graph.query("MATCH (a)-[r:AWARDED|AWARDED_TO|SUBCONTRACTED_TO|FOR_PRODUCT|PROVIDES|USES]->(b) "
                       "RETURN type(r) AS type, a.id AS a, labels(a) AS la, b.id AS b, labels(b) AS lb").rows
    awarded, sold, provides, bought, used = {}, {}, {}, {}, {}
    for r in rels:
        shape = (r["type"], "Agency" in r["la"], "Contract" in r["la"], "Company" in r["la"],
                 "Contract" in r["lb"], "Company" in r["lb"], "Product" in r["lb"])
        if r["type"] == "AWARDED" and shape[1] and shape[4]:
            awarded.setdefault(r["b"], set()).add(r["a"])
        elif r["type"] in ("AWARDED_TO", "SUBCONTRACTED_TO") and shape[2] and shape[5]:
            sold.setdefault(r["b"], set()).add(r["a"])
        elif r["type"] == "PROVIDES" and shape[3] and shape[6]:
            provides.setdefault(r["a"], set()).add(r["b"])
        elif r["type"] == "FOR_PRODUCT" and shape[2] and shape[6]:
            bought.setdefault(r["b"], set()).add(r["a"])
        elif r["type"] == "USES" and shape[1] and shape[6]:
            used.setdefault(r["b"], set()).add(r["a"])
    agencies = {}
    for vendor in companies:
        found = set()
        for contract in sold.get(vendor, ()):
            found |= awarded.get(contract, set())
        for product in provides.get(vendor, ()):
            found |= used.get(product, set())
            for contract in bought.get(product, ()):
                found |= awarded.get(contract, set())
        agencies[vendor] = found
    return companies, agencies


def expected_rows(graph, min_agencies=2, limit=50):
    companies, agencies = stored_agencies(graph)
    rows = [{"vendor": v, "name": companies[v], "agency_count": len(a), "agencies": sorted(a)}
            for v, a in agencies.items() if len(a) >= max(min_agencies, 1)]
    rows.sort(key=lambda r: (-r["agency_count"], r["vendor"]))
    return rows[:limit]


def assert_exact(graph, *, refresh=True):
    _, agencies = stored_agencies(graph)
    stored = {r["id"]: r["n"] for r in graph.query("MATCH (v:Company) RETURN v.id AS id, v.agency_count AS n")}
    assert stored == {v: len(a) for v, a in agencies.items()}  # every company, 0 when none
    assert any(stored.values())
    for params in PARAMS:
        expected = expected_rows(graph, int(params.get("min_agencies", 2)), int(params.get("limit", 50)))
        assert CATALOG.run(graph, QUERY, params).rows == expected, params
    if refresh:
        # what the writers kept is what a full recount gives
        done = graph.refresh_provenance()
        assert (done.vendors, done.vendors_read) == (0, len(stored))


# --- records ----------------------------------------------------------------------------------------------------------

SOURCE = Source(id="source:vendors", url="https://example.org/vendors", title="Vendors", publisher="Example",
                published="2024-01-01")


def _node(cls, node_id, imported_from=None):
    return cls(id=node_id, name=f"Name of {node_id}", sources=[SOURCE.id], confidence="reported",
               imported_from=imported_from)


def _rel(rel_id, start, rel_type, end, imported_from=None):
    return Relationship(id=rel_id, **{"from": start, "to": end}, type=rel_type, sources=[SOURCE.id],
                        confidence="reported", imported_from=imported_from)


def vendor_graph(seed=5, imported_from=None, prefix="g"):
    """Agencies, contracts, companies and products joined by every path shape the count follows (and others it must
    not), with a hub agency, contracts nobody awarded, products nobody provides, and vendors no agency reaches."""
    rng = random.Random(seed)
    agencies = [f"agency:{prefix}{i}" for i in range(9)]
    contracts = [f"contract:{prefix}{i}" for i in range(70)]
    companies = [f"company:{prefix}{i}" for i in range(24)]
    products = [f"product:{prefix}{i}" for i in range(26)]
    nodes = [*(_node(Agency, i, imported_from) for i in agencies), *(_node(Contract, i, imported_from) for i in contracts),
             *(_node(Company, i, imported_from) for i in companies), *(_node(Product, i, imported_from) for i in products)]
    rels = []

    def add(start, rel_type, end):
        rels.append(_rel(f"rel:{prefix}-{len(rels)}", start, rel_type, end, imported_from))

    for contract in contracts[:60]:  # the last ten are awarded by nobody
        add(agencies[0] if rng.random() < 0.3 else rng.choice(agencies), "AWARDED", contract)
    for contract in contracts:
        add(contract, "AWARDED_TO", rng.choice(companies[:18]))  # the last six sell nothing directly
        if rng.random() < 0.3:
            add(contract, "SUBCONTRACTED_TO", rng.choice(companies))
        if rng.random() < 0.4:
            add(contract, "FOR_PRODUCT", rng.choice(products))
    for product in products[:20]:
        add(rng.choice(companies), "PROVIDES", product)
    for _ in range(20):
        add(rng.choice(agencies), "USES", rng.choice(products))
    for _ in range(10):  # relationships the count must not follow
        add(rng.choice(contracts), "CHILD_OF", rng.choice(contracts))
        add(rng.choice(companies), "SUBSIDIARY_OF", rng.choice(companies))
    return RecordSet(sources=[SOURCE], nodes=nodes, relationships=rels)


def raising(base: RecordSet, seed=9, prefix="x"):
    """A later batch: new contracts from existing agencies to existing vendors and products, new products provided
    by existing vendors and used by existing agencies, new uses of existing products."""
    rng = random.Random(seed)
    agencies = [n.id for n in base.nodes if n.kind == "Agency"]
    companies = [n.id for n in base.nodes if n.kind == "Company"]
    products = [n.id for n in base.nodes if n.kind == "Product"]
    nodes, rels = [], []
    for i in range(15):
        contract = f"contract:{prefix}{i}"
        nodes.append(_node(Contract, contract))
        rels.append(_rel(f"rel:{prefix}-a{i}", rng.choice(agencies), "AWARDED", contract))
        rels.append(_rel(f"rel:{prefix}-t{i}", contract, "AWARDED_TO", rng.choice(companies)))
        if i % 2:
            rels.append(_rel(f"rel:{prefix}-f{i}", contract, "FOR_PRODUCT", rng.choice(products)))
    for i in range(5):
        product = f"product:{prefix}{i}"
        nodes.append(_node(Product, product))
        rels.append(_rel(f"rel:{prefix}-p{i}", rng.choice(companies), "PROVIDES", product))
        rels.append(_rel(f"rel:{prefix}-u{i}", rng.choice(agencies), "USES", product))
    for i in range(8):
        rels.append(_rel(f"rel:{prefix}-v{i}", rng.choice(agencies), "USES", rng.choice(products)))
    # an AWARDED to an existing contract that no agency awarded yet (its vendors and products' providers rise)
    unawarded = [n.id for n in base.nodes if n.kind == "Contract"][-10:]
    for i, contract in enumerate(unawarded[:4]):
        rels.append(_rel(f"rel:{prefix}-late{i}", rng.choice(agencies), "AWARDED", contract))
    # a FOR_PRODUCT from an existing awarded contract to an existing product
    awarded = [n.id for n in base.nodes if n.kind == "Contract"][:5]
    for i, contract in enumerate(awarded):
        rels.append(_rel(f"rel:{prefix}-fp{i}", contract, "FOR_PRODUCT", rng.choice(products)))
    return RecordSet(nodes=nodes, relationships=rels)


# --- both stores ------------------------------------------------------------------------------------------------------


def test_counts_from_records_match_the_brute_force(graph):
    records = vendor_graph()
    graph.load(records, single_transaction=True)
    _, agencies = stored_agencies(graph)
    assert counts_from_records(records.nodes, records.relationships) == {v: len(a) for v, a in agencies.items()}


def test_seeds_and_fixtures(graph):
    assert CATALOG.run(graph, QUERY).rows == []  # an empty store answers, refusing nothing
    load_files(graph, [shipped_seeds_path()])
    assert_exact(graph)
    assert CATALOG.run(graph, QUERY).rows[0]["agency_count"] > 5  # the seeds have widely shared vendors
    load_files(graph, [FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])
    assert_exact(graph)


def test_generated_graph_then_batches_that_raise_counts_and_replace(graph):
    records = vendor_graph()
    graph.load(records, batch_size=37, single_transaction=False)  # a first load: counts computed before writing
    assert_exact(graph)
    before = {r["vendor"]: r["agency_count"] for r in CATALOG.run(graph, QUERY, {"min_agencies": "0"}).rows}

    # later batches that raise counts, batched (follow-up after each batch) and in one transaction
    graph.load(raising(records, seed=9, prefix="x"), batch_size=11, single_transaction=False)
    assert_exact(graph)
    graph.load(raising(records, seed=10, prefix="y"), single_transaction=True)
    assert_exact(graph)
    after = {r["vendor"]: r["agency_count"] for r in CATALOG.run(graph, QUERY, {"min_agencies": "0"}).rows}
    assert any(after.get(v, 0) > n for v, n in before.items())  # the batches did raise some counts

    # contracts re-pointed to another vendor and another agency (statetech adds the new relationship; the old stays)
    rng = random.Random(4)
    companies = [n.id for n in records.nodes if n.kind == "Company"]
    agencies = [n.id for n in records.nodes if n.kind == "Agency"]
    moved = [r.model_copy(update={"to_id": rng.choice(companies)}) for r in records.relationships
             if r.type == "AWARDED_TO"][:12]
    graph.load(RecordSet(relationships=moved[:6]), batch_size=4, single_transaction=False)
    graph.load(RecordSet(relationships=moved[6:]), single_transaction=True)
    assert_exact(graph)
    moved = [r.model_copy(update={"from_id": rng.choice(agencies)}) for r in records.relationships
             if r.type == "AWARDED"][:12]
    graph.load(RecordSet(relationships=moved), batch_size=5, single_transaction=False)
    assert_exact(graph)

    # companies (and their relationships) replaced by curated loads: the replaced properties lose the stored count,
    # which is recounted
    vendors = [n for n in records.nodes if n.kind == "Company"]
    graph.load(RecordSet(nodes=[n.model_copy(update={"notes": "replaced"}) for n in vendors[:10]]),
               single_transaction=True)
    assert_exact(graph)
    graph.load(RecordSet(nodes=[n.model_copy(update={"notes": "replaced"}) for n in vendors[10:]],
                         relationships=[r for r in records.relationships if r.type in ("PROVIDES", "USES")]),
               batch_size=6, single_transaction=False)
    assert_exact(graph)


def test_imports_reimports_that_merge_and_curated_over_imported(graph):
    records = vendor_graph(seed=7, imported_from="test:import")
    rows = [RecordSet(sources=[SOURCE])]
    rows += [RecordSet(nodes=[n]) for n in records.nodes]
    rows += [RecordSet(relationships=[r]) for r in records.relationships]
    graph.import_(iter(rows), batch_size=29)
    assert_exact(graph)

    # a re-import (merge semantics): the same records again, the companies with a new field, plus new contracts
    more = raising(records, seed=12, prefix="m")
    more = RecordSet(nodes=[n.model_copy(update={"imported_from": "test:import"}) for n in more.nodes],
                     relationships=[r.model_copy(update={"imported_from": "test:import"}) for r in more.relationships])
    merged = [n.model_copy(update={"notes": "merged"}) for n in records.nodes if n.kind == "Company"]
    graph.import_(iter([RecordSet(nodes=merged), more, records]), batch_size=23)
    assert graph.query("MATCH (v:Company {id: 'company:g0'}) RETURN v.notes AS notes").rows == [{"notes": "merged"}]
    assert_exact(graph)

    # curated records over the imported ones: companies replaced, relationships re-pointed, in both write paths
    curated = [n.model_copy(update={"imported_from": None}) for n in records.nodes if n.kind in ("Company", "Agency")]
    rng = random.Random(8)
    companies = [n.id for n in records.nodes if n.kind == "Company"]
    curated_rels = [r.model_copy(update={"imported_from": None, "to_id": rng.choice(companies)})
                    for r in records.relationships if r.type in ("AWARDED_TO", "SUBCONTRACTED_TO")][:20]
    graph.load(RecordSet(nodes=curated[:15], relationships=curated_rels[:10]), single_transaction=True)
    assert_exact(graph)
    graph.load(RecordSet(nodes=curated[15:], relationships=curated_rels[10:]), batch_size=8,
               single_transaction=False)
    assert_exact(graph)


def test_bulk_import_files_carry_the_counts_a_load_stores(graph, tmp_path):
    records = vendor_graph(seed=21)
    files = write_import_files(records, tmp_path / "bulk")
    with (files.directory / "nodes-company.csv").open(encoding="utf-8", newline="") as handle:
        written = {row["id:ID(Entity)"]: row["agency_count:long"] for row in csv.DictReader(handle)}
    assert all(ARRAY_DELIMITER not in value for value in written.values())
    graph.load(records, single_transaction=False, batch_size=50)
    assert_exact(graph)
    _, agencies = stored_agencies(graph)
    assert {v: int(n) for v, n in written.items()} == {v: len(a) for v, a in agencies.items()}


def test_hand_edits_are_seen_after_a_refresh(graph):
    graph.load(vendor_graph(seed=3), single_transaction=True)
    assert_exact(graph)
    # edits made outside statetech (Neo4j Browser): a new contract path, a vendor's count tampered with, a new company
    graph.query("MATCH (a:Agency {id: 'agency:g8'}) MATCH (v:Company {id: 'company:g23'}) "
                "CREATE (a)-[:AWARDED]->(:Entity:Contract {id: 'contract:hand', name: 'Hand', kind: 'Contract'})"
                "-[:AWARDED_TO]->(v)", write=True)
    graph.query("MATCH (v:Company {id: 'company:g1'}) SET v.agency_count = 99", write=True)
    graph.query("CREATE (:Entity:Company {id: 'company:hand', name: 'Hand Co', kind: 'Company'})", write=True)
    with pytest.raises(AssertionError):
        assert_exact(graph, refresh=False)  # not seen yet: the counts are kept by statetech's writes
    done = graph.refresh_provenance()
    assert done.vendors >= 3
    assert_exact(graph)
    assert graph.query("MATCH (v:Company {id: 'company:hand'}) RETURN v.agency_count AS n").rows == [{"n": 0}]


def test_a_store_without_the_counts_is_refused_until_refreshed(graph):
    graph.load(vendor_graph(seed=6), batch_size=40, single_transaction=False)
    # what the previous format (1, provenance fields only) left: no counts, marker at version 1
    graph.query("MATCH (v:Company) REMOVE v.agency_count", write=True)
    graph.query("MATCH (m:StatetechFormat) SET m.provenance_fields = 1", write=True)
    with pytest.raises(QueryError) as err:
        CATALOG.run(graph, QUERY)
    assert "lacks the derived fields this query reads" in str(err.value)
    assert "run 'statetech db refresh' once" in str(err.value)
    done = graph.refresh_provenance()
    assert done.vendors == done.vendors_read == 24
    assert_exact(graph)
