"""First load into an empty Neo4j: the bulk path (neo4j-admin import files) against the normal write path.

    python benchmarks/bench_bulk.py [--nodes 100000] [--relationships 300000] [--data DIR]

The same generated records (benchmarks/synthetic.py, as bench_load.py) are written

* by the normal path: ``Graph.load`` into an emptied Neo4j (NEO4J_URI, or a server from tests/neo4j_server.py)
  whose schema exists first, as a first load finds it; and
* by the bulk path: ``write_import_files`` (statetech.graph.bulk), then neo4j-admin's importer run through its Java
  main class on the launcher's classpath into a new server home, then the schema created and its indexes awaited on
  the started server (the server's own JVM start is printed apart: the normal path's server was already up).

Elements are nodes plus relationships, as in bench_load.py. Both graphs are counted afterwards. Figures are printed,
not asserted; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from synthetic import synthetic_records  # noqa: E402

from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.bulk import write_import_files  # noqa: E402
from statetech.graph.model import ENTITY_LABEL  # noqa: E402
from statetech.graph.store import Neo4jStore  # noqa: E402

from measure import load_average  # noqa: E402


def verify(store: Neo4jStore, records) -> None:
    """Both paths must have stored every entity and relationship, or their rates mean nothing."""
    nodes = store.run_read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) AS c").rows[0]["c"]
    rels = store.run_read(f"MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL}) RETURN count(r) AS c").rows[0]["c"]
    assert (nodes, rels) == (len(records.nodes), len(records.relationships)), (nodes, rels)


def normal_path(store: Neo4jStore, records, batch: int) -> float:
    graph = Graph(store)
    started = time.perf_counter()
    graph.load(records, batch_size=batch, single_transaction=False)
    seconds = time.perf_counter() - started
    verify(store, records)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=10_000, help="the normal path's batch size")
    parser.add_argument("--data", type=Path, help="scratch directory for the import files and the bulk server's home "
                                                  "(default: a temporary one, removed)")
    parser.add_argument("--skip-normal", action="store_true", help="time the bulk path only")
    args = parser.parse_args()
    from neo4j_server import Neo4jServer, neo4j_for_benchmark

    print(f"# load average before: {load_average()}", flush=True)
    records = synthetic_records(args.nodes, args.relationships)
    elements = len(records.nodes) + len(records.relationships)
    print(f"# {len(records.nodes):,} nodes, {len(records.relationships):,} relationships, "
          f"{len(records.sources):,} sources", flush=True)

    normal_rate = None
    if not args.skip_normal:
        with neo4j_for_benchmark(heap=os.environ.get("STATETECH_BENCH_HEAP", "3g")) as (uri, user, password):
            store = Neo4jStore(uri, user=user, password=password)
            store.clear()
            store.ensure_schema()
            seconds = normal_path(store, records, args.batch)
            normal_rate = elements / seconds
            print(f"normal path (Graph.load into Neo4j)     {seconds:7.1f} s {normal_rate:10,.0f} elements/s "
                  f"| load average {load_average()}", flush=True)
            store.clear()
            store.close()

    scratch = Path(tempfile.mkdtemp(prefix="statetech-bulk-", dir=args.data))
    try:
        started = time.perf_counter()
        files = write_import_files(records, scratch / "import")
        written = time.perf_counter() - started
        server = Neo4jServer(heap=os.environ.get("STATETECH_BENCH_HEAP", "2g"), data_dir=scratch / "home",
                             import_dir=files.directory)
        server.start()
        try:
            store = Neo4jStore(server.uri)
            verify(store, records)
            store.close()
        finally:
            server.stop()
        total = written + server.import_seconds + server.schema_seconds
        rate = elements / total
        ratio = f" = {rate / normal_rate:.1f}x the normal path" if normal_rate else ""
        print(f"bulk path: files {written:.1f} s + neo4j-admin import {server.import_seconds:.1f} s + schema and "
              f"indexes online {server.schema_seconds:.1f} s = {total:.1f} s {rate:10,.0f} elements/s{ratio} "
              f"| server JVM start (not counted) {server.startup_seconds:.1f} s | load average {load_average()}",
              flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"# load average after: {load_average()}", flush=True)


if __name__ == "__main__":
    main()
