"""How long selecting a map's or an export's subgraph takes: the whole graph of 20,000 nodes and 40,000 relationships.

    python benchmarks/bench_selection.py [--nodes 20000] [--relationships 40000] [--stores embedded,neo4j]
                                         [--baseline-edges 10000] [--linearity]

Each store gets the same synthetic graph (benchmarks/synthetic.py); then ``select(graph, Selection())`` (what
``statetech map`` and ``statetech export`` run without --focus or --query) is timed, followed by writing the selection
as node-link JSON. The target is under 2 s for 40,000 relationships.

The baseline, measured in the same run, is the old ``Subgraph.add_edge`` (it rebuilt the set of every edge id on each
call) fed the same edges in memory, without a store. It is quadratic, so it is run on ``--baseline-edges`` edges (a
full 40,000 took 65 s of the 81 s selection measured before the fix) and the time it would take at the full size is
extrapolated as (n / baseline_edges)^2. ``--linearity`` first selects 20k/40k/80k relationships by default (half,
one and two times the size) on the embedded store and prints the time ratios.

CPU seconds of this process are printed beside the wall time: on a shared machine the wall time also counts waiting
for a core (and, on Neo4j, the server's own work, which this process's CPU time leaves out).

Neo4j is NEO4J_URI when set (the database is cleared first and after!), else a server from tests/neo4j_server.py.
Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from measure import load_average  # noqa: E402
from synthetic import chunks, synthetic_records  # noqa: E402

from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.export import export_graph  # noqa: E402
from statetech.graph.selection import Selection, select  # noqa: E402
from statetech.graph.store import GrafeoStore, Neo4jStore  # noqa: E402
from statetech.graph.subgraph import Subgraph, SubgraphEdge  # noqa: E402


class QuadraticSubgraph(Subgraph):
    """The add_edge this benchmark's baseline measures: the set of all edge ids rebuilt on every call."""

    def add_edge(self, edge: SubgraphEdge) -> None:
        if edge.id not in {e.id for e in self.edges}:
            self.edges.append(edge)


def baseline(records, n_edges: int) -> float:
    edges = [SubgraphEdge(r.key, r.type, r.from_id, r.to_id, r.properties()) for r in records.relationships[:n_edges]]
    sub = QuadraticSubgraph()
    started = time.perf_counter()
    for edge in edges:
        sub.add_edge(edge)
    return time.perf_counter() - started


def load(graph: Graph, records) -> float:
    graph.store.ensure_schema()
    started = time.perf_counter()
    for chunk in chunks(records, 20_000):
        graph.store.write_records(chunk, batch_size=10_000, single_transaction=False)
    return time.perf_counter() - started


def measure(graph: Graph) -> tuple[float, float, float, int, int]:
    started, cpu = time.perf_counter(), time.process_time()
    sub = select(graph, Selection())
    selected, selected_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    import networkx as nx
    import json

    json.dump(nx.node_link_data(export_graph(sub), edges="links"), io.StringIO())
    exported = time.perf_counter() - started
    return selected, selected_cpu, exported, len(sub.nodes), len(sub.edges)


def linearity(nodes: int, relationships: int) -> None:
    """Select the whole graph at half, one and two times the size on the embedded store: linear means the time
    ratios follow the size ratios (2x the relationships, about 2x the time). Best of three selections each."""
    figures = []
    for factor in (0.5, 1, 2):
        records = synthetic_records(int(nodes * factor), int(relationships * factor), n_sources=1000)
        with tempfile.TemporaryDirectory() as tmp:
            store = GrafeoStore(Path(tmp) / "bench.grafeo")
            graph = Graph(store)
            with store.writing():
                load(graph, records)
            store.close()
            select(graph, Selection())
            runs = [measure_select(graph) for _ in range(3)]
            graph.close()
        wall, cpu = min(runs)[0], min(r[1] for r in runs)
        figures.append((len(records.relationships), wall, cpu))
        print(f"linearity embedded {len(records.relationships):7,} relationships: select {wall:5.2f} s wall, "
              f"{cpu:5.2f} s CPU (best of 3) | load average {os.getloadavg()[0]:.2f}")
    (n0, w0, c0) = figures[0]
    for n, wall, cpu in figures[1:]:
        print(f"linearity ratio {n:,}/{n0:,} relationships = {n / n0:.1f}x size: {wall / w0:.2f}x wall, "
              f"{cpu / c0:.2f}x CPU")


def measure_select(graph: Graph) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    select(graph, Selection())
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20_000)
    parser.add_argument("--relationships", type=int, default=40_000)
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--baseline-edges", type=int, default=10_000)
    parser.add_argument("--linearity", action="store_true",
                        help="also select at half and double the size (embedded store) and print the time ratios")
    args = parser.parse_args()
    print(f"load average {load_average()}")
    if args.linearity:
        linearity(args.nodes, args.relationships)
    records = synthetic_records(args.nodes, args.relationships, n_sources=1000)
    base = baseline(records, args.baseline_edges)
    scale = (len(records.relationships) / args.baseline_edges) ** 2
    print(f"baseline (old add_edge, in memory): {args.baseline_edges:,} edges in {base:.2f} s; "
          f"about {base * scale:.0f} s at {len(records.relationships):,} (quadratic)")
    for store_name in args.stores.split(","):
        server = None
        with tempfile.TemporaryDirectory() as tmp:
            if store_name == "embedded":
                store = GrafeoStore(Path(tmp) / "bench.grafeo")
            else:
                uri = os.environ.get("NEO4J_URI")
                if not uri:
                    from neo4j_server import Neo4jServer

                    server = Neo4jServer(heap="2g", pagecache_mb=1024)
                    server.start()
                    uri = server.uri
                store = Neo4jStore(uri)
                store.clear()
            graph = Graph(store)
            try:
                if store_name == "embedded":
                    with store.writing():
                        load_s = load(graph, records)
                    store.close()
                else:
                    load_s = load(graph, records)
                select(graph, Selection())  # warm-up: the page cache and the engine's first-query work
                selected, selected_cpu, exported, nodes, edges = measure(graph)
                print(f"{store_name:9} load {load_s:6.1f} s | select whole graph {selected:6.2f} s wall, "
                      f"{selected_cpu:5.2f} s CPU in this process ({nodes:,} nodes, {edges:,} relationships; "
                      f"target < 2 s: {'met' if selected < 2 else 'NOT met'} on wall time) | "
                      f"node-link JSON {exported:5.2f} s")
                if store_name == "embedded":
                    graph.close()
                    started = time.perf_counter()
                    statetech = shutil.which("statetech", path=str(Path(sys.executable).parent)) or "statetech"
                    done = subprocess.run([statetech, "--db", str(store.path), "map", "-o", str(Path(tmp) / "m.html")],
                                          capture_output=True, text=True,
                                          env={k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")})
                    refused = time.perf_counter() - started
                    said = (done.stderr or done.stdout).strip().splitlines()[-1][:100] if (done.stderr or
                                                                                              done.stdout) else ""
                    print(f"{'':9} 'statetech map' on it (whole graph, default --max-nodes): exit {done.returncode} "
                          f"in {refused:.1f} s: {said}")
                else:
                    store.clear()
            finally:
                graph.close()
                if server:
                    server.stop()
    print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
