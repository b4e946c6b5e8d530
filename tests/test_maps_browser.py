"""Maps in a real headless Chromium (Debian's ``chromium`` package), with every request to another host blocked.

The page is served from 127.0.0.1; a route handler aborts and records anything else. The checks are exact: the
nodes and relationships vis-network holds and draws, the search focusing a node, hostile names shown as text with
no dialog and no injected element, only http(s) links, zero requests to other hosts, no console errors (a
Content-Security-Policy violation is one). A screenshot and the map's own PNG export are saved under
browser_harness.ARTIFACTS (a temporary folder, or STATETECH_TEST_ARTIFACTS).
"""

from __future__ import annotations

import http.server
import json
import random
import threading
from functools import partial
from pathlib import Path

import pytest

from browser_harness import ARTIFACTS, BROWSER_MARKS, DOCS, UPDATE_SCREENSHOTS, RecordingTab, launch_chromium
from statetech.graph.api import Graph
from statetech.graph.maps import render_map
from statetech.graph.store import GrafeoStore
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode
from statetech.loaders.curated import load_files

HOSTILE_FIXTURE = Path(__file__).parent / "fixtures" / "curated" / "map_hostile.yaml"
XSS = "<img src=x onerror=alert(1)>"

pytestmark = BROWSER_MARKS


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
    yield from launch_chromium()


class MapPage(RecordingTab):
    """A map page with everything it does recorded (see :class:`RecordingTab`)."""

    def __init__(self, browser, origin: str) -> None:
        super().__init__(browser, origin, height=860)

    def open(self, name: str, timeout_ms: int = 60_000) -> None:
        self.page.goto(f"{self.origin}/{name}")
        # a selector wait: the map's CSP forbids the eval that a JavaScript-predicate wait would need
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=timeout_ms)



@pytest.fixture
def map_page(browser, site):
    page = MapPage(browser, site[1])
    yield page
    page.close()


def hostile_subgraph(tmp_path) -> Subgraph:
    """The small fictional graph plus hostile names, and a source record no validating loader would accept (a
    ``javascript:`` URL), as if the store had been written to by something else."""
    graph = Graph(GrafeoStore(tmp_path / "map.grafeo"))
    load_files(graph, [Path(__file__).parent / "fixtures" / "curated" / "small.yaml", HOSTILE_FIXTURE])
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
    # in the highlighted neighbourhood a reported record keeps its lighter look; the rest fades
    assert map_page.js("statetechMap.nodes.get('person:example-organiser').opacity") == 0.6
    assert map_page.js("statetechMap.nodes.get('company:example-cloud').opacity") == 1
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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
    assert "Select a hub and press Expand to draw them." in notices
    assert "1,240 nodes: laid out in advance, physics off; tick Physics to start it." in notices
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


# ---- what the map does beyond drawing: legible labels, confidence, dates, sources, expansion, views, live mode ----

# A label counts as legible when vis draws it (not below its draw threshold) at 10 px or more on screen, and the
# node is inside the map area, after the map's own initial fit.
LEGIBLE_JS = """() => {
  const net = statetechMap.network, scale = net.getScale();
  const box = document.getElementById('map').getBoundingClientRect();
  let legible = 0, total = 0;
  for (const id of net.body.nodeIndices) {
    const node = net.body.nodes[id];
    if (node.options.hidden) continue;
    total++;
    const label = node.labelModule;
    if (!label.elementOptions.label || !label.visible()) continue;
    const px = Math.min(label.fontOptions.size * scale, label.elementOptions.scaling.label.maxVisible);
    const p = net.canvasToDOM(net.getPosition(id));
    if (px >= 10 && p.x >= 0 && p.y >= 0 && p.x <= box.width && p.y <= box.height) legible++;
  }
  return [legible, total];
}"""


@pytest.fixture(scope="module")
def seed_graph(tmp_path_factory):
    from statetech.graph.api import shipped_seeds_path

    graph = Graph(GrafeoStore(tmp_path_factory.mktemp("seeds") / "seeds.grafeo"))
    load_files(graph, [shipped_seeds_path()])
    yield graph
    graph.close()


def test_labels_are_legible_at_the_first_view(map_page, site, seed_graph):
    """Before labels were placed by the page, the demo's ICE map drew 0 of its 156 labels at 10 px or more and the
    whole-graph map 0 of 448 (measured with LEGIBLE_JS on the previous map.js)."""
    folder, _origin = site
    ice = seed_graph.neighbourhood("agency:ice", depth=2)
    whole = seed_graph.whole_graph()
    (folder / "ice.html").write_text(render_map(ice), encoding="utf-8")
    (folder / "whole.html").write_text(render_map(whole), encoding="utf-8")
    map_page.open("ice.html")
    legible, total = map_page.js(LEGIBLE_JS)
    print(f"\nICE map: {legible} of {total} labels legible at the first view")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    map_page.page.screenshot(path=str(ARTIFACTS / "map-ice.png"))
    if UPDATE_SCREENSHOTS:
        map_page.page.set_viewport_size({"width": 1600, "height": 1000})
        map_page.page.wait_for_timeout(300)
        map_page.js("statetechMap.fit()")
        map_page.page.wait_for_timeout(500)
        map_page.page.screenshot(path=str(DOCS / "demo-map.png"))
        map_page.page.set_viewport_size({"width": 1400, "height": 860})
        map_page.page.wait_for_timeout(300)
        map_page.js("statetechMap.fit()")
        map_page.page.wait_for_timeout(300)
    assert total == len(ice.nodes) > 100
    assert legible >= 50
    # the focus and the biggest hubs are among them
    hub_ids = map_page.js("""() => statetechMap.nodes.get().sort((a, b) => b.value - a.value).slice(0, 5)
                                   .map(n => n.id)""")
    sizes = map_page.js("""(ids) => ids.map(id => statetechMap.network.body.nodes[id].labelModule.fontOptions.size
                                               * statetechMap.network.getScale())""", ["agency:ice", *hub_ids])
    assert all(size >= 10 for size in sizes), sizes
    # zooming in keeps labels at the same size on screen and makes room for more of them
    first_scale = map_page.js("statetechMap.network.getScale()")
    box = map_page.page.locator("#map").bounding_box()
    map_page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        map_page.page.mouse.wheel(0, -200)
        map_page.page.wait_for_timeout(100)
    map_page.page.wait_for_timeout(500)
    scale = map_page.js("statetechMap.network.getScale()")
    assert scale > 1.3 * first_scale
    zoomed = map_page.js("statetechMap.network.body.nodes['agency:ice'].labelModule.fontOptions.size") * scale
    assert 10 <= zoomed <= 12
    assert map_page.js(LEGIBLE_JS)[0] > 0
    map_page.open("whole.html")
    legible, total = map_page.js(LEGIBLE_JS)
    print(f"whole-graph map: {legible} of {total} labels legible at the first view")
    assert total == map_page.js("statetechMap.nodes.length") > 300  # after hub capping
    assert legible >= 60
    assert map_page.errors == [] and map_page.non_local_requests() == []


def test_confidence_is_visible_and_filters_by_confidence_and_dates(map_page, site, tmp_path):
    folder, _origin = site
    (folder / "confidence.html").write_text(render_map(hostile_subgraph(tmp_path)), encoding="utf-8")
    map_page.open("confidence.html")
    page = map_page.page
    edge = "statetechMap.edges.get('rel:contract:example-award-2>SUBCONTRACTED_TO>company:example-hostile')"
    assert map_page.js(edge + ".dashes") == [6, 5]  # alleged: dashed
    reported = "statetechMap.edges.get('rel:contract:example-award-2>AWARDED_TO>company:example-hostile')"
    # reported: solid, half way to white (AWARDED_TO is #C45A00)
    lighter = "#" + "".join(f"{int(c * 0.5 + 127.5 + 0.5):02x}" for c in (0xC4, 0x5A, 0x00))
    assert map_page.js(reported + ".dashes") is None and map_page.js(reported + ".color") == lighter == "#e2ad80"
    confirmed = "statetechMap.edges.get('rel:agency:example-bureau>PART_OF>agency:example-dept')"
    assert map_page.js(confirmed + ".dashes") is None and map_page.js(confirmed + ".color") == "#3B6EA8"
    assert map_page.js("statetechMap.nodes.get('company:example-hostile').shapeProperties.borderDashes") == [4, 3]
    # the legend says which is which, with counts of nodes and relationships at each level
    levels = page.inner_text("#filter-confidence")
    assert "confirmed" in levels and "reported" in levels and "alleged" in levels
    # hide alleged records: the alleged company and every alleged relationship go
    page.uncheck('input[data-filter="confidence"][value="alleged"]')
    assert "company:example-hostile" not in map_page.js("statetechMap.visibleNodeIds()")
    hidden_edges = map_page.js("statetechMap.edges.get({filter: e => e.hidden}).map(e => e.id)")
    assert "rel:contract:example-award-2>SUBCONTRACTED_TO>company:example-hostile" in hidden_edges
    assert "policy:example-ai-principles" not in map_page.js("statetechMap.visibleNodeIds()")
    # two alleged nodes go with their 5 relationships, and 1 more alleged relationship between kept nodes
    assert page.inner_text("#shown-count") == "8 of 10 nodes, 12 of 18 relationships shown"
    page.check('input[data-filter="confidence"][value="alleged"]')
    assert page.inner_text("#shown-count") == "10 of 10 nodes, 18 of 18 relationships shown"
    # dates: from 2020 on, the 2018-2019 award and its relationships go; undated records stay
    page.fill("#date-since", "2020")
    page.click("#date-filter button[type=submit]")
    visible = map_page.js("statetechMap.visibleNodeIds()")
    assert "contract:example-award-2" not in visible and "agency:example-dept" in visible
    assert page.inner_text("#date-status") == "Showing records dated 2020 to \u2026 (undated records stay)."
    page.fill("#date-since", "2020-13")
    page.click("#date-filter button[type=submit]")
    assert page.inner_text("#date-status") == "Write dates as YYYY, YYYY-MM or YYYY-MM-DD."
    page.fill("#date-since", "")
    page.fill("#date-until", "2019")
    page.click("#date-filter button[type=submit]")
    assert "contract:example-award-2" in map_page.js("statetechMap.visibleNodeIds()")
    page.fill("#date-until", "")
    page.click("#date-filter button[type=submit]")
    assert page.inner_text("#shown-count") == "10 of 10 nodes, 18 of 18 relationships shown"
    assert map_page.errors == [] and map_page.dialogs == []


def test_a_relationship_in_a_list_opens_its_sources(map_page, site, tmp_path):
    folder, _origin = site
    (folder / "rels.html").write_text(render_map(hostile_subgraph(tmp_path)), encoding="utf-8")
    map_page.open("rels.html")
    page = map_page.page
    assert map_page.js("statetechMap.focusNode('contract:example-award-2')") is True
    page.wait_for_timeout(500)
    page.click('#details button[data-edge="rel:contract:example-award-2>AWARDED_TO>company:example-hostile"]')
    assert page.inner_text("#details h2") == 'Example award <i>two</i> & "quoted" AWARDED_TO \u2192 ' + XSS
    sources = page.inner_text("#details .sources")
    assert "</script><script>window.__pwned = 'source title'</script>" in sources  # the title, as text
    assert "<b onmouseover=alert(6)>Example Publisher</b>, 2023-01-05" in sources  # publisher and date
    assert "Ends here" in page.inner_text("#details .sources blockquote")  # the excerpt
    assert map_page.js("document.querySelector('#details .sources a').getAttribute('href')") == \
        "https://example.org/hostile?q=<script>alert(5)</script>&x=1"
    assert map_page.js("document.querySelector('#details .confidence-badge').textContent") == "reported"
    assert map_page.js("statetechMap.network.getSelectedEdges()") == [
        "rel:contract:example-award-2>AWARDED_TO>company:example-hostile"]
    assert map_page.errors == [] and map_page.dialogs == []


def test_a_capped_hub_expands_from_the_file(map_page, site):
    folder, _origin = site
    sub = big_subgraph(50, hub_leaves=130)
    (folder / "hub.html").write_text(render_map(sub, max_neighbours=40, cap_above=0), encoding="utf-8")
    map_page.open("hub.html")
    page = map_page.page
    # 50 companies + hub + 39 contracts drawn; 91 contracts kept back in the file
    assert map_page.js("statetechMap.nodes.length") == 90
    assert page.inner_text("#map-dateline").endswith("91 more neighbours of 1 hub not drawn")
    contract_count = 'document.querySelector(\'input[data-filter="kind"][value="Contract"]\')' \
                     '.closest("label").querySelector(".filter-count").textContent'
    assert map_page.js(contract_count) == "39"
    map_page.js("statetechMap.focusNode('agency:hub')")
    page.wait_for_timeout(500)
    assert "91 neighbours not drawn; 91 of them are in this file." in page.inner_text("#details .expand")
    page.click("#details .expand-button")
    assert map_page.js("statetechMap.nodes.length") == 130
    assert map_page.js("statetechMap.nodes.get('agency:hub').label") == "Hub agency\n(+51 not shown)"
    assert map_page.js(contract_count) == "79"
    assert page.inner_text("#map-dateline").endswith("51 more neighbours of 1 hub not drawn")
    # the new nodes are drawn, joined to the hub, placed around it
    assert map_page.js("statetechMap.network.body.nodeIndices.length") == 130
    assert map_page.js("statetechMap.network.getConnectedNodes('agency:hub').length") == 1 + 79
    # double-click expands too; then the rest; then nothing is left to expand
    map_page.js("statetechMap.expand('agency:hub')")
    map_page.js("statetechMap.expand('agency:hub')")
    assert map_page.js("statetechMap.nodes.length") == 181
    assert map_page.js("statetechMap.nodes.get('agency:hub').label") == "Hub agency"
    assert not page.inner_text("#map-dateline").endswith("not drawn")
    assert map_page.errors == [] and map_page.dialogs == []


def read_view_positions(map_page) -> dict:
    return map_page.js("""() => { const p = statetechMap.network.getPositions();
        const out = {}; for (const id in p) out[id] = [Math.round(p[id].x * 10) / 10, Math.round(p[id].y * 10) / 10];
        return out; }""")


def test_a_saved_view_reopens_with_the_same_nodes_and_positions(map_page, site, browser, tmp_path):
    from statetech.graph.views import read_view

    folder, origin = site
    sub = big_subgraph(30, hub_leaves=60)
    (folder / "views.html").write_text(render_map(sub, max_neighbours=20, cap_above=0), encoding="utf-8")
    map_page.open("views.html")
    page = map_page.page
    page.uncheck("#toggle-physics")  # hold the layout still, as a reader arranging a view would
    map_page.js("statetechMap.expand('agency:hub')")  # reveal 40 of the 41 kept back
    map_page.js("statetechMap.network.moveNode('company:c3', 1234, -987)")
    page.uncheck('input[data-filter="type"][value="SUBSIDIARY_OF"]')
    nodes = sorted(map_page.js("statetechMap.nodes.getIds()"))
    positions = read_view_positions(map_page)
    assert len(nodes) == 30 + 1 + 19 + 40 and positions["company:c3"] == [1234, -987]

    # 1. "Save view" downloads a file that `statetech map --view` draws as the same map
    with page.expect_download() as download_info:
        page.click("#save-view")
    download = download_info.value
    assert download.suggested_filename == "synthetic-big-map-view.json"
    saved = tmp_path / "view.json"
    download.save_as(saved)
    view = read_view(saved)
    assert sorted(view.nodes) == nodes and view.hidden_types == ["SUBSIDIARY_OF"]
    kept = set(view.nodes)
    part = Subgraph(title=sub.title)
    for node_id in view.nodes:
        part.add_node(sub.nodes[node_id])
    part.edges = [e for e in sub.edges if e.source in kept and e.target in kept]
    (folder / "reopened.html").write_text(render_map(part, view=view), encoding="utf-8")
    other = MapPage(browser, origin)
    try:
        other.open("reopened.html")
        assert sorted(other.js("statetechMap.nodes.getIds()")) == nodes
        assert read_view_positions(other) == positions
        assert other.js("statetechMap.network.physics.options.enabled") is False
        assert other.page.is_checked('input[data-filter="type"][value="SUBSIDIARY_OF"]') is False
        assert other.errors == []
    finally:
        other.close()

    # 2. "Copy link" gives this file's URL with #view=..., which re-opens the same view from the file alone
    page.click("#copy-link")
    link = page.input_value("#view-link")
    assert link.startswith(f"{origin}/views.html#view=")
    other = MapPage(browser, origin)
    try:
        other.page.goto(link)
        other.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        assert sorted(other.js("statetechMap.nodes.getIds()")) == nodes
        assert read_view_positions(other) == positions
        assert other.page.is_checked('input[data-filter="type"][value="SUBSIDIARY_OF"]') is False
        assert other.js("statetechMap.edges.get({filter: e => e.hidden}).length") > 0
        assert other.errors == [] and other.non_local_requests() == []
        # a damaged link says so and still shows the map
        other.page.goto(f"{origin}/views.html#view=bm90IGpzb24")
        other.page.reload()
        other.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        assert other.page.inner_text("#map-message") == \
            "The view in this link is cut short or damaged; copy the whole link again."
        assert other.js("statetechMap.nodes.length") == 30 + 1 + 19
    finally:
        other.close()
    # the view code is the one graph.views reads
    from statetech.graph.views import decode_view
    assert sorted(decode_view(link.split("#view=")[1]).nodes) == nodes
    assert map_page.errors == []


def hostile_ids_subgraph() -> Subgraph:
    """Ids and names a store written by something else could hold: prototype names as ids, huge names, RTL
    overrides, script URLs."""
    sub = Subgraph(title="Hostile \u202eevil\u202c ids")
    long_name = "A" * 5000
    specs = [("__proto__", "Company", "Proto Corp"), ("constructor", "Agency", "Constructor Agency"),
             ("toString", "Product", "<script>alert('toString')</script>"),
             ("company:long", "Company", long_name), ("company:rtl", "Company", "gpj.\u202eexe.Innocent"),
             ("hasOwnProperty", "Person", "javascript:alert(3)")]
    for node_id, kind, name in specs:
        sub.add_node(SubgraphNode(node_id, kind, {"name": name, "sources": ["source:js"], "confidence": "alleged",
                                                  "website": "javascript:alert(4)", "aliases": ["valueOf"]}))
    pairs = [("__proto__", "constructor"), ("constructor", "toString"), ("toString", "company:long"),
             ("company:long", "company:rtl"), ("company:rtl", "hasOwnProperty"), ("hasOwnProperty", "__proto__")]
    for i, (a, b) in enumerate(pairs):
        sub.edges.append(SubgraphEdge("__proto__" if i == 0 else f"rel:{i}", "SUBSIDIARY_OF", a, b,
                                      {"sources": ["source:js"], "confidence": "reported"}))
    sub.sources = {"source:js": {"id": "source:js", "url": "javascript:alert(5)", "title": "<img src=x onerror=alert(6)>",
                                 "publisher": "\u202eevil", "published": "2024", "archive_url": "JAVASCRIPT:alert(7)",
                                 "excerpt": "</script><script>alert(8)</script>"}}
    return sub


def test_hostile_ids_and_names_are_inert(map_page, site):
    folder, _origin = site
    sub = hostile_ids_subgraph()
    (folder / "hostile-ids.html").write_text(render_map(sub), encoding="utf-8")
    map_page.open("hostile-ids.html")
    page = map_page.page
    assert sorted(map_page.js("statetechMap.nodeIds()")) == sorted(sub.nodes)
    assert map_page.js("statetechMap.network.body.nodeIndices.length") == 6
    assert map_page.js("statetechMap.network.body.edgeIndices.length") == 6
    for node_id in ("__proto__", "constructor", "toString", "hasOwnProperty"):
        assert map_page.js(f"statetechMap.focusNode({node_id!r})") is True
        assert page.inner_text("#details .entity-id") == node_id
    assert page.inner_text("#details h2") == "javascript:alert(3)"
    map_page.js("statetechMap.focusNode('toString')")
    assert page.inner_text("#details h2") == "<script>alert('toString')</script>"
    map_page.js("statetechMap.focusNode('company:long')")
    assert page.inner_text("#details h2") == "A" * 5000
    assert map_page.js("statetechMap.nodes.get('company:long').label") == "A" * 27 + "\u2026"
    # search by an alias that is a prototype name finds only the nodes that have it
    page.fill("#search-input", "valueOf")
    page.press("#search-input", "Enter")
    assert page.inner_text("#search-status") == "6 matches"
    page.fill("#search-input", "__proto__")
    page.press("#search-input", "Enter")
    assert page.inner_text("#search-status") == "1 match"
    # the relationship whose id is __proto__ opens with its sources
    map_page.js("statetechMap.focusNode('constructor')")
    page.click('#details button[data-edge="__proto__"]')
    assert "Proto Corp" in page.inner_text("#details h2")
    assert "<img src=x onerror=alert(6)>" in page.inner_text("#details .sources")
    # no links at all: every URL here is javascript:
    assert map_page.js("document.querySelectorAll('a[href]').length") == 0
    assert map_page.js("document.querySelectorAll('#statetech-map img, #statetech-map script').length") == 0
    assert map_page.js("Object.prototype.polluted === undefined && typeof ({}).toString === 'function'") is True
    # a save and a link from this map hold the ids as data (graph.views would refuse them as ids, as it should)
    page.click("#copy-link")
    assert "#view=" in page.input_value("#view-link")
    assert map_page.dialogs == [] and map_page.errors == [] and map_page.non_local_requests() == []


# ---- live mode: the same front end as the explorer embeds it, talking to an expand endpoint ------------------------

LIVE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data: blob:; "
            "base-uri 'none'; form-action 'none'")
LIVE = {"expandUrl": "/api/expand", "entityUrl": "/entity/", "sourceUrl": "/source/", "viewUrl": "/map"}


def live_page_html(data: dict) -> str:
    """A page built the way the explorer builds one: the shared partial, the data element, assets from /static/."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    from statetech.graph.maps import map_body_context, script_json

    env = Environment(loader=FileSystemLoader(str(Path(render_map.__code__.co_filename).parent / "templates")),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    page = env.from_string(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Live</title>'
        '<link rel="stylesheet" href="/static/map.css"></head><body><header><nav>Explorer nav</nav></header>'
        '<main>{% include "map_body.html" %}</main>'
        '<script type="application/json" id="statetech-data">{{ data_json }}</script>'
        '<script src="/static/vis-network.min.js"></script><script src="/static/map.js"></script></body></html>')
    return page.render(data_json=Markup(script_json(data)), **map_body_context(data))


class LiveSite:
    """A stand-in for the explorer's expand endpoint over an in-memory graph, answering in the agreed shape."""

    def __init__(self, full: Subgraph, shown: Subgraph, max_drawn: int | None = None) -> None:
        from statetech.graph.maps import map_asset, map_data

        self.full = full
        self.requests: list[dict] = []
        data = map_data(shown, live=LIVE)
        if max_drawn:
            data["settings"]["maxDrawn"] = max_drawn
        self.pages = {"/live.html": ("text/html", live_page_html(data).encode()),
                      **{f"/static/{name}": ("text/css" if name.endswith(".css") else "text/javascript",
                                             map_asset(name).encode()) for name in
                         ("vis-network.min.js", "map.js", "map.css")}}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlsplit

                url = urlsplit(self.path)
                if url.path == "/api/expand":
                    query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                    site.requests.append(query)
                    status, body = site.expand(query)
                    self._send(status, "application/json", json.dumps(body).encode())
                elif url.path in site.pages:
                    self._send(200, *site.pages[url.path])
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status, kind, body) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Security-Policy", LIVE_CSP)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def expand(self, query: dict) -> tuple[int, dict]:
        from statetech.graph.maps import map_fragment

        node_id = query.get("id", "")
        if node_id == "agency:broken":
            # the explorer's error shape
            return 503, {"error": {"status": 503, "title": "Store unavailable", "message": "the store is down; try again"}}
        kinds = set(filter(None, query.get("kinds", "").split(",")))
        types = set(filter(None, query.get("types", "").split(",")))
        around = sorted({(e.target if e.source == node_id else e.source): e for e in self.full.edges
                         if node_id in (e.source, e.target) and e.type in types}.items())
        around = [(other, e) for other, e in around if self.full.nodes[other].kind in kinds]
        offset, limit = int(query["offset"]), int(query["limit"])
        page = around[offset:offset + limit]
        part = Subgraph()
        part.add_node(self.full.nodes[node_id])
        for other, edge in page:
            part.add_node(self.full.nodes[other])
            part.edges.append(edge)
        part.sources = self.full.sources
        body = map_fragment(part)
        return 200, {**body, "id": node_id, "offset": offset, "limit": limit, "total": len(around),
                     "remaining": max(0, len(around) - offset - len(page))}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_live_mode_expands_from_the_server_in_pages(browser):
    full = big_subgraph(10, hub_leaves=100)
    full.nodes["agency:hub"].properties["sources"] = ["source:hub"]
    full.sources = {"source:hub": {"id": "source:hub", "url": "https://example.org/hub", "title": "Hub source",
                                   "publisher": "Example", "published": "2024"}}
    full.add_node(SubgraphNode("agency:broken", "Agency", {"name": "Broken agency", "sources": []}))
    full.edges.append(SubgraphEdge("rel:broken", "PART_OF", "agency:broken", "agency:hub", {"sources": []}))
    shown = Subgraph(title="Live hub")
    for node_id in ("agency:hub", "company:c0", "agency:broken"):
        shown.add_node(full.nodes[node_id])
    shown.edges = [e for e in full.edges if e.id in ("rel:hub", "rel:broken")]
    shown.sources = full.sources
    site = LiveSite(full, shown)
    page = MapPage(browser, site.origin)
    try:
        page.open("live.html")
        assert page.page.inner_text("nav") == "Explorer nav"  # the explorer's own page around the map
        assert page.js("statetechMap.nodes.length") == 3
        page.js("statetechMap.focusNode('agency:hub')")
        page.page.wait_for_timeout(500)
        # links to the explorer's pages, same site
        assert page.js("document.querySelector('#details .page-links a').href") == f"{site.origin}/entity/agency%3Ahub"
        assert page.js("document.querySelector('#details .sources a[href*=\"/source/\"]').href") == \
            f"{site.origin}/source/source%3Ahub"
        # hide Company before expanding: only the kinds and types still selected are asked for
        page.page.uncheck('input[data-filter="kind"][value="Company"]')
        page.page.click("#details .expand-button")
        page.page.wait_for_timeout(800)
        assert site.requests[0]["id"] == "agency:hub" and site.requests[0]["offset"] == "0"
        assert site.requests[0]["limit"] == "40"
        assert "Company" not in site.requests[0]["kinds"].split(",")
        assert set(site.requests[0]["kinds"].split(",")) == {"Agency", "Contract", "EmployeeAction", "Policy",
                                                             "Person", "Product"}
        assert "AWARDED" in site.requests[0]["types"].split(",")
        # the first page holds the broken agency (already drawn) and 39 contracts
        assert page.js("statetechMap.nodes.length") == 3 + 39
        assert page.js("statetechMap.nodes.get('agency:hub').label") == "Hub agency\n(+61 not shown)"
        # "N more" fetches the next page
        assert page.page.inner_text("#details .expand-button") == "40 more"
        page.page.click("#details .expand-button")
        page.page.wait_for_timeout(800)
        assert site.requests[1]["offset"] == "40"
        assert page.js("statetechMap.nodes.length") == 3 + 79
        page.js("statetechMap.expand('agency:hub')")
        page.page.wait_for_timeout(800)
        assert page.js("statetechMap.nodes.length") == 3 + 100
        assert page.js("statetechMap.nodes.get('agency:hub').label") == "Hub agency"
        assert page.js("statetechMap.network.body.nodeIndices.length") == 103 - 1  # company:c0 is filtered out
        # a failing server: a clear message, the map keeps working
        page.js("statetechMap.expand('agency:broken')")
        page.page.wait_for_timeout(800)
        assert page.page.inner_text("#map-message") == "Could not expand: the store is down; try again"
        # copy link gives the explorer's /map?view= URL, which graph.views reads
        page.page.click("#copy-link")
        link = page.page.input_value("#view-link")
        assert link.startswith(f"{site.origin}/map?view=")
        from statetech.graph.views import decode_view
        assert len(decode_view(link.split("view=")[1]).nodes) == 103
        assert page.errors == ["Failed to load resource: the server responded with a status of 503 "
                               "(Service Unavailable)"]
        assert page.non_local_requests() == [] and page.dialogs == []
    finally:
        page.close()
        site.close()


def test_live_mode_has_a_hard_cap_on_drawn_nodes(browser):
    full = big_subgraph(5, hub_leaves=100)
    shown = Subgraph(title="Capped")
    shown.add_node(full.nodes["agency:hub"])
    site = LiveSite(full, shown, max_drawn=30)
    page = MapPage(browser, site.origin)
    try:
        page.open("live.html")
        page.js("statetechMap.expand('agency:hub')")
        page.page.wait_for_timeout(800)
        # room for 29 more: the page asks for no more than fit, then refuses with a message
        assert site.requests[0]["limit"] == "29"
        assert page.js("statetechMap.nodes.length") == 30
        page.js("statetechMap.expand('agency:hub')")
        page.page.wait_for_timeout(300)
        assert page.page.inner_text("#map-message") == (
            "This map already has 30 nodes, its limit; start a new map from a narrower selection.")
        assert len(site.requests) == 1 and page.js("statetechMap.nodes.length") == 30
        assert page.errors == []
    finally:
        page.close()
        site.close()
