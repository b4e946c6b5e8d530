"""Load a generated graph (default 100k nodes, 300k relationships) into each store; print throughput and baselines.

    python benchmarks/bench_load.py [--nodes 100000] [--relationships 300000] [--stores embedded,neo4j]
                                    [--naive-sample 4000]

Every figure is printed beside baselines measured in the same run, on the same records, into an emptied store:

* embedded: statetech's path (``Graph.load``: the writer and the engine's native bulk calls) against (a) the same
  batches written as the MERGE upserts of ``cypher.upsert_nodes`` / ``upsert_relationships`` (the previous path,
  and the fastest Cypher on that engine), and (b) the engine floor: the same records' properties, prepared before
  the clock starts, handed straight to the native bulk calls (``batch_create_nodes_with_props`` /
  ``batch_create_edges``) with nothing else done - no path through the engine's Python API is faster;
* neo4j: statetech's path (the writer: CREATE for records known to be new, properties replaced by id for the others,
  two write transactions at once on disjoint batches during a first load, the driver's Rust codec) against (a) the
  best-practice batched write: ``UNWIND`` batches of 10,000 rows inside
  ``execute_write``, ``MERGE`` on the id (nodes, then relationships between ``MATCH``ed ends) and ``SET += props``;
  and (b) a per-record loop: one ``MERGE`` per record, each in its own ``execute_write``, timed on the first
  ``--naive-sample`` records (a whole run would take a quarter of an hour) and reported as elements/s.

Neo4j is NEO4J_URI, or a server started by tests/neo4j_server.py. Figures are printed, not asserted: this is a
benchmark, not a test. The load average is printed before and after. Beside the wall-clock rate, the CPU seconds this
process spent (``time.process_time``, every thread) and elements per CPU second are printed: the embedded engine runs
in this process on one core, so on a machine shared with other work that column is the one to compare between runs
(on an idle machine the two agree). For Neo4j most of the work is in the server, so its CPU column is only the
client's share.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from synthetic import synthetic_records  # noqa: E402

from statetech.graph import cypher  # noqa: E402
from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.model import ENTITY_LABEL, SOURCE_LABEL  # noqa: E402
from statetech.graph.store import GrafeoStore, Neo4jStore  # noqa: E402
from statetech.graph.writer import record_properties  # noqa: E402

BASELINE_BATCH = 10_000


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def verify(store, nodes: int, relationships: int) -> None:
    counted = store.run_read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) AS c").rows[0]["c"]
    rels = store.run_read(f"MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL}) RETURN count(r) AS c").rows[0]["c"]
    assert (counted, rels) == (nodes, relationships), (counted, rels, nodes, relationships)


class Clock:
    """Wall-clock and process CPU seconds of one timed part."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def statetech_path(store, records, batch: int) -> Clock:
    graph = Graph(store)
    with Clock() as clock:
        summary = graph.load(records, batch_size=batch, single_transaction=False)
    assert (summary.nodes, summary.relationships) == (len(records.nodes), len(records.relationships)), summary
    verify(store, len(records.nodes), len(records.relationships))
    return clock


def _rows(records):
    sources = [{"id": s.id, "props": record_properties(s)} for s in records.sources]
    nodes = defaultdict(list)
    for n in records.nodes:
        nodes[n.kind].append({"id": n.id, "props": record_properties(n)})
    rels = defaultdict(list)
    for r in records.relationships:
        rels[r.type].append({"id": r.key, "from": r.from_id, "to": r.to_id, "props": record_properties(r)})
    return sources, nodes, rels


def merge_upserts(store, records, batch: int) -> Clock:
    """The previous path: cypher.upsert_* MERGE statements, one transaction per batch."""
    sources, nodes, rels = _rows(records)
    with Clock() as clock, store.writing():
        for i in range(0, len(sources), batch):
            store.write_transaction([(cypher.UPSERT_SOURCES, {"rows": sources[i:i + batch]})])
        for kind, rows in nodes.items():
            for i in range(0, len(rows), batch):
                store.write_transaction([(cypher.upsert_nodes(kind), {"rows": rows[i:i + batch]})])
        for rel_type, rows in rels.items():
            for i in range(0, len(rows), batch):
                chunk = rows[i:i + batch]
                anchor = "to" if len({r["to"] for r in chunk}) > len({r["from"] for r in chunk}) else "from"
                store.write_transaction([(cypher.upsert_relationships(rel_type, anchor), {"rows": chunk})])
    verify(store, len(records.nodes), len(records.relationships))
    return clock


def engine_floor(store: GrafeoStore, records, batch: int) -> Clock:
    """The native bulk calls alone, on properties prepared before the clock starts (the engine's own cost)."""
    sources, nodes, rels = _rows(records)
    db = store._open(writable=True)
    with Clock() as clock:
        for i in range(0, len(sources), batch):
            db.upsert_nodes([SOURCE_LABEL], [r["props"] for r in sources[i:i + batch]], key="id", replace=True)
        internal = {}
        for kind, rows in nodes.items():
            for i in range(0, len(rows), batch):
                chunk = rows[i:i + batch]
                created = db.batch_create_nodes_with_props([ENTITY_LABEL, kind], [r["props"] for r in chunk])
                internal.update(zip((r["id"] for r in chunk), created))
        edges = [(internal[r["from"]], internal[r["to"]], rel_type, r["props"])
                 for rel_type, rows in rels.items() for r in rows]
        for i in range(0, len(edges), batch):
            db.batch_create_edges(edges[i:i + batch])
    verify(store, len(records.nodes), len(records.relationships))
    return clock


# The best-practice batched write, written out here so the baseline does not move when statetech's Cypher does.
BEST_PRACTICE_SOURCES = f"UNWIND $rows AS row MERGE (s:{SOURCE_LABEL} {{id: row.id}}) SET s += row.props"
BEST_PRACTICE_NODES = "UNWIND $rows AS row MERGE (n:Entity {{id: row.id}}) SET n:{kind} SET n += row.props"
BEST_PRACTICE_RELATIONSHIPS = """UNWIND $rows AS row
MATCH (a:Entity {{id: row.from}}) MATCH (b:Entity {{id: row.to}})
MERGE (a)-[r:{type} {{id: row.id}}]->(b) SET r += row.props"""


def best_practice_unwind(store: Neo4jStore, records) -> Clock:
    sources, nodes, rels = _rows(records)
    driver = store._driver

    def write(query: str, rows: list) -> None:
        with driver.session(database=store._database) as session:
            session.execute_write(lambda tx: tx.run(query, rows=rows).consume())

    with Clock() as clock:
        _best_practice_batches(write, sources, nodes, rels)
    verify(store, len(records.nodes), len(records.relationships))
    return clock


def _best_practice_batches(write, sources, nodes, rels) -> None:
    for i in range(0, len(sources), BASELINE_BATCH):
        write(BEST_PRACTICE_SOURCES, sources[i:i + BASELINE_BATCH])
    for kind, rows in nodes.items():
        for i in range(0, len(rows), BASELINE_BATCH):
            write(BEST_PRACTICE_NODES.format(kind=kind), rows[i:i + BASELINE_BATCH])
    for rel_type, rows in rels.items():
        for i in range(0, len(rows), BASELINE_BATCH):
            write(BEST_PRACTICE_RELATIONSHIPS.format(type=rel_type), rows[i:i + BASELINE_BATCH])


def per_record_loop(store: Neo4jStore, records, sample: int) -> tuple[Clock, int]:
    """One MERGE per record, each in its own write transaction: nodes, then relationships among them."""
    sources, nodes, rels = _rows(records)
    node_rows = [(kind, row) for kind, rows in nodes.items() for row in rows][: sample // 4]
    chosen = {row["id"] for _, row in node_rows}
    rel_rows = [(t, row) for t, rows in rels.items() for row in rows
                if row["from"] in chosen and row["to"] in chosen][: sample - len(node_rows)]
    driver = store._driver
    node_query = "MERGE (n:Entity {{id: $id}}) SET n:{kind} SET n += $props"
    rel_query = """MATCH (a:Entity {{id: $from}}) MATCH (b:Entity {{id: $to}})
MERGE (a)-[r:{type} {{id: $id}}]->(b) SET r += $props"""
    with Clock() as clock, driver.session(database=store._database) as session:
        for kind, row in node_rows:
            session.execute_write(lambda tx: tx.run(node_query.format(kind=kind), **row).consume())
        for rel_type, row in rel_rows:
            session.execute_write(lambda tx: tx.run(rel_query.format(type=rel_type), **row).consume())
    return clock, len(node_rows) + len(rel_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=10_000, help="statetech's batch size")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--naive-sample", type=int, default=4_000,
                        help="records timed for the per-record MERGE loop (Neo4j)")
    args = parser.parse_args()

    print(f"# load average before: {load_average()}", flush=True)
    started = time.perf_counter()
    records = synthetic_records(args.nodes, args.relationships)
    total = len(records.nodes) + len(records.relationships)
    print(f"# generated {len(records.nodes):,} nodes, {len(records.relationships):,} relationships, "
          f"{len(records.sources):,} sources in {time.perf_counter() - started:.1f}s", flush=True)
    print(f"{'store':9} {'path':38} {'seconds':>8} {'elements/s':>11} {'statetech is':>13} {'cpu s':>7} "
          f"{'per cpu s':>10} {'statetech is':>13}", flush=True)

    def row(store_name: str, path: str, clock: Clock, count: int,
            ours: tuple[float, float] | None = None) -> tuple[float, float]:
        rate, cpu_rate = count / clock.wall, count / clock.cpu
        ratio = f"{ours[0] / rate:12.2f}x" if ours is not None else f"{'':>13}"
        cpu_ratio = f"{ours[1] / cpu_rate:12.2f}x" if ours is not None else f"{'':>13}"
        print(f"{store_name:9} {path:38} {clock.wall:8.1f} {rate:11,.0f} {ratio} {clock.cpu:7.1f} {cpu_rate:10,.0f} "
              f"{cpu_ratio}", flush=True)
        return rate, cpu_rate

    for name in args.stores.split(","):
        if name == "embedded":
            with tempfile.TemporaryDirectory() as tmp:
                store = GrafeoStore(Path(tmp) / "ours.grafeo")
                with store.writing():
                    store.ensure_schema()
                    rss_before = _rss_mb()
                    ours = row(name, "statetech (writer, native bulk)", statetech_path(store, records, args.batch),
                               total)
                    usage = store.memory_usage()
                    per_element = usage["total_bytes"] / total
                    print(f"# embedded memory: engine estimate {per_element:,.0f} bytes per element "
                          f"({usage['total_bytes'] / 1e6:,.0f} MB for {total:,}); process peak RSS grew "
                          f"{_rss_mb() - rss_before:,.0f} MB; the default budget ({usage['budget_bytes'] / 1e9:.1f} GB "
                          f"on this machine) holds about {usage['budget_bytes'] / per_element / 1e6:,.0f}M elements",
                          flush=True)
                store.close()
                store = GrafeoStore(Path(tmp) / "merge.grafeo")
                with store.writing():
                    store.ensure_schema()
                    row(name, "baseline: MERGE upserts, Cypher", merge_upserts(store, records, args.batch), total,
                        ours)
                store.close()
                store = GrafeoStore(Path(tmp) / "floor.grafeo")
                with store.writing():
                    store.ensure_schema()
                    row(name, "floor: native bulk calls alone", engine_floor(store, records, args.batch), total,
                        ours)
                store.close()
        elif name == "neo4j":
            from neo4j_server import neo4j_for_benchmark

            with neo4j_for_benchmark(heap=os.environ.get("STATETECH_BENCH_HEAP", "3g")) as (uri, user, password):
                store = Neo4jStore(uri, user=user, password=password)
                store.clear()
                store.ensure_schema()
                ours = row(name, "statetech (writer, CREATE, 2 tx at once)",
                           statetech_path(store, records, args.batch), total)
                store.clear()
                row(name, "baseline: UNWIND 10k MERGE, execute_write", best_practice_unwind(store, records), total,
                    ours)
                store.clear()
                clock, count = per_record_loop(store, records, args.naive_sample)
                row(name, f"baseline: per-record MERGE ({count:,})", clock, count, ours)
                store.clear()
                store.close()
        else:
            raise SystemExit(f"unknown store {name!r}; use embedded or neo4j")
    print(f"# load average after: {load_average()}", flush=True)


if __name__ == "__main__":
    main()
