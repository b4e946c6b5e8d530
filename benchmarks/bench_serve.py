"""Server time of the browser explorer (`statetech serve`) on a generated graph, embedded store and Neo4j.

    python benchmarks/bench_serve.py [--nodes 100000] [--relationships 300000] [--hub 100000]
                                     [--stores embedded,neo4j] [--requests 30] [--repeats 3]
                                     [--heap 3g] [--pagecache-mb 1024] [--data DIR] [--queries NAME,...] [--cli]

For each store: generate the graph (benchmarks/synthetic.py, seeded, identical on both stores) plus one company with
``--hub`` relationships (the issue's 100,000-relationship hub), load it, then start the real server as a user would
(`statetech serve --port 0`, its own process, uvicorn) and request pages with httpx from this process, one at a time
(concurrency 1) and eight at a time (concurrency 8). Each figure is the server's own time for the request (its
Server-Timing header: routing, library calls, the store, rendering), p50 and p95, with the client-side latency beside
it. Targets (issue 9, at 1M nodes / 3M relationships): search <= 50 ms, entity page <= 100 ms (the hub included),
expand <= 100 ms, every stored-query page <= the same query through the library (Catalog.run, what
`statetech query run` calls) + 20 ms. The library baseline is measured in this process on the same store, before the
pages, with the same parameters. The load average is printed with every table: the machine is shared.

Neo4j is the real server from tests/neo4j_server.py (started here with a modest heap), unless NEO4J_URI is set.
Figures are printed, not asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_queries import bench_params, kind_counts, log, warm_up  # noqa: E402
from synthetic import MIX, PREFIX, chunks, synthetic_records  # noqa: E402

from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.catalog import Catalog  # noqa: E402
from statetech.graph.model import Company, RecordSet, Relationship  # noqa: E402
from statetech.graph.store import GrafeoStore, Neo4jStore  # noqa: E402

HUB = "company:synthetic-hub"
TARGETS = {"search": 50.0, "entity": 100.0, "entity (hub)": 100.0, "expand": 100.0, "expand (hub)": 100.0}
QUERY_MARGIN_MS = 20.0


# --- the graph -----------------------------------------------------------------------------------------------------


def hub_records(n_nodes: int, degree: int) -> RecordSet:
    """One company with ``degree`` relationships to existing synthetic nodes, spread over the types a vendor has."""
    counts = {kind: max(2, int(n_nodes * share)) for kind, share in MIX}
    plan = (("Contract", "AWARDED_TO", True), ("Contract", "SUBCONTRACTED_TO", True), ("Person", "WORKS_FOR", True),
            ("Product", "PROVIDES", False), ("EmployeeAction", "TARGETS", True), ("Policy", "GOVERNS", True),
            ("EmployeeAction", "ORGANIZED_AT", True))
    relationships = []
    for kind, rel_type, incoming in plan:
        for i in range(min(degree - len(relationships), counts[kind])):
            other = f"{PREFIX[kind]}:synthetic-{i}"
            ends = {"from": other, "to": HUB} if incoming else {"from": HUB, "to": other}
            relationships.append(Relationship(id=f"rel:synthetic-hub-{len(relationships)}", **ends, type=rel_type,
                                              sources=["source:synthetic-0"], confidence="reported",
                                              start_date=f"{2010 + i % 15}-{i % 12 + 1:02d}"))
        if len(relationships) >= degree:
            break
    if len(relationships) < degree:
        raise SystemExit(f"--hub {degree:,} needs a bigger graph: only {len(relationships):,} distinct relationships "
                         f"fit in {n_nodes:,} nodes")
    hub = Company(id=HUB, name="Synthetic Hub Company", sources=["source:synthetic-0"], confidence="reported")
    return RecordSet(nodes=[hub], relationships=relationships)


def load(store, args) -> float:
    log(f"generating {args.nodes:,} nodes, {args.relationships:,} relationships and a hub of {args.hub:,}")
    records = synthetic_records(args.nodes, args.relationships)
    extra = hub_records(args.nodes, args.hub)
    records.nodes.extend(extra.nodes)
    records.relationships.extend(extra.relationships)
    store.ensure_schema()
    started = time.perf_counter()
    for chunk in chunks(records, 100_000):
        store.write_records(chunk, batch_size=10_000, single_transaction=False)
    elapsed = time.perf_counter() - started
    log(f"loaded {len(records.nodes):,} nodes and {len(records.relationships):,} relationships in {elapsed:,.0f}s")
    return elapsed


# --- the server ------------------------------------------------------------------------------------------------------


class ServerProcess:
    """`statetech serve --port 0` in its own process; the URL is read from the line it prints."""

    def __init__(self, store_args: list[str]) -> None:
        command = [sys.executable, "-m", "statetech.cli.main", *store_args, "serve", "--port", "0"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = ""
        deadline = time.monotonic() + 120
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if found:
                self.url = found.group(1)
                break
        if not self.url:
            self.stop()
            raise SystemExit("the explorer did not start:\n" + "".join(lines))
        if "--db" in store_args:
            # the embedded explorer builds its search index in the background: measure once it is ready (the line
            # `statetech serve` prints then), not while its first reads compete with the pages
            while time.monotonic() < deadline + 1800:
                line = self.process.stderr.readline()
                if not line or "search index" in line:
                    log(f"explorer: {line.strip() or 'exited'}")
                    break
        # keep draining its output so it never blocks on a full pipe
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def timed_get(client, url: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    response = client.get(url)
    client_ms = (time.perf_counter() - started) * 1000
    timing = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
    server_ms = float(timing.group(1)) if timing else float("nan")
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return server_ms, client_ms, len(response.content)


def run_requests(base: str, urls: list[str], concurrency: int) -> tuple[list[float], list[float]]:
    import httpx

    local = threading.local()

    def one(url: str) -> tuple[float, float, int]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120)
        return timed_get(local.client, url)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, urls))
    return [r[0] for r in results], [r[1] for r in results]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


from measure import load_average_line as load_average  # noqa: E402


# --- what is measured -------------------------------------------------------------------------------------------------


def page_urls(args, n: int) -> dict[str, list[str]]:
    counts = kind_counts(args.nodes)
    kinds = [kind for kind, _ in MIX]
    urls: dict[str, list[str]] = {"search": [], "entity": [], "entity (hub)": [], "expand": [], "expand (hub)": []}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        number = (i * 7919 + 11) % counts[kind]
        entity_id = f"{PREFIX[kind]}:synthetic-{number}"
        urls["search"].append("/api/search?" + urlencode({"q": f"Synthetic {kind} {number}", "limit": 8}))
        urls["entity"].append(f"/entity/{entity_id}")
        urls["entity (hub)"].append(f"/entity/{HUB}")
        urls["expand"].append("/api/expand?" + urlencode({"id": entity_id, "limit": 40}))
        urls["expand (hub)"].append("/api/expand?" + urlencode({"id": HUB, "offset": (i * 40) % 50_000,
                                                                 "limit": 40}))
    return urls


def library_baseline(graph: Graph, catalog: Catalog, names: list[str], args) -> dict[str, dict[str, Any]]:
    """Each stored query through Catalog.run (what `statetech query run` does), one warm-up then ``--repeats``."""
    counts = kind_counts(args.nodes)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        query = catalog.get(name)
        params = [bench_params(query, i, counts, 1000) for i in range(args.repeats + 1)]
        catalog.run(graph, name, params[0])
        times = []
        for p in params[1:]:
            started = time.perf_counter()
            rows = len(catalog.run(graph, name, p).rows)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = {"params": params, "p50": statistics.median(times), "rows": rows}
    return out


def cli_times(store_args: list[str], name: str, params: list[dict[str, Any]]) -> list[float]:
    """`statetech query run NAME -p ...` as a user runs it (its own process: start-up, opening the store, the query,
    writing every row), once per parameter set, in ms. The issue's literal baseline for a stored-query page; the
    library column above is the stricter one (the query alone, in a warm process)."""
    times = []
    for p in params:
        command = [sys.executable, "-m", "statetech.cli.main", *store_args, "query", "run", name, "--format", "json",
                   "-o", os.devnull]
        for key, value in p.items():
            command += ["-p", f"{key}={value}"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_store(label: str, store_args: list[str], graph: Graph, args) -> None:
    catalog = Catalog.load()
    names = [q.name for q in catalog if not q.writes]
    if args.queries:
        names = [n for n in names if n in set(args.queries.split(","))]
        if args.queries != "-" and len(names) != len(set(args.queries.split(","))):
            raise SystemExit(f"--queries: unknown stored query among {args.queries}")
    log(f"[{label}] warming up and timing {len(names)} stored queries through the library")
    warm_up(graph)  # every node and relationship read once: a reused Neo4j starts with a cold page cache
    baseline = library_baseline(graph, catalog, names, args)
    server = ServerProcess(store_args)
    log(f"[{label}] explorer serving at {server.url}")
    try:
        urls = page_urls(args, args.requests)
        # warm the server's process (imports, templates, the store's caches) with one of each
        run_requests(server.url, [u[0] for u in urls.values()], 1)
        print(f"\n{label}: explorer pages, server time (Server-Timing) p50 / p95 in ms, client latency p50 in "
              f"brackets; {args.requests} requests each; {load_average()}")
        print(f"  {'page':<16}{'conc.':>6}{'p50':>9}{'p95':>9}{'client p50':>13}{'target':>9}  verdict")
        for concurrency in (1, 8):
            for page, page_list in urls.items():
                server_ms, client_ms = run_requests(server.url, page_list, concurrency)
                p50, p95 = percentile(server_ms, 0.5), percentile(server_ms, 0.95)
                target = TARGETS[page]
                verdict = "ok" if p50 <= target else "OVER"
                print(f"  {page:<16}{concurrency:>6}{p50:>9.1f}{p95:>9.1f}{percentile(client_ms, 0.5):>13.1f}"
                      f"{target:>9.0f}  {verdict}", flush=True)
        if not names:
            return
        print(f"\n{label}: stored-query pages (HTML, run from the form's parameters) vs the library, p50 ms; "
              f"{load_average()}")
        print(f"  {'query':<28}{'rows':>6}{'library':>9}{'page c1':>9}{'page c8':>9}{'target':>9}  verdict"
              + (f"{'CLI':>9}  page <= CLI + 20" if args.cli else ""))
        for name in names:
            params = baseline[name]["params"][1:]
            page_urls_for = [f"/queries/{name}?" + urlencode({**{k: str(v) for k, v in p.items()}, "run": "1"})
                             for p in params]
            c1, _ = run_requests(server.url, page_urls_for, 1)
            c8, _ = run_requests(server.url, page_urls_for * 4, 8)
            library = baseline[name]["p50"]
            target = library + QUERY_MARGIN_MS
            p50_1, p50_8 = statistics.median(c1), statistics.median(c8)
            verdict = "ok" if p50_1 <= target else "OVER"
            cli = ""
            if args.cli:
                cli_ms = statistics.median(cli_times(store_args, name, params))
                cli = f"{cli_ms:>9.1f}  {'ok' if p50_1 <= cli_ms + QUERY_MARGIN_MS else 'OVER'}"
            print(f"  {name:<28}{baseline[name]['rows']:>6}{library:>9.1f}{p50_1:>9.1f}{p50_8:>9.1f}"
                  f"{target:>9.1f}  {verdict:<7}{cli}", flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--hub", type=int, default=100_000, help="relationships of the one hub company")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--requests", type=int, default=30, help="requests per page and concurrency")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each stored query")
    parser.add_argument("--queries", default="", help="comma-separated stored queries (default: all; '-': none)")
    parser.add_argument("--cli", action="store_true",
                        help="also time each stored query as `statetech query run` in its own process")
    parser.add_argument("--heap", default="3g")
    parser.add_argument("--pagecache-mb", type=int, default=1024)
    parser.add_argument("--data", default=None, help="keep the loaded stores here and reuse them on later runs")
    args = parser.parse_args()
    print(f"bench_serve: {args.nodes:,} nodes, {args.relationships:,} relationships, hub of {args.hub:,}; "
          f"{load_average()}", flush=True)
    for store_name in args.stores.split(","):
        if store_name == "embedded":
            bench_embedded(args)
        elif store_name == "neo4j":
            bench_neo4j(args)
        else:
            raise SystemExit(f"unknown store {store_name!r}; use embedded or neo4j")


def _marker(folder: Path, name: str, args) -> Path:
    return folder / f"{name}-{args.nodes}-{args.relationships}-{args.hub}.loaded"


def bench_embedded(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.data).resolve() if args.data else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"serve-{args.nodes}-{args.relationships}-{args.hub}.grafeo"
        marker = _marker(folder, "embedded", args)
        if not marker.exists():
            path.unlink(missing_ok=True)
            store = GrafeoStore(path)
            with store.writing():
                load(store, args)
            store.close()
            marker.write_text("ok")
        else:
            log(f"reusing {path}")
        graph = Graph(GrafeoStore(path))
        try:
            measure_store("embedded", ["--db", str(path)], graph, args)
            measure_lock(graph, args)
        finally:
            graph.close()


def measure_lock(graph: Graph, args) -> None:
    """The embedded handle shared by eight threads, reads one at a time, bounded by the CPUs and unbounded: time
    and answers."""
    from statetech.graph import explore

    urls = page_urls(args, args.requests)
    ids = [u.split("/entity/")[1] for u in urls["entity"]] + [HUB] * 8
    print(f"\nembedded: {len(ids)} entity pages (8 of them the hub's) from 8 threads on one store handle (library "
          f"only); {load_average()}")
    answers = {}
    explore.entity_page(graph, ids[0])  # open the store and warm it, so neither pass pays for that
    # True: one read at a time; None: the explorer's default (at most one per CPU); False: no bound
    labels = {True: "one at a time", None: f"{os.cpu_count()} at a time", False: "no bound"}
    for serialise in (True, None, False, True, None, False):
        shared = explore.read_only(graph, serialise=serialise)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = list(pool.map(explore.entity_page, [shared] * len(ids), ids))
        elapsed = (time.perf_counter() - started) * 1000
        answers[serialise] = [(p["relationship_count"], p["neighbour_count"],
                               [(g["type"], g["count"], [r["id"] for r in g["relationships"]]) for g in p["groups"]])
                              for p in pages]
        print(f"  {labels[serialise]:<16}{elapsed:>9.0f} ms in all ({elapsed / len(ids):.1f} ms a page)", flush=True)
    print(f"  same answers every way: {answers[True] == answers[None] == answers[False]}")


def bench_neo4j(args) -> None:
    uri = os.environ.get("NEO4J_URI")
    server = None
    if not uri:
        from neo4j_server import Neo4jServer

        home = Path(args.data).resolve() / f"neo4j-{args.nodes}-{args.relationships}-{args.hub}" if args.data else None
        server = Neo4jServer(heap=args.heap, pagecache_mb=args.pagecache_mb, data_dir=home)
        server.start()
        uri = server.uri
        log(f"started Neo4j at {uri} (heap {args.heap}, page cache {args.pagecache_mb} MB)")
    try:
        store = Neo4jStore(uri, user=os.environ.get("NEO4J_USERNAME"), password=os.environ.get("NEO4J_PASSWORD"))
        marker = _marker(Path(args.data).resolve(), "neo4j", args) if args.data and server else None
        if marker is None or not marker.exists():
            store.clear()
            load(store, args)
            if marker:
                marker.write_text("ok")
        graph = Graph(store)
        measure_store("neo4j", ["--neo4j", uri], graph, args)
        if marker is None and not server:
            store.clear()
        store.close()
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
