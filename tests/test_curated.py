"""Curated YAML validation: every kind of bad input gets one exact, located message, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.errors import ValidationFailed
from statetech.loaders.curated import load_curated, read_curated

BASE = """\
sources:
  - id: source:example-1
    url: https://example.org/1
    title: Example
    publisher: Example Gazette
    published: 2024-01-02
nodes:
  - id: agency:example
    kind: Agency
    name: Example Agency
    sources: [source:example-1]
    confidence: confirmed
  - id: company:example
    kind: Company
    name: Example Co
    sources: [source:example-1]
    confidence: reported
"""

# name -> (file body, exact problem line printed for it)
BAD_INPUTS: dict[str, tuple[bytes, str]] = {
    "malformed": (
        b"nodes:\n  - id: agency:x\n    kind: Agency\n    name: [unclosed\n",
        "bad.yaml:5: malformed YAML: expected ',' or ']', but got '<stream end>'; check indentation, colons and "
        "quoting near this line",
    ),
    "unknown_field": (
        b"nodes:\n  - id: agency:x2\n    kind: Agency\n    name: X\n    sources: [source:example-1]\n"
        b"    confidence: confirmed\n    jurisdicton: US\n",
        "bad.yaml:7: [agency:x2] unknown field 'jurisdicton'; allowed fields: added, agency_code, aliases, confidence, "
        "country, end_date, external_ids, id, imported_from, kind, level, name, notes, sources, start_date, updated, "
        "website",
    ),
    "misspelled_field": (
        b"nodes:\n  - id: agency:x2\n    kind: Agency\n    name: X\n    sources: [source:example-1]\n"
        b"    confidance: confirmed\n",
        "bad.yaml:6: [agency:x2] unknown field 'confidance'; did you mean 'confidence'?",
    ),
    "wrong_type": (
        b'nodes:\n  - id: contract:x3\n    kind: Contract\n    name: X\n    obligated_usd: "$1,000"\n'
        b"    sources: [source:example-1]\n    confidence: confirmed\n",
        "bad.yaml:5: [contract:x3] field 'obligated_usd': Input should be a valid number, unable to parse string "
        "as a number; write a plain number without $ or commas",
    ),
    "duplicate_id": (
        b"nodes:\n  - id: agency:example\n    kind: Agency\n    name: Again\n    sources: [source:example-1]\n"
        b"    confidence: confirmed\n",
        "bad.yaml:2: [agency:example] duplicate id 'agency:example'; already defined at base.yaml:8; keep one and "
        "merge sources",
    ),
    "dangling_endpoint": (
        b"relationships:\n  - from: agency:example\n    type: PART_OF\n    to: agency:nowhere\n"
        b"    sources: [source:example-1]\n    confidence: confirmed\n",
        "bad.yaml:2: [rel:agency:example>PART_OF>agency:nowhere] 'to' node 'agency:nowhere' is not defined; "
        "define an Agency node with id 'agency:nowhere' under 'nodes:'",
    ),
    "dangling_source": (
        b"nodes:\n  - id: agency:x4\n    kind: Agency\n    name: X\n    sources: [source:missing]\n"
        b"    confidence: confirmed\n",
        "bad.yaml:2: [agency:x4] cites unknown source 'source:missing'; define it under 'sources:' (url, title, "
        "publisher, published)",
    ),
    "disallowed_triple": (
        b"relationships:\n  - from: agency:example\n    type: USES\n    to: company:example\n"
        b"    sources: [source:example-1]\n    confidence: confirmed\n",
        "bad.yaml:2: [rel:agency:example>USES>company:example] Agency -[USES]-> Company is not allowed by the "
        "model; Agency USES may point only to Product",
    ),
    "bad_date": (
        b"nodes:\n  - id: agency:x5\n    kind: Agency\n    name: X\n    start_date: 2024-13-01\n"
        b"    sources: [source:example-1]\n    confidence: confirmed\n",
        "bad.yaml:5: [agency:x5] field 'start_date': '2024-13-01' has month 13; months run 01-12",
    ),
    "empty_file": (
        b"",
        "bad.yaml:1: file is empty; add 'sources:', 'nodes:' or 'relationships:' lists, or remove it",
    ),
    "non_utf8": (
        b"nodes:\n  - id: agency:x6\n    kind: Agency\n    name: Caf\xe9\n",
        "bad.yaml:4: not UTF-8 text (byte 0xe9 at offset 55); save the file as UTF-8",
    ),
}


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_base_file_is_valid(workdir):
    records = load_curated(["base.yaml"])
    assert [n.id for n in records.nodes] == ["agency:example", "company:example"]
    assert records.sources[0].published == "2024-01-02"


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_with_file_and_line(workdir, case):
    body, expected = BAD_INPUTS[case]
    (workdir / "bad.yaml").write_bytes(body)
    bundle = read_curated(["base.yaml", "bad.yaml"])
    assert [str(p) for p in bundle.problems] == [expected]


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_cli_validate_exits_nonzero_without_traceback(workdir, case):
    body, expected = BAD_INPUTS[case]
    (workdir / "bad.yaml").write_bytes(body)
    result = CliRunner().invoke(cli, ["validate", "base.yaml", "bad.yaml"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output == f"Error: validation failed: 1 problem; nothing was written\n{expected}\n"


def test_every_problem_is_reported_at_once(workdir):
    (workdir / "bad.yaml").write_bytes(BAD_INPUTS["dangling_source"][0])
    (workdir / "bad2.yaml").write_bytes(BAD_INPUTS["disallowed_triple"][0])
    with pytest.raises(ValidationFailed) as info:
        load_curated(["base.yaml", "bad.yaml", "bad2.yaml"])
    assert len(info.value.problems) == 2
    assert str(info.value).startswith("validation failed: 2 problems; nothing was written\n")


def test_relationship_with_property_of_another_type(workdir):
    (workdir / "bad.yaml").write_text(
        "relationships:\n  - from: agency:example\n    type: PART_OF\n    to: agency:example\n"
        "    data_volume_tb: 3\n    sources: [source:example-1]\n    confidence: confirmed\n", encoding="utf-8")
    problems = [str(p) for p in read_curated(["base.yaml", "bad.yaml"]).problems]
    assert problems == ["bad.yaml:5: [rel:agency:example>PART_OF>agency:example] field 'data_volume_tb' does not "
                        "apply to PART_OF relationships; remove it, or move the fact into 'notes'"]


def test_two_relationships_of_same_triple_need_explicit_ids(workdir):
    rel = ("  - from: agency:example\n    type: PART_OF\n    to: agency:example\n"
           "    sources: [source:example-1]\n    confidence: confirmed\n")
    (workdir / "bad.yaml").write_text("relationships:\n" + rel + rel, encoding="utf-8")
    problems = [str(p) for p in read_curated(["base.yaml", "bad.yaml"]).problems]
    assert problems == ["bad.yaml:7: [rel:agency:example>PART_OF>agency:example] duplicate relationship id "
                        "'rel:agency:example>PART_OF>agency:example'; already defined at bad.yaml:2; give each an "
                        "explicit 'id: rel:...'"]


def test_end_before_start_is_an_error(workdir):
    (workdir / "bad.yaml").write_text(
        "nodes:\n  - id: agency:x\n    name: X\n    start_date: 2020-05\n    end_date: 2019\n"
        "    sources: [source:example-1]\n    confidence: confirmed\n", encoding="utf-8")
    problems = [str(p) for p in read_curated(["base.yaml", "bad.yaml"]).problems]
    assert problems == ["bad.yaml:2: [agency:x] end_date 2019 is before start_date 2020-05; swap or correct the dates"]


def test_curation_dates_are_full_days_and_in_order(workdir):
    (workdir / "bad.yaml").write_text(
        "nodes:\n  - id: agency:x\n    name: X\n    added: 2026-12-06\n    updated: 2026-12-01\n"
        "    sources: [source:example-1]\n    confidence: confirmed\n"
        "  - id: agency:y\n    name: Y\n    added: 2026-12\n    sources: [source:example-1]\n    confidence: confirmed\n"
        "relationships:\n  - {from: agency:x, type: PART_OF, to: agency:example, added: 2026-12-06, "
        "updated: 2026-11-28, sources: [source:example-1], confidence: reported}\n", encoding="utf-8")
    problems = [str(p) for p in read_curated(["base.yaml", "bad.yaml"]).problems]
    assert problems == [
        "bad.yaml:10: [agency:y] field 'added': '2026-12' is not a full day; write YYYY-MM-DD",
        "bad.yaml:2: [agency:x] updated 2026-12-01 is before added 2026-12-06; 'updated' is the day of the last change",
        "bad.yaml:14: [rel:agency:x>PART_OF>agency:example] updated 2026-11-28 is before added 2026-12-06; 'updated' "
        "is the day of the last change",
    ]
    (workdir / "ok.yaml").write_text(
        "nodes:\n  - id: agency:z\n    name: Z\n    added: 2026-11-28\n    updated: 2026-12-06\n"
        "    sources: [source:example-1]\n    confidence: confirmed\n", encoding="utf-8")
    node = load_curated(["base.yaml", "ok.yaml"]).nodes[-1]
    assert (node.added, node.updated) == ("2026-11-28", "2026-12-06")


def test_kind_is_inferred_from_the_id_prefix(workdir):
    (workdir / "ok.yaml").write_text(
        "nodes:\n  - id: person:someone\n    name: Someone\n    sources: [source:example-1]\n"
        "    confidence: alleged\n", encoding="utf-8")
    records = load_curated(["base.yaml", "ok.yaml"])
    assert records.nodes[-1].kind == "Person"


def test_partial_dates_keep_their_precision(workdir):
    (workdir / "ok.yaml").write_text(
        "nodes:\n  - id: action:x\n    name: X\n    start_date: 2018-06\n    sources: [source:example-1]\n"
        "    confidence: reported\n", encoding="utf-8")
    assert load_curated(["base.yaml", "ok.yaml"]).nodes[-1].start_date == "2018-06"


def test_missing_path_is_reported():
    problems = [str(p) for p in read_curated(["/nonexistent/seeds.yaml"]).problems]
    assert problems == ["/nonexistent/seeds.yaml: file not found; check the path"]


def test_folder_is_read_recursively(small_fixture):
    records = load_curated([small_fixture.parent])
    assert len(records.nodes) >= 8
