"""How long a map takes to render, and how big it is, at 200, 2,000 and 20,000 nodes.

    python benchmarks/bench_maps.py              # render time (pyvis + template) and HTML size
    python benchmarks/bench_maps.py --browser    # also: seconds until the page is laid out in headless Chromium

The graphs are synthetic (benchmarks/synthetic.py) with twice as many relationships as nodes, built straight into a
Subgraph so the figures measure the map, not a store. Maps over 5,000 nodes are refused by default; the benchmark
lifts that limit to measure the large case.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import threading
import time
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import synthetic_records  # noqa: E402

from statetech.graph.maps import render_map  # noqa: E402
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode  # noqa: E402

SIZES = (200, 2_000, 20_000)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def synthetic_subgraph(n_nodes: int) -> Subgraph:
    records = synthetic_records(n_nodes, 2 * n_nodes, n_sources=max(50, n_nodes // 20))
    sub = Subgraph(title=f"Synthetic graph of {n_nodes:,} nodes")
    for node in records.nodes:
        sub.add_node(SubgraphNode(node.id, node.kind, node.properties()))
    sub.edges = [SubgraphEdge(r.key, r.type, r.from_id, r.to_id, r.properties()) for r in records.relationships]
    sub.sources = {s.id: s.properties() for s in records.sources}
    return sub


def time_render(sub: Subgraph, repeat: int) -> tuple[float, str]:
    timings = []
    html = ""
    for _ in range(repeat):
        start = time.perf_counter()
        html = render_map(sub, max_nodes=None)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), html


def time_browser(pages: dict[int, str]) -> dict[int, float]:
    from playwright.sync_api import sync_playwright

    results = {}
    with TemporaryDirectory() as tmp:
        for n, html in pages.items():
            (Path(tmp) / f"{n}.html").write_text(html, encoding="utf-8")
        handler = partial(_QuietHandler, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for n in pages:
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{server.server_port}/{n}.html")
                    # A selector wait: the map's Content-Security-Policy forbids the eval a function wait needs.
                    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=600_000)
                    results[n] = time.perf_counter() - start
                    page.close()
                browser.close()
        finally:
            server.shutdown()
    return results


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--browser", action="store_true", help="also time the page until laid out in Chromium")
    parser.add_argument("--repeat", type=int, default=3, help="renders per size (median reported)")
    args = parser.parse_args()

    render_map(synthetic_subgraph(20))  # warm-up: imports pyvis and jinja2, reads the template once
    pages = {}
    print(f"{'nodes':>7} {'relationships':>13} {'render (s)':>10} {'HTML (MB)':>9}")
    for n in SIZES:
        sub = synthetic_subgraph(n)
        seconds, html = time_render(sub, args.repeat)
        pages[n] = html
        print(f"{len(sub.nodes):>7,} {len(sub.edges):>13,} {seconds:>10.3f} {len(html.encode()) / 1e6:>9.2f}",
              flush=True)
    if args.browser:
        print("\nheadless Chromium, seconds from navigation until the layout has settled:")
        for n, seconds in time_browser(pages).items():
            print(f"{n:>7,} nodes: {seconds:6.1f} s")


if __name__ == "__main__":
    main()
