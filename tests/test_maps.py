"""Maps as strings and selections as subgraphs: escaping, offline page, styling data, hub caps, size limits, and
the focus/query/whole-graph selections with their filters (on every backend). The browser test drives the same
pages in Chromium (test_maps_browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.maps import MapError, MapTooLarge, render_map, script_json
from statetech.graph.selection import Filters, Selection, SelectionError, cap_hubs, ids_in_rows, select
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode
from statetech.loaders.curated import load_files

FIXTURES = Path(__file__).parent / "fixtures" / "curated"
HOSTILE_FIXTURE = FIXTURES / "map_hostile.yaml"
XSS = "<img src=x onerror=alert(1)>"
SMALL_IDS = {"agency:example-dept", "agency:example-bureau", "company:example-cloud", "product:example-platform",
             "contract:example-award-1", "action:example-letter", "policy:example-ai-principles",
             "person:example-organiser"}
HOSTILE_IDS = {"company:example-hostile", "contract:example-award-2"}


@pytest.fixture
def map_graph(graph, small_fixture):
    """The small fictional graph plus the hostile-names records, on each backend."""
    load_files(graph, [small_fixture, HOSTILE_FIXTURE])
    return graph


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="statetech-data">(.*?)</script>', html, re.S)
    assert match, "the page has no data element"
    return json.loads(match.group(1))


def script_bodies(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, re.S)


def _script_elements(html: str) -> int:
    """Script elements as a browser parses them: text inside a script (vis-network mentions '<script') is not a tag."""
    from html.parser import HTMLParser

    class Counter(HTMLParser):
        count = 0

        def handle_starttag(self, tag, attrs):
            if tag == "script":
                Counter.count += 1

    Counter().feed(html)
    return Counter.count


# ---- the page --------------------------------------------------------------------------------------------------


def test_map_is_one_offline_page_whose_only_scripts_are_ours(map_graph):
    html = render_map(map_graph.whole_graph())
    # no element loads anything: no src/href attribute, no stylesheet link, no import
    assert re.findall(r"<[a-z]+[^>]*\s(?:src|href)\s*=", html, re.I) == []
    assert "<link" not in html and "@import" not in html
    # exactly three script elements: data (JSON, not run), vis-network, the page logic
    assert _script_elements(html) == 3
    assert html.count("</script>") == 3
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1)
    csp = csp.replace("&#39;", "'")
    hashes = ["'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
              for body in script_bodies(html)]
    assert csp.startswith("default-src 'none'; ")
    assert f"script-src {hashes[0]} {hashes[1]}; " in csp
    assert "img-src data: blob:; base-uri 'none'; form-action 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_everything_from_data_is_escaped(map_graph):
    title = f"Map of {XSS} & </script><script>alert(2)</script>"
    html = render_map(map_graph.whole_graph(), title=title)
    assert XSS not in html
    assert "<svg onload" not in html
    assert "\u2028" not in html and "\u2029" not in html
    assert "<script>window.__pwned" not in html and "<script>alert(2)" not in html
    assert _script_elements(html) == 3
    assert len(re.findall(r"<h1>", html)) == 1
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) == (
        "Map of &lt;img src=x onerror=alert(1)&gt; &amp; &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;")
    assert "<title>Map of &lt;img src=x onerror=alert(1)&gt; &amp; &lt;/script&gt;" in html
    data = page_data(html)
    assert data["entities"]["company:example-hostile"]["name"] == XSS
    assert data["settings"]["title"] == title
    source = data["sources"]["source:example-20230105-hostile"]
    assert source["title"] == "</script><script>window.__pwned = 'source title'</script>"
    assert source["excerpt"] == "Ends here \u2028 and here \u2029 <!-- not a comment -->"


def test_script_json_escapes_markup_and_line_separators():
    text = script_json({"a": "</script><!--&\u2028\u2029>"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029\\u003e"}'
    assert json.loads(text) == {"a": "</script><!--&\u2028\u2029>"}


def test_page_data_matches_the_subgraph(map_graph):
    sub = map_graph.whole_graph()
    data = page_data(render_map(sub))
    assert {n["id"] for n in data["nodes"]} == SMALL_IDS | HOSTILE_IDS
    assert len(data["edges"]) == len(sub.edges) == 18
    assert {e["id"] for e in data["edges"]} == {e.id for e in sub.edges}
    assert [(k["kind"], k["count"], k["shape"], k["colour"]) for k in data["kinds"]] == [
        ("Agency", 2, "square", "#0072B2"), ("Company", 2, "dot", "#D55E00"), ("Contract", 2, "diamond", "#E69F00"),
        ("EmployeeAction", 1, "star", "#CC79A7"), ("Policy", 1, "triangleDown", "#56B4E9"),
        ("Person", 1, "hexagon", "#7F7F7F"), ("Product", 1, "triangle", "#009E73")]
    assert sum(t["count"] for t in data["types"]) == 18
    assert data["options"]["groups"]["Agency"] == {
        "shape": "square", "color": {"background": "#0072B2", "border": "#004f7c",
                                     "highlight": {"background": "#0072B2", "border": "#111111"},
                                     "hover": {"background": "#0072B2", "border": "#111111"}}}
    letter = data["entities"]["action:example-letter"]
    assert letter == {"kind": "EmployeeAction", "name": "Example workers' open letter",
                      "props": {"action_type": "open_letter", "confidence": "reported", "participants": 120,
                                "start_date": "2024-03"},
                      "sources": ["source:example-20240301-letter"], "truncated": 0}
    uses = data["relationships"]["rel:example-bureau-uses-platform-2024"]
    assert uses == {"type": "USES", "from": "agency:example-bureau", "to": "product:example-platform",
                    "props": {"as_of": "2024-01", "confidence": "confirmed", "data_volume_tb": 400.0},
                    "sources": ["source:example-20240102-award"]}
    assert data["sources"]["source:example-20240102-award"]["url"] == "https://example.org/awards/1"
    # the dateline: newest accessed date among the sources, and the counts
    assert data["settings"]["dateline"] == "Data as of 2026-11-28 \u00b7 10 nodes \u00b7 18 relationships \u00b7 3 sources"
    assert data["options"]["edges"]["arrows"] == {"to": {"enabled": True, "scaleFactor": 0.5}}
    assert data["options"]["interaction"]["hover"] is True


def test_edge_labels_colours_and_curves_for_parallel_relationships(map_graph):
    data = page_data(render_map(map_graph.whole_graph()))
    edges = {e["id"]: e for e in data["edges"]}
    awarded_to = edges["rel:contract:example-award-2>AWARDED_TO>company:example-hostile"]
    subcontracted = edges["rel:contract:example-award-2>SUBCONTRACTED_TO>company:example-hostile"]
    assert (awarded_to["label"], awarded_to["color"]) == ("AWARDED_TO", "#C45A00")
    assert (subcontracted["label"], subcontracted["color"]) == ("SUBCONTRACTED_TO", "#D9914A")
    # the pair's two relationships bend to opposite sides; the pair in opposite directions too
    assert {awarded_to["smooth"]["type"], subcontracted["smooth"]["type"]} == {"curvedCW", "curvedCCW"}
    organized = edges["rel:action:example-letter>ORGANIZED_AT>company:example-cloud"]
    responded = edges["rel:company:example-cloud>RESPONDED_TO>action:example-letter"]
    assert organized["smooth"]["type"] == responded["smooth"]["type"]  # drawn in opposite directions: same turn
    assert organized["smooth"]["roundness"] == responded["smooth"]["roundness"] == 0.18
    # a pair's only relationship is straight (the global option)
    assert "smooth" not in edges["rel:agency:example-bureau>PART_OF>agency:example-dept"]
    assert data["options"]["edges"]["smooth"] == {"enabled": False}


def test_node_size_by_degree_or_contract_value(map_graph):
    sub = map_graph.whole_graph()
    by_degree = {n["id"]: n["value"] for n in page_data(render_map(sub))["nodes"]}
    assert by_degree["company:example-cloud"] == round(math.sqrt(6), 3)
    assert by_degree["agency:example-dept"] == round(math.sqrt(2), 3)
    by_value = {n["id"]: n["value"] for n in page_data(render_map(sub, size_by="value"))["nodes"]}
    assert by_value["contract:example-award-1"] == round(math.log10(1 + 1500000.5), 3)
    # a vendor: the amounts on its AWARDED_TO/SUBCONTRACTED_TO, or the contract's value where none is given
    assert by_value["company:example-hostile"] == round(math.log10(1 + 200000 + 50000), 3)
    assert by_value["company:example-cloud"] == round(math.log10(1 + 1500000.5), 3)
    # an agency: the contracts it awarded
    assert by_value["agency:example-bureau"] == round(math.log10(1 + 1500000.5), 3)
    assert by_value["person:example-organiser"] == 0
    with pytest.raises(MapError, match="size_by must be one of degree, value, got 'money'"):
        render_map(sub, size_by="money")


def test_focus_is_marked_and_titles_the_map(map_graph):
    sub = map_graph.neighbourhood("agency:example-bureau", 1)
    data = page_data(render_map(sub))
    focus = next(n for n in data["nodes"] if n["id"] == "agency:example-bureau")
    assert focus["borderWidth"] == 4
    assert data["settings"]["title"] == "Example Bureau: 1-hop neighbourhood"
    assert data["settings"]["fileStem"] == "example-bureau-1-hop-neighbourhood"


def test_render_map_with_defaults_of_an_empty_subgraph():
    html = render_map(Subgraph(title="Nothing"), data_date="2025-01-01")
    data = page_data(html)
    assert data["nodes"] == [] and data["edges"] == []
    assert "This selection has no nodes." in html
    assert data["settings"]["dateline"].startswith("Data as of 2025-01-01 \u00b7 0 nodes")


# ---- hubs and size limits ---------------------------------------------------------------------------------------


def star(leaves: int, others: int = 0) -> Subgraph:
    """A hub with ``leaves`` contracts that touch only it, and ``others`` companies also linked to each other."""
    sub = Subgraph(title="Star")
    sub.add_node(SubgraphNode("agency:hub", "Agency", {"name": "Hub", "sources": ["source:s"]}))
    for i in range(leaves):
        sub.add_node(SubgraphNode(f"contract:c{i:03d}", "Contract",
                                  {"name": f"C{i:03d}", "obligated_usd": float(i), "sources": ["source:s"]}))
        sub.add_edge(SubgraphEdge(f"rel:a{i}", "AWARDED", "agency:hub", f"contract:c{i:03d}", {"sources": []}))
    for i in range(others):
        sub.add_node(SubgraphNode(f"company:o{i}", "Company", {"name": f"O{i}", "sources": []}))
        sub.add_edge(SubgraphEdge(f"rel:o{i}", "USES", "agency:hub", f"company:o{i}", {"sources": []}))
        sub.add_edge(SubgraphEdge(f"rel:p{i}", "SUBSIDIARY_OF", f"company:o{i}", f"company:o{(i + 1) % others}",
                                  {"sources": []}))
    sub.sources = {"source:s": {"id": "source:s", "url": "https://example.org", "title": "S", "publisher": "P",
                                "published": "2024"}}
    return sub


def test_hub_keeps_its_biggest_leaves_up_to_the_cap_and_counts_the_rest():
    sub = star(100, others=4)
    capped = cap_hubs(sub, 10)
    kept = sorted(n for n in capped.nodes if n.startswith("contract:"))
    # 10 neighbours allowed, 4 of them are companies linked elsewhere (never dropped): the 6 biggest contracts stay
    assert kept == [f"contract:c{i:03d}" for i in range(94, 100)]
    assert capped.truncated == {"agency:hub": 94}
    assert len(capped.nodes) == 1 + 4 + 6 and len(capped.edges) == 4 + 4 + 6
    assert len(sub.nodes) == 105  # the input is not changed


def test_map_caps_hubs_above_the_size_and_says_how_many_are_left_out():
    sub = star(400)
    html = render_map(sub, max_neighbours=40, cap_above=300)
    data = page_data(html)
    assert len(data["nodes"]) == 41
    hub = next(n for n in data["nodes"] if n["id"] == "agency:hub")
    assert hub["label"] == "Hub\n(+360 not shown)"
    assert data["entities"]["agency:hub"]["truncated"] == 360
    assert ("<li>360 neighbours of 1 hub left out to keep the map responsive (at most 40 each); each hub&#39;s label "
            "says how many. Select a hub and press Expand to draw them.</li>") in html
    # the counts are of what is drawn, and say what was left out
    assert data["settings"]["dateline"].endswith(
        "\u00b7 41 nodes \u00b7 40 relationships \u00b7 1 source \u00b7 360 more neighbours of 1 hub not drawn")
    assert [(k["kind"], k["count"]) for k in data["kinds"]] == [("Agency", 1), ("Contract", 40)]
    # the left-out neighbours stay in the file, biggest contracts first, for the page to reveal
    reserve = data["reserve"]
    assert reserve["hubs"]["agency:hub"] == [f"contract:c{i:03d}" for i in range(359, -1, -1)]
    assert {n["id"] for n in reserve["nodes"]} == set(reserve["hubs"]["agency:hub"])
    assert len(reserve["edges"]) == 360 and set(reserve["entities"]) == set(reserve["hubs"]["agency:hub"])
    # a smaller reserve keeps only that many, and the notice says so
    html = render_map(sub, max_neighbours=40, cap_above=300, reserve_limit=100)
    assert len(page_data(html)["reserve"]["hubs"]["agency:hub"]) == 100
    assert "100 of them are kept in this file: select a hub and press Expand to draw them." in html
    assert page_data(render_map(sub, max_neighbours=40, cap_above=300, reserve_limit=0))["reserve"] is None
    # below the size, nothing is capped
    assert len(page_data(render_map(star(200), max_neighbours=40, cap_above=300))["nodes"]) == 201


def test_the_focus_is_never_capped_away():
    sub = star(50)
    sub.focus = "contract:c000"
    capped = cap_hubs(sub, 5)
    assert "contract:c000" in capped.nodes
    assert capped.truncated == {"agency:hub": 45}


def test_selection_caps_hubs_for_exports_too(map_graph):
    sub = select(map_graph, Selection(max_neighbours=2))
    # no node with more than 2 neighbours has one that connects only to it: nothing to drop
    assert len(sub.nodes) == 10 and sub.truncated == {}
    sub = select(map_graph, Selection(max_neighbours=0, filters=Filters.parse(rel_types="PART_OF,USES")))
    # the bureau's neighbours (department, platform) each connect only to it: both dropped and counted
    assert sub.truncated == {"agency:example-bureau": 2}
    assert "agency:example-dept" not in sub.nodes and "product:example-platform" not in sub.nodes


def test_a_very_large_selection_gets_a_clear_message():
    with pytest.raises(MapTooLarge) as info:
        render_map(star(30), max_nodes=20, max_neighbours=None)
    assert str(info.value) == (
        "this selection has 31 nodes, more than a map can lay out smoothly in a browser (limit 20); narrow it with "
        "--focus and --depth, a --query, --kinds, --rel-types or --since/--until, lower --max-neighbours, raise "
        "--max-nodes, or use 'statetech export --format gexf' and open it in Gephi")
    with pytest.raises(MapTooLarge, match=r"^this selection has 21 nodes \(31 before capping hubs\)"):
        render_map(star(30), max_nodes=20, max_neighbours=20, cap_above=0)


def test_big_maps_stop_physics_after_layout_and_drop_edge_labels():
    data = page_data(html := render_map(star(60), freeze_above=50))
    assert data["settings"]["freezeAfterLayout"] is True
    assert data["options"]["interaction"]["hideEdgesOnDrag"] is True
    assert "61 nodes: laid out in advance, physics off; tick Physics to start it." in html
    assert data["options"]["physics"]["enabled"] is False
    # every node arrives with a position from the server-side layout
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in data["nodes"])
    assert 'id="toggle-physics" type="checkbox">' in html
    small = page_data(render_map(star(10)))
    assert small["settings"]["freezeAfterLayout"] is False
    assert small["options"]["physics"]["stabilization"]["iterations"] == 150
    assert all("label" in e for e in small["edges"])
    assert page_data(render_map(star(10), physics=False))["settings"]["freezeAfterLayout"] is True
    assert all("label" not in e for e in page_data(render_map(star(10), edge_labels=False))["edges"])


# ---- selections ---------------------------------------------------------------------------------------------------


def test_focus_selection_by_name_and_depth(map_graph):
    sub = select(map_graph, Selection(focus="Example Bureau", depth=1))
    assert sub.focus == "agency:example-bureau"
    assert set(sub.nodes) == {"agency:example-bureau", "agency:example-dept", "contract:example-award-1",
                              "product:example-platform"}
    assert set(select(map_graph, Selection(focus="EXB", depth=0)).nodes) == {"agency:example-bureau"}


def test_whole_graph_selection_with_kind_filters(map_graph):
    sub = select(map_graph, Selection(filters=Filters.parse(kinds="-Person,-Policy,-EmployeeAction")))
    assert set(sub.nodes) == (SMALL_IDS | HOSTILE_IDS) - {"person:example-organiser", "policy:example-ai-principles",
                                                          "action:example-letter"}
    assert all(e.source in sub.nodes and e.target in sub.nodes for e in sub.edges)
    assert set(sub.sources) == {"source:example-20240102-award", "source:example-20230105-hostile"}
    only = select(map_graph, Selection(filters=Filters.parse(kinds="agency,company")))
    assert set(only.nodes) == {"agency:example-dept", "agency:example-bureau", "company:example-cloud",
                               "company:example-hostile"}
    assert [e.type for e in only.edges] == ["PART_OF"]


def test_relationship_type_filter_walks_only_those_relationships_from_the_focus(map_graph):
    sub = select(map_graph, Selection(focus="agency:example-bureau", depth=2,
                                      filters=Filters.parse(rel_types="AWARDED,AWARDED_TO")))
    assert set(sub.nodes) == {"agency:example-bureau", "contract:example-award-1", "company:example-cloud"}
    assert sorted(e.type for e in sub.edges) == ["AWARDED", "AWARDED_TO"]
    assert Filters.parse(rel_types="-TARGETS,-cites").exclude_types == {"TARGETS", "CITES"}


def test_date_window_keeps_overlapping_and_undated_records(map_graph):
    late = select(map_graph, Selection(filters=Filters.parse(since="2020")))
    assert "contract:example-award-2" not in late.nodes  # ran 2018-05-01 .. 2019-04-30
    assert "company:example-hostile" in late.nodes  # undated
    assert "rel:agency:example-dept>AWARDED>contract:example-award-2" not in {e.id for e in late.edges}
    early = select(map_graph, Selection(filters=Filters.parse(until="2019-12")))
    assert "contract:example-award-2" in early.nodes
    assert "contract:example-award-1" not in early.nodes  # started 2024-01-02
    assert "action:example-letter" not in early.nodes  # 2024-03
    # an event (employee action) is on its date; a contract with no end date counts as still running
    after_letter = select(map_graph, Selection(filters=Filters.parse(since="2024-04")))
    assert "action:example-letter" not in after_letter.nodes
    assert "contract:example-award-1" in after_letter.nodes
    # partial dates compare by the whole period they name
    assert "action:example-letter" in select(map_graph, Selection(filters=Filters.parse(since="2024-03-31"))).nodes
    # the USES reading 'as_of 2024-01' is a point in time
    uses = "rel:example-bureau-uses-platform-2024"
    assert uses not in {e.id for e in select(map_graph, Selection(filters=Filters.parse(since="2024-02"))).edges}


def test_query_selection_shows_the_entities_the_rows_name(map_graph):
    sub = select(map_graph, Selection(query="entities/neighbourhood", params={"entity": "Example Cloud Inc."}))
    assert set(sub.nodes) == {"company:example-cloud", "contract:example-award-1", "product:example-platform",
                              "action:example-letter", "policy:example-ai-principles", "person:example-organiser"}
    assert sub.title == "Neighbourhood of an entity (entity=company:example-cloud)"
    # every relationship among them, not only those the rows mention
    assert "rel:action:example-letter>CITES>policy:example-ai-principles" in {e.id for e in sub.edges}


def test_query_without_entity_ids_is_a_clear_error(map_graph, tmp_path):
    from statetech.graph.catalog import Catalog

    (tmp_path / "counts.cypher").write_text(
        "// title: Count\n// description: How many entities.\n// returns: [entities]\n"
        "MATCH (n:Entity) RETURN count(n) AS entities\n",
        encoding="utf-8")
    with pytest.raises(SelectionError) as info:
        select(map_graph, Selection(query="counts"), catalog=Catalog.load(tmp_path))
    assert str(info.value) == ("query 'counts' returned 1 rows but no entity ids (columns: entities); a map or export "
                               "needs a query that returns ids such as 'agency:ice'")


def test_ids_in_rows_finds_ids_in_values_lists_and_records():
    rows = [{"a": "company:x", "b": ["agency:y", "not an id", "source:s"], "c": {"id": "product:z", "n": 3},
             "r": "rel:company:x>PROVIDES>product:z", "d": "Company:X", "e": None}]
    assert ids_in_rows(rows) == ({"company:x", "agency:y", "product:z"}, {"rel:company:x>PROVIDES>product:z"})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kinds": "Agency,Vendor"}, "--kinds: 'Vendor' is not a node kind; use one of Agency, Company, Contract, "
                                 "EmployeeAction, Policy, Person, Product (prefix one with '-' to leave it out)"),
    ({"rel_types": "-PAID"}, "--rel-types: 'PAID' is not a relationship type; use one of PART_OF, SHARES_DATA_WITH"),
    ({"since": "2024-13"}, "--since: '2024-13' is not a date; write YYYY-MM-DD, YYYY-MM or YYYY"),
    ({"since": "2025", "until": "2024-06"}, "--since 2025 is after --until 2024-06; swap them"),
])
def test_filter_mistakes_are_clear(kwargs, message):
    with pytest.raises(SelectionError) as info:
        Filters.parse(**kwargs)
    assert str(info.value).startswith(message)


def test_contradictory_selections_are_refused(map_graph):
    with pytest.raises(SelectionError, match="^give either --focus or --query, not both$"):
        select(map_graph, Selection(focus="EXB", query="entities/search"))
    with pytest.raises(SelectionError, match=r"^--param only applies with --query NAME$"):
        select(map_graph, Selection(params={"text": "x"}))


# ---- the command ----------------------------------------------------------------------------------------------------


def test_map_command_writes_the_selection(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "load", str(small_fixture), str(HOSTILE_FIXTURE)]).exit_code == 0
    out = tmp_path / "bureau.html"
    result = runner.invoke(cli, ["--db", db, "map", "--focus", "EXB", "--depth", "1", "--kinds", "-Contract",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert result.output == f"wrote {out}: 3 nodes, 2 relationships ({len(html) / 1e6:.1f} MB)\n"
    assert {n["id"] for n in page_data(html)["nodes"]} == {"agency:example-bureau", "agency:example-dept",
                                                           "product:example-platform"}
    result = runner.invoke(cli, ["--db", db, "map", "--query", "entities/neighbourhood", "-p", "entity=EXB",
                                 "--title", "Bureau", "--size-by", "value", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert page_data(result.output)["settings"]["title"] == "Bureau"
    result = runner.invoke(cli, ["--db", db, "map", "--max-nodes", "5", "-o", str(tmp_path / "no.html")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: this selection has 10 nodes, more than a map can lay out smoothly")
    assert not (tmp_path / "no.html").exists()
    result = runner.invoke(cli, ["--db", db, "map", "--kinds", "Vendor"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: --kinds: 'Vendor' is not a node kind")


# ---- the contract with the explorer: map_data, map_fragment, map_asset, map_body.html ------------------------------


def test_map_data_is_what_render_map_embeds_and_takes_live_urls(map_graph):
    from statetech.graph.maps import map_body_context, map_data

    sub = map_graph.whole_graph()
    data = map_data(sub, title="T", data_date="2026-01-01")
    assert page_data(render_map(sub, title="T", data_date="2026-01-01")) == data
    assert data["settings"]["live"] is None and data["settings"]["maxDrawn"] == 3000
    live = {"expandUrl": "/api/expand", "entityUrl": "/entity/", "sourceUrl": "/source/", "viewUrl": "/map"}
    assert map_data(sub, live=live)["settings"]["live"] == live
    with pytest.raises(MapError, match="live settings take text values for expandUrl, entityUrl, sourceUrl, viewUrl"):
        map_data(sub, live={"expandUrl": "/x", "evil": "javascript:alert(1)"})
    context = map_body_context(data)
    assert context["map_label"] == "Relationship map: 10 nodes and 18 relationships"
    assert context["physics_checked"] is True and context["notices"] == []
    # every record carries its confidence for the page to style: alleged never looks confirmed
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["company:example-hostile"]["confidence"] == "alleged"
    assert nodes["contract:example-award-2"]["confidence"] == "reported"
    edges = {e["id"]: e for e in data["edges"]}
    assert edges["rel:contract:example-award-2>SUBCONTRACTED_TO>company:example-hostile"]["confidence"] == "alleged"
    assert set(data["styles"]["kinds"]) == {"Agency", "Company", "Contract", "EmployeeAction", "Policy", "Person",
                                            "Product"}


def test_map_fragment_has_the_same_per_item_format(map_graph):
    from statetech.graph.maps import map_data, map_fragment

    sub = map_graph.neighbourhood("agency:example-bureau", 1)
    fragment = map_fragment(sub)
    assert set(fragment) == {"nodes", "edges", "entities", "relationships", "sources"}
    data = map_data(sub)
    strip = lambda items: [{k: v for k, v in item.items() if k not in ("x", "y", "borderWidth", "focus")}  # noqa: E731
                           for item in items]
    assert strip(fragment["nodes"]) == strip(data["nodes"])
    assert fragment["edges"] == data["edges"]
    assert fragment["entities"] == data["entities"] and fragment["relationships"] == data["relationships"]
    assert fragment["sources"] == data["sources"]
    assert all("x" not in node for node in fragment["nodes"])


def test_map_assets_and_the_shared_markup():
    from statetech.graph.maps import map_asset

    assert "vis.Network" not in map_asset("map.css") and ".statetech-map" in map_asset("map.css")
    assert map_asset("map.js").startswith("/* statetech relationship map")
    assert len(map_asset("vis-network.min.js")) > 400_000
    with pytest.raises(MapError, match="no map asset called '../maps.py'; there are vis-network.min.js, map.js, map.css"):
        map_asset("../maps.py")
    html = render_map(star(3))
    # the offline page includes the shared partial: one root for the map front end, no page-wide assumptions
    assert html.count('<div class="statetech-map" id="statetech-map">') == 1
    assert '<body class="map-page">' in html
    for control in ("save-view", "copy-link", "filter-confidence", "date-since", "date-until", "map-message"):
        assert f'id="{control}"' in html


def test_layout_is_precomputed_and_spreads_with_size():
    from statetech.graph.maps import layout_positions

    small = layout_positions(star(20))
    assert len(small) == 21
    big = layout_positions(synthetic_companies(1500))
    assert len(big) == 1500
    spread = lambda pos: max(max(abs(x), abs(y)) for x, y in pos.values())  # noqa: E731
    assert spread(big) > 5 * spread(small) * 0.5
    # deterministic: the same subgraph lays out the same way
    assert layout_positions(star(20)) == small
    xs = sorted(round(x) for x, _y in big.values())
    assert len(set(xs)) > 1000  # not collapsed onto a few points


def synthetic_companies(n: int) -> Subgraph:
    sub = Subgraph(title="Synthetic")
    for i in range(n):
        sub.add_node(SubgraphNode(f"company:c{i}", "Company", {"name": f"Company {i}", "sources": []}))
    for i in range(n):
        sub.edges.append(SubgraphEdge(f"rel:r{i}", "SUBSIDIARY_OF", f"company:c{i}", f"company:c{(i * 7 + 3) % n}",
                                      {"sources": []}))
    return sub


def test_live_maps_leave_expansion_to_the_server():
    from statetech.graph.maps import map_data

    live = {"expandUrl": "/api/expand", "entityUrl": "/entity/", "sourceUrl": "/source/", "viewUrl": "/map"}
    data = map_data(star(400), live=live, max_neighbours=40, cap_above=300)
    assert data["reserve"] is None and len(data["nodes"]) == 41
    assert data["settings"]["notices"][0].endswith("each hub's label says how many. Expand a hub to draw more of them.")


def test_an_entity_neighbourhood_is_laid_out_in_rings_round_its_focus():
    # An entity page's map is a star (every relationship touches the entity): rings around it, evenly spaced,
    # grouped by kind, the same every time; anything else keeps the force layout.
    from statetech.graph.maps import NODE_SPACING, layout_positions

    sub = star(90)
    for i in range(5):
        sub.add_node(SubgraphNode(f"company:v{i}", "Company", {"name": f"V{i}", "sources": []}))
        sub.add_edge(SubgraphEdge(f"rel:v{i}", "USES", "agency:hub", f"company:v{i}", {"sources": []}))
    sub.focus = "agency:hub"
    pos = layout_positions(sub)
    assert len(pos) == 96 and pos["agency:hub"] == (0.0, 0.0)
    points = [p for node_id, p in pos.items() if node_id != "agency:hub"]
    nearest = min(math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1:])
    assert nearest >= NODE_SPACING  # labels of neighbours do not sit on each other
    radii = sorted({round(math.dist(p, (0, 0))) for p in points})
    assert 2 <= len(radii) <= 4  # a few rings, not a scatter
    # grouped by kind: the companies sort before the contracts, so they sit side by side on the inner ring
    inner = [node_id for node_id, p in pos.items()
             if node_id != "agency:hub" and round(math.dist(p, (0, 0))) == radii[0]]
    assert {f"company:v{i}" for i in range(5)} <= set(inner)
    assert layout_positions(sub) == pos
    # a neighbour linked to another neighbour: no longer a star, so the force layout places it
    sub.add_edge(SubgraphEdge("rel:x", "SUBSIDIARY_OF", "company:v0", "company:v1", {"sources": []}))
    assert layout_positions(sub) != pos
