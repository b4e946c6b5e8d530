"""The explorer in a real headless Chromium (Debian's ``chromium``), served by uvicorn on 127.0.0.1, with every request
to another host blocked and recorded.

The newcomer's path from the issue is one test: home page -> typeahead to ICE -> expand Azure and then Microsoft on
the ICE map -> the Azure data-volume relationship with its dates and sources -> contracts/by-agency for ICE run from its
form -> the CSV download, checked against the same query run through the library. Others: expanding a hub page by
page, following a path, saving a view and re-opening its link, and hostile data inert on every page (no dialog, no
injected element, no request to another host, no console or CSP error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_harness import BROWSER_MARKS, DOCS, UPDATE_SCREENSHOTS, RecordingTab, launch_chromium
from statetech.graph.api import Graph, shipped_seeds_path
from statetech.graph.catalog import Catalog
from statetech.graph.formats import render_rows
from statetech.graph.store import GrafeoStore
from statetech.loaders.curated import load_files

CURATED = Path(__file__).parent / "fixtures" / "curated"
pytestmark = BROWSER_MARKS


def _serve(path):
    """(url, graph) of an explorer over the embedded store at ``path``, for a module fixture to yield from."""
    from statetech.web.server import serve_in_thread

    graph = Graph(GrafeoStore(path))
    server = serve_in_thread(graph)
    yield server.url.rstrip("/"), graph
    server.stop()
    graph.close()


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory):
    """(url, graph) of an explorer over the shipped seeds in an embedded store."""
    path = tmp_path_factory.mktemp("seeds") / "store.grafeo"
    with Graph(GrafeoStore(path)) as loader:
        load_files(loader, [shipped_seeds_path()])
    yield from _serve(path)


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    """An explorer over the fictional fixtures, a 60-contract hub, and hostile records written straight into the
    store (a javascript: URL, ids such as __proto__) as if by another program."""
    from test_web_api import hub_records

    path = tmp_path_factory.mktemp("fixtures") / "store.grafeo"
    with Graph(GrafeoStore(path)) as loader:
        load_files(loader, [CURATED / "small.yaml", CURATED / "map_hostile.yaml", CURATED / "web_hostile.yaml"])
        loader.load(hub_records())
        loader.query("MATCH (s:Source {id: 'source:example-20250101-web-hostile'}) "
                     "SET s.archive_url = 'javascript:alert(11)'", write=True)
        loader.query("MATCH (n:Entity {id: 'company:constructor'}) SET n.website = 'javascript:alert(12)'",
                     write=True)
        loader.query("CREATE (:Entity:Company {id: '__proto__', kind: 'Company', name: 'toString', "
                     "sources: ['source:example-20250101-web-hostile'], confidence: 'alleged'})", write=True)
        loader.query("MATCH (a:Entity {id: '__proto__'}), (b:Entity {id: 'company:constructor'}) "
                     "CREATE (a)-[:SUBSIDIARY_OF {id: 'rel:__proto__', from: '__proto__', to: 'company:constructor', "
                     "sources: ['source:example-20250101-web-hostile'], confidence: 'alleged'}]->(b)", write=True)
    yield from _serve(path)


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


class Explorer(RecordingTab):
    """A browser tab on the explorer with everything it does recorded (see :class:`RecordingTab`)."""

    def open(self, path: str, *, with_map: bool = False) -> None:
        self.page.goto(self.origin + path)
        self.wait(with_map=with_map)

    def wait(self, *, with_map: bool = False) -> None:
        # selector waits: the pages' CSP forbids the eval a JavaScript-predicate wait would need
        self.page.wait_for_selector("body[data-explorer-ready=true]", state="attached", timeout=30_000)
        if with_map:
            self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)

    def map_nodes(self) -> int:
        return self.js("statetechMap.nodes.length")

    def wait_for_node(self, node_id: str, timeout_s: float = 15.0) -> None:
        import time

        deadline = time.monotonic() + timeout_s
        while self.js("(id) => statetechMap.nodes.get(id) === null", node_id):
            assert time.monotonic() < deadline, f"{node_id} never appeared on the map"
            self.page.wait_for_timeout(100)

    def find_on_map(self, text: str) -> None:
        self.page.fill("#search-input", text)
        self.page.press("#search-input", "Enter")
        self.page.wait_for_timeout(600)

    def typeahead(self, selector: str, text: str, entity_id: str) -> None:
        """Type into a field and pick ``entity_id`` from the suggestions the server sends."""
        self.page.fill(selector, "")
        self.page.type(selector, text, delay=30)
        option = self.page.locator(f'.typeahead li[data-id="{entity_id}"]')
        option.wait_for(state="visible", timeout=10_000)
        option.click()

    def clean(self) -> None:
        """Nothing ran that should not have and nothing left the machine."""
        assert self.dialogs == []
        assert self.errors == []
        assert self.blocked == []
        assert [url for url in self.requests if not url.startswith((self.origin + "/", "blob:", "data:"))] == []
        assert self.js("typeof window.__pwned") == "undefined"


@pytest.fixture
def tab(browser, request):
    opened: list[Explorer] = []

    def open_tab(origin: str) -> Explorer:
        explorer = Explorer(browser, origin)
        opened.append(explorer)
        return explorer

    yield open_tab
    for explorer in opened:
        explorer.close()


def test_newcomer_goes_from_home_to_the_ice_csv(tab, seed_site, tmp_path):
    origin, graph = seed_site
    ex = tab(origin)
    page = ex.page
    ex.open("/")
    # 1. search with typeahead, to the ICE entity page
    ex.typeahead("#home-search", "ICE", "agency:ice")
    ex.wait(with_map=True)
    assert page.url == f"{origin}/entity/agency:ice"
    assert page.inner_text("h1") == "U.S. Immigration and Customs Enforcement"
    drawn = ex.map_nodes()
    assert drawn > 20 and ex.js("statetechMap.nodes.get('product:azure') !== null") is True
    assert ex.js("statetechMap.nodes.get('company:microsoft')") is None
    if UPDATE_SCREENSHOTS:
        DOCS.mkdir(exist_ok=True)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(DOCS / "explorer-entity.png"))

    # 2. expand Azure on the map: Microsoft appears; expand Microsoft: its neighbours appear
    ex.find_on_map("Microsoft Azure")
    assert page.inner_text("#details h2") == "Microsoft Azure"
    page.click("#details .expand-button")
    ex.wait_for_node("company:microsoft")
    after_azure = ex.map_nodes()
    assert after_azure > drawn
    ex.find_on_map("Microsoft Corporation")
    assert page.inner_text("#details h2") == "Microsoft Corporation"
    page.click("#details .expand-button")
    ex.wait_for_node("company:github")  # a subsidiary: Microsoft's own neighbours are drawn
    assert ex.map_nodes() > after_azure
    expand_calls = [url for url in ex.requests if "/api/expand?" in url]
    assert [url.split("id=")[1].split("&")[0] for url in expand_calls] == ["product%3Aazure", "company%3Amicrosoft"]

    # 3. the Azure data-volume relationship, with its dates and sources
    ex.find_on_map("Microsoft Azure")
    page.click('#details button[data-edge="rel:ice-uses-azure-2026-01"]')
    details = page.inner_text("#details")
    assert "U.S. Immigration and Customs Enforcement USES → Microsoft Azure" in details
    assert "as of\n2026-01" in details and "data volume tb\n1,400" in details
    assert "Sources (5)" in details
    assert "Microsoft Denies ‘Mass Surveillance’ as ICE Triples Down on Azure Usage" in details
    # the same on the entity page itself, without the map
    row = page.locator('tr[data-relationship="rel:ice-uses-azure-2026-01"]')
    assert "1,400 TB of data" in row.inner_text() and "as of 2026-01" in row.inner_text()

    # 4. run contracts/by-agency for ICE from its form and download the CSV
    page.click("nav >> text=Queries")
    ex.wait()
    page.click("text=Contracts awarded by an agency")
    ex.wait()
    assert page.url == f"{origin}/queries/contracts/by-agency"
    ex.typeahead("#param-agency", "Immigration and Customs", "agency:ice")
    assert page.input_value("#param-agency") == "agency:ice"
    page.click("form.query-form button[type=submit]")
    ex.wait()
    expected = Catalog.load().run(graph, "contracts/by-agency", {"agency": "agency:ice"})
    assert page.inner_text("#results-h") == f"{len(expected.rows)} rows"
    assert page.locator(".result-table tbody tr").count() == len(expected.rows)
    with page.expect_download() as download_info:
        page.click("text=CSV")
    download = download_info.value
    assert download.suggested_filename == "contracts-by-agency.csv"
    saved = tmp_path / "ice.csv"
    download.save_as(saved)
    assert saved.read_text(encoding="utf-8") == render_rows(expected, "csv")
    assert saved.read_text(encoding="utf-8").splitlines()[0].startswith("contract,name,awarded_by,vendors")
    if UPDATE_SCREENSHOTS:
        ex.open("/map?focus=agency:ice&depth=2", with_map=True)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(DOCS / "explorer-map.png"))
    ex.clean()


def test_expanding_a_hub_page_by_page(tab, fixture_site):
    origin, _graph = fixture_site
    ex = tab(origin)
    page = ex.page
    ex.open("/entity/agency:example-hub", with_map=True)
    # the entity page's map: the hub, its department and the first 10 contracts listed on the page
    assert ex.map_nodes() == 12
    assert ex.js("statetechMap.nodes.get('agency:example-hub').label").endswith("(+50 not shown)")
    ex.find_on_map("Example Hub Agency")
    page.click("#details .expand-button")
    page.wait_for_timeout(1200)
    # one page of 40 neighbours in id order: the department and contracts 000-038, of which 10 were drawn already
    assert ex.map_nodes() == 12 + 29
    ex.find_on_map("Example Hub Agency")
    assert "21 neighbours not drawn yet." in page.inner_text("#details")
    page.click("#details .expand-button")
    page.wait_for_timeout(1200)
    assert ex.map_nodes() == 62
    assert sorted(ex.js("statetechMap.nodes.getIds()")) == sorted(
        ["agency:example-hub", "agency:example-dept"] + [f"contract:example-hub-{i:03d}" for i in range(60)])
    calls = [url for url in ex.requests if "/api/expand?" in url]
    assert len(calls) == 2 and "offset=0" in calls[0] and "offset=40" in calls[1]
    ex.clean()


@pytest.fixture(scope="module")
def walkout_site(tmp_path_factory):
    """An explorer over one generated action that targets more companies than explore.SORTED_UP_TO (a hub whose
    map pages its relationships in storage order)."""
    from test_explore_paging import walkout_records

    path = tmp_path_factory.mktemp("walkout") / "store.grafeo"
    with Graph(GrafeoStore(path)) as loader:
        loader.load(walkout_records())
    yield from _serve(path)


def test_expanding_a_big_hub_draws_its_relationships_in_storage_order(tab, walkout_site):
    from statetech.graph import explore
    from test_explore_paging import HUB

    origin, graph = walkout_site
    ex = tab(origin)
    page = ex.page
    ex.open("/entity/" + HUB, with_map=True)
    # what the page and the first click draw, as the library gives them (storage order is the store's own)
    shown = explore.page_subgraph(graph, explore.entity_page(graph, HUB))
    first = explore.expand(graph, HUB, 0, 40)
    assert (first.unit, first.total, first.remaining) == ("relationships", 1042, 1002)
    assert sorted(ex.js("statetechMap.nodes.getIds()")) == sorted(shown.nodes)
    ex.find_on_map("Example walkout")
    assert "In storage order: too many to sort for every page" in page.inner_text("body")
    page.click("#details .expand-button")
    page.wait_for_timeout(1500)
    assert sorted(ex.js("statetechMap.nodes.getIds()")) == sorted(set(shown.nodes) | set(first.subgraph.nodes))
    ex.find_on_map("Example walkout")
    assert "1,002 relationships not drawn yet (a hub: drawn in storage order)." in page.inner_text("#details")
    assert ex.js(f"statetechMap.nodes.get('{HUB}').label").endswith("(+1,002 not shown)")
    calls = [url for url in ex.requests if "/api/expand?" in url]
    assert len(calls) == 1 and "offset=0" in calls[0]
    ex.clean()


def test_following_a_path(tab, fixture_site):
    origin, _graph = fixture_site
    ex = tab(origin)
    page = ex.page
    ex.open("/path")
    ex.typeahead("#path-from", "Example Bureau", "agency:example-bureau")
    ex.typeahead("#path-to", "Example Organiser", "person:example-organiser")
    page.click("form.path-form button[type=submit]")
    ex.wait(with_map=True)
    assert "are connected by 3 shortest paths of 3 hops." in page.inner_text(".paths")
    first = page.locator("ol.path").first
    assert first.locator(".arrow").all_inner_texts() == ["─[AWARDED]→", "←[TARGETS]─", "←[PARTICIPATED_IN]─"]
    assert ex.map_nodes() == 6
    first.locator("a.entity-link", has_text="Example workers' open letter").click()
    ex.wait(with_map=True)
    assert page.url == f"{origin}/entity/action:example-letter"
    ex.clean()


def test_saving_a_view_and_opening_its_link(tab, fixture_site):
    origin, _graph = fixture_site
    ex = tab(origin)
    page = ex.page
    ex.open("/map?focus=company:example-cloud&depth=1", with_map=True)
    ids = sorted(ex.js("statetechMap.nodes.getIds()"))
    assert ids == ["action:example-letter", "company:example-cloud", "contract:example-award-1",
                   "person:example-organiser", "policy:example-ai-principles", "product:example-platform"]
    positions = ex.js("statetechMap.network.getPositions()")
    page.uncheck('input[data-filter="kind"][value="Person"]')
    page.click("#copy-link")
    link = page.input_value("#view-link")
    assert link.startswith(f"{origin}/map?view=")
    ex.open(link[len(origin):], with_map=True)
    assert sorted(ex.js("statetechMap.nodes.getIds()")) == ids
    reopened = ex.js("statetechMap.network.getPositions()")
    assert set(ids) - {"person:example-organiser"} <= set(reopened)
    for node_id in set(reopened) & set(ids):
        assert abs(reopened[node_id]["x"] - positions[node_id]["x"]) < 1.5
        assert abs(reopened[node_id]["y"] - positions[node_id]["y"]) < 1.5
    assert page.is_checked('input[data-filter="kind"][value="Person"]') is False
    ex.clean()


HOSTILE_PAGES = [
    ("/", False), ("/search?q=%3Cimg", False), ("/search?q=constructor", False),
    ("/entity/company:example-hostile", True), ("/entity/company:constructor", True),
    ("/entity/product:tostring", True), ("/entity/person:example-long-name", True), ("/entity/__proto__", True),
    ("/source/source:example-20250101-web-hostile", False), ("/source/source:example-20230105-hostile", False),
    ("/timeline/person:example-long-name", False), ("/path?from=__proto__&to=product:tostring", True),
    ("/map?focus=company:constructor&depth=2", True),
    ("/queries/sources/supports?source=source:example-20250101-web-hostile", False),
    ("/entity/%3Cscript%3Ealert(1)%3C%2Fscript%3E", False),
]


def test_hostile_data_is_inert_on_every_page(tab, fixture_site):
    origin, _graph = fixture_site
    ex = tab(origin)
    page = ex.page
    for path, with_map in HOSTILE_PAGES:
        ex.open(path, with_map=with_map)
        assert ex.js("document.querySelectorAll('img, iframe, object, embed, image').length") == 0, path
        # the only SVG is the map's own legend swatches: a line, polygon or circle, no attribute from the data
        assert ex.js("""() => Array.from(document.querySelectorAll('svg')).every(svg =>
            svg.closest('.statetech-map') && Array.from(svg.children).every(c => ['line', 'polygon', 'circle']
                .includes(c.tagName)) && !Array.from(svg.querySelectorAll('*')).concat([svg]).some(e =>
                Array.from(e.attributes).some(a => a.name.startsWith('on'))))""") is True, path
        scripts = ex.js("Array.from(document.scripts).map(s => s.src ? new URL(s.src).pathname : s.type)")
        assert all(s.startswith("/static/") or s == "application/json" for s in scripts), (path, scripts)
        hrefs = ex.js("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        assert all(h.startswith(("http://", "https://")) for h in hrefs), (path, hrefs)
        assert not any(h.lower().startswith("javascript:") for h in hrefs), path
        # the map's own details panel, for every node drawn: text only (not on maps holding a '__proto__' node,
        # which vis-network cannot draw: see test_a_proto_id_is_drawn_on_the_map)
        if with_map and ex.js("statetechMap.nodes.get('__proto__')") is None:
            for node_id in ex.js("statetechMap.nodes.getIds()"):
                try:
                    ex.js("(id) => statetechMap.focusNode(id)", node_id)
                except Exception as exc:
                    raise AssertionError(f"{path}: focusing {node_id!r}: {exc}") from None
            assert ex.js("document.querySelectorAll('#details img, #details iframe, #details object').length") == 0
            links = ex.js("Array.from(document.querySelectorAll('#details a')).map(a => a.getAttribute('href'))")
            assert not any(str(h).lower().startswith("javascript:") for h in links), (path, links)
        if path.startswith("/entity/%3C"):  # no such entity: the browser logs the 404 status, nothing else
            assert ex.errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
            assert ex.page.inner_text("h1") == "Not found"
            ex.errors.clear()
        ex.clean()
    ex.open("/entity/company:example-hostile", with_map=True)
    assert page.inner_text("h1") == "<img src=x onerror=alert(1)>"
    ex.open("/entity/product:tostring", with_map=True)
    assert page.inner_text("h1") == "\u202etxt.exe <svg/onload=alert(3)>"
    ex.open("/entity/__proto__", with_map=True)
    assert page.inner_text("h1") == "toString"
    ex.open("/entity/company:constructor", with_map=True)
    assert "<script>window.__pwned = 'constructor notes'</script>" in page.inner_text(".entity-props")
    assert "javascript:alert(12)" in page.inner_text(".entity-props")
    ex.clean()


def test_a_proto_id_is_drawn_on_the_map(tab, fixture_site):
    origin, _graph = fixture_site
    ex = tab(origin)
    ex.open("/entity/__proto__", with_map=True)
    # vis-network keeps nodes in plain objects, so map.js hands it a marked key for such ids; the page's API gives
    # the real ids back, and vis-network must hold (and draw) both nodes.
    assert sorted(ex.js("statetechMap.nodeIds()")) == ["__proto__", "company:constructor"]
    assert len(ex.js("Object.keys(statetechMap.network.body.nodes)")) == 2
    positions = ex.js("JSON.stringify(statetechMap.network.getPositions())")
    assert "null" not in positions  # NaN positions: the whole layout breaks


def test_the_harness_sees_what_it_guards_against(tab, fixture_site):
    """The checks above could pass by seeing nothing: here a request to another host and a CSP violation must be
    seen."""
    origin, _graph = fixture_site
    ex = tab(origin)
    ex.open("/")
    ex.js("() => { const i = document.createElement('img'); i.src = 'http://example.com/x.png'; "
          "document.body.appendChild(i); }")
    ex.page.wait_for_timeout(500)
    assert ex.blocked == ["http://example.com/x.png"] or any("Content Security Policy" in e for e in ex.errors)
    ex.errors.clear()
    ex.js("() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1'; "
          "document.body.appendChild(s); }")
    ex.page.wait_for_timeout(300)
    assert ex.js("typeof window.__pwned") == "undefined"
    assert any("Content Security Policy" in error for error in ex.errors)
