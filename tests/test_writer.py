"""The one write path (statetech.graph.writer): the batched fast paths write exactly what the one-transaction MERGE
path writes, on both stores; imports follow the precedence rule and count what they did; bad batches fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from statetech.graph.api import shipped_seeds_path
from statetech.graph.errors import StatetechError
from statetech.graph.model import Agency, Company, Contract, RecordSet, Relationship, Source
from statetech.graph.writer import PRECEDENCE, record_properties
from statetech.loaders.curated import load_curated, read_curated

FIXTURES = Path(__file__).parent / "fixtures" / "curated"


def snapshot(graph) -> dict:
    """Everything stored, as plain values: labels and properties of every node, every relationship with its ends."""
    # (the store's format marker, statetech.graph.provenance, is bookkeeping rather than a record)
    nodes = {r["id"]: (sorted(r["labels"]), r["props"]) for r in graph.query(
        "MATCH (n) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props")
        if "StatetechFormat" not in r["labels"]}
    rels = {r["id"]: (r["type"], r["a"], r["b"], r["props"]) for r in graph.query(
        "MATCH (a)-[r]->(b) RETURN r.id AS id, type(r) AS type, a.id AS a, b.id AS b, properties(r) AS props")}
    return {"nodes": nodes, "relationships": rels}


def fixture_records() -> RecordSet:
    return load_curated([FIXTURES / "small.yaml", FIXTURES / "rich.yaml"])


def test_record_properties_match_the_model_on_every_fixture_and_seed_record():
    # the seeds' records whether or not the whole set cross-checks: this compares record by record
    seeds = read_curated([shipped_seeds_path()]).record_set()
    assert len(seeds.nodes) > 50
    for records in (fixture_records(), seeds):
        for record in (*records.sources, *records.nodes, *records.relationships):
            assert record_properties(record) == record.properties(), record


def test_batched_load_writes_what_the_single_transaction_load_writes(graph, backend, tmp_path):
    records = fixture_records()
    graph.load(records, single_transaction=True)
    expected = snapshot(graph)
    graph.clear()
    # batches of 3 records: relationships whose ends were created in earlier batches, sources spread over batches
    summary = graph.load(records, batch_size=3, single_transaction=False)
    assert snapshot(graph) == expected
    assert (summary.sources, summary.nodes, summary.relationships) == (
        len(records.sources), len(records.nodes), len(records.relationships))
    assert len(expected["relationships"]) == len(records.relationships) > 0


def test_batched_reload_replaces_properties_and_creates_nothing_twice(graph):
    records = fixture_records()
    graph.load(records, batch_size=4, single_transaction=False)
    first = snapshot(graph)
    graph.load(records, batch_size=4, single_transaction=False)
    assert snapshot(graph) == first
    # a field dropped from a record disappears from the store (properties are replaced, not merged)
    contract = next(n for n in records.nodes if n.id == "contract:example-award-1")
    changed = contract.model_copy(update={"potential_usd": None, "notes": "corrected"})
    rel = next(r for r in records.relationships if r.type == "AWARDED_TO")
    changed_rel = rel.model_copy(update={"notes": "checked"})
    graph.load(RecordSet(nodes=[changed], relationships=[changed_rel]), batch_size=1, single_transaction=False)
    after = snapshot(graph)
    props = after["nodes"]["contract:example-award-1"][1]
    assert "potential_usd" not in props and props["notes"] == "corrected"
    assert after["relationships"][rel.key][3]["notes"] == "checked"
    assert after["relationships"][rel.key][3]["from"] == rel.from_id
    assert len(after["nodes"]) == len(first["nodes"]) and len(after["relationships"]) == len(first["relationships"])


def test_a_batch_with_a_missing_end_fails_and_names_it(graph):
    source = Source(id="source:example-w", url="https://example.org/w", title="W", publisher="Example",
                    published="2024")
    agency = Agency(id="agency:example-w", name="W", sources=[source.id], confidence="confirmed")
    rel = Relationship(**{"from": "agency:example-w", "to": "contract:example-nowhere"}, type="AWARDED",
                       sources=[source.id], confidence="confirmed")
    graph.load(RecordSet(sources=[source], nodes=[agency]), single_transaction=False)
    with pytest.raises(StatetechError, match="contract:example-nowhere|endpoints missing"):
        graph.load(RecordSet(relationships=[rel]), single_transaction=False)
    assert snapshot(graph)["relationships"] == {}


# --- imports: precedence and counts -------------------------------------------------------------------------------

SOURCE = Source(id="source:example-imp", url="https://example.org/imp", title="Imported", publisher="Example",
                published="2024-05-01")


def _company(name: str, tag: str | None, notes: str) -> Company:
    return Company(id="company:example-imp", name=name, notes=notes, sources=[SOURCE.id], confidence="reported",
                   imported_from=tag)


class Emitted:
    def __init__(self, sources=(), nodes=(), relationships=()):
        self.sources, self.nodes, self.relationships = list(sources), list(nodes), list(relationships)


@pytest.fixture
def ranks():
    saved = dict(PRECEDENCE)
    PRECEDENCE.update({"example:summary": 30, "example:detail": 10})
    yield
    PRECEDENCE.clear()
    PRECEDENCE.update(saved)


def test_import_never_overwrites_a_curated_record(graph):
    curated = _company("Curated Name", None, "curated")
    graph.load(RecordSet(sources=[SOURCE], nodes=[curated]))
    counts = graph.import_([Emitted([SOURCE], [_company("IMPORTED NAME", "example:summary", "imported")])])
    assert counts.nodes_kept == {"Company": 1} and not counts.nodes_created and not counts.nodes_updated
    props = snapshot(graph)["nodes"]["company:example-imp"][1]
    assert (props["name"], props["notes"], props.get("imported_from")) == ("Curated Name", "curated", None)


def test_import_precedence_between_imports(graph, ranks):
    graph.import_([Emitted([SOURCE], [_company("Summary", "example:summary", "from the summary")])])
    counts = graph.import_([Emitted([SOURCE], [_company("Detail", "example:detail", "from a detail file")])])
    assert counts.nodes_kept == {"Company": 1}
    assert snapshot(graph)["nodes"]["company:example-imp"][1]["notes"] == "from the summary"
    counts = graph.import_([Emitted([SOURCE], [_company("Summary 2", "example:summary", "corrected")])])
    assert counts.nodes_updated == {"Company": 1}  # equal rank: a corrected file updates the record
    assert snapshot(graph)["nodes"]["company:example-imp"][1]["notes"] == "corrected"


def test_import_counts_and_dry_run(graph):
    agency = Agency(id="agency:example-imp", name="Imported agency", sources=[SOURCE.id], confidence="confirmed",
                    imported_from="example:summary")
    contract = Contract(id="contract:example-imp", name="Imported award", sources=[SOURCE.id],
                        confidence="confirmed", imported_from="example:summary")
    rel = Relationship(**{"from": agency.id, "to": contract.id}, type="AWARDED", sources=[SOURCE.id],
                       confidence="confirmed", imported_from="example:summary")
    stream = [Emitted([SOURCE], [agency]), Emitted([SOURCE], [contract], [rel]), Emitted([], [agency])]
    dry = graph.import_(stream, dry_run=True, batch_size=2)
    assert snapshot(graph) == {"nodes": {}, "relationships": {}}
    assert dry.nodes_created == {"Agency": 1, "Contract": 1} and dry.relationships_created == {"AWARDED": 1}
    real = graph.import_(stream, batch_size=2)
    assert (real.nodes_created, real.relationships_created) == (dry.nodes_created, dry.relationships_created)
    # the agency came twice, in two batches: created by the first, rewritten by the second
    assert real.nodes_updated == {"Agency": 1}
    again = graph.import_(stream, batch_size=2)
    assert not again.nodes_created and not again.relationships_created
    assert again.relationships_updated == {"AWARDED": 1}
    stored = snapshot(graph)
    assert len(stored["nodes"]) == 3 and list(stored["relationships"]) == [rel.key]


def test_import_refuses_a_relationship_the_model_does_not_allow(graph):
    agency = Agency(id="agency:example-imp", name="A", sources=[SOURCE.id], confidence="confirmed")
    company = _company("C", "example:summary", "c")
    bad = Relationship.model_construct(from_id=company.id, to_id=agency.id, type="AWARDED", id=None,
                                       sources=[SOURCE.id], confidence="confirmed")
    with pytest.raises(StatetechError, match="is not allowed by the model"):
        graph.import_([Emitted([SOURCE], [agency, company], [bad])])


def _award_stream(n_batches: int, per_batch: int, tag: str = "example:summary"):
    """Emitted rows of awards: a contract, its source and its AWARDED from one agency (a hub), ``per_batch`` a
    batch."""
    agency = Agency(id="agency:example-hub", name="Hub", sources=[SOURCE.id], confidence="confirmed",
                    imported_from=tag)
    for b in range(n_batches):
        for i in range(per_batch):
            n = b * per_batch + i
            source = Source(id=f"source:example-award-{n}", url=f"https://example.org/award/{n}",
                            title=f"Award {n}", publisher="Example", published=f"2024-01-{1 + n % 28:02d}")
            contract = Contract(id=f"contract:example-award-{n}", name=f"Award {n}", sources=[source.id],
                                confidence="confirmed", imported_from=tag)
            rel = Relationship(**{"from": agency.id, "to": contract.id}, type="AWARDED", sources=[source.id],
                               confidence="confirmed", imported_from=tag)
            yield Emitted([SOURCE, source], [agency, contract], [rel])


def test_a_batch_written_in_the_background_overlaps_the_next_records_on_neo4j_only(graph, backend, monkeypatch):
    """On Neo4j a batch is written while the importer makes the next batch's records (GraphWriter.flush); on the
    embedded store writes happen in the caller's thread. Either way the result is the same as writing in turn."""
    import threading

    store = graph.store
    graph.load(RecordSet(sources=[SOURCE]), single_transaction=True)  # not a first load: lookups before each batch
    writing = threading.Event()  # a batch's write has started and waits for a record to be made meanwhile
    made = threading.Event()  # the importer made a record while a write was under way
    seen: list[tuple[bool, bool]] = []  # (written on the caller's thread, records made while it was being written)
    original = type(store).write_batch
    caller = threading.get_ident()

    def write_batch(self, batch):
        on_caller = threading.get_ident() == caller
        writing.set()
        # a background write waits (bounded) for the caller to make the next record; the caller's own write cannot
        overlapped = False if on_caller else made.wait(timeout=10)
        seen.append((on_caller, overlapped))
        made.clear()
        writing.clear()
        return original(self, batch)

    def stream():
        for n, emitted in enumerate(_award_stream(1, 20)):
            # batch_size 1: every row before this one is a batch already handed to the writer
            if n and backend == "neo4j":
                assert writing.wait(timeout=10), "the previous batch is not being written"
                made.set()
            yield emitted
        made.set()  # the last batch has no records after it: nothing to wait for

    monkeypatch.setattr(type(store), "write_batch", write_batch)
    counts = graph.import_(stream(), batch_size=1)
    monkeypatch.undo()
    assert len(seen) == 20
    if backend == "neo4j":
        assert seen == [(False, True)] * 20
    else:
        assert seen == [(True, False)] * 20
    assert counts.nodes_created == {"Agency": 1, "Contract": 20}
    assert counts.relationships_created == {"AWARDED": 20}
    # the follow-ups of every batch were applied: the hub's summary holds the newest of its awards' dates
    assert graph.query("MATCH (a:Entity {id: 'agency:example-hub'}) RETURN a.out_newest AS d").rows == [
        {"d": "2024-01-20"}]
    assert graph.query("MATCH (:Agency)-[r:AWARDED]->(:Contract) RETURN count(r) AS n").rows == [{"n": 20}]


def test_a_failed_batch_write_stops_the_import_and_is_raised(graph, monkeypatch):
    """A batch that fails to write (in the background on Neo4j) is raised from the import, and no later batch is
    written; the batches before it stay stored (each batch is atomic)."""
    store = graph.store
    graph.load(RecordSet(sources=[SOURCE]), single_transaction=True)
    original = type(store).write_batch
    calls = []

    def write_batch(self, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise StatetechError("the server went away (a test)")
        return original(self, batch)

    monkeypatch.setattr(type(store), "write_batch", write_batch)
    with pytest.raises(StatetechError, match="the server went away"):
        graph.import_(_award_stream(5, 30), batch_size=40)
    monkeypatch.undo()
    assert len(calls) == 2
    stored = graph.query("MATCH (c:Contract) RETURN count(c) AS n").rows[0]["n"]
    assert 0 < stored < 150


# --- the embedded store's memory per element ------------------------------------------------------------------------


def test_embedded_memory_per_element_is_small_and_linear(tmp_path):
    """About 400-500 bytes per node or relationship by the engine's own account (benchmarks/bench_load.py prints it
    at 400,000 elements, with the largest graph the default budget holds): bounded here at 800, and no worse per
    element at twice the size, so the capacity estimate scales."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import synthetic_records

    from statetech.graph.api import Graph
    from statetech.graph.store import GrafeoStore

    per_element = []
    for n in (4_000, 8_000):
        records = synthetic_records(n, 3 * n, n_sources=100)
        store = GrafeoStore(tmp_path / f"m{n}.grafeo")
        with store.writing():
            Graph(store).load(records, single_transaction=False)
            usage = store.memory_usage()
        store.close()
        per_element.append(usage["total_bytes"] / (len(records.nodes) + len(records.relationships)))
        assert usage["budget_bytes"] > 0
    assert per_element[0] < 800 and per_element[1] < 800, per_element
    assert per_element[1] <= per_element[0] * 1.1, per_element
