"""Writes into an embedded store that already holds data: a generated graph loaded in several calls, each its own run
of writes (as successive 'statetech load' or 'statetech import' commands are), statetech's path against the previous
one in the same run.

    python benchmarks/bench_upkeep.py [--nodes 100000] [--relationships 300000] [--call 100000] [--batch 10000]

Why: every write after the first changes stored values that the engine indexes. Grafeo 0.6 removes a node's old text
from a full-text index by walking the whole index, so with the citation indexes kept current every write call got
slower as the store grew. statetech's path drops those indexes for a run of writes and creates them when it ends
(GrafeoStore._pause_text_indexes), and raises the start nodes' summaries itself (GrafeoStore.raise_markers, only the
values that change, through the engine's property calls).

The baseline, timed in the same process on the same records into a fresh store: the same calls with the engine
keeping the indexes current and the summaries raised by the shared statement (cypher.RAISE_MARKERS), as statetech did
before. Each path's answer to sources/supports is checked against the other's for a few sources, so the faster path
is not a different graph. Figures are printed, not asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import load_average_line, log  # noqa: E402
from synthetic import chunks, synthetic_records  # noqa: E402

from statetech.graph.api import Graph  # noqa: E402
from statetech.graph.catalog import Catalog  # noqa: E402
from statetech.graph.store import GrafeoStore, GraphStore  # noqa: E402


def load_in_calls(path: Path, records, call: int, batch: int) -> tuple[float, float, list[float]]:
    """(wall seconds, CPU seconds, seconds of each call) for the records written in calls of ``call`` records."""
    store = GrafeoStore(path)
    store.ensure_schema()
    calls = []
    started, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks(records, call):
        began = time.perf_counter()
        store.write_records(chunk, batch_size=batch, single_transaction=False)
        calls.append(time.perf_counter() - began)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    return wall, cpu, calls


def supports(path: Path, sources: list[str]) -> list:
    graph = Graph(GrafeoStore(path))
    try:
        catalog = Catalog.load()
        return [sorted(map(repr, catalog.run(graph, "sources/supports", {"source": s}).rows)) for s in sources]
    finally:
        graph.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--call", type=int, default=100_000, help="records per write call")
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()

    log(load_average_line())
    records = synthetic_records(args.nodes, args.relationships)
    elements = len(records)
    checked = [f"source:synthetic-{i}" for i in (0, 7, 500)]
    figures = {}
    own_raise = GrafeoStore.raise_markers
    with tempfile.TemporaryDirectory(prefix="statetech-upkeep-") as tmp:
        for name, pause, raise_markers in (("statetech", True, own_raise),
                                           ("previous (indexes kept current, shared statement)", False,
                                            GraphStore.raise_markers)):
            GrafeoStore.drops_text_indexes = pause
            GrafeoStore.raise_markers = raise_markers
            path = Path(tmp) / f"{len(figures)}.grafeo"
            try:
                wall, cpu, calls = load_in_calls(path, records, args.call, args.batch)
            finally:
                GrafeoStore.drops_text_indexes = True
                GrafeoStore.raise_markers = own_raise
            figures[name] = (wall, cpu, calls, supports(path, checked))
            log(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, {elements / wall:,.0f} elements/s; "
                f"{len(calls)} calls, the last took {calls[-1]:.1f} s; {load_average_line()}")
    (ours, base) = figures.values()
    same = ours[3] == base[3]
    print()
    print(f"{elements:,} records ({args.nodes:,} nodes, {args.relationships:,} relationships) written in calls of "
          f"{args.call:,}, batches of {args.batch:,}; {load_average_line()}")
    print(f"{'path':52s} {'wall s':>8s} {'CPU s':>8s} {'elements/s':>11s} {'last call s':>12s}")
    for name, (wall, cpu, calls, _) in figures.items():
        print(f"{name:52s} {wall:8.1f} {cpu:8.1f} {elements / wall:11,.0f} {calls[-1]:12.1f}")
    print(f"speed-up: {base[0] / ours[0]:.2f}x wall, {base[1] / ours[1]:.2f}x CPU, last call "
          f"{base[2][-1] / ours[2][-1]:.2f}x; sources/supports answers {'identical' if same else 'DIFFER'}")


if __name__ == "__main__":
    main()
