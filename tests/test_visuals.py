"""Static pictures for reports: the SVG is well-formed XML with the labels, dateline and legend as text (hostile
names escaped), the PNG decodes at the asked size, saved views place nodes where they were, and mistakes are clear."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.views import MapView
from statetech.graph.visuals import VisualError, render_image
from statetech.loaders.curated import load_files

from browser_harness import ARTIFACTS

HOSTILE_FIXTURE = Path(__file__).parent / "fixtures" / "curated" / "map_hostile.yaml"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def map_graph(graph, small_fixture):
    load_files(graph, [small_fixture, HOSTILE_FIXTURE])
    return graph


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # raises on anything not well-formed
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_is_well_formed_with_labels_legend_and_escaped_names(map_graph):
    sub = map_graph.whole_graph()
    title = "Map of <img src=x onerror=alert(1)> & $\\alpha$"
    svg = render_image(sub, "svg", title=title, data_date="2026-11-28")
    assert b"<img" not in svg and b"<script" not in svg
    texts = svg_texts(svg)
    assert title in texts  # drawn as typed: no markup, no math
    assert "Data as of 2026-11-28 \u00b7 10 nodes \u00b7 18 relationships \u00b7 3 sources" in texts
    for name in ("Example Cloud Inc.", "<img src=x onerror=alert(1)>", "Example Department"):
        assert name in texts
    for legend in ("Kinds", "Agency (2)", "Company (2)", "Person (1)", "Relationships and confidence",
                   "AWARDED_TO (2)", "confirmed (primary source)", "reported (press)", "alleged (claims, leaks)"):
        assert legend in texts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "visual.svg").write_bytes(svg)


def test_png_decodes_at_the_asked_size(map_graph):
    from PIL import Image

    png = render_image(map_graph.whole_graph(), "png", width=1200, height=800)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.size == (1200, 800)
    # not blank: plenty of non-white pixels
    grey = image.convert("L")
    dark = sum(grey.histogram()[:200])
    assert dark > 5000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "visual.png").write_bytes(png)


def test_a_saved_view_is_drawn_with_its_filters(map_graph):
    sub = map_graph.whole_graph()
    view = MapView(nodes=sorted(sub.nodes), title="Only confirmed", hidden_kinds=["Person"],
                   confidence=["confirmed"])
    texts = svg_texts(render_image(sub, "svg", view=view, data_date="2026-01-01"))
    assert "Only confirmed" in texts
    assert "Person (1)" not in texts and not any(t.startswith("Person") for t in texts)
    # the alleged company is filtered out with its name
    assert "<img src=x onerror=alert(1)>" not in texts


def test_mistakes_are_clear(map_graph, tmp_path, small_fixture):
    sub = map_graph.whole_graph()
    with pytest.raises(VisualError, match="format must be one of svg, png, got 'gif'"):
        render_image(sub, "gif")
    with pytest.raises(VisualError, match="^this selection has 10 nodes, more than a readable picture can hold"):
        render_image(sub, "svg", max_nodes=5)
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "load", str(small_fixture), str(HOSTILE_FIXTURE)]).exit_code == 0
    out = tmp_path / "m.svg"
    result = runner.invoke(cli, ["--db", db, "map", "--format", "svg", "--focus", "EXB", "--depth", "1",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Example Bureau: 1-hop neighbourhood" in svg_texts(out.read_bytes())
    result = runner.invoke(cli, ["--db", db, "map", "--format", "png", "--width", "100", "-o", str(out)])
    assert result.exit_code == 2 and "100 is not in the range 200<=x<=10000" in result.output
