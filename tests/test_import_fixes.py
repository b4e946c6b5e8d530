"""Import correctness (issue 11, part 2): generic aliases, placeholders, two-digit years and implausible dates, the
line of an encoding error in JSON, money without float noise, dry-run counts equal to the real run's, skipped rows
listed with their line, renamed and missing columns (reported, refused by --strict, never erasing a stored value),
and source dates that are the page's or unknown. Each body runs on both stores (``graph``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph.errors import ValidationFailed
from statetech.graph.model import Company, RecordSet, Source
from statetech.loaders.curated import load_files
from statetech.loaders.importing import run_import

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "curated" / "small.yaml"


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def atlas_rows(vendors: list[str]) -> list[list[str]]:
    """The first row of the Atlas fixture once per vendor, each with its own AOS number."""
    with (FIXTURES / "atlas" / "atlas.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, first = rows[0], rows[1]
    out = [header]
    for number, vendor in enumerate(vendors, start=1):
        row = list(first)
        row[header.index("AOSNUMBER")] = f"AOS9100{number:02d}"
        row[header.index("Vendor")] = vendor
        row[header.index("Agency")] = f"Testville Police Department {number}"
        out.append(row)
    return out


def companies(graph) -> dict[str, str]:
    return {r["id"]: r["name"] for r in graph.store.run_read("MATCH (c:Company) RETURN c.id AS id, c.name AS name").rows}


# --- aliases ----------------------------------------------------------------------------------------------------------


def test_generic_aliases_are_refused_by_validate(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text(SMALL.read_text(encoding="utf-8").replace(
        "aliases: [ExampleCloud]", 'aliases: [ExampleCloud, "Inc.", "L.L.C.", "Agency", "Example Cloud, Inc."]'),
        encoding="utf-8")
    result = invoke(["validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Error: validation failed: 3 problems; nothing was written"
    assert [line.split("] ", 1)[1].split(";")[0] for line in lines[1:]] == [
        "alias 'Inc.' is only a legal form (Inc., LLC, Corp, ...)",
        "alias 'L.L.C.' is only a legal form (Inc., LLC, Corp, ...)",
        "alias 'Agency' is a generic word, not a name"]
    assert all("[company:example-cloud]" in line for line in lines[1:])
    assert invoke(["validate"]).exit_code == 0  # the shipped seeds (Babel Street's alias is one string now)


def test_the_resolver_never_matches_on_legal_suffix_noise(graph, tmp_path):
    # a curated record stored before the rule existed: its alias list was split at the comma of "Babel Example, Inc."
    source = Source(id="source:example-babel", url="https://example.org/babel", title="Example", publisher="Example",
                    published="2024-01-02")
    graph.load(RecordSet(sources=[source], nodes=[Company(id="company:example-babel", name="Babel Example",
                                                          aliases=["Babel Example", "Inc."],
                                                          sources=[source.id], confidence="reported")]))
    csv_path = write_csv(tmp_path / "atlas.csv", atlas_rows(["Inc.", "INC", "Babel Example, Inc."]))
    run_import(graph, "atlas", [csv_path], seeds=None)
    provides = graph.store.run_read("MATCH (c:Company)-[:PROVIDES]->(p:Product) RETURN c.id AS c, p.id AS p "
                                    "ORDER BY c, p").rows
    babel = [r for r in provides if r["c"] == "company:example-babel"]
    # only the row that really names it lands on it (by its normalised name), never "Inc." or "INC"
    assert [r["p"] for r in babel] == ["product:aos-babel-example-automated-license-plate-readers"]
    assert len(provides) == 2 and any(r["c"] != "company:example-babel" for r in provides)


# --- placeholders -----------------------------------------------------------------------------------------------------


def test_placeholders_are_not_entities(graph, tmp_path):
    csv_path = write_csv(tmp_path / "atlas.csv", atlas_rows(["Unknown", "n/a", "-", "NA", "Flock Safety"]))
    summary = run_import(graph, "atlas", [csv_path], seeds=None)
    assert summary.rows_read == 5
    assert sorted(companies(graph).values()) == ["Flock Safety"]
    products = sorted(r["name"] for r in graph.store.run_read("MATCH (p:Product) RETURN p.name AS name").rows)
    assert products == ["Automated License Plate Readers (vendor not reported)",
                        "Flock Safety Automated License Plate Readers"]

    actions = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))
    first = dict(actions[0])
    rows = [{**first, "id": 97001, "companies": ["na"]},
            {**first, "id": 97002, "companies": ["unknown", "none", "palantir"]}]
    json_path = tmp_path / "actions.json"
    json_path.write_text(json.dumps(rows), encoding="utf-8")
    summary = run_import(graph, "collective_actions", [json_path], seeds=None)
    assert dict(summary.rows_skipped) == {"action names no company": 1}
    names = set(companies(graph).values())
    assert not names & {"Na", "NA", "na", "Unknown", "None", "unknown", "none"}
    assert "Palantir" in names


# --- dates ------------------------------------------------------------------------------------------------------------


def _usaspending_with_dates(tmp_path: Path) -> Path:
    with (FIXTURES / "usaspending" / "awards.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    start, end = header.index("period_of_performance_start_date"), header.index("period_of_performance_current_end_date")
    rows[1][start], rows[1][end] = "10/1/17", "9/30/32"   # a spreadsheet re-save of 2017-10-01 .. 2032-09-30
    rows[2][end] = "1/1/2001"                            # before its start (2021-03-01)
    rows[3][end] = "2099-01-01"                          # decades ahead
    return write_csv(tmp_path / "dates.csv", rows)


def test_two_digit_years_and_implausible_dates(graph, tmp_path):
    path = _usaspending_with_dates(tmp_path)
    summary = run_import(graph, "usaspending", [path], seeds=None)
    rows = graph.store.run_read("MATCH (c:Contract) WHERE c.award_id = '70CTD020P00000001' "
                                "RETURN c.start_date AS s, c.end_date AS e").rows
    assert rows == [{"s": "2017-10-01", "e": "2032-09-30"}]
    assert [str(w) for w in summary.warnings] == [
        f"{path}:3 (column period_of_performance_current_end_date): "
        "[CONT_AWD_70CTD021F00000002_7012_70CTD021D00000009_7012] end date 2001-01-01 is before start date "
        "2021-03-01; check the year (a spreadsheet may have shortened it to two digits)",
        f"{path}:4 (column period_of_performance_current_end_date): [CONT_AWD_70B04C22C00000003_7014_-NONE-_-NONE-] "
        "period_of_performance_current_end_date 2099-01-01 is more than 30 years ahead; check the year"]


# --- encoding errors in JSON ------------------------------------------------------------------------------------------


def test_an_encoding_error_in_json_names_its_line(graph, tmp_path):
    actions = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))
    text = json.dumps(actions, indent=4)
    lines = text.split("\n")
    target = [i for i, line in enumerate(lines) if '"description"' in line][1]
    raw = "\n".join(lines[:target]).encode() + b"\n" + lines[target].encode()[:20] + b"\xff" + \
        lines[target].encode()[20:] + b"\n" + "\n".join(lines[target + 1:]).encode()
    path = tmp_path / "actions.json"
    path.write_bytes(raw)
    with pytest.raises(ValidationFailed) as err:
        run_import(graph, "collective_actions", [path], seeds=None)
    assert [str(p) for p in err.value.problems] == [f"{path}:{target + 1}: not UTF-8 text (byte 0xFF); save the file "
                                                    "as UTF-8"]

    # JSON Lines, the bad byte far beyond the first 64 KiB read
    entity = (FIXTURES / "ftm" / "entities.ftm.json").read_text(encoding="utf-8").splitlines()[1]
    body = [entity.replace("test-pb-ice", f"test-pb-{n}") for n in range(1, 1201)]
    big = tmp_path / "big.ftm.json"
    big.write_bytes("\n".join(body[:1000]).encode() + b"\n" + body[1000].encode().replace(b"Customs", b"Cust\xe9ms")
                    + b"\n" + "\n".join(body[1001:]).encode() + b"\n")
    with pytest.raises(ValidationFailed) as err:
        run_import(graph, "ftm", [big], seeds=None)
    assert [str(p) for p in err.value.problems] == [f"{big}:1001: not UTF-8 text (byte 0xE9); save the file as UTF-8"]
    assert graph.store.run_read("MATCH (n) RETURN count(n) AS c").rows == [{"c": 0}]


# --- money ------------------------------------------------------------------------------------------------------------


def test_money_in_csv_and_json_has_no_float_noise(backend, request, tmp_path):
    if backend == "embedded":
        where = ["--db", str(tmp_path / "s.grafeo")]
    else:
        store = request.getfixturevalue("neo4j_store")
        store.clear()
        where = ["--neo4j", request.getfixturevalue("neo4j_server")[0]]
    # 26042591.0 + 0.1 + 0.21 computes as 26042591.310000002 in binary floating point
    query = "UNWIND [26042591.0, 0.1, 0.21] AS amount RETURN sum(amount) AS total, [0.1 + 0.2] AS parts"
    assert json.loads(invoke([*where, "cypher", query, "--format", "json"]).output) == [
        {"total": 26042591.31, "parts": [0.3]}]
    assert invoke([*where, "cypher", query, "--format", "csv"]).output == "total,parts\n26042591.31,[0.3]\n"
    assert "26042591.31  0.3" in invoke([*where, "cypher", query]).output
    assert "0000" not in invoke([*where, "cypher", query, "--format", "jsonl"]).output


# --- imported records meet curated ones -------------------------------------------------------------------------------


def test_an_imported_award_lands_on_the_curated_contract_with_the_same_award_id(graph, tmp_path):
    curated = tmp_path / "curated.yaml"
    curated.write_text(SMALL.read_text(encoding="utf-8").replace("award_id: EX-0001", "award_id: 70-ctd020-P-00000001"),
                       encoding="utf-8")
    load_files(graph, [curated])
    summary = run_import(graph, "usaspending", [FIXTURES / "usaspending" / "awards.csv"], seeds=None)
    assert summary.matched["Contract"] == {"award_id": 1}
    read = graph.store.run_read
    twins = read("MATCH (c:Contract) WHERE c.award_id IN ['70CTD020P00000001', '70-ctd020-P-00000001'] "
                 "RETURN c.id AS id, c.name AS name, c.obligated_usd AS usd").rows
    assert twins == [{"id": "contract:example-award-1", "name": "Example hosting award", "usd": 1500000.5}]
    edges = read("MATCH (a)-[r]->(c:Contract {id: 'contract:example-award-1'}) RETURN a.id AS a, type(r) AS t "
                 "UNION MATCH (c:Contract {id: 'contract:example-award-1'})-[r]->(b) RETURN b.id AS a, type(r) AS t").rows
    imported = sorted((e["t"], e["a"]) for e in edges if e["a"].startswith(("agency:usa", "company:usa")))
    assert [t for t, _ in imported] == ["AWARDED", "AWARDED_TO"]
    again = run_import(graph, "usaspending", [FIXTURES / "usaspending" / "awards.csv"], seeds=None)
    assert dict(again.nodes_created) == {} and dict(again.relationships_created) == {}


# --- review entries ---------------------------------------------------------------------------------------------------


def test_review_entries_are_written_on_every_run(graph, tmp_path):
    load_files(graph, [FIXTURES / "usaspending" / "curated.yaml"])
    awards = FIXTURES / "usaspending" / "awards.csv"
    first = run_import(graph, "usaspending", [awards], seeds=None, review_path=tmp_path / "first.csv")
    second = run_import(graph, "usaspending", [awards], seeds=None, review_path=tmp_path / "second.csv")
    assert first.review_items == second.review_items == 1
    assert (tmp_path / "second.csv").read_text(encoding="utf-8") == (tmp_path / "first.csv").read_text(encoding="utf-8")
    with (tmp_path / "second.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["candidate_id"].startswith("company:")


def test_an_imported_worker_action_lands_on_the_curated_one_or_goes_to_review(graph, tmp_path):
    load_files(graph, [SMALL])  # action:example-letter: Example Cloud, 2024-03, source https://example.org/letter
    template = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))[0]
    rows = [
        # the same letter, cited by a URL spelled a little differently: that node
        {**template, "id": 97101, "date": "2024-03-05", "companies": ["example-cloud"],
         "sources": ["http://www.example.org/letter/"], "description": "TEST DATA: a letter"},
        # same company and month, nothing else in common: kept apart, sent to review
        {**template, "id": 97102, "date": "2024-03-20", "companies": ["example-cloud"],
         "sources": ["https://example.org/test-data/walkout"], "description": "TEST DATA: a walkout"},
        # another year: a different action
        {**template, "id": 97103, "date": "2019-07-11", "companies": ["example-cloud"],
         "sources": ["https://example.org/letter"], "description": "TEST DATA: older"},
    ]
    path = tmp_path / "actions.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    summary = run_import(graph, "collective_actions", [path], seeds=None, review_path=tmp_path / "review.csv")
    ids = sorted(r["id"] for r in graph.store.run_read("MATCH (a:EmployeeAction) RETURN a.id AS id").rows)
    assert ids == ["action:cat-97102", "action:cat-97103", "action:example-letter"]
    assert summary.matched["EmployeeAction"] == {"url": 1}
    curated = graph.store.run_read("MATCH (a:EmployeeAction {id: 'action:example-letter'}) "
                                   "RETURN a.name AS name, a.imported_from AS tag").rows
    assert curated == [{"name": "Example workers' open letter", "tag": None}]
    with (tmp_path / "review.csv").open(encoding="utf-8", newline="") as handle:
        review = [r for r in csv.DictReader(handle) if r["kind"] == "EmployeeAction"]
    assert [(r["kept_as"], r["candidate_id"], r["reason"]) for r in review] == [
        ("action:cat-97102", "action:example-letter", "same company and date (2024-03-20), no shared source or title")]


# --- dry-run counts ---------------------------------------------------------------------------------------------------

COUNT_KEYS = ("nodes_created", "nodes_updated", "nodes_kept", "relationships_created", "relationships_updated",
              "relationships_kept", "sources_written", "matched", "rows_skipped", "review_items", "warnings_total")
EVERY_FORMAT = [("atlas", ["atlas/atlas.csv"]), ("usaspending", ["usaspending/awards.csv"]),
                ("usaspending", ["usaspending/transactions.csv"]),
                ("collective_actions", ["collective_actions/actions.csv"]),
                ("collective_actions", ["collective_actions/actions.json"]), ("ftm", ["ftm/entities.ftm.json"]),
                ("littlesis", ["littlesis/bulk.json"]),
                ("littlesis", ["littlesis/api_entity.json", "littlesis/api_relationship.json"])]


def test_a_dry_run_reports_exactly_what_the_real_run_then_does(graph, tmp_path):
    load_files(graph, [FIXTURES / "usaspending" / "curated.yaml"])  # something to match and to keep
    for fmt, files in EVERY_FORMAT:
        paths = [FIXTURES / f for f in files]
        for attempt in ("first import", "re-import"):
            dry = run_import(graph, fmt, paths, dry_run=True, seeds=None).as_dict()
            before = graph.stats().as_dict()
            real = run_import(graph, fmt, paths, seeds=None, review_path=tmp_path / "review.csv").as_dict()
            assert {k: dry[k] for k in COUNT_KEYS} == {k: real[k] for k in COUNT_KEYS}, (fmt, files, attempt)
            if attempt == "re-import":
                assert graph.stats().as_dict() == before and not real["nodes_created"], (fmt, files)


# --- skipped rows -----------------------------------------------------------------------------------------------------


def store_args(backend, request, tmp_path) -> list[str]:
    """Command-line options naming the store a ``graph``-style test runs on (the Neo4j database is cleared)."""
    if backend == "embedded":
        return ["--db", str(tmp_path / "cli.grafeo")]
    request.getfixturevalue("neo4j_store").clear()
    return ["--neo4j", request.getfixturevalue("neo4j_server")[0]]


def _actions_csv(tmp_path: Path) -> Path:
    with (FIXTURES / "collective_actions" / "actions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, first = rows[0], rows[1]
    column = header.index
    out = [header]
    for number, (companies, sources) in enumerate([
            ("['palantir']", "https://example.org/test-data/one\nhttps://example.com/test-data/two"),  # joined: split
            ("['na']", "['https://example.org/test-data/three']"),                                    # no company
            ("['palantir']", "see the newsletter"),                                                  # no URL
            ("['palantir']", "['https://example.org/test-data/four']")], start=1):
        row = list(first)
        row[column("id")], row[column("companies")], row[column("sources")] = f"9710{number}", companies, sources
        out.append(row)
    return write_csv(tmp_path / "actions.csv", out)


def test_skipped_rows_are_listed_with_line_and_reason(backend, request, graph, tmp_path):
    path = _actions_csv(tmp_path)  # records start on lines 2, 4 (the first holds a line break), 5, 6
    summary = run_import(graph, "collective_actions", [path], seeds=None, report_path=tmp_path / "skipped.csv")
    assert [str(p) for p in summary.skipped] == [f"{path}:4: action names no company",
                                                 f"{path}:5: action cites no http(s) source"]
    with (tmp_path / "skipped.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [["file", "line", "reason"], [str(path), "4", "action names no company"],
                                            [str(path), "5", "action cites no http(s) source"]]
    # the cell with two URLs on two lines is two sources of one action, not a dropped row
    cited = graph.store.run_read("MATCH (a:EmployeeAction {id: 'action:cat-97101'}) RETURN a.sources AS s").rows
    assert len(cited) == 1 and len(cited[0]["s"]) == 2

    where = store_args(backend, request, tmp_path)
    missing = tmp_path / "no-such-folder" / "skipped.csv"
    result = invoke([*where, "import", "collective-actions", str(path), "--report", str(missing)])
    assert result.exit_code == 2 and "does not exist" in result.output and not missing.exists()
    count = invoke([*where, "cypher", "MATCH (a:EmployeeAction) RETURN count(a) AS c", "--format", "json"])
    assert json.loads(count.output) == [{"c": 0}]  # refused before any work: nothing written
    result = invoke([*where, "import", "collective-actions", str(path), "--dry-run", "--report",
                     str(tmp_path / "all.csv")])
    assert result.exit_code == 0, result.output
    assert f"  {path}:4: action names no company" in result.output.splitlines()
    assert (tmp_path / "all.csv").read_text(encoding="utf-8").count("\n") == 3


# --- renamed and missing columns --------------------------------------------------------------------------------------


def _rename_column(source: Path, target: Path, old: str, new: str) -> Path:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0][rows[0].index(old)] = new
    return write_csv(target, rows)


def test_a_renamed_column_is_reported_and_never_erases_a_stored_value(backend, request, graph, tmp_path):
    awards = FIXTURES / "usaspending" / "awards.csv"
    end = "period_of_performance_current_end_date"
    read = "MATCH (c:Contract) WHERE c.award_id = '70CTD020P00000001' RETURN c.end_date AS e, c.name AS n"
    first = run_import(graph, "usaspending", [awards], seeds=None)
    assert first.warnings_total == 0
    stored = graph.store.run_read(read).rows
    assert stored[0]["e"]

    renamed = _rename_column(awards, tmp_path / "renamed.csv", end, "pop_current_end")
    again = run_import(graph, "usaspending", [renamed], seeds=None)
    assert [str(w) for w in again.warnings] == [
        f"{renamed}:1 (column pop_current_end): unknown column 'pop_current_end' is not read; check that the file has "
        "the expected layout",
        f"{renamed}:1 (column {end}): optional column '{end}' is missing: its field stays empty (values stored by "
        "earlier imports are kept); check the download; a renamed column can be renamed back"]
    assert sum(again.nodes_updated.values()) > 0
    assert graph.store.run_read(read).rows == stored  # the re-import wrote the award again, but kept its end date

    # --strict refuses the file: nothing written
    before = graph.stats().as_dict()
    with pytest.raises(ValidationFailed) as refused:
        run_import(graph, "usaspending", [renamed], seeds=None, strict=True)
    assert "unknown column 'pop_current_end'" in str(refused.value)
    assert graph.stats().as_dict() == before
    where = store_args(backend, request, tmp_path)
    result = invoke([*where, "import", "usaspending", str(renamed), "--strict"])
    assert result.exit_code == 1 and f"optional column '{end}' is missing" in result.output
    count = invoke([*where, "cypher", "MATCH (n) RETURN count(n) AS c", "--format", "json"])
    assert json.loads(count.output) == [{"c": 0}]
    result = invoke([*where, "import", "usaspending", str(renamed)])
    assert result.exit_code == 0 and "unknown column 'pop_current_end' is not read" in result.output


# --- source dates -----------------------------------------------------------------------------------------------------


def _published(graph, url: str) -> list:
    rows = graph.store.run_read("MATCH (s:Source) WHERE s.url = $url RETURN s.published AS p", {"url": url}).rows
    return [r["p"] for r in rows]


def test_a_source_is_dated_by_its_page_or_left_unknown(graph, tmp_path):
    template = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))[0]
    dated, undated = "https://example.org/news/2019/07/15/test-data-report", "https://example.org/test-data/report"
    path = tmp_path / "actions.json"
    path.write_text(json.dumps([{**template, "id": 97201, "date": "2019-07-11", "companies": ["palantir"],
                                 "sources": [dated, undated]}]), encoding="utf-8")
    run_import(graph, "collective_actions", [path], seeds=None)
    assert _published(graph, dated) == ["2019-07-15"]  # from the URL
    assert _published(graph, undated) == [None]         # unknown, not the action's 2019-07-11

    # FtM with --source-url and no --source-date: unknown, not the file's modification day (nor 1970-01-01)
    from statetech.loaders.importing import DatasetSource

    entity = {"id": "x9", "schema": "Company", "properties": {"name": ["Undated Source Co"]}}
    ftm = tmp_path / "e.ftm.json"
    ftm.write_text(json.dumps(entity) + "\n", encoding="utf-8")
    run_import(graph, "ftm", [ftm], seeds=None,
               dataset_source=DatasetSource.checked("https://example.org/test-data/dump"))
    assert _published(graph, "https://example.org/test-data/dump") == [None]

    # a LittleSis relationship with no updated_at: unknown, not its start date (the event) nor a made-up 2009
    bulk = json.loads((FIXTURES / "littlesis" / "bulk.json").read_text(encoding="utf-8"))
    text = json.dumps(bulk).replace('"updated_at"', '"updated_at_removed"')
    littlesis = tmp_path / "bulk.json"
    littlesis.write_text(text, encoding="utf-8")
    run_import(graph, "littlesis", [littlesis], seeds=None)
    dates = graph.store.run_read("MATCH (s:Source) WHERE s.id STARTS WITH 'source:littlesis-' "
                                 "RETURN DISTINCT s.published AS p").rows
    assert dates == [{"p": None}]

    # a USAspending award without record dates: unknown, not its period of performance (and still imported)
    with (FIXTURES / "usaspending" / "awards.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for column in ("last_modified_date", "award_latest_action_date"):
        rows[1][rows[0].index(column)] = ""
    key = rows[1][rows[0].index("contract_award_unique_key")]
    run_import(graph, "usaspending", [write_csv(tmp_path / "awards.csv", rows)], seeds=None)
    assert _published(graph, f"https://www.usaspending.gov/award/{key}/") == [None]
    assert all("1970" not in str(r["p"]) for r in graph.store.run_read("MATCH (s:Source) RETURN s.published AS p").rows)


def test_a_curated_source_still_needs_its_date(tmp_path):
    path = tmp_path / "undated.yaml"
    path.write_text(SMALL.read_text(encoding="utf-8").replace("published: 2024-01-02", "", 1), encoding="utf-8")
    assert "published: 2024-01-02" in SMALL.read_text(encoding="utf-8")
    result = invoke(["validate", str(path)])
    assert result.exit_code == 1 and "source has no 'published' date" in result.output


# --- placeholders and implausible dates in every importer -------------------------------------------------------------


def test_placeholders_are_not_entities_in_ftm_and_littlesis(graph, tmp_path):
    def company(ftm_id: str, *names: str) -> str:
        return json.dumps({"id": ftm_id, "schema": "Company", "properties": {
            "name": list(names), "sourceUrl": ["https://example.org/test-data/registry"]}})

    ftm = tmp_path / "placeholders.ftm.json"
    ftm.write_text("\n".join([company("p1", "n/a"), company("p2", "Unknown"), company("p3", "-"),
                              company("p4", "N/A", "Real Name Co")]) + "\n", encoding="utf-8")
    summary = run_import(graph, "ftm", [ftm], seeds=None)
    assert sorted(companies(graph).values()) == ["Real Name Co"]
    assert [str(p) for p in summary.skipped] == [
        f"{ftm}:{n}: Company named only by a placeholder ('n/a', 'unknown', '-'): not an entity" for n in (1, 2, 3)]

    bulk = json.loads((FIXTURES / "littlesis" / "bulk.json").read_text(encoding="utf-8"))
    entity = next(v for v in bulk if "name" in v)
    littlesis = tmp_path / "bulk.json"
    littlesis.write_text(json.dumps([{**entity, "id": 990101, "name": "none", "aliases": []},
                                     {**entity, "id": 990102, "name": "Unknown", "aliases": []},
                                     {**entity, "id": 990103, "name": "Vision Test Co", "aliases": []}], indent=1),
                         encoding="utf-8")
    summary = run_import(graph, "littlesis", [littlesis], seeds=None)
    assert sorted(companies(graph).values()) == ["Real Name Co", "Vision Test Co"]
    assert summary.rows_skipped == {"entity named only by a placeholder ('n/a', 'unknown', '-'): not an entity": 2}


def test_implausible_dates_are_warnings_with_file_and_line_in_every_importer(graph, tmp_path):
    ftm = tmp_path / "dates.ftm.json"
    ftm.write_text(json.dumps({"id": "d1", "schema": "Company", "properties": {
        "name": ["Dated Co"], "incorporationDate": ["2099-01-01"], "sourceUrl": ["https://example.org/x"]}}) + "\n"
        + json.dumps({"id": "d2", "schema": "Ownership", "properties": {
            "owner": ["d1"], "asset": ["d1x"], "startDate": ["2020-05-01"], "endDate": ["2019-01-01"],
            "sourceUrl": ["https://example.org/x"]}}) + "\n", encoding="utf-8")
    summary = run_import(graph, "ftm", [ftm], seeds=None, skip_invalid=True)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{ftm}:1 (column incorporationDate): [d1] incorporationDate 2099-01-01 is more than 30 years ahead",
        f"{ftm}:2 (column endDate): [d2] end date 2019-01-01 is before start date 2020-05-01"]

    bulk = json.loads((FIXTURES / "littlesis" / "bulk.json").read_text(encoding="utf-8"))
    relationship = next(v for v in bulk if v.get("category_id") == 6)
    littlesis = tmp_path / "bulk.json"
    littlesis.write_text(json.dumps([{**relationship, "start_date": "2021-01-01", "end_date": "2012-01-01"}]),
                         encoding="utf-8")
    summary = run_import(graph, "littlesis", [littlesis], seeds=None)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{littlesis}:1 (column end_date): [relationship {relationship['id']}] end date 2012-01-01 is before start "
        "date 2021-01-01"]

    template = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))[0]
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps([template, {**template, "id": 97301, "date": "2099-07-11"}], indent=1),
                       encoding="utf-8")
    line = next(n for n, text in enumerate(actions.read_text(encoding="utf-8").splitlines(), 1) if "97301" in text) - 1
    summary = run_import(graph, "collective_actions", [actions], seeds=None)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{actions}:{line} (column date): [97301] date 2099-07-11 is more than 30 years ahead"]

    rows = atlas_rows(["Flock Safety"])
    rows[1][rows[0].index("Link 1 Date")] = "2099-02-03"
    atlas = write_csv(tmp_path / "atlas.csv", rows)
    summary = run_import(graph, "atlas", [atlas], seeds=None)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{atlas}:2 (column Link 1 Date): [AOS910001] Link 1 Date 2099-02-03 is more than 30 years ahead"]


def test_renamed_keys_in_json_actions_are_reported_and_refused_with_strict(graph, tmp_path):
    actions = json.loads((FIXTURES / "collective_actions" / "actions.json").read_text(encoding="utf-8"))
    first = run_import(graph, "collective_actions", [FIXTURES / "collective_actions" / "actions.json"], seeds=None)
    assert first.warnings_total == 0
    read = "MATCH (a:EmployeeAction {id: 'action:cat-9001'}) RETURN a.participants AS p"
    stored = graph.store.run_read(read).rows
    assert stored[0]["p"] == 250
    renamed = [{("participants" if k == "workers" else k): v for k, v in a.items()} for a in actions]
    path = tmp_path / "actions.json"
    path.write_text(json.dumps(renamed, indent=1), encoding="utf-8")
    again = run_import(graph, "collective_actions", [path], seeds=None)
    assert [str(w).split(";")[0] for w in again.warnings] == [
        f"{path}:2 (column participants): unknown key 'participants' is not read",
        f"{path}:2 (column workers): optional key 'workers' is missing: its field stays empty (values stored by "
        "earlier imports are kept)"]
    assert graph.store.run_read(read).rows == stored  # not erased by the re-import
    before = graph.stats().as_dict()
    with pytest.raises(ValidationFailed):
        run_import(graph, "collective_actions", [path], seeds=None, strict=True)
    assert graph.stats().as_dict() == before


def test_unknown_keys_and_properties_in_ftm_are_reported_and_refused_with_strict(graph, tmp_path):
    clean = run_import(graph, "ftm", [FIXTURES / "ftm" / "entities.ftm.json"], seeds=None)
    assert clean.warnings_total == 0  # a real-shaped file, with properties the importer does not read, is clean
    company = {"id": "keys-co", "schema": "Company", "properties": {
        "name": ["Keys Test Co"], "aliass": ["KTC"], "sector": ["software"],  # a misspelled alias; a real FtM property
        "sourceUrl": ["https://example.org/test-data/registry/keys"]}, "dataset": ["test_data"]}
    path = tmp_path / "renamed.ftm.json"
    path.write_text(json.dumps(company) + "\n", encoding="utf-8")
    before = graph.stats().as_dict()
    with pytest.raises(ValidationFailed) as refused:
        run_import(graph, "ftm", [path], seeds=None, strict=True)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}:1 (column dataset): unknown key 'dataset' in an FtM entity is not read (1 record, the first here); "
        "is it 'datasets' misspelled or renamed? Rename it back",
        f"{path}:1 (column aliass): unknown key 'aliass' in the properties of an FtM Company is not read (1 record, "
        "the first here); is it 'alias' misspelled or renamed? Rename it back"]
    assert graph.stats().as_dict() == before
    summary = run_import(graph, "ftm", [path], seeds=None)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{path}:1 (column dataset): unknown key 'dataset' in an FtM entity is not read (1 record, the first here)",
        f"{path}:1 (column aliass): unknown key 'aliass' in the properties of an FtM Company is not read (1 record, "
        "the first here)"]
    assert "Keys Test Co" in companies(graph).values()

    # a misspelled "properties" leaves the entity without a name: the refusal says why
    bare = tmp_path / "bare.ftm.json"
    bare.write_text(json.dumps({"id": "keys-bare", "schema": "Company", "propertes": {"name": ["Bare Co"]}}) + "\n",
                    encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        run_import(graph, "ftm", [bare], seeds=None)
    assert [str(p).split(";")[0] for p in refused.value.problems] == [
        f"{bare}:1 (column name): [keys-bare] Company entity has no name",
        f"{bare}:1 (column propertes): unknown key 'propertes' in an FtM entity is not read (1 record, the first here)"]
    assert "is it 'properties' misspelled" in str(refused.value)


def test_renamed_and_missing_attributes_in_littlesis_are_reported_and_refused_with_strict(graph, tmp_path):
    source = FIXTURES / "littlesis" / "api_entity.json"
    first = run_import(graph, "littlesis", [source], seeds=None)
    assert first.warnings_total == 0
    read = "MATCH (a:Agency) WHERE 'littlesis:990003' IN a.external_ids RETURN a.notes AS notes"
    stored = graph.store.run_read(read).rows
    assert stored == [{"notes": "TEST DATA: a state agency"}]
    document = json.loads(source.read_text(encoding="utf-8"))
    attributes = document["data"]["attributes"]
    attributes["blurb_text"] = attributes.pop("blurb")
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    before = graph.stats().as_dict()
    with pytest.raises(ValidationFailed) as refused:
        run_import(graph, "littlesis", [path], seeds=None, strict=True)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}:1 (column blurb_text): unknown key 'blurb_text' in a LittleSis entity is not read (1 record, the "
        "first here); is it 'blurb' misspelled or renamed? Rename it back",
        f"{path}:1 (column blurb): optional key 'blurb' is missing in a LittleSis entity (1 record, the first here): "
        "its field stays empty (values stored by earlier imports are kept); check the download; a renamed key can be "
        "renamed back"]
    assert graph.stats().as_dict() == before
    again = run_import(graph, "littlesis", [path], seeds=None)
    assert [str(w).split(";")[0] for w in again.warnings] == [
        f"{path}:1 (column blurb_text): unknown key 'blurb_text' in a LittleSis entity is not read (1 record, the "
        "first here)",
        f"{path}:1 (column blurb): optional key 'blurb' is missing in a LittleSis entity (1 record, the first here): "
        "its field stays empty (values stored by earlier imports are kept)"]
    assert graph.store.run_read(read).rows == stored  # not erased by the re-import

    bulk = json.loads((FIXTURES / "littlesis" / "bulk.json").read_text(encoding="utf-8"))
    relationships = [{("amount_usd" if k == "amount" else k): v for k, v in r.items()} for r in bulk
                     if "entity1_id" in r]
    renamed = tmp_path / "relationships.json"
    renamed.write_text(json.dumps(relationships, indent=1), encoding="utf-8")
    summary = run_import(graph, "littlesis", [renamed], seeds=None)
    assert [str(w).split(";")[0] for w in summary.warnings] == [
        f"{renamed}:2 (column amount_usd): unknown key 'amount_usd' in a LittleSis relationship is not read "
        f"({len(relationships)} records, the first here)",
        f"{renamed}:2 (column amount): optional key 'amount' is missing in a LittleSis relationship "
        f"({len(relationships)} records, the first here): its field stays empty (values stored by earlier imports "
        "are kept)"]
