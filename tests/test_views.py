"""Saved map views: the file and URL forms round-trip, and anything malformed is refused with a message that says
what is wrong (a view arrives from outside, in a link someone sent)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.views import (
    MAX_VIEW_NODES, MapView, ViewError, decode_view, encode_view, read_view, subgraph_for_view, view_from_dict,
    write_view,
)
from statetech.loaders.curated import load_files

HOSTILE_FIXTURE = Path(__file__).parent / "fixtures" / "curated" / "map_hostile.yaml"


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="statetech-data">(.*?)</script>', html, re.S)
    assert match, "the page has no data element"
    return json.loads(match.group(1))


def a_view() -> MapView:
    return MapView(nodes=["agency:example-bureau", "agency:example-dept"],
                   positions={"agency:example-bureau": (10.5, -20.0), "agency:example-dept": (300.0, 41.25)},
                   title="Bureau \u2192 <b>dept</b> \u202eRTL", focus="agency:example-bureau",
                   hidden_kinds=["Person"], hidden_types=["TARGETS"], confidence=["confirmed", "reported"],
                   since="2020", until="2024-06")


def code_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_view_round_trips_through_url_and_file(tmp_path):
    view = a_view()
    code = encode_view(view)
    assert "=" not in code and "+" not in code and "/" not in code
    back = decode_view(code)
    assert back.nodes == view.nodes
    # positions are kept to a tenth of a unit
    assert back.positions == {"agency:example-bureau": (10.5, -20.0), "agency:example-dept": (300.0, 41.2)}
    assert (back.title, back.focus, back.hidden_kinds, back.hidden_types, back.confidence, back.since, back.until) == (
        view.title, view.focus, ["Person"], ["TARGETS"], ["confirmed", "reported"], "2020", "2024-06")
    assert decode_view("view=" + code).nodes == view.nodes
    path = tmp_path / "v.json"
    write_view(view, path)
    assert read_view(path).as_dict() == back.as_dict()
    assert json.loads(path.read_text())["filters"] == {"hiddenKinds": ["Person"], "hiddenTypes": ["TARGETS"],
                                                       "confidence": ["confirmed", "reported"], "since": "2020",
                                                       "until": "2024-06"}


@pytest.mark.parametrize("value, message", [
    ("not json", "the view code: not a saved map view (bad JSON at line 1, column 1: Expecting value)"),
    ([1, 2], "the view code: not a saved map view (expected a JSON object)"),
    ({"version": 2, "nodes": ["agency:x"]}, "the view code: view format version 2 is not supported (this statetech "
                                            "reads version 1); save the view again from a current map"),
    ({"version": 1, "nodes": []}, "the view code: 'nodes' must be a non-empty list of entity ids"),
    ({"version": 1, "nodes": ["__proto__"]}, "the view code: node '__proto__' is not an entity id (ids look like "
                                             "'agency:ice')"),
    ({"version": 1, "nodes": ["agency:x", "constructor"]}, "the view code: node 'constructor' is not an entity id"),
    ({"version": 1, "nodes": ["agency:x", "agency:x"]}, "the view code: 'nodes' lists an id twice"),
    ({"version": 1, "nodes": ["agency:x"], "positions": {"agency:x": [1, "2"]}},
     "the view code: the position of 'agency:x' must be [x, y] with two finite numbers"),
    ({"version": 1, "nodes": ["agency:x"], "positions": {"agency:y": [1, 2]}},
     "the view code: 'positions' has 'agency:y', which is not in 'nodes'"),
    ({"version": 1, "nodes": ["agency:x"], "filters": {"hiddenKinds": ["Vendor"]}},
     "the view code: filters.hiddenKinds: 'Vendor' is not a node kind; use one of Agency, Company"),
    ({"version": 1, "nodes": ["agency:x"], "filters": {"confidence": ["rumoured"]}},
     "the view code: filters.confidence: 'rumoured' is not a confidence level; use one of confirmed, reported, "
     "alleged"),
    ({"version": 1, "nodes": ["agency:x"], "filters": {"since": "last year"}},
     "the view code: filters.since 'last year' is not a date; write YYYY-MM-DD, YYYY-MM or YYYY"),
    ({"version": 1, "nodes": [f"company:c{i}" for i in range(MAX_VIEW_NODES + 1)]},
     "the view code: 3,001 nodes, more than a map view can hold (3,000); save a smaller view"),
])
def test_bad_views_are_refused_with_a_clear_message(value, message):
    code = base64.urlsafe_b64encode(value.encode()).decode() if isinstance(value, str) else code_of(value)
    with pytest.raises(ViewError) as info:
        decode_view(code)
    assert str(info.value).startswith(message)


def test_damaged_codes_and_files_are_refused(tmp_path):
    with pytest.raises(ViewError, match="^the view code is empty"):
        decode_view("")
    with pytest.raises(ViewError, match="^the view code has characters a view code never has"):
        decode_view("abc<script>")
    with pytest.raises(ViewError, match="^the view code is cut short or damaged"):
        decode_view("a")
    with pytest.raises(ViewError, match="^the view code is cut short or damaged"):
        decode_view(base64.urlsafe_b64encode(b"\xff\xfe{").decode())
    with pytest.raises(ViewError, match=r"no such view file$"):
        read_view(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  \"version\": 1,\n  nodes\n}")
    with pytest.raises(ViewError, match=r"bad\.json: not a saved map view \(bad JSON at line 3, column 3"):
        read_view(bad)
    assert view_from_dict({"version": 1, "nodes": ["agency:x"]}).positions == {}


def test_subgraph_for_view_and_the_map_command(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture, HOSTILE_FIXTURE])
    view = MapView(nodes=["agency:example-bureau", "agency:example-dept", "company:not-there"],
                   positions={"agency:example-bureau": (1.0, 2.0)}, focus="agency:example-bureau")
    sub, missing = subgraph_for_view(graph, view)
    assert sorted(sub.nodes) == ["agency:example-bureau", "agency:example-dept"]
    assert missing == ["company:not-there"] and sub.focus == "agency:example-bureau"
    assert [e.type for e in sub.edges] == ["PART_OF"]


def test_map_command_draws_a_saved_view(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "load", str(small_fixture), str(HOSTILE_FIXTURE)]).exit_code == 0
    view = MapView(nodes=["agency:example-bureau", "agency:example-dept", "product:example-platform"],
                   positions={"agency:example-bureau": (0.0, 0.0), "agency:example-dept": (250.0, -80.0),
                              "product:example-platform": (-120.0, 160.5)},
                   title="Saved bureau view", hidden_types=["USES"], since="2023")
    path = tmp_path / "view.json"
    write_view(view, path)
    out = tmp_path / "view.html"
    result = runner.invoke(cli, ["--db", db, "map", "--view", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = page_data(out.read_text(encoding="utf-8"))
    assert {n["id"]: (n["x"], n["y"]) for n in data["nodes"]} == {
        "agency:example-bureau": (0.0, 0.0), "agency:example-dept": (250.0, -80.0),
        "product:example-platform": (-120.0, 160.5)}
    assert data["settings"]["title"] == "Saved bureau view"
    assert data["settings"]["physics"] is False and data["options"]["physics"]["enabled"] is False
    assert data["settings"]["view"]["filters"]["hiddenTypes"] == ["USES"]
    assert data["settings"]["view"]["filters"]["since"] == "2023"
    # a view with a selection option is a usage mistake; a broken file is a clear error, never a traceback
    result = runner.invoke(cli, ["--db", db, "map", "--view", str(path), "--kinds", "Agency"])
    assert result.exit_code == 2 and "--view draws the saved view's own nodes; leave out --kinds" in result.output
    path.write_text('{"version": 1, "nodes": ["javascript:alert(1)"]}')
    result = runner.invoke(cli, ["--db", db, "map", "--view", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == (f"Error: {path}: node 'javascript:alert(1)' is not an entity id (ids look like "
                             f"'agency:ice')\n")
