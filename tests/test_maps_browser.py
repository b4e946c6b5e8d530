"""Maps in a real headless Chromium (Debian's ``chromium`` package), with every request to another host blocked.

The page is served from 127.0.0.1; a route handler aborts and records anything else. The checks are exact: the
nodes and relationships vis-network holds and draws, the search focusing a node, hostile names shown as text with
no dialog and no injected element, only http(s) links, zero requests to other hosts, no console errors (a
Content-Security-Policy violation is one). A screenshot and the map's own PNG export are saved under
tests/artifacts/.
"""

from __future__ import annotations

import http.server
import os
import random
import threading
from functools import partial
from pathlib import Path

import pytest

from statetech.graph.api import Graph
from statetech.graph.maps import render_map
from statetech.graph.store import GrafeoStore
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 # belt and braces beside the route handler: no name resolves except the local server's
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE_FIXTURE = Path(__file__).parent / "fixtures" / "curated" / "map_hostile.yaml"
XSS = "<img src=x onerror=alert(1)>"

# CI sets STATETECH_REQUIRE_BROWSER=1: there a missing browser fails these tests instead of skipping them.
REQUIRE_BROWSER = os.environ.get("STATETECH_REQUIRE_BROWSER") == "1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRE_BROWSER,
                       reason="Debian's chromium is not installed at /usr/bin/chromium "
                              "(apt-get install chromium; .ci/run installs it)"),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(folder, origin) of a local web server; maps written to the folder are served from the origin."""
    folder = tmp_path_factory.mktemp("site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("STATETECH_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing; apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class MapPage:
    """A page with everything it does recorded: requests, blocked requests, console errors, dialogs."""

    def __init__(self, browser, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type in ("error", "warning")
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, name: str, timeout_ms: int = 60_000) -> None:
        self.page.goto(f"{self.origin}/{name}")
        # a selector wait: the map's CSP forbids the eval that a JavaScript-predicate wait would need
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=timeout_ms)

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def non_local_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.origin + "/")
                and not url.startswith(("blob:", "data:"))]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def map_page(browser, site):
    page = MapPage(browser, site[1])
    yield page
    page.close()


def hostile_subgraph(tmp_path) -> Subgraph:
    """The small fictional graph plus hostile names, and a source record no validating loader would accept (a
    ``javascript:`` URL), as if the store had been written to by something else."""
    graph = Graph(GrafeoStore(tmp_path / "map.grafeo"))
    graph.load_files([Path(__file__).parent / "fixtures" / "curated" / "small.yaml", HOSTILE_FIXTURE])
    sub = graph.whole_graph()
    graph.close()
    sub.sources["source:example-js"] = {"id": "source:example-js", "url": "javascript:alert(8)",
                                        "archive_url": "javascript:alert(9)", "title": "Example scripted source",
                                        "publisher": "Example", "published": "2024"}
    hostile = sub.nodes["company:example-hostile"]
    hostile.properties["sources"] = [*hostile.sources, "source:example-js"]
    hostile.properties["website"] = "javascript:alert(10)"
    return sub


def click_on_canvas(map_page: MapPage, x: float, y: float) -> None:
    """Click at network coordinates (x, y)."""
    dom = map_page.js("([x, y]) => statetechMap.network.canvasToDOM({x: x, y: y})", [x, y])
    box = map_page.page.locator("#map").bounding_box()
    map_page.page.mouse.click(box["x"] + dom["x"], box["y"] + dom["y"])


def test_map_in_headless_chromium(map_page, site, tmp_path):
    folder, _origin = site
    sub = hostile_subgraph(tmp_path)
    title = f"Relationships of {XSS}"
    (folder / "hostile.html").write_text(render_map(sub, title=title), encoding="utf-8")
    map_page.open("hostile.html")
    page = map_page.page

    # the nodes and relationships vis-network holds and draws
    assert map_page.js("statetechMap.nodes.length") == len(sub.nodes) == 10
    assert map_page.js("statetechMap.network.body.nodeIndices.length") == 10
    assert sorted(map_page.js("statetechMap.nodes.getIds()")) == sorted(sub.nodes)
    assert map_page.js("statetechMap.network.body.edgeIndices.length") == len(sub.edges) == 18
    painted = map_page.js("""() => {
        const canvas = document.querySelector('#map canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let coloured = 0;
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i] < 240 || pixels[i + 1] < 240 || pixels[i + 2] < 240) coloured++;
        }
        return coloured;
    }""")
    assert painted > 5000, "the canvas is (nearly) blank"
    assert page.locator("h1").count() == 1
    assert page.inner_text("h1") == title
    assert page.title() == title

    # physics on/off (off from here, so the layout holds still while positions are checked)
    assert map_page.js("statetechMap.network.physics.options.enabled") is True
    page.uncheck("#toggle-physics")
    assert map_page.js("statetechMap.network.physics.options.enabled") is False

    # search focuses a node: selected, centred, details shown, neighbourhood highlighted
    page.fill("#search-input", "example cloud inc")
    page.press("#search-input", "Enter")
    page.wait_for_timeout(900)  # the focus animation takes 400 ms
    assert map_page.js("statetechMap.network.getSelectedNodes()") == ["company:example-cloud"]
    assert page.inner_text("#details h2") == "Example Cloud Inc."
    offset = map_page.js("""() => {
        const view = statetechMap.network.getViewPosition();
        const node = statetechMap.network.getPosition('company:example-cloud');
        return Math.hypot(view.x - node.x, view.y - node.y);
    }""")
    assert offset < 1.0
    assert map_page.js("statetechMap.nodes.get('person:example-organiser').opacity") == 1
    assert map_page.js("statetechMap.nodes.get('agency:example-dept').opacity") == 0.15
    assert page.inner_text("#search-status") == "1 match"

    # the XSS payload is found, shown as text, and runs nothing
    page.fill("#search-input", "<img")
    page.press("#search-input", "Enter")
    page.wait_for_timeout(600)
    assert map_page.js("statetechMap.network.getSelectedNodes()") == ["company:example-hostile"]
    assert page.inner_text("#details h2") == XSS
    assert page.inner_text("#search-results li") == XSS
    assert map_page.js("document.querySelectorAll('img, image, iframe, object, embed, svg[onload]').length") == 0
    assert map_page.js("document.querySelectorAll('script').length") == 3
    assert map_page.js("typeof window.__pwned") == "undefined"
    details_text = page.inner_text("#details")
    assert "</script><script>window.__pwned = 'notes'</script>" in details_text
    assert "<b onmouseover=alert(6)>Example Publisher</b>" in details_text
    # links only for http(s) URLs: the javascript: source and website are plain text
    hrefs = map_page.js("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.org/hostile?q=<script>alert(5)</script>&x=1"]
    assert "Example scripted source" in details_text and "javascript:alert(10)" in details_text
    assert map_page.js("document.querySelector('#details a').rel") == "noopener noreferrer"

    # clicking a node and a relationship on the canvas shows their properties and sources
    position = map_page.js("statetechMap.network.getPosition('contract:example-award-2')")
    click_on_canvas(map_page, position["x"], position["y"])
    assert page.inner_text("#details h2") == 'Example award <i>two</i> & "quoted"'
    assert "obligated usd\n$250,000" in page.inner_text("#details")
    a = map_page.js("statetechMap.network.getPosition('agency:example-bureau')")
    b = map_page.js("statetechMap.network.getPosition('agency:example-dept')")
    click_on_canvas(map_page, (a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2)
    assert page.inner_text("#details h2") == "Example Bureau PART_OF \u2192 Example Department"
    assert "Example award notice" in page.inner_text("#details .sources")

    # filters by kind and by relationship type
    page.uncheck('input[data-filter="kind"][value="Person"]')
    assert map_page.js("statetechMap.visibleNodeIds().length") == 9
    assert map_page.js("statetechMap.edges.get({filter: e => e.hidden}).length") == 2  # the person's two
    page.uncheck('input[data-filter="type"][value="AWARDED_TO"]')
    assert map_page.js("statetechMap.edges.get({filter: e => e.hidden}).length") == 4
    assert page.inner_text("#shown-count") == "9 of 10 nodes, 14 of 18 relationships shown"
    page.check('input[data-filter="kind"][value="Person"]')
    page.check('input[data-filter="type"][value="AWARDED_TO"]')
    assert map_page.js("statetechMap.visibleNodeIds().length") == 10

    # save the view as PNG
    ARTIFACTS.mkdir(exist_ok=True)
    with page.expect_download() as download_info:
        page.click("#save-png")
    download = download_info.value
    assert download.suggested_filename == "relationships-of-img-src-x-onerror-alert-1.png"
    png = ARTIFACTS / "map-browser-export.png"
    download.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000

    screenshot = ARTIFACTS / "map-browser.png"
    page.screenshot(path=str(screenshot))
    print(f"\nscreenshot: {screenshot}\nPNG saved by the map's button: {png}")

    assert map_page.dialogs == []
    assert map_page.errors == []
    assert map_page.blocked == []
    assert map_page.non_local_requests() == []
    assert map_page.requests[0] == f"{map_page.origin}/hostile.html"


def big_subgraph(n_nodes: int, hub_leaves: int) -> Subgraph:
    """A random sparse graph plus one hub with many leaves, for the size safeguards."""
    rng = random.Random(3)
    sub = Subgraph(title="Synthetic big map")
    for i in range(n_nodes):
        sub.add_node(SubgraphNode(f"company:c{i}", "Company", {"name": f"Company {i}", "sources": []}))
    for i in range(2 * n_nodes):
        a, b = rng.randrange(n_nodes), rng.randrange(n_nodes)
        sub.edges.append(SubgraphEdge(f"rel:r{i}", "SUBSIDIARY_OF", f"company:c{a}", f"company:c{b}",
                                      {"sources": []}))
    sub.add_node(SubgraphNode("agency:hub", "Agency", {"name": "Hub agency", "sources": []}))
    sub.edges.append(SubgraphEdge("rel:hub", "USES", "agency:hub", "company:c0", {"sources": []}))
    for i in range(hub_leaves):
        sub.add_node(SubgraphNode(f"contract:k{i}", "Contract", {"name": f"Contract {i}", "sources": []}))
        sub.edges.append(SubgraphEdge(f"rel:k{i}", "AWARDED", "agency:hub", f"contract:k{i}", {"sources": []}))
    return sub


def test_big_map_caps_the_hub_and_stops_physics_after_layout(map_page, site):
    folder, _origin = site
    sub = big_subgraph(1200, hub_leaves=500)
    (folder / "big.html").write_text(render_map(sub), encoding="utf-8")
    map_page.open("big.html", timeout_ms=180_000)
    page = map_page.page
    # 1,200 companies + the hub + 39 of its 500 contracts (40 neighbours, one of them a company)
    assert map_page.js("statetechMap.nodes.length") == 1240
    assert map_page.js("statetechMap.network.body.nodeIndices.length") == 1240
    assert map_page.js("statetechMap.nodes.get('agency:hub').label") == "Hub agency\n(+461 not shown)"
    assert map_page.js("statetechMap.network.physics.options.enabled") is False
    assert page.is_checked("#toggle-physics") is False
    notices = page.inner_text(".notices")
    assert "461 neighbours of 1 hub left out to keep the map responsive (at most 40 each)" in notices
    assert "1,240 nodes: physics stops once the layout settles; tick Physics to resume it." in notices
    page.fill("#search-input", "Company 1199")
    page.press("#search-input", "Enter")
    page.wait_for_timeout(600)
    assert map_page.js("statetechMap.network.getSelectedNodes()") == ["company:c1199"]
    assert map_page.errors == [] and map_page.dialogs == [] and map_page.non_local_requests() == []


def test_the_harness_catches_requests_dialogs_and_blocked_scripts(map_page, site, tmp_path):
    """The checks above could pass by seeing nothing; here they must see things: a page that reaches for another
    host and opens a dialog, and a map with a script injected past the escaping, which its CSP must stop."""
    folder, _origin = site
    (folder / "leaky.html").write_text(
        '<!DOCTYPE html><body data-ready="true"><img src="http://example.com/pixel.png">'
        "<script>alert('leak'); console.error('boom');</script></body>", encoding="utf-8")
    map_page.open("leaky.html")
    map_page.page.wait_for_timeout(300)
    assert map_page.blocked == ["http://example.com/pixel.png"]
    assert map_page.non_local_requests() == ["http://example.com/pixel.png"]
    assert map_page.dialogs == ["leak"]
    assert "boom" in map_page.errors

    html = render_map(hostile_subgraph(tmp_path))
    injected = html.replace("</body>", "<script>window.__pwned = 'injected'</script>"
                                       "<img src=x onerror=\"window.__pwned = 'onerror'\"></body>")
    (folder / "injected.html").write_text(injected, encoding="utf-8")
    map_page.errors.clear()
    map_page.open("injected.html")
    map_page.page.wait_for_timeout(300)
    assert map_page.js("typeof window.__pwned") == "undefined"
    assert any("Content Security Policy" in error for error in map_page.errors)
    assert map_page.js("statetechMap.nodes.length") == 10  # the map's own scripts still run
