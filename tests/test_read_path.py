"""The read side's speed work, checked for behaviour: lazy CLI commands, derived search text, linear subgraphs.

Timings are printed by benchmarks/bench_cli.py, bench_queries.py and bench_selection.py, not asserted here; these
tests pin what the speed-ups must not change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from statetech.cli.main import LAZY_COMMANDS, _lazy_command, cli
from statetech.graph.catalog import Catalog
from statetech.graph.model import Agency, Company
from statetech.graph.subgraph import Subgraph, SubgraphEdge, SubgraphNode
from statetech.graph.vocabulary import DERIVED_PROPERTIES, SEARCH_TEXT, search_text

# --- the CLI loads its commands lazily ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_lazy_command_table_matches_the_command(name):
    command = _lazy_command(name)
    assert command.name == name
    assert LAZY_COMMANDS[name][2] == command.get_short_help_str(10_000)


def test_help_lists_every_command_without_importing_them():
    script = ("import sys\n"
              "from click.testing import CliRunner\n"
              "from statetech.cli.main import cli\n"
              "result = CliRunner().invoke(cli, ['--help'])\n"
              "loaded = sorted(m for m in ('pydantic', 'neo4j', 'grafeo', 'statetech.cli.query', 'statetech.cli.maps',"
              " 'statetech.graph.api', 'statetech.loaders.common') if m in sys.modules)\n"
              "print(result.exit_code, ','.join(loaded))\n"
              "print(result.output)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    first, _, output = done.stdout.partition("\n")
    assert first == "0 "  # exit code 0 and none of the heavy modules imported
    for name, (_, _, help_line) in LAZY_COMMANDS.items():
        assert f"  {name} " in output
    for name in ("validate", "load", "stats", "demo"):
        assert f"  {name} " in output


def test_stats_reads_without_pydantic(tmp_path, monkeypatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    db = tmp_path / "store.grafeo"
    assert CliRunner().invoke(cli, ["--db", str(db), "load"]).exit_code == 0
    script = ("import sys, json\n"
              "from click.testing import CliRunner\n"
              "from statetech.cli.main import cli\n"
              f"result = CliRunner().invoke(cli, ['--db', {str(db)!r}, 'stats', '--format', 'json'])\n"
              "assert result.exit_code == 0, result.output\n"
              "print(json.dumps([result.exit_code, 'pydantic' in sys.modules, json.loads(result.output)['nodes']]))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    exit_code, pydantic_loaded, nodes = json.loads(done.stdout)
    assert (exit_code, pydantic_loaded) == (0, False)
    assert nodes > 150


def test_a_lazy_command_runs(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.grafeo"), "query", "list"])
    assert result.exit_code == 0, result.output
    assert "entities/search" in result.output


# --- derived search text -------------------------------------------------------------------------------------------


def _agency(**extra) -> Agency:
    return Agency(id="agency:example-ice", name="ICE", aliases=["Immigration and Customs Enforcement"],
                  sources=["source:example"], confidence="confirmed", **extra)


def test_search_text_is_written_with_every_entity():
    props = _agency().properties()
    assert props[SEARCH_TEXT] == "agency:example-ice\nice\nimmigration and customs enforcement"
    assert search_text("company:x", "Ünïcode GmbH") == "company:x\nünïcode gmbh"


def test_the_writer_fast_path_writes_the_same_properties():
    from statetech.graph.writer import record_properties

    for record in (_agency(), Company(id="company:example", name="Example Inc", sources=["source:example"],
                                      confidence="reported")):
        assert record_properties(record) == record.properties()


def test_subgraphs_leave_derived_properties_out():
    node = SubgraphNode("agency:example-ice", "Agency", _agency().properties())
    assert DERIVED_PROPERTIES.isdisjoint(node.properties)
    assert node.properties["name"] == "ICE"


def test_search_finds_aliases_case_insensitively_and_only_real_matches(graph):
    graph.load(_records())
    catalog = Catalog.load()
    rows = catalog.run(graph, "entities/search", {"text": "CUSTOMS"}).rows
    assert [r["id"] for r in rows] == ["agency:example-ice"]
    # 'ice\nimm' spans two lines of the stored search text: it is in no name or alias, so nothing matches
    assert catalog.run(graph, "entities/search", {"text": "ice\nimm"}).rows == []
    # the id is in the search text but entities/search looks at names and aliases only
    assert catalog.run(graph, "entities/search", {"text": "example-ice"}).rows == []
    assert [r["id"] for r in catalog.run(graph, "entities/search", {"text": "inc", "kind": "Company"}).rows] == [
        "company:example"]


def _records():
    from statetech.graph.model import RecordSet, Source

    return RecordSet(
        sources=[Source(id="source:example", url="https://example.org/a", title="A", publisher="P",
                        published="2024-01-01")],
        nodes=[_agency(), Company(id="company:example", name="Example Inc", sources=["source:example"],
                                  confidence="reported")])


# --- subgraphs grow in linear time ------------------------------------------------------------------------------


def _edge(i: int) -> SubgraphEdge:
    return SubgraphEdge(f"rel:e{i}", "PART_OF", f"agency:a{i}", f"agency:b{i}", {})


def test_add_edge_skips_duplicates_even_after_edges_is_replaced():
    sub = Subgraph()
    for i in (1, 2, 2, 3):
        sub.add_edge(_edge(i))
    assert [e.id for e in sub.edges] == ["rel:e1", "rel:e2", "rel:e3"]
    sub.edges = [_edge(7)]  # callers assign the list directly
    sub.add_edge(_edge(7))
    sub.add_edge(_edge(1))
    assert [e.id for e in sub.edges] == ["rel:e7", "rel:e1"]
    sub.edges.append(_edge(9))  # or append to it
    sub.add_edge(_edge(9))
    assert [e.id for e in sub.edges] == ["rel:e7", "rel:e1", "rel:e9"]
