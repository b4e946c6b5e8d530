"""Load a generated graph (default 100k nodes, 300k relationships) into each store and print the throughput.

    python benchmarks/bench_load.py [--nodes 100000] [--relationships 300000] [--stores embedded,neo4j]

Neo4j is the real server started by tests/neo4j_server.py (or NEO4J_URI if set). Figures are printed, not asserted:
this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from synthetic import synthetic_records  # noqa: E402

from statetech.graph.store import GrafeoStore, Neo4jStore  # noqa: E402


def bench(store, records, batch_size: int) -> tuple[float, int]:
    store.ensure_schema()
    started = time.perf_counter()
    summary = store.write_records(records, batch_size=batch_size, single_transaction=False)
    elapsed = time.perf_counter() - started
    total = summary.nodes + summary.relationships
    counted = store.run_read("MATCH (n:Entity) RETURN count(n) AS c").rows[0]["c"]
    rels = store.run_read("MATCH (:Entity)-[r]->(:Entity) RETURN count(r) AS c").rows[0]["c"]
    assert counted == summary.nodes and rels == summary.relationships, (counted, rels, summary)
    return elapsed, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--stores", default="embedded,neo4j")
    args = parser.parse_args()

    started = time.perf_counter()
    records = synthetic_records(args.nodes, args.relationships)
    print(f"generated {len(records.nodes):,} nodes, {len(records.relationships):,} relationships, "
          f"{len(records.sources):,} sources in {time.perf_counter() - started:.1f}s")
    print(f"{'store':10} {'load s':>8} {'nodes+rels':>12} {'per second':>12}")
    for name in args.stores.split(","):
        if name == "embedded":
            with tempfile.TemporaryDirectory() as tmp:
                store = GrafeoStore(Path(tmp) / "bench.grafeo")
                with store.writing():
                    elapsed, total = bench(store, records, args.batch)
                store.close()
        elif name == "neo4j":
            server = None
            uri = os.environ.get("NEO4J_URI")
            if not uri:
                from neo4j_server import Neo4jServer

                server = Neo4jServer(heap=os.environ.get("STATETECH_BENCH_HEAP", "6g"))
                server.start()
                uri = server.uri
            try:
                store = Neo4jStore(uri, user=os.environ.get("NEO4J_USERNAME"),
                                   password=os.environ.get("NEO4J_PASSWORD"))
                store.clear()
                elapsed, total = bench(store, records, args.batch)
                store.clear()
                store.close()
            finally:
                if server:
                    server.stop()
        else:
            raise SystemExit(f"unknown store {name!r}; use embedded or neo4j")
        print(f"{name:10} {elapsed:8.1f} {total:12,} {total / elapsed:12,.0f}", flush=True)


if __name__ == "__main__":
    main()
