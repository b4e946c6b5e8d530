"""How long a map takes to render and to become interactive, and how big it is.

    python benchmarks/bench_maps.py              # server side: layout + render time and HTML size
    python benchmarks/bench_maps.py --browser    # also: time to interactive in headless Chromium, new vs previous

The graphs are synthetic (benchmarks/synthetic.py) with twice as many relationships as nodes, built straight into a
Subgraph so the figures measure the map, not a store. Maps over 5,000 nodes are refused by default; the benchmark
lifts that limit to measure the large case.

Time to interactive is from navigation until the page says it is drawn (``data-ready``), plus the cost of one frame
afterwards (a redraw: what every pan, zoom or drag costs). The baseline, measured in the same run on the same
graphs, is the previous approach: no positions from the server, the layout found by vis-network's physics in the
browser, stopped once it settles (what ``render_map`` did before positions were precomputed).
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

from statetech.graph.maps import _render_page, map_body_context, map_data, render_map  # noqa: E402
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode  # noqa: E402

SIZES = (200, 2_000, 5_000, 20_000)
BROWSER_SIZES = (200, 2_000, 5_000)
# graph/maps.py's physics settings before positions were computed on the server
PREVIOUS_STABILISATION = ((300, (600, 25)), (1000, (300, 10)), (5000, (150, 5)), (float("inf"), (60, 1)))
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


def previous_approach(sub: Subgraph) -> str:
    """The same page without server positions: vis-network's physics lays it out in the browser, then stops."""
    data = map_data(sub, max_nodes=None)
    for node in data["nodes"]:
        node.pop("x", None)
        node.pop("y", None)
    data["options"]["physics"]["enabled"] = True
    # the iterations the previous version ran, starting from nothing
    iterations, per_batch = next(setting for limit, setting in PREVIOUS_STABILISATION if len(sub.nodes) <= limit)
    data["options"]["physics"]["stabilization"].update(iterations=iterations, updateInterval=per_batch)
    data["settings"]["physics"] = True
    data["settings"]["freezeAfterLayout"] = True
    return _render_page(data=data, **map_body_context(data))


def time_browser(pages: dict[str, str]) -> dict[str, tuple[float, float]]:
    """(seconds to interactive, milliseconds per redraw) for each page."""
    from playwright.sync_api import sync_playwright

    results = {}
    with TemporaryDirectory() as tmp:
        for name, html in pages.items():
            (Path(tmp) / f"{name}.html").write_text(html, encoding="utf-8")
        handler = partial(_QuietHandler, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for name in pages:
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{server.server_port}/{name}.html")
                    # A selector wait: the map's Content-Security-Policy forbids the eval a function wait needs.
                    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=900_000)
                    ready = time.perf_counter() - start
                    frame = page.evaluate("""() => {
                        const times = [];
                        for (let i = 0; i < 5; i++) {
                            const t = performance.now(); statetechMap.network.redraw(); times.push(performance.now() - t);
                        }
                        times.sort((a, b) => a - b);
                        return times[2];
                    }""")
                    results[name] = (ready, frame)
                    page.close()
                    print(f"  measured {name}", file=sys.stderr, flush=True)
                browser.close()
        finally:
            server.shutdown()
    return results


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


from measure import load_average_line as load_average  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--browser", action="store_true", help="also time the page until interactive in Chromium")
    parser.add_argument("--repeat", type=int, default=1, help="renders per size (median reported)")
    parser.add_argument("--sizes", default=None, help="comma-separated node counts (default 200,2000,5000,20000; "
                                                      "with --browser 200,2000,5000)")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (BROWSER_SIZES if args.browser else SIZES)

    render_map(synthetic_subgraph(20))  # warm-up: imports pyvis, networkx and jinja2, reads the template once
    print(load_average())
    pages = {}
    print(f"{'nodes':>7} {'relationships':>13} {'layout+render (s)':>17} {'HTML (MB)':>9}")
    for n in sizes:
        sub = synthetic_subgraph(n)
        seconds, html = time_render(sub, args.repeat)
        pages[f"new-{n}"] = html
        if args.browser:
            pages[f"previous-{n}"] = previous_approach(sub)
        print(f"{len(sub.nodes):>7,} {len(sub.edges):>13,} {seconds:>17.3f} {len(html.encode()) / 1e6:>9.2f}",
              flush=True)
    if args.browser:
        print(f"\nheadless Chromium, time to interactive (navigation until drawn) and one redraw; {load_average()}")
        results = time_browser(pages)
        print(f"{'nodes':>7}  {'new: ready (s)':>14} {'redraw (ms)':>11}   {'previous: ready (s)':>19} "
              f"{'redraw (ms)':>11}")
        for n in sizes:
            new, old = results[f"new-{n}"], results[f"previous-{n}"]
            print(f"{n:>7,}  {new[0]:>14.2f} {new[1]:>11.1f}   {old[0]:>19.2f} {old[1]:>11.1f}")
        print(load_average())


if __name__ == "__main__":
    main()
