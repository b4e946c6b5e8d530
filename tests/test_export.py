"""Exports: each format keeps kinds, types, dates and sources, reads back into networkx as the same graph, and the
XML is what Gephi's importers expect (unique attribute ids, edge ``type`` only directed/undirected/mutual)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.export import ExportError, csv_tables, export, read_export
from statetech.graph.selection import Selection, select
from statetech.loaders.curated import load_files

HOSTILE_FIXTURE = Path(__file__).parent / "fixtures" / "curated" / "map_hostile.yaml"
PARALLEL = ("rel:contract:example-award-2>AWARDED_TO>company:example-hostile",
            "rel:contract:example-award-2>SUBCONTRACTED_TO>company:example-hostile")


@pytest.fixture
def whole(graph, small_fixture):
    load_files(graph, [small_fixture, HOSTILE_FIXTURE])
    return graph.whole_graph()


def assert_same_graph(expected: nx.MultiDiGraph, actual: nx.MultiDiGraph) -> None:
    assert sorted(actual.nodes) == sorted(expected.nodes)
    for node_id, attrs in expected.nodes(data=True):
        assert actual.nodes[node_id] == attrs, node_id
    expected_edges = sorted((u, v, k) for u, v, k in expected.edges(keys=True))
    assert sorted((u, v, k) for u, v, k in actual.edges(keys=True)) == expected_edges
    for u, v, key, attrs in expected.edges(keys=True, data=True):
        assert actual.edges[u, v, key] == attrs, key


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "json"])
def test_round_trip_into_networkx(whole, tmp_path, fmt):
    path = tmp_path / f"graph.{fmt}"
    assert export(whole, fmt, path) == [path]
    loaded = read_export(path)
    expected = whole.to_networkx()
    assert loaded.number_of_nodes() == 10 and loaded.number_of_edges() == 18
    assert_same_graph(expected, loaded)
    # the things an investigator checks, spelled out
    hostile = loaded.nodes["company:example-hostile"]
    assert hostile["kind"] == "Company"
    assert hostile["name"] == "<img src=x onerror=alert(1)>"
    assert hostile["aliases"] == ["<svg onload=alert(7)>", "Hostile Example Co"]
    assert hostile["sources"] == ["source:example-20230105-hostile"]
    contract = loaded.nodes["contract:example-award-2"]
    assert (contract["start_date"], contract["end_date"], contract["obligated_usd"]) == ("2018-05-01", "2019-04-30",
                                                                                          250000.0)
    parallel = [loaded.edges["contract:example-award-2", "company:example-hostile", key] for key in PARALLEL]
    assert [(e["type"], e["amount_usd"], e["confidence"]) for e in parallel] == [
        ("AWARDED_TO", 200000.0, "reported"), ("SUBCONTRACTED_TO", 50000.0, "alleged")]


def test_json_keeps_full_source_records(whole, tmp_path):
    path = tmp_path / "graph.json"
    export(whole, "json", path)
    data = json.loads(path.read_text(encoding="utf-8"))
    source = data["graph"]["sources"]["source:example-20240301-letter"]
    assert source == {"id": "source:example-20240301-letter", "url": "https://example.org/letter",
                      "title": "Example open letter", "publisher": "Example Workers", "published": "2024-03"}
    assert data["graph"]["title"] == "Whole graph"


def test_gexf_is_what_gephi_reads(whole, tmp_path):
    path = tmp_path / "graph.gexf"
    export(whole, "gexf", path)
    ns = {"g": "http://www.gexf.net/1.2draft"}
    root = ET.parse(path).getroot()
    graph = root.find("g:graph", ns)
    assert graph.get("defaultedgetype") == "directed"
    for cls in ("node", "edge"):
        declared = graph.find(f"g:attributes[@class='{cls}']", ns)
        ids = [a.get("id") for a in declared]
        assert len(ids) == len(set(ids))
        titles = {a.get("id"): a.get("title") for a in declared}
        assert {a.get("type") for a in declared} <= {"string", "long", "double", "boolean", "integer"}
        if cls == "edge":
            assert "rel_type" in titles.values() and "type" not in titles.values()
    edges = graph.findall("g:edges/g:edge", ns)
    assert len(edges) == 18
    assert {e.get("type") for e in edges} <= {None, "directed"}
    assert {e.get("label") for e in edges if e.get("id") in PARALLEL} == {"AWARDED_TO", "SUBCONTRACTED_TO"}
    labels = {n.get("id"): n.get("label") for n in graph.findall("g:nodes/g:node", ns)}
    assert labels["company:example-hostile"] == "<img src=x onerror=alert(1)>"


def test_graphml_key_ids_are_unique(whole, tmp_path):
    path = tmp_path / "graph.graphml"
    export(whole, "graphml", path)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(path).getroot()
    keys = root.findall("g:key", ns)
    ids = [k.get("id") for k in keys]
    assert len(ids) == len(set(ids))
    declared = set(ids)
    assert {d.get("key") for d in root.iter("{http://graphml.graphdrawing.org/xmlns}data")} <= declared
    names = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in keys}
    assert names[("node", "obligated_usd")] == "double"
    assert names[("edge", "rel_type")] == "string"
    assert names[("node", "kind")] == "string"


def test_csv_tables_in_gephi_layout(whole):
    tables = csv_tables(whole)
    nodes = list(csv.DictReader(io.StringIO(tables["nodes"])))
    edges = list(csv.DictReader(io.StringIO(tables["edges"])))
    sources = list(csv.DictReader(io.StringIO(tables["sources"])))
    assert list(nodes[0])[:3] == ["Id", "Label", "kind"]
    assert list(edges[0])[:6] == ["Source", "Target", "Type", "Id", "Label", "rel_type"]
    assert len(nodes) == 10 and len(edges) == 18 and len(sources) == 3
    row = next(r for r in nodes if r["Id"] == "contract:example-award-2")
    assert (row["Label"], row["kind"], row["start_date"], row["end_date"], row["obligated_usd"]) == (
        'Example award <i>two</i> & "quoted"', "Contract", "2018-05-01", "2019-04-30", "250000.0")
    assert json.loads(row["sources"]) == ["source:example-20230105-hostile"]
    assert json.loads(row["source_urls"]) == ["https://example.org/hostile?q=<script>alert(5)</script>&x=1"]
    edge = next(r for r in edges if r["Id"] == PARALLEL[1])
    assert (edge["Source"], edge["Target"], edge["Type"], edge["Label"], edge["amount_usd"]) == (
        "contract:example-award-2", "company:example-hostile", "Directed", "SUBCONTRACTED_TO", "50000.0")
    assert {r["id"] for r in sources} == {"source:example-20240102-award", "source:example-20240301-letter",
                                          "source:example-20230105-hostile"}


def test_export_selection_matches_the_map_selection(graph, small_fixture, tmp_path):
    load_files(graph, [small_fixture, HOSTILE_FIXTURE])
    sub = select(graph, Selection(focus="agency:example-bureau", depth=1))
    path = tmp_path / "bureau.graphml"
    export(sub, "graphml", path)
    assert sorted(read_export(path).nodes) == sorted(sub.nodes) == [
        "agency:example-bureau", "agency:example-dept", "contract:example-award-1", "product:example-platform"]


def test_export_mistakes_are_clear(whole, tmp_path):
    with pytest.raises(ExportError, match=r"^csv writes three files \(nodes.csv, edges.csv, sources.csv\); "
                                          r"give --out FOLDER$"):
        export(whole, "csv", "-")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file; csv export writes nodes.csv, edges.csv and sources.csv"):
        export(whole, "csv", tmp_path / "file")
    with pytest.raises(ExportError, match="^unknown export format 'dot'; use one of gexf, graphml, json, csv, ftm$"):
        export(whole, "dot", tmp_path / "x.dot")


def test_ftm_export_lives_in_graph(whole, tmp_path):
    # The FtM writer is one of graph/'s exports: exporting needs nothing from the loaders.
    export(whole, "ftm", tmp_path / "out.ftm.json")
    entities = [json.loads(line) for line in (tmp_path / "out.ftm.json").read_text().splitlines()]
    assert {"PublicBody", "Company", "Contract"} <= {e["schema"] for e in entities}
    assert all(e["datasets"] == ["statetech"] for e in entities)


def test_export_command(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "load", str(small_fixture), str(HOSTILE_FIXTURE)]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "export", "--format", "json", "--focus", "EXB", "--depth", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sorted(n["id"] for n in data["nodes"]) == [
        "agency:example-bureau", "agency:example-dept", "contract:example-award-1", "product:example-platform"]
    folder = tmp_path / "tables"
    result = runner.invoke(cli, ["--db", db, "export", "--format", "csv", "-o", str(folder),
                                 "--query", "entities/neighbourhood", "-p", "entity=company:example-hostile"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["edges.csv", "nodes.csv", "sources.csv"]
    nodes = list(csv.DictReader((folder / "nodes.csv").open(encoding="utf-8")))
    assert sorted(r["Id"] for r in nodes) == ["company:example-hostile", "contract:example-award-2",
                                             "product:example-platform"]
    gexf = tmp_path / "since.gexf"
    result = runner.invoke(cli, ["--db", db, "export", "--format", "gexf", "-o", str(gexf), "--since", "2020"])
    assert result.exit_code == 0, result.output
    assert "contract:example-award-2" not in read_export(gexf).nodes
    result = runner.invoke(cli, ["--db", db, "export", "--format", "csv"])
    assert result.exit_code == 1
    assert result.output == ("Error: csv writes three files (nodes.csv, edges.csv, sources.csv); "
                             "give --out FOLDER\n")
