"""The command line: help everywhere, one clear error line for user mistakes, and the two-command path works."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from statetech.cli.main import cli


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    # list_commands/get_command rather than .commands: the top-level group loads most commands lazily
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_every_command_has_help_text():
    commands = list(_all_commands(cli))
    assert len(commands) >= 6
    for path, command in commands:
        assert command.help and command.help.strip(), f"statetech {' '.join(path)} has no help text"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.output


def test_load_stats_cycle_on_embedded_store(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db, "load", str(small_fixture)])
    assert result.exit_code == 0, result.output
    assert result.output == f"loaded into embedded store at {db}: 2 sources, 8 nodes, 14 relationships\n"
    result = runner.invoke(cli, ["--db", db, "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["nodes"], data["relationships"], data["sources"]) == (8, 14, 2)
    assert data["node_source_coverage_percent"] == 100.0
    assert data["relationship_source_coverage_percent"] == 100.0
    table = runner.invoke(cli, ["--db", db, "stats"]).output
    assert "sourced nodes: 8/8 (100.0%)   sourced relationships: 14/14 (100.0%)" in table


def test_bad_load_is_one_message_nonzero_and_writes_nothing(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - id: agency:x\n    name: X\n    sources: [source:nope]\n    confidence: sure\n",
                   encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db, "load", str(small_fixture), str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [
        "Error: validation failed: 1 problem; nothing was written",
        f"{bad}:5: [agency:x] field 'confidence': Input should be 'confirmed', 'reported' or 'alleged'; "
        "use one of the listed values",
    ]
    stats = json.loads(runner.invoke(cli, ["--db", db, "stats", "--format", "json"]).output)
    assert stats["nodes"] == 0


def test_unreachable_neo4j_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "hunter2-secret")
    result = CliRunner().invoke(cli, ["--neo4j", "bolt://127.0.0.1:1", "stats"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach Neo4j at bolt://127.0.0.1:1; check that the server")
    assert "hunter2-secret" not in result.output
    assert "Traceback" not in result.output


def test_query_run_minimal(tmp_path, small_fixture):
    db = str(tmp_path / "cli.grafeo")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "load", str(small_fixture)]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "query", "run", "entities/search", "--param", "text=cloud",
                                 "--param", "kind=Company", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"id": "company:example-cloud", "kind": "Company",
                                          "name": "Example Cloud Inc.", "aliases": ["ExampleCloud"]}]


@pytest.mark.parametrize("args", [["validate"], ["validate", "seeds"]])
def test_shipped_seeds_validate(args, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).parent.parent)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_demo_loads_seeds_and_writes_map(tmp_path):
    db = str(tmp_path / "demo.grafeo")
    out = tmp_path / "demo.html"
    result = CliRunner().invoke(cli, ["--db", db, "demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "sourced nodes:" in result.output and "(100.0%)" in result.output
    html = out.read_text(encoding="utf-8")
    assert "U.S. Immigration and Customs Enforcement" in html
    assert "<script src=\"http" not in html and "cdn" not in html.lower()
