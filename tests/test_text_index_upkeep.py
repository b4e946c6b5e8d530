"""The embedded store's citation text indexes around writes, and its own raising of start-node summaries.

Grafeo 0.6 removes a node's old text from a full-text index by walking the whole index, so GrafeoStore.writing()
drops the two citation indexes for the run and creates them when it ends (see GrafeoStore._pause_text_indexes); and
GrafeoStore.raise_markers works out cypher.RAISE_MARKERS's values in Python. These tests pin that the indexes are
back (and right) whatever happens, and that the Python raising stores exactly what the statement stores.
"""

from __future__ import annotations

import shutil

import grafeo
import pytest
from test_provenance_fields import assert_supports, generated

from statetech.graph.api import Graph
from statetech.graph.catalog import Catalog
from statetech.graph.model import RecordSet
from statetech.graph.store import GrafeoStore, GraphStore
from statetech.graph.vocabulary import (
    CITED,
    ENTITY_LABEL,
    OUT_CITED,
    OUT_HISTORY,
    OUT_MISSING_SOURCES,
    OUT_NEWEST,
    OUT_UNDATED,
    citation_token,
)

CATALOG = Catalog.load()


def _indexed(store: GrafeoStore) -> list[bool]:
    db = store._open(writable=store._writable)
    return [store._has_text_index(db, prop) for prop in (CITED, OUT_CITED)]


def _file_indexed(path) -> list[bool]:
    """Whether the saved file itself holds the indexes (a raw read-only handle, so nothing builds them for it)."""
    db = grafeo.GrafeoDB.open_read_only(str(path))
    try:
        found = []
        for prop in (CITED, OUT_CITED):
            try:
                db.text_search(ENTITY_LABEL, prop, "stc", 1)
                found.append(True)
            except grafeo.GrafeoError:
                found.append(False)
        return found
    finally:
        db.close()


@pytest.fixture
def loaded(tmp_path):
    """A file-backed embedded store holding a generated graph, written in several calls."""
    records = generated()
    graph = Graph(GrafeoStore(tmp_path / "store.grafeo"))
    half = len(records.relationships) // 2
    graph.load(RecordSet(sources=records.sources, nodes=records.nodes, relationships=records.relationships[:half]),
               batch_size=97, single_transaction=False)
    graph.load(RecordSet(relationships=records.relationships[half:]), batch_size=53, single_transaction=False)
    yield graph, records
    graph.close()


def test_a_run_of_writes_drops_the_indexes_and_creates_them_when_it_ends(loaded):
    graph, records = loaded
    store = graph.store
    assert _indexed(store) == [True, True]
    with store.writing():
        assert _indexed(store) == [False, False]
        # a load inside the run (its own writing() is nested) leaves them dropped until the run ends
        graph.load(RecordSet(relationships=[r.model_copy(update={"sources": [records.sources[0].id]})
                                            for r in records.relationships[:60]]), single_transaction=True)
        assert _indexed(store) == [False, False]
    assert _indexed(store) == [True, True]
    assert_supports(graph)
    store.close()
    assert _file_indexed(store.path) == [True, True]


def test_only_a_write_of_enough_records_in_one_transaction_drops_them(loaded, monkeypatch):
    from statetech.graph.writer import PAUSE_TEXT_INDEXES_FROM

    graph, records = loaded
    dropped = []
    pause = GrafeoStore._pause_text_indexes
    monkeypatch.setattr(GrafeoStore, "_pause_text_indexes", lambda self, db: dropped.append(1) or pause(self, db))
    few = [n.model_copy(update={"sources": [records.sources[2].id]}) for n in records.nodes[:5]]
    graph.load(RecordSet(nodes=few), single_transaction=True)
    assert dropped == []  # the engine keeps the indexes current for a few records
    assert_supports(graph)
    many = [r.model_copy(update={"sources": [records.sources[3].id]})
            for r in records.relationships[:PAUSE_TEXT_INDEXES_FROM]]
    graph.load(RecordSet(relationships=many), single_transaction=True)
    assert dropped == [1]
    assert _indexed(graph.store) == [True, True]
    assert_supports(graph)


def test_a_failed_run_still_creates_the_indexes(loaded):
    graph, records = loaded
    store = graph.store
    with pytest.raises(RuntimeError, match="stopped"):
        with store.writing():
            graph.load(RecordSet(nodes=[n.model_copy(update={"sources": [records.sources[1].id]})
                                        for n in records.nodes[:25]]), batch_size=10, single_transaction=False)
            raise RuntimeError("stopped")
    assert _indexed(store) == [True, True]
    assert_supports(graph)


def test_a_first_load_saves_the_indexes_in_the_file(tmp_path):
    graph = Graph(GrafeoStore(tmp_path / "first.grafeo"))
    graph.load(generated(), batch_size=101, single_transaction=False)
    graph.close()
    assert _file_indexed(tmp_path / "first.grafeo") == [True, True]
    reopened = Graph(GrafeoStore(tmp_path / "first.grafeo"))
    try:
        assert_supports(reopened)
    finally:
        reopened.close()


def test_a_file_left_without_the_indexes_still_answers(loaded, tmp_path):
    """A writing() run killed before it ended leaves the file without the indexes (the drop is saved): a read-only
    handle builds them in memory when a query asks, and the next writable open creates them in the file."""
    graph, _ = loaded
    path = graph.store.path
    expected = {s: CATALOG.run(graph, "sources/supports", {"source": s}).rows
                for s in ("source:gen-3", "source:gen-12", "source:never-0")}
    graph.close()
    db = grafeo.GrafeoDB(str(path))
    for prop in (CITED, OUT_CITED):
        db.drop_text_index(ENTITY_LABEL, prop)
    db.close()
    assert _file_indexed(path) == [False, False]

    reader = Graph(GrafeoStore(path))
    try:
        for source, rows in expected.items():
            assert CATALOG.run(reader, "sources/supports", {"source": source}).rows == rows
        assert_supports(reader)
    finally:
        reader.close()
    assert _file_indexed(path) == [False, False]  # the read-only handle built them in memory only

    writer = GrafeoStore(path)
    writer.ensure_schema()
    writer.close()
    assert _file_indexed(path) == [True, True]


# Stored summaries (out_newest, out_undated, out_missing_sources, out_cited), including ones only a hand edit makes.
STORED_STATES = [
    {},
    {OUT_NEWEST: "2020-01-01"},
    {OUT_NEWEST: "2024-05-05", OUT_UNDATED: True, OUT_MISSING_SOURCES: True},
    {OUT_NEWEST: 5},  # not text: the statement's comparison is null, so it writes the row's date
    {OUT_CITED: f"{citation_token('source:a')} {citation_token('source:m')}"},
    {OUT_CITED: f"{citation_token('source:z')} {citation_token('source:b')}"},  # out of order (a hand edit)
    {OUT_CITED: citation_token("source:a"), OUT_UNDATED: False},
    {OUT_CITED: ""},
]
ROWS = [
    {OUT_NEWEST: None, OUT_UNDATED: None, OUT_MISSING_SOURCES: None, "tokens": []},
    {OUT_NEWEST: "2022-02-02", OUT_UNDATED: None, OUT_MISSING_SOURCES: True, "tokens": ["source:a"]},
    {OUT_NEWEST: "2024-05-05", OUT_UNDATED: True, OUT_MISSING_SOURCES: None, "tokens": ["source:b", "source:c"]},
    {OUT_NEWEST: "2019", OUT_UNDATED: None, OUT_MISSING_SOURCES: None, "tokens": ["source:m", "source:a", "source:0"]},
]


def test_the_embedded_raising_stores_what_the_statement_stores(tmp_path):
    """Every stored state raised with every kind of row, by GrafeoStore.raise_markers on one copy of a store and by
    cypher.RAISE_MARKERS on another: the same fields, value for value."""
    path = tmp_path / "base.grafeo"
    base = GrafeoStore(path)
    base.ensure_schema()
    nodes, rows = [], []
    for s, state in enumerate(STORED_STATES):
        for r, row in enumerate(ROWS):
            node_id = f"company:s{s}-r{r}"
            nodes.append({"id": node_id, "props": {"id": node_id, "kind": "Company", "name": node_id, **state}})
            rows.append({"id": node_id, OUT_NEWEST: row[OUT_NEWEST], OUT_UNDATED: row[OUT_UNDATED],
                         OUT_MISSING_SOURCES: row[OUT_MISSING_SOURCES], OUT_HISTORY: None,
                         OUT_CITED: None, "cited_tokens": sorted(citation_token(t) for t in row["tokens"])})
    rows.append({"id": "company:not-stored", OUT_NEWEST: "2030", OUT_UNDATED: True, OUT_MISSING_SOURCES: True,
                 OUT_HISTORY: None, OUT_CITED: None, "cited_tokens": [citation_token("source:x")]})
    base.run_write(f"UNWIND $rows AS row CREATE (n:{ENTITY_LABEL}:Company) SET n = row.props", {"rows": nodes})
    base.close()
    shutil.copy(path, tmp_path / "python.grafeo")
    shutil.copy(path, tmp_path / "statement.grafeo")

    stored = {}
    for name, raise_markers in (("python", GrafeoStore.raise_markers), ("statement", GraphStore.raise_markers)):
        store = GrafeoStore(tmp_path / f"{name}.grafeo")
        raise_markers(store, rows)
        stored[name] = store.run_read(
            f"MATCH (n:{ENTITY_LABEL}) RETURN n.id AS id, n.{OUT_NEWEST} AS newest, n.{OUT_UNDATED} AS undated, "
            f"n.{OUT_MISSING_SOURCES} AS missing, n.{OUT_CITED} AS cited ORDER BY id").rows
        store.close()
    assert len(stored["python"]) == len(nodes)
    assert stored["python"] == stored["statement"]
    # and the raising did something: every row with a date newer than the stored one raised it
    raised = {r["id"]: r for r in stored["python"]}
    assert raised["company:s0-r1"] == {"id": "company:s0-r1", "newest": "2022-02-02", "undated": None,
                                       "missing": True, "cited": citation_token("source:a")}
    assert raised["company:s1-r3"]["newest"] == "2020-01-01"
    assert raised["company:s3-r1"]["newest"] == "2022-02-02"


def test_merging_into_a_statetech_text_is_the_sorted_union():
    """The merge a hub pays for on every batch (GrafeoStore.raise_markers): for text statetech wrote (sorted,
    distinct words), the sorted union with the new words, the stored text itself when none is new."""
    import random

    from statetech.graph.store import _merged_citations

    rng = random.Random(5)
    for _ in range(2_000):
        held = sorted({citation_token(f"source:s{rng.randrange(300)}") for _ in range(rng.randrange(0, 40))})
        tokens = sorted({citation_token(f"source:s{rng.randrange(300)}") for _ in range(rng.randrange(0, 8))})
        stored = " ".join(held) or None
        merged = _merged_citations(stored, tokens)
        assert merged == (" ".join(sorted(set(held) | set(tokens))) or None)
        if not set(tokens) - set(held):
            assert merged == stored
