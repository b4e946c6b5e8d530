"""Load a generated graph (default 100k nodes, 300k relationships) into each store; print throughput and baselines.

    python benchmarks/bench_load.py [--nodes 100000] [--relationships 300000] [--stores embedded,neo4j]
                                    [--naive-sample 4000]

Every figure is printed beside baselines measured in the same run, on the same records, into an emptied store. The
baselines write the very rows statetech's writer prepared (captured from its run, see ``_rows``), so every path
stores the same graph; their clocks start from those prepared rows, statetech's from the RecordSet:

* embedded: statetech's path (``Graph.load``: the writer and the engine's native bulk calls) against (a) the same
  batches written as the MERGE upserts of ``cypher.upsert_nodes`` / ``upsert_relationships`` (the previous path,
  and the fastest Cypher on that engine), and (b) the engine floor: the same records' properties, prepared before
  the clock starts, handed straight to the native bulk calls (``batch_create_nodes_with_props`` /
  ``batch_create_edges``) with nothing else done, into the store's file and into memory then saved, and (c) the
  ceiling: the same calls into a bare in-memory database (no schema, no file, no save). Among the engine's other
  Python calls, ``import_jsonl`` writes nodes about a fifth faster even once the second label and the ids for the
  edges are added back (one label per call, no ids returned), and ``import_df`` was slower; the edges, three
  quarters of the elements here, have no faster call than ``batch_create_edges``. So when (c) is well below the
  issue's embedded target, no write path here can meet it;
* neo4j: statetech's path (the writer: CREATE for records known to be new, properties replaced by id for the others,
  two write transactions at once on disjoint batches during a first load, the driver's Rust codec) against (a) the
  best-practice batched write: ``UNWIND`` batches of 10,000 rows inside ``execute_write``, ``MERGE`` on the id
  (nodes, then relationships between ``MATCH``ed ends) and ``SET += props``;
  and (b) a per-record loop: one ``MERGE`` per record, each in its own ``execute_write``, timed on the first
  ``--naive-sample`` records (a whole run would take a quarter of an hour) and reported as elements/s (beside the
  median of statetech's rounds). Whichever path runs first on a fresh server may pay for warming it, so each
  path first loads the graph once untimed, then ``--rounds`` rounds alternate which goes first, each path into an
  emptied database; every round and the median of the per-round ratios are printed.

Neo4j is NEO4J_URI, or a server started by tests/neo4j_server.py. Figures are printed, not asserted: this is a
benchmark, not a test. The load average is printed before and after. Beside the wall-clock rate, the CPU seconds this
process spent (``time.process_time``, every thread) and elements per CPU second are printed: the embedded engine runs
in this process on one core, so on a machine shared with other work that column is the one to compare between runs
(on an idle machine the two agree). For Neo4j most of the work is in the server, so when the server is a local
process its CPU seconds (read from /proc) are added to the client's.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from synthetic import synthetic_records  # noqa: E402

from statetech.graph import cypher  # noqa: E402
from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.model import ENTITY_LABEL, SOURCE_LABEL  # noqa: E402
from statetech.graph.store import GrafeoStore, Neo4jStore  # noqa: E402

BASELINE_BATCH = 10_000
EMBEDDED_TARGET = 50_000  # issue 10's embedded ingest target, elements per second


from measure import load_average  # noqa: E402
from measure import peak_rss_mb as _rss_mb  # noqa: E402


def verify(store, nodes: int, relationships: int) -> None:
    counted = store.run_read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) AS c").rows[0]["c"]
    rels = store.run_read(f"MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL}) RETURN count(r) AS c").rows[0]["c"]
    assert (counted, rels) == (nodes, relationships), (counted, rels, nodes, relationships)


def server_pid(uri: str) -> int | None:
    """The pid of the local process listening on ``uri``'s port (a Neo4j on this machine), or None.

    Its CPU seconds are read from /proc around each timed part: on a machine shared with other work, the server's
    and this process's CPU per element compare two write paths far more steadily than the wall clock does.
    """
    port = urlsplit(uri).port
    if port is None or not Path("/proc/net/tcp").exists():
        return None
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: listening
                    inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                    return int(proc.name)
    return None


def _process_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, every thread


class Clock:
    """Wall-clock and process CPU seconds of one timed part, and the CPU seconds of ``Clock.server`` (a local
    Neo4j's pid, when known) in the same span."""

    server: int | None = None

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.server_cpu = _process_cpu(self.server)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.server_cpu = _process_cpu(self.server) - self.server_cpu


def statetech_path(store, records, batch: int, capture: list | None = None) -> Clock:
    """``capture``: collects the batches the writer hands the store, so the baselines can write the same graph."""
    graph = Graph(store)
    if capture is not None:
        write_batch = store.write_batch

        def recording(prepared) -> None:
            capture.append(prepared)
            write_batch(prepared)

        store.write_batch = recording  # on this instance only; removed below
    try:
        with Clock() as clock:
            summary = graph.load(records, batch_size=batch, single_transaction=False)
    finally:
        if capture is not None:
            del store.write_batch
    assert (summary.nodes, summary.relationships) == (len(records.nodes), len(records.relationships)), summary
    verify(store, len(records.nodes), len(records.relationships))
    return clock


def _rows(batches) -> tuple[list, dict, dict]:
    """(sources, node rows by kind, relationship rows by type) exactly as statetech's writer prepared them.

    The writer stores more than a record's own fields (e.g. each record's newest-source date, see
    graph/provenance.py), so the baselines write these rows, captured from statetech's run, and every path stores
    the same graph. Their clocks start from the prepared rows: building them is timed for statetech only.
    """
    sources, nodes, rels = [], defaultdict(list), defaultdict(list)
    for batch in batches:
        assert not batch.changed_nodes and not batch.changed_relationships, "a first load only creates"
        sources += batch.sources
        for kind, rows in batch.new_nodes.items():
            nodes[kind] += rows
        for rel_type, rows in batch.new_relationships.items():
            rels[rel_type] += rows
    return sources, nodes, rels


def merge_upserts(store, records, batches, batch: int) -> Clock:
    """The previous path: cypher.upsert_* MERGE statements, one transaction per batch."""
    sources, nodes, rels = _rows(batches)
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


def _native_bulk_calls(db, rows: tuple[list, dict, dict], batch: int) -> None:
    """``rows`` (from :func:`_rows`) written with the engine's bulk calls and nothing else: sources upserted by id,
    nodes created a kind at a time, relationships created between the nodes' engine ids."""
    sources, nodes, rels = rows
    for i in range(0, len(sources), batch):
        db.upsert_nodes([SOURCE_LABEL], [r["props"] for r in sources[i:i + batch]], key="id", replace=True)
    internal = {}
    for kind, kind_rows in nodes.items():
        for i in range(0, len(kind_rows), batch):
            chunk = kind_rows[i:i + batch]
            created = db.batch_create_nodes_with_props([ENTITY_LABEL, kind], [r["props"] for r in chunk])
            internal.update(zip((r["id"] for r in chunk), created))
    edges = [(internal[r["from"]], internal[r["to"]], rel_type, r["props"])
             for rel_type, type_rows in rels.items() for r in type_rows]
    for i in range(0, len(edges), batch):
        db.batch_create_edges(edges[i:i + batch])


def engine_floor(store: GrafeoStore, records, batches, batch: int, save: bool = False) -> Clock:
    """The native bulk calls alone, on properties prepared before the clock starts (the engine's own cost).

    ``save``: the store is building a first load in memory (inside ``writing()``); saving it to the file is timed.
    """
    rows = _rows(batches)
    db = store._open(writable=True)
    with Clock() as clock:
        _native_bulk_calls(db, rows, batch)
        if save:
            store._save_built()
    verify(store, len(records.nodes), len(records.relationships))
    return clock


def engine_ceiling(records, batches, batch: int) -> Clock:
    """The native bulk calls alone into a bare in-memory database: no file, no save, no constraint, no index but the
    one on ``id`` (without it each source's upsert by id scans the sources before it), nothing read back. No store
    statetech could keep (its queries need the indexes, and a file survives the process) writes faster through the
    engine's Python API, so this bounds any embedded write path on this machine."""
    import grafeo

    rows = _rows(batches)
    db = grafeo.GrafeoDB()
    db.create_property_index("id")
    # Everything this process holds (the records, the captured batches) is kept out of the collector's walks, as
    # statetech's writer does for its own run (GraphWriter.write): otherwise they cost more than some engine calls.
    gc.collect()
    gc.freeze()
    with Clock() as clock:
        _native_bulk_calls(db, rows, batch)
    gc.unfreeze()
    assert (db.node_count, db.edge_count) == (len(records.sources) + len(records.nodes), len(records.relationships))
    db.close()
    return clock


# The best-practice batched write, written out here so the baseline does not move when statetech's Cypher does.
BEST_PRACTICE_SOURCES = f"UNWIND $rows AS row MERGE (s:{SOURCE_LABEL} {{id: row.id}}) SET s += row.props"
BEST_PRACTICE_NODES = "UNWIND $rows AS row MERGE (n:Entity {{id: row.id}}) SET n:{kind} SET n += row.props"
BEST_PRACTICE_RELATIONSHIPS = """UNWIND $rows AS row
MATCH (a:Entity {{id: row.from}}) MATCH (b:Entity {{id: row.to}})
MERGE (a)-[r:{type} {{id: row.id}}]->(b) SET r += row.props"""


def best_practice_unwind(store: Neo4jStore, records, batches) -> Clock:
    sources, nodes, rels = _rows(batches)
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


def per_record_loop(store: Neo4jStore, batches, sample: int) -> tuple[Clock, int]:
    """One MERGE per record, each in its own write transaction: nodes, then relationships among them."""
    sources, nodes, rels = _rows(batches)
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


NEO4J_PATHS = (("statetech (writer, CREATE, 2 tx at once)", "ours"),
               ("baseline: UNWIND 10k MERGE, execute_write", "unwind"))


def neo4j_rounds(store: Neo4jStore, records, args, row, total: int) -> None:
    """statetech's path and the UNWIND baseline, each into an emptied database, in alternating order.

    A fresh server is slower for whichever path runs first (query plans compiled, the JVM's code warmed, store
    files grown), so each path first loads the whole graph once untimed, and the rounds then alternate which path
    goes first. The ratio is taken within each round (both paths under the same load) and the median is printed.
    """
    batches: list = []  # what statetech's writer prepares, captured in its warm-up, for the baselines

    def run(path: str) -> Clock:
        store.clear()
        if path == "ours":
            return statetech_path(store, records, args.batch, None if batches else batches)
        return best_practice_unwind(store, records, batches)

    for label, path in NEO4J_PATHS:
        clock = run(path)
        print(f"# warm-up (not counted): {label.split(' (')[0].split(':')[0]} {clock.wall:.1f} s", flush=True)
    ours_rates, ours_cpu_rates, base_rates, ratios, cpu_ratios = [], [], [], [], []
    for n in range(1, args.rounds + 1):
        order = NEO4J_PATHS if n % 2 else NEO4J_PATHS[::-1]
        print(f"# round {n}: {' first, then '.join(p for _, p in order)}; load average {load_average()}", flush=True)
        clocks = {path: run(path) for _, path in order}
        ours = row("neo4j", NEO4J_PATHS[0][0], clocks["ours"], total)
        base = row("neo4j", NEO4J_PATHS[1][0], clocks["unwind"], total, ours)
        ours_rates.append(ours[0])
        ours_cpu_rates.append(ours[1])
        base_rates.append(base[0])
        ratios.append(ours[0] / base[0])
        cpu_ratios.append(ours[1] / base[1])
    print(f"# neo4j median of {args.rounds} rounds: statetech {statistics.median(ours_rates):,.0f} elements/s, "
          f"UNWIND baseline {statistics.median(base_rates):,.0f} elements/s; statetech is "
          f"{statistics.median(ratios):.2f}x the baseline (median of the per-round ratios; each round: "
          f"{', '.join(f'{r:.2f}x' for r in ratios)}); per cpu second {statistics.median(cpu_ratios):.2f}x "
          f"({', '.join(f'{r:.2f}x' for r in cpu_ratios)}); load average {load_average()}", flush=True)
    store.clear()
    clock, count = per_record_loop(store, batches, args.naive_sample)
    row("neo4j", f"baseline: per-record MERGE ({count:,})", clock, count,
        (statistics.median(ours_rates), statistics.median(ours_cpu_rates)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=10_000, help="statetech's batch size")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--naive-sample", type=int, default=4_000,
                        help="records timed for the per-record MERGE loop (Neo4j)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="Neo4j: timed rounds after the warm-up, alternating which path goes first")
    parser.add_argument("--pagecache-mb", type=int, default=1024,
                        help="Neo4j started here: page cache (MiB), large enough to hold the whole graph")
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
        rate, cpu_rate = count / clock.wall, count / (clock.cpu + clock.server_cpu)
        ratio = f"{ours[0] / rate:12.2f}x" if ours is not None else f"{'':>13}"
        cpu_ratio = f"{ours[1] / cpu_rate:12.2f}x" if ours is not None else f"{'':>13}"
        print(f"{store_name:9} {path:38} {clock.wall:8.1f} {rate:11,.0f} {ratio} {clock.cpu:7.1f} {cpu_rate:10,.0f} "
              f"{cpu_ratio}", flush=True)
        return rate, cpu_rate

    for name in args.stores.split(","):
        if name == "embedded":
            with tempfile.TemporaryDirectory() as tmp:
                store = GrafeoStore(Path(tmp) / "ours.grafeo")
                rss_before = _rss_mb()
                # A first load into a new file: built in memory and saved to the file, the save inside the clock.
                ours = row(name, "statetech (writer, native bulk, save)", statetech_path(store, records, args.batch),
                           total)
                rss_grew = _rss_mb() - rss_before
                with store.writing():
                    usage = store.memory_usage()
                    per_element = usage["total_bytes"] / total
                    print(f"# embedded memory: engine estimate {per_element:,.0f} bytes per element "
                          f"({usage['total_bytes'] / 1e6:,.0f} MB for {total:,}); process peak RSS grew "
                          f"{rss_grew:,.0f} MB; the default budget ({usage['budget_bytes'] / 1e9:.1f} GB "
                          f"on this machine) holds about {usage['budget_bytes'] / per_element / 1e6:,.0f}M elements",
                          flush=True)
                store.close()
                # The rows for the baselines, captured from a second, untimed statetech load (not from the timed one:
                # holding them would have counted in its memory figure).
                batches: list = []
                capture = GrafeoStore(Path(tmp) / "capture.grafeo")
                statetech_path(capture, records, args.batch, batches)
                capture.close()
                store = GrafeoStore(Path(tmp) / "merge.grafeo")
                with store.writing():
                    store.ensure_schema()
                    row(name, "baseline: MERGE upserts, Cypher", merge_upserts(store, records, batches, args.batch),
                        total, ours)
                store.close()
                store = GrafeoStore(Path(tmp) / "floor.grafeo")
                with store.writing():
                    store.ensure_schema()
                    row(name, "floor: native bulk calls alone, file", engine_floor(store, records, batches, args.batch),
                        total, ours)
                store.close()
                store = GrafeoStore(Path(tmp) / "floor-memory.grafeo")
                with store.writing():  # a new file: the bulk calls go to the in-memory database, then the save
                    row(name, "floor: the same in memory, then save",
                        engine_floor(store, records, batches, args.batch, save=True), total, ours)
                store.close()
                ceiling, _ = row(name, "ceiling: bare engine, no schema/file", engine_ceiling(records, batches,
                                                                                             args.batch), total, ours)
                print(f"# embedded ingest target {EMBEDDED_TARGET:,} elements/s: statetech {ours[0]:,.0f} "
                      f"({'met' if ours[0] >= EMBEDDED_TARGET else 'NOT met'}); the bare engine alone "
                      f"{ceiling:,.0f} ({'above' if ceiling >= EMBEDDED_TARGET else 'below'} the target)", flush=True)
        elif name == "neo4j":
            from neo4j_server import neo4j_for_benchmark

            with neo4j_for_benchmark(heap=os.environ.get("STATETECH_BENCH_HEAP", "3g"),
                                     pagecache_mb=args.pagecache_mb) as (uri, user, password):
                store = Neo4jStore(uri, user=user, password=password)
                Clock.server = server_pid(uri)
                print(f"# neo4j: cpu s is this process's and the server's (pid {Clock.server}) together"
                      if Clock.server else "# neo4j: the server's pid is unknown (not local?): cpu s is this "
                      "process's only", flush=True)
                store.clear()
                store.ensure_schema()
                neo4j_rounds(store, records, args, row, total)
                store.clear()
                store.close()
        else:
            raise SystemExit(f"unknown store {name!r}; use embedded or neo4j")
    print(f"# load average after: {load_average()}", flush=True)


if __name__ == "__main__":
    main()
