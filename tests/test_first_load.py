"""Embedded store: a first load into a new or empty file is built in memory and saved over the file.

The store must end up holding exactly what a load written straight into the file holds (indexes included), a load
that fails must leave the file empty, and no other process may write to the file while the load is built.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from statetech.graph.api import Graph
from statetech.graph.errors import StoreUnavailable
from statetech.graph.store import GrafeoStore
from statetech.graph.vocabulary import OUT_MISSING_SOURCES, OUT_UNDATED

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic import synthetic_records  # noqa: E402

MARKER = "MATCH (n:Marker) RETURN n"

DUMP_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
DUMP_RELATIONSHIPS = "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS type, properties(r) AS props, b.id AS b"


def dump(store: GrafeoStore) -> tuple[list, list]:
    def key(row: dict) -> str:
        return repr(sorted(row.items()))

    nodes = [{"labels": sorted(r["labels"]), "props": r["props"]} for r in store.run_read(DUMP_NODES)]
    rels = store.run_read(DUMP_RELATIONSHIPS).rows
    return sorted(nodes, key=key), sorted(rels, key=key)


@pytest.fixture(scope="module")
def records():
    return synthetic_records(3_000, 9_000, n_sources=50)


def test_first_load_is_saved_whole_with_its_indexes(tmp_path, records):
    path = tmp_path / "new.grafeo"
    store = GrafeoStore(path)
    summary = Graph(store).load(records, batch_size=1_000, single_transaction=False)
    assert (summary.nodes, summary.relationships) == (len(records.nodes), len(records.relationships))
    # the build happened in memory: the writable handle was given back and the file replaced, nothing left beside it
    assert store._file_db is None and store._db is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.grafeo"]
    store.close()

    # The same records written straight into a file that is not empty (one marker node, removed afterwards).
    in_place = GrafeoStore(tmp_path / "in-place.grafeo")
    in_place.ensure_schema()
    in_place.run_write("CREATE (:Marker {id: 'marker'})")
    Graph(in_place).load(records, batch_size=1_000, single_transaction=False)
    in_place.run_write("MATCH (n:Marker) DELETE n")

    reopened = GrafeoStore(path)
    assert dump(reopened) == dump(in_place)
    # every property index ensure_schema makes came through the save
    indexed = ("id", "name", OUT_UNDATED, OUT_MISSING_SOURCES)
    db, reference = reopened._open(writable=False), in_place._open(writable=False)
    assert [db.has_property_index(p) for p in indexed] == [reference.has_property_index(p) for p in indexed]
    assert db.has_property_index("id") and db.has_property_index("name")
    # a lookup by id answers from the saved file, and a second load writes into it in place
    entity = records.nodes[17]
    assert reopened.run_read("MATCH (n:Entity {id: $id}) RETURN n.name AS name", {"id": entity.id}).rows == [
        {"name": entity.name}]
    Graph(reopened).load(records, batch_size=1_000, single_transaction=False)
    assert dump(reopened) == dump(in_place)
    reopened.close()
    in_place.close()


def test_a_first_load_that_fails_leaves_the_file_empty(tmp_path, records):
    path = tmp_path / "failing.grafeo"
    store = GrafeoStore(path)

    def stream():
        yield records
        raise RuntimeError("the importer's source went away")

    with pytest.raises(RuntimeError, match="went away"):
        Graph(store).import_(stream(), batch_size=1_000)
    # the first batches were written to the in-memory build only: none of them reached the file
    assert store.run_read("MATCH (n) RETURN count(n) AS c").rows == [{"c": 0}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failing.grafeo"]
    # and the store is usable: the next load succeeds
    Graph(store).load(records, batch_size=1_000, single_transaction=False)
    counted = store.run_read("MATCH (n:Entity) RETURN count(n) AS c").rows[0]["c"]
    assert counted == len(records.nodes)
    store.close()


def test_the_file_stays_locked_while_a_first_load_is_built(tmp_path):
    path = tmp_path / "locked.grafeo"
    store = GrafeoStore(path)
    with store.writing():
        assert store._file_db is not None  # building in memory
        store.run_write("CREATE (:Entity {id: 'agency:x', kind: 'Agency', name: 'X'})")
        other = GrafeoStore(path)
        with pytest.raises(StoreUnavailable, match="in use by another statetech process"):
            other.run_write("CREATE (:Entity {id: 'agency:y', kind: 'Agency', name: 'Y'})")
        # reads inside the build see what it has written so far
        assert store.run_read("MATCH (n:Entity) RETURN n.id AS id").rows == [{"id": "agency:x"}]
    assert GrafeoStore(path).run_read("MATCH (n:Entity) RETURN n.id AS id").rows == [{"id": "agency:x"}]
    store.close()
