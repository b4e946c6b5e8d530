"""Generate a USAspending award-summary file and import it into each store: rows per second and peak memory.

    python benchmarks/bench_import.py [--rows 100000,1000000] [--stores embedded,neo4j] [--keep DIR] [--dry-run]
                                      [--baseline-rev REV[,REV...] | --no-baseline] [--baseline-tree DIR ...]
                                      [--writes-alone]

The file has the exact 286-column header of a USAspending Contracts Prime Award Summaries download and synthetic
rows (never loaded as facts): 60 sub-agencies under 12 agencies, 20,000 recipients (a few with curated names, so
resolution lands on seed nodes), 5,000 parent IDVs, every award with its permalink. Each (store, size) import runs
in a fresh child process after the shipped seeds are loaded, so its peak RSS is its own; memory should stay flat as
the file grows because rows stream and only the resolution maps (bounded by distinct agencies and recipients, not
rows) are kept. For Neo4j the figure is the importing Python process; the server runs in its own JVM (tests/
neo4j_server.py, or NEO4J_URI if set).

Baseline, in the same run: the same import by a previous implementation (by default the importer as of commit
``BASELINE_REV``, before the write path moved into graph/ and rows were parsed once; several revisions may be given,
e.g. ``--baseline-rev 12b0ffc,HEAD`` to also compare with the last commit), extracted with ``git archive`` into a
temporary folder and run in its own child process on the same file and store. ``--baseline-loaders-only`` takes only
loaders/ from the revision and graph/ (writer, stores) from the working tree: the importer's own change, measured
while the writer changes too. Each row prints wall rows/s and rows
per CPU second of the importing process (the machine is shared: the CPU figure is the steadier one), the load
average when it finished, and the issue's target beside it (TARGETS); the load average is also printed before and
after, and the peak RSS of each size beside the smallest size's, to show memory staying flat as the file grows.
``--baseline-tree DIR`` also runs the statetech of another folder laid out like this checkout (e.g. a copy of the
working tree with one change taken out): the change alone, while other uncommitted work is in the tree.

``--writes-alone`` adds a row per store: the store writing the import's own batches and nothing else (captured
from an untimed import in another child, then written again into a fresh store holding the seeds; see
``replay_writes``). Its rows/s is an upper bound for any importer into that store on this machine, whatever the
parsing costs: when it is below the target, the target cannot be met here with that store. (For Neo4j its CPU
column is the importing process only; the work is in the server.)

What is timed: ``run_import`` (both passes, resolution with the seeds' alias table, the review file, every write) and,
for the embedded store, closing it (the checkpoint of its write-ahead log that 'statetech import' waits for before it
exits; ``close_s`` in the JSON line). Not timed: the process start and loading the shipped seeds into the fresh store
(setup: a user's store already holds them), and building the seeds' alias table, which is cached by content after the
first import and printed on its own (``seed_table_s``: about 2.5 s cold, 0.01 s warm).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADER_FILE = ROOT / "tests" / "fixtures" / "usaspending" / "awards.csv"
sys.path.insert(0, str(ROOT / "tests"))

AGENCIES = [(f"{i:03d}", f"Synthetic Department {i}") for i in range(100, 112)]
CURATED_RECIPIENTS = ["MICROSOFT CORPORATION", "PALANTIR TECHNOLOGIES INC.", "AMAZON WEB SERVICES, INC."]


def generate(path: Path, rows: int, seed: int = 11) -> None:
    """Write ``rows`` synthetic award rows under the real header, streaming (constant memory)."""
    with HEADER_FILE.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    index = {c: i for i, c in enumerate(header)}
    rng = random.Random(seed)
    subs = []
    for n in range(60):
        code, name = AGENCIES[n % len(AGENCIES)]
        subs.append((code, name, f"{7000 + n}", f"Synthetic Bureau {n}"))
    subs[0] = ("070", "Department of Homeland Security", "7012", "U.S. Immigration and Customs Enforcement")
    recipients = [(f"SYN{n:09d}", f"SYNTHETIC VENDOR {n} LLC", f"SYP{n // 4:09d}", f"SYNTHETIC HOLDINGS {n // 4} INC")
                  for n in range(20_000)]
    for n, name in enumerate(CURATED_RECIPIENTS):
        recipients[n] = (f"SYNCUR{n:06d}", name, f"SYNCUR{n:06d}", name)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        blank = [""] * len(header)
        for i in range(rows):
            top_code, top_name, sub_code, sub_name = subs[rng.randrange(len(subs))]
            uei, name, parent_uei, parent_name = recipients[rng.randrange(len(recipients))]
            piid = f"SYN{sub_code}{i:010d}"
            parent = f"SYNIDV{rng.randrange(5000):06d}" if rng.random() < 0.4 else None
            key = f"CONT_AWD_{piid}_{sub_code}_{parent or '-NONE-'}_{sub_code if parent else '-NONE-'}"
            obligated = rng.randint(1_000, 5_000_000)
            year = rng.randint(2008, 2025)
            start = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            row = list(blank)
            for column, value in (
                ("contract_award_unique_key", key), ("award_id_piid", piid),
                ("parent_award_agency_id", sub_code if parent else ""), ("parent_award_id_piid", parent or ""),
                ("total_obligated_amount", f"{obligated}.00"), ("current_total_value_of_award", f"{obligated}.00"),
                ("potential_total_value_of_award", f"{obligated * 3}.00"),
                ("award_base_action_date", start), ("award_latest_action_date", start),
                ("period_of_performance_start_date", start), ("period_of_performance_current_end_date",
                                                             f"{year + 1}{start[4:]}"),
                ("awarding_agency_code", top_code), ("awarding_agency_name", top_name),
                ("awarding_sub_agency_code", sub_code), ("awarding_sub_agency_name", sub_name),
                ("awarding_office_name", f"SYNTHETIC OFFICE {rng.randrange(200)}"),
                ("recipient_uei", uei), ("recipient_name", name), ("recipient_name_raw", name),
                ("recipient_parent_uei", parent_uei), ("recipient_parent_name", parent_name),
                ("recipient_country_code", "USA"), ("award_type_code", "C" if parent else "D"),
                ("award_type", "DELIVERY ORDER" if parent else "DEFINITIVE CONTRACT"),
                ("prime_award_base_transaction_description", f"SYNTHETIC SERVICES ORDER {i}"),
                ("product_or_service_code", "DA01"), ("product_or_service_code_description", "IT SERVICES"),
                ("naics_code", "541511"), ("naics_description", "CUSTOM COMPUTER PROGRAMMING SERVICES"),
                ("usaspending_permalink", f"https://www.usaspending.gov/award/{key}/"),
                ("last_modified_date", f"{min(year + 1, 2025)}-01-15"),
            ):
                row[index[column]] = value
            writer.writerow(row)


def child(store_name: str, data: Path, db: Path | None, dry_run: bool = False, baseline: bool = False,
          writes_alone: bool = False) -> None:
    """One import in this process; prints a JSON line with the figures.

    ``dry_run`` checks, parses and resolves every row but writes nothing: its peak RSS is the importer's own
    (streaming, batches, resolution maps), without the embedded store's in-memory graph. ``baseline``: this process
    runs the previous implementation (its folder is first on sys.path), whose API took a store. ``writes_alone``: the
    import runs untimed, keeping every batch the writer hands the store, and then only those batches are written
    again, into a fresh store holding the seeds (see replay_writes); the figures are the replay's.
    """
    from statetech.graph.api import Graph, shipped_seeds_path
    from statetech.loaders.importing import run_import

    store = _empty_store(store_name, db)
    graph = Graph(store)
    # Importers before issue 10 took a store and loaded seeds through Graph.load_files; later ones take the Graph.
    old_api = baseline and hasattr(Graph, "load_files")
    if old_api:
        graph.load_files([shipped_seeds_path()])
    else:
        from statetech.loaders.curated import load_files

        load_files(graph, [shipped_seeds_path()])
    seed_table_s = None
    if not baseline:
        # The seeds' alias table (read by every import) is cached by content after the first import; timed on its
        # own so the figure says whether this run paid the parse (cold) or read the cache (warm).
        from statetech.loaders.resolve import seed_entities

        began = time.perf_counter()
        seed_entities(shipped_seeds_path())
        seed_table_s = round(time.perf_counter() - began, 2)
    captured: list = []
    if writes_alone:
        write_batch = store.write_batch
        store.write_batch = lambda batch: captured.append(batch) or write_batch(batch)  # this instance only
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = run_import(store if old_api else graph, "usaspending", [data], batch_size=5000 if old_api else 10_000,
                         dry_run=dry_run)
    close_s = None
    if store_name == "embedded":
        # 'statetech import' closes the store before it exits, and closing the file written to checkpoints its
        # write-ahead log: the user waits for that too, so it is in the figures (and printed on its own).
        closing = time.perf_counter()
        store.close()
        close_s = round(time.perf_counter() - closing, 2)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    contracts = store.run_read("MATCH (c:Contract) WHERE c.imported_from = 'usaspending:awards' "
                               "RETURN count(c) AS n").rows[0]["n"]
    if writes_alone:
        store.close()
        print(json.dumps({"store": store_name + " writes alone", "rows": summary.rows_read, "contracts": contracts,
                          **replay_writes(store_name, captured, db), "load_average": _load_average()}), flush=True)
        return
    print(json.dumps({"store": store_name + (" dry-run" if dry_run else ""), "rows": summary.rows_read,
                      "seconds": round(elapsed, 1),
                      "rows_per_s": round(summary.rows_read / elapsed), "peak_rss_mb": round(peak),
                      "cpu_seconds": round(cpu, 1), "rows_per_cpu_s": round(summary.rows_read / cpu),
                      "seed_table_s": seed_table_s, "close_s": close_s, "load_average": _load_average(),
                      "rss_before_import_mb": round(baseline_rss), "contracts": contracts,
                      "nodes_created": dict(summary.nodes_created),
                      "relationships_created": dict(summary.relationships_created),
                      "matched": summary.matched}), flush=True)
    # No clear() afterwards: deleting a million-node graph is the server's job, not the benchmark's (the parent
    # starts a fresh server for each size and removes its data when it stops).
    store.close()


def _empty_store(store_name: str, db: Path | None):
    """The embedded store in the file ``db``, or the Neo4j at NEO4J_URI emptied."""
    from statetech.graph.store import GrafeoStore, Neo4jStore

    if store_name == "embedded":
        return GrafeoStore(db)
    store = Neo4jStore(os.environ["NEO4J_URI"], user=os.environ.get("NEO4J_USERNAME"),
                       password=os.environ.get("NEO4J_PASSWORD"))
    store.clear()
    return store


def replay_writes(store_name: str, batches: list, db: Path | None) -> dict:
    """Write ``batches`` (what statetech's writer handed the store during an import) again, with the store's own
    ``write_batch`` and nothing else, into a fresh store holding the seeds, as the import found it: no parsing, no
    resolution, no lookups, no follow-up statements. The time is what the store itself needs for the import's data, so
    ``rows / seconds`` bounds the rows per second any importer can reach into that store on this machine. The embedded
    store is timed until it is closed (its checkpoint), as the import is.
    """
    from statetech.graph.api import Graph, shipped_seeds_path
    from statetech.loaders.curated import load_files

    replay_db = None
    if store_name == "embedded":
        assert db is not None
        replay_db = db.with_name(db.name + ".replay")
        _remove_store(replay_db)
    store = _empty_store(store_name, replay_db)
    server = None
    if store_name == "neo4j":
        # the server's CPU seconds too (a local server's, read from /proc): the writes are its work, and on a machine
        # of two cores its CPU and the importer's share them
        from bench_load import _process_cpu, server_pid

        server = server_pid(os.environ["NEO4J_URI"])
    try:
        graph = Graph(store)
        load_files(graph, [shipped_seeds_path()])
        store.ensure_schema()
        elements = sum(len(batch) for batch in batches)
        server_started = _process_cpu(server) if server else 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        with store.writing():
            for batch in batches:
                store.write_batch(batch)
        if store_name == "embedded":
            store.close()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        server_cpu = round(_process_cpu(server) - server_started, 1) if server else None
    finally:
        store.close()
        if store_name == "embedded":
            _remove_store(replay_db)
    return {"seconds": round(seconds, 1), "elements": elements, "elements_per_s": round(elements / seconds),
            "cpu_seconds": round(cpu, 1), "server_cpu_seconds": server_cpu, "batches": len(batches)}


def previous_implementation(rev: str, into: Path, only_loaders: bool = False) -> Path:
    """The importer as of ``rev``, importable as ``statetech`` from the returned folder (never the working tree).

    ``only_loaders``: loaders/ as of ``rev`` and everything else (graph/ with its writer and stores) from the working
    tree, so the comparison measures the importer's own change, not the writer's or the stores'.
    """
    source = into / "src"
    source.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "statetech", "graph", "loaders", "seeds",
                              "queries"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    package = into / "pkg" / "statetech"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "statetech" / "__init__.py", package / "__init__.py")
    for name in ("graph", "loaders", "seeds", "queries"):
        link = package / name
        if not link.exists():
            link.symlink_to(source / name if name == "loaders" or not only_loaders else ROOT / name)
    return into / "pkg"


def tree_implementation(tree: Path, into: Path) -> Path:
    """The statetech of another checkout (or a copy of this one with a change taken out), importable as
    ``statetech`` from the returned folder: a baseline for a change not committed yet."""
    package = into / tree.resolve().name / "statetech"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copy(tree / "statetech" / "__init__.py", package / "__init__.py")
    for name in ("graph", "loaders", "seeds", "queries"):
        link = package / name
        if not link.exists():
            link.symlink_to((tree / name).resolve())
    return package.parent


BASELINE_REV = "12b0ffc272237341be56d80d861d8821aaf015dc"  # before issue 10: two write paths, rows parsed 4 times
# issue 10's targets for the 286-column award file, rows per second
TARGETS = {"dry-run": 10_000, "store": 5_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated file sizes")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated files here")
    parser.add_argument("--dry-run", action="store_true",
                        help="measure the importer alone: check, parse and resolve every row, write nothing")
    parser.add_argument("--baseline-rev", default=BASELINE_REV,
                        help="git revision(s) of the baseline importer, comma-separated")
    parser.add_argument("--baseline-loaders-only", action="store_true",
                        help="baselines take only loaders/ from their revision, graph/ from the working tree")
    parser.add_argument("--baseline-tree", metavar="DIR", action="append", default=[],
                        help="also compare with the checkout (or copy of one) in DIR, e.g. the working tree without "
                             "one change; may be repeated")
    parser.add_argument("--no-baseline", action="store_true", help="measure statetech only (e.g. at 1M rows)")
    parser.add_argument("--writes-alone", action="store_true",
                        help="also time the store writing the import's batches alone (replayed after an untimed "
                             "import): the most rows/s any importer can reach into that store here")
    parser.add_argument("--child", nargs=3, metavar=("STORE", "FILE", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        store_name, data, db = args.child
        child(store_name, Path(data), Path(db) if db != "-" else None, dry_run=args.dry_run,
              baseline=args.baseline_child, writes_alone=args.writes_alone)
        return
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-import-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stores = args.stores.split(",")
    versions = [("statetech", None)]
    if not args.no_baseline:
        only = args.baseline_loaders_only
        for rev in args.baseline_rev.split(","):
            versions.append((f"{'loaders' if only else 'baseline'} {rev[:7]}",
                             previous_implementation(rev, workdir / f"baseline-{rev}{'-loaders' if only else ''}",
                                                     only_loaders=only)))
    for tree in args.baseline_tree:
        versions.append((f"tree {Path(tree).name}"[:17], tree_implementation(Path(tree), workdir / "trees")))
    peaks: dict[tuple[str, str], dict[int, int]] = {}
    print(f"# load average before: {_load_average()}", flush=True)
    print(f"{'importer':17} {'store':16} {'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak RSS MB':>12} "
          f"{'statetech is':>13} {'rows/CPU-s':>11} {'load avg':>16} {'target rows/s':>14}", flush=True)
    for size in (int(s) for s in args.rows.split(",")):
        server = None
        env = dict(os.environ)
        if "neo4j" in stores and not env.get("NEO4J_URI"):
            from neo4j_server import Neo4jServer

            server = Neo4jServer(heap=os.environ.get("STATETECH_BENCH_HEAP", "3g"), pagecache_mb=2048)
            server.start()
            env["NEO4J_URI"] = server.uri
            if server.auth:
                env["NEO4J_USERNAME"], env["NEO4J_PASSWORD"] = server.auth
        try:
            data = workdir / f"Contracts_PrimeAwardSummaries_synthetic_{size}.csv"
            if not data.exists():
                started = time.perf_counter()
                generate(data, size)
                print(f"# generated {data} ({data.stat().st_size / 1e6:,.0f} MB) in "
                      f"{time.perf_counter() - started:.0f}s", flush=True)
            for store_name in stores:
                ours = None
                for version, path in versions:
                    db = workdir / f"bench-{size}.grafeo" if store_name == "embedded" else None
                    _remove_store(db)
                    command = [sys.executable, __file__, "--child", store_name, str(data), str(db or "-")]
                    command += (["--dry-run"] if args.dry_run else []) + (["--baseline-child"] if path else [])
                    child_env = dict(env)
                    if path:
                        child_env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
                    result = _child_result(command, child_env, f"{version} {store_name} {size}")
                    _remove_store(db)
                    if result is None:
                        continue
                    ratio = target = ""
                    if path is None:
                        ours = result["rows_per_s"]
                        goal = TARGETS["dry-run" if args.dry_run else "store"]
                        target = f"{goal:,} {'met' if ours >= goal else 'NOT met'}"
                        peaks.setdefault((version, result["store"]), {})[size] = result["peak_rss_mb"]
                    elif ours:
                        ratio = f"{ours / result['rows_per_s']:12.2f}x"
                    print(f"{version:17} {result['store']:16} {result['rows']:>10,} {result['seconds']:>9,.1f} "
                          f"{result['rows_per_s']:>9,} {result['peak_rss_mb']:>12,} {ratio:>13} "
                          f"{result['rows_per_cpu_s']:>11,} {result['load_average']:>16} {target:>14}", flush=True)
                    print(f"# {json.dumps(result)}", flush=True)
                if args.writes_alone and not args.dry_run:
                    db = workdir / f"bench-{size}.grafeo" if store_name == "embedded" else None
                    _remove_store(db)
                    result = _child_result([sys.executable, __file__, "--child", store_name, str(data),
                                            str(db or "-"), "--writes-alone"], env, f"writes alone {store_name} {size}")
                    _remove_store(db)
                    if result is None:
                        continue
                    bound = round(result["rows"] / result["seconds"])
                    goal = TARGETS["store"]
                    # "statetech is" here: statetech's whole import as a share of the store's own writing time
                    ratio = f"{ours / bound:12.2f}x" if ours else ""
                    target = f"{goal:,} {'reachable' if bound >= goal else 'unreachable'}"
                    print(f"{'writes alone':17} {store_name:16} {result['rows']:>10,} "
                          f"{result['seconds']:>9,.1f} {bound:>9,} {'':>12} {ratio:>13} "
                          f"{round(result['rows'] / result['cpu_seconds']) if result['cpu_seconds'] else 0:>11,} "
                          f"{result['load_average']:>16} {target:>14}", flush=True)
                    print(f"# {json.dumps(result)}", flush=True)
        finally:
            if server:
                server.stop()
    for (version, store_name), by_size in peaks.items():
        if len(by_size) > 1:
            smallest = min(by_size)
            print(f"# peak RSS, {version} {store_name}: " + ", ".join(
                f"{size:,} rows {mb:,} MB ({mb / by_size[smallest]:.2f}x the {smallest:,}-row figure)"
                for size, mb in sorted(by_size.items())), flush=True)
    print(f"# load average after: {_load_average()}", flush=True)


from measure import load_average as _load_average  # noqa: E402


def _child_result(command: list[str], env: dict[str, str], label: str) -> dict | None:
    """Run a child process of this script; its JSON line, or None (its output printed) when it failed."""
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"# {label}: failed\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _remove_store(db: Path | None) -> None:
    """An embedded store is a file plus its write-ahead log folder."""
    if db is not None:
        db.unlink(missing_ok=True)
        shutil.rmtree(db.with_name(db.name + ".wal"), ignore_errors=True)


if __name__ == "__main__":
    main()
