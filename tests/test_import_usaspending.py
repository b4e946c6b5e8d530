"""USAspending contract downloads: mapping, entity resolution, money rules, idempotence and bad input.

The same bodies run on the embedded store and on a real Neo4j (``graph`` fixture). Fixtures are in
tests/fixtures/usaspending (exact upstream headers, invented rows); the real sample in ../shared/fixtures is used
when present.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from statetech.cli.main import cli
from statetech.graph import cypher
from statetech.graph.errors import ValidationFailed
from statetech.graph.vocabulary import DERIVED_PROPERTIES
from statetech.loaders.curated import load_files
from statetech.loaders.importing import run_import

FIXTURES = Path(__file__).parent / "fixtures" / "usaspending"
AWARDS = FIXTURES / "awards.csv"
TRANSACTIONS = FIXTURES / "transactions.csv"
CURATED = FIXTURES / "curated.yaml"

MSFT = "contract:usa-cont_awd_70ctd020p00000001_7012_-none-_-none"
PALANTIR_ORDER = "contract:usa-cont_awd_70ctd021f00000002_7012_70ctd021d00000009_7012"
CBP = "contract:usa-cont_awd_70b04c22c00000003_7014_-none-_-none"
TSA = "contract:usa-cont_awd_70t02023p00000004_7013_-none-_-none"
IDV = "contract:usa-cont_idv_70ctd021d00000009_7012"
TX_ONLY = "contract:usa-cont_awd_70ctd024p00000006_7012_-none-_-none"


def dump(graph) -> dict:
    """Everything in the store, as comparable plain data."""
    read = graph.store.run_read
    return {
        "nodes": {r["id"]: r["props"] for r in read(cypher.ALL_ENTITIES)},
        "relationships": sorted(json.dumps(r, sort_keys=True) for r in read(cypher.ALL_RELATIONSHIPS)),
        "sources": sorted(json.dumps(r["props"], sort_keys=True)
                          for r in read("MATCH (s:Source) RETURN properties(s) AS props")),
    }


def rel(graph, rel_type: str, from_id: str | None = None, to_id: str | None = None) -> list[dict]:
    rows = graph.query(f"MATCH (a:Entity)-[r:{rel_type}]->(b:Entity) RETURN a.id AS a, b.id AS b, properties(r) AS p "
                       "ORDER BY a, b").rows
    return [r for r in rows if (from_id is None or r["a"] == from_id) and (to_id is None or r["b"] == to_id)]


def node(graph, node_id: str) -> dict:
    """A node's own properties (those derived at write time for indexes, e.g. search_text, left out)."""
    rows = graph.store.run_read(cypher.ENTITIES_BY_IDS, {"ids": [node_id]}).rows
    return {k: v for k, v in rows[0]["props"].items() if k not in DERIVED_PROPERTIES} if rows else {}


@pytest.fixture
def curated(graph):
    load_files(graph, [CURATED])
    return graph


def imp(graph, *paths, tmp_path=None, **kwargs):
    kwargs.setdefault("seeds", None)
    if tmp_path is not None:
        kwargs.setdefault("review_path", tmp_path / "review.csv")
    return run_import(graph.store, "usaspending", [str(p) for p in paths], **kwargs)


# --- mapping and resolution ---------------------------------------------------------------------------------------


def test_award_summaries_land_on_curated_nodes(curated, tmp_path):
    graph = curated
    summary = imp(graph, AWARDS, tmp_path=tmp_path)
    assert summary.rows_read == 5
    assert dict(summary.nodes_created) == {"Agency": 1, "Company": 2, "Contract": 5}
    assert dict(summary.relationships_created) == {"AWARDED": 5, "AWARDED_TO": 5, "CHILD_OF": 1, "PART_OF": 1,
                                                   "SUBSIDIARY_OF": 1}
    assert summary.matched == {"Agency": {"alias": 1, "name": 2}, "Company": {"name": 2, "uei": 1}}

    awarded = {(r["a"], r["b"], r["p"]["from_match"]) for r in rel(graph, "AWARDED")}
    assert awarded == {("agency:ice", MSFT, "name"), ("agency:ice", PALANTIR_ORDER, "name"),
                       ("agency:ice", IDV, "name"), ("agency:cbp", CBP, "name"),
                       ("agency:usa-7013", TSA, "imported")}
    awarded_to = {(r["a"], r["b"], r["p"]["to_match"], r["p"]["amount_usd"]) for r in rel(graph, "AWARDED_TO")}
    assert awarded_to == {
        (MSFT, "company:microsoft", "name", 16000.0),
        (PALANTIR_ORDER, "company:usa-uei-tstuei000002", "imported", 18500.0),
        (IDV, "company:usa-uei-tstuei000002", "imported", 0.0),
        (CBP, "company:usa-duns-012345678", "imported", 250000.0),
        (TSA, "company:example-data", "uei", 5000.0),
    }
    # the new sub-agency sits under the curated department; the new recipient under its curated parent
    assert [(r["a"], r["b"], r["p"]["to_match"]) for r in rel(graph, "PART_OF", "agency:usa-7013")] == [
        ("agency:usa-7013", "agency:dhs", "alias")]
    assert [(r["a"], r["b"], r["p"]["to_match"]) for r in rel(graph, "SUBSIDIARY_OF")] == [
        ("company:usa-uei-tstuei000002", "company:palantir", "name")]
    assert [(r["a"], r["b"]) for r in rel(graph, "CHILD_OF")] == [(PALANTIR_ORDER, IDV)]

    contract = node(graph, MSFT)
    assert contract == {
        "id": MSFT, "kind": "Contract", "name": "70CTD020P00000001: TEST DATA: CLOUD HOSTING SUBSCRIPTIONS",
        "award_id": "70CTD020P00000001", "award_type": "purchase_order", "obligated_usd": 16000.0,
        "current_usd": 16000.0, "potential_usd": 48000.0, "start_date": "2020-05-07", "end_date": "2021-05-06",
        "description": "TEST DATA: CLOUD HOSTING SUBSCRIPTIONS", "naics": "541519: OTHER COMPUTER RELATED SERVICES",
        "psc": "DA10: IT AND TELECOM - BUSINESS APPLICATION/APPLICATION DEVELOPMENT SOFTWARE AS A SERVICE",
        "notes": "Awarding office: ICE-INFO TECH DIVISION",
        "external_ids": ["usaspending:CONT_AWD_70CTD020P00000001_7012_-NONE-_-NONE-", "piid:70CTD020P00000001"],
        "sources": ["source:usa-cont_awd_70ctd020p00000001_7012_-none-_-none"], "confidence": "confirmed",
        "imported_from": "usaspending:awards",
    }
    source = graph.store.run_read("MATCH (s:Source {id: $id}) RETURN properties(s) AS p",
                                  {"id": contract["sources"][0]}).rows[0]["p"]
    assert source == {"id": "source:usa-cont_awd_70ctd020p00000001_7012_-none-_-none",
                      "url": "https://www.usaspending.gov/award/CONT_AWD_70CTD020P00000001_7012_-NONE-_-NONE-/",
                      "title": "USAspending award 70CTD020P00000001",
                      "publisher": "USAspending.gov (U.S. Department of the Treasury)", "published": "2021-01-12"}
    # the IDV's own row replaced the reference node its order created earlier in the file
    assert node(graph, IDV)["imported_from"] == "usaspending:awards"
    assert node(graph, IDV)["potential_usd"] == 9000000.0
    # curated nodes are untouched
    assert node(graph, "company:microsoft")["sources"] == ["source:example-import-tests"]
    assert "imported_from" not in node(graph, "agency:ice")


def test_uncertain_match_goes_to_the_review_file_not_merged(curated, tmp_path):
    summary = imp(curated, AWARDS, tmp_path=tmp_path)
    assert summary.review_items == 1
    with open(tmp_path / "review.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{
        "dataset": "usaspending", "file": str(AWARDS), "line": "3", "kind": "Company",
        "imported_name": "PALANTIR USG, INC.", "imported_ids": "uei:TSTUEI000002",
        "kept_as": "company:usa-uei-tstuei000002", "candidate_id": "company:palantir",
        "candidate_name": "Palantir Technologies Inc.",
        "reason": "one name starts with the other ('palantir usg' / 'palantir')",
    }]
    assert node(curated, "company:usa-uei-tstuei000002")["name"] == "PALANTIR USG, INC."


def test_reimport_changes_nothing(curated, tmp_path):
    imp(curated, AWARDS, TRANSACTIONS, tmp_path=tmp_path)
    before = dump(curated)
    again = imp(curated, AWARDS, TRANSACTIONS, tmp_path=tmp_path)
    assert dump(curated) == before
    assert sum(again.nodes_created.values()) == 0
    assert sum(again.relationships_created.values()) == 0


# --- money ------------------------------------------------------------------------------------------------------------


def obligations(graph) -> dict[str, float]:
    rows = graph.query("MATCH (c:Contract) WHERE c.imported_from STARTS WITH 'usaspending' "
                       "RETURN c.id AS id, c.obligated_usd AS usd ORDER BY id").rows
    return {r["id"]: r["usd"] for r in rows}


AWARD_TOTALS = {MSFT: 16000.0, PALANTIR_ORDER: 18500.0, CBP: 250000.0, TSA: 5000.0, IDV: 0.0}


def test_transactions_alone_carry_award_totals_not_row_sums(curated, tmp_path):
    summary = imp(curated, TRANSACTIONS, tmp_path=tmp_path)
    totals = obligations(curated)
    # award 2 has two of its three transactions in the file (7,500 + 6,000): its total is still 18,500
    assert totals == {MSFT: 16000.0, PALANTIR_ORDER: 18500.0, TX_ONLY: 1200.0, IDV: None}
    assert summary.rows_skipped == {"transaction folded onto its award (the award's latest row carries it)": 2}
    order = node(curated, PALANTIR_ORDER)
    # values of the latest transaction, start of the earliest, description of the base transaction
    assert (order["start_date"], order["description"], order["imported_from"]) == (
        "2021-03-01", "TEST DATA: CASE MANAGEMENT SOFTWARE OPERATIONS AND MAINTENANCE", "usaspending:transactions")
    assert [r["p"]["amount_usd"] for r in rel(curated, "AWARDED_TO", PALANTIR_ORDER)] == [18500.0]


@pytest.mark.parametrize("order", [("awards", "transactions"), ("transactions", "awards")])
def test_summary_and_transactions_never_double_count(curated, tmp_path, order):
    files = {"awards": AWARDS, "transactions": TRANSACTIONS}
    for name in order:
        imp(curated, files[name], tmp_path=tmp_path)
    totals = obligations(curated)
    assert totals == {**AWARD_TOTALS, TX_ONLY: 1200.0}
    assert sum(v for v in totals.values()) == 290700.0
    # the summary describes the award as a whole and wins, whichever file came last
    assert node(curated, PALANTIR_ORDER)["imported_from"] == "usaspending:awards"
    assert node(curated, PALANTIR_ORDER)["potential_usd"] == 90000.0
    amounts = [r["p"]["amount_usd"] for r in rel(curated, "AWARDED_TO")]
    assert sorted(a for a in amounts if a) == [1200.0, 5000.0, 16000.0, 18500.0, 250000.0]


def test_transactions_after_summary_keep_the_summary(curated, tmp_path):
    imp(curated, AWARDS, tmp_path=tmp_path)
    summary = imp(curated, TRANSACTIONS, tmp_path=tmp_path)
    assert dict(summary.nodes_created) == {"Contract": 1}
    assert dict(summary.nodes_kept) == {"Contract": 3}  # two awards and the IDV their reference points to
    assert dict(summary.relationships_kept) == {"AWARDED": 2, "AWARDED_TO": 2, "CHILD_OF": 1}


# --- options ----------------------------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_but_counts(curated, tmp_path):
    before = dump(curated)
    summary = imp(curated, AWARDS, dry_run=True, review_path=None)
    assert dump(curated) == before
    assert summary.dry_run and summary.rows_read == 5
    assert dict(summary.nodes_created) == {"Agency": 1, "Company": 2, "Contract": 5}
    assert summary.review_items == 1 and summary.review_path is None


def test_limit_reads_the_first_rows(curated, tmp_path):
    summary = imp(curated, AWARDS, limit=2, tmp_path=tmp_path)
    assert summary.rows_read == 2
    assert sorted(obligations(curated)) == [MSFT, PALANTIR_ORDER, IDV]  # the IDV as a reference node
    assert node(curated, IDV)["imported_from"] == "usaspending:reference"


def test_batches_of_one_give_the_same_graph(graph, tmp_path):
    load_files(graph, [CURATED])
    imp(graph, AWARDS, TRANSACTIONS, batch_size=1, tmp_path=tmp_path)
    small = dump(graph)
    graph.clear()
    load_files(graph, [CURATED])
    imp(graph, AWARDS, TRANSACTIONS, tmp_path=tmp_path)
    assert dump(graph) == small


@pytest.mark.parametrize("batch_size", [1, 3, 10_000])
def test_new_records_are_created_with_their_summary(graph, tmp_path, batch_size):
    """An award created in a batch gets its outgoing relationships' summary (out_newest ...) with its other
    properties, not by a statement after the batch (GraphWriter._fold_markers): whatever the batch boundaries,
    what the import stored is what a full recomputation gives, and the new award carries it."""
    load_files(graph, [CURATED])
    imp(graph, AWARDS, TRANSACTIONS, batch_size=batch_size, tmp_path=tmp_path)
    stored = graph.store.run_read("MATCH (c:Entity {id: $id}) RETURN c.out_newest AS newest, c.newest_source AS own",
                                  {"id": PALANTIR_ORDER}).rows
    # its AWARDED_TO and CHILD_OF cite the award's own source, so the summary's newest date is that source's
    assert stored[0]["newest"] is not None and stored[0]["newest"] == stored[0]["own"]
    done = graph.refresh_provenance()
    assert (done.entities, done.relationships, done.markers) == (0, 0, 0)


# --- messy and wrong input --------------------------------------------------------------------------------------------


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, list(reader)


def _write(path: Path, header, rows, *, bom=False, newline="\r\n") -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        writer = csv.writer(f, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_spreadsheet_resaved_file_imports_the_same_values(curated, tmp_path):
    header, rows = _rows(AWARDS)
    col = {c: i for i, c in enumerate(header)}
    for row in rows:
        for name in ("total_obligated_amount", "current_total_value_of_award", "potential_total_value_of_award"):
            value = float(row[col[name]])
            row[col[name]] = f"${value:,.0f}" if value == int(value) else f"{value:,.2f}"
        for name in ("period_of_performance_start_date", "period_of_performance_current_end_date",
                     "last_modified_date"):
            y, m, d = row[col[name]].split("-")
            row[col[name]] = f"{int(m)}/{int(d)}/{y[2:]}"
    resaved = _write(tmp_path / "resaved.csv", header, [rows[0], [""] * len(header), *rows[1:], []], bom=True)
    summary = imp(curated, resaved, tmp_path=tmp_path)
    assert summary.empty_rows == 2
    assert obligations(curated) == AWARD_TOTALS
    assert node(curated, MSFT)["start_date"] == "2020-05-07"


def test_missing_column_rejects_the_file_before_writing(curated, tmp_path):
    header, rows = _rows(AWARDS)
    i = header.index("recipient_name")
    header[i] = "recipient_nme"
    bad = _write(tmp_path / "bad.csv", header, rows)
    before = dump(curated)
    with pytest.raises(ValidationFailed) as err:
        imp(curated, bad, tmp_path=tmp_path)
    assert str(err.value) == (
        f"import usaspending failed: 1 problem; nothing was written\n"
        f"{bad}:1 (column recipient_name): missing column 'recipient_name'; did you mean 'recipient_nme'?")
    assert dump(curated) == before


def test_renamed_column_from_an_older_download_is_accepted(curated, tmp_path):
    header, rows = _rows(AWARDS)
    header[header.index("total_obligated_amount")] = "total_dollars_obligated"
    old = _write(tmp_path / "old.csv", header, rows)
    imp(curated, old, tmp_path=tmp_path)
    assert obligations(curated) == AWARD_TOTALS


def test_bad_values_are_located_and_nothing_is_written(curated, tmp_path):
    header, rows = _rows(AWARDS)
    rows[1][header.index("total_obligated_amount")] = "12,34x"
    rows[3][header.index("period_of_performance_start_date")] = "13/45/2020"
    bad = _write(tmp_path / "bad.csv", header, rows)
    before = dump(curated)
    with pytest.raises(ValidationFailed) as err:
        imp(curated, bad, tmp_path=tmp_path)
    key2 = "CONT_AWD_70CTD021F00000002_7012_70CTD021D00000009_7012"
    key4 = "CONT_AWD_70T02023P00000004_7013_-NONE-_-NONE-"
    assert str(err.value).splitlines() == [
        "import usaspending failed: 2 problems; nothing was written",
        f"{bad}:3 (column total_obligated_amount): [{key2}] '12,34x' is not an amount of money; write a number "
        "such as 1234.56 ($ and thousands commas are fine)",
        f"{bad}:5 (column period_of_performance_start_date): [{key4}] '13/45/2020': month 13 > 12; dates here are "
        "read month/day/year; write YYYY-MM-DD (MM/DD/YY from spreadsheets is read too)",
    ]
    assert dump(curated) == before


def test_skip_invalid_imports_the_good_rows(curated, tmp_path):
    header, rows = _rows(AWARDS)
    rows[1][header.index("total_obligated_amount")] = "n/a?"
    bad = _write(tmp_path / "bad.csv", header, rows)
    summary = imp(curated, bad, skip_invalid=True, tmp_path=tmp_path)
    assert summary.rows_skipped == {"invalid row": 1}
    assert summary.problems_total == 1
    assert PALANTIR_ORDER not in obligations(curated)
    assert obligations(curated)[MSFT] == 16000.0


def test_truncated_last_line_is_reported(curated, tmp_path):
    text = AWARDS.read_text(encoding="utf-8")
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: text.rindex("TEST DATA: INDEFINITE")], encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, cut, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{cut}:6: last row has 91 of 286 fields: the file looks truncated; download it again, or delete the "
        "incomplete last line")


def test_unclosed_quote_at_the_end_is_reported(curated, tmp_path):
    text = AWARDS.read_text(encoding="utf-8")
    cut = tmp_path / "cut.csv"
    cut.write_text(text + '"CONT_AWD_X,unfinished', encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(curated, cut, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == (
        f"{cut}:7: cannot parse CSV: unexpected end of data; a quote is probably not closed; if this is the last "
        "line, the file was cut off: download it again")


@pytest.mark.parametrize("content, message", [
    ("award_id_fain,assistance_award_unique_key\n1,2\n",
     "this is a USAspending Assistance (grants, loans) download, not Contracts; statetech imports Contracts "
     "downloads: Prime Award Summaries or Prime Transactions"),
    ('"AOSNUMBER","Agency"\n"AOS1","X"\n',
     "this looks like an Atlas of Surveillance CSV, not a USAspending download; use 'statetech import atlas'"),
    ('{"id": "x", "schema": "Company", "properties": {}}\n', "this file is JSON, not CSV; use the importer for this "
                                                           "JSON format"),
    ("", "file is empty; download it again"),
])
def test_wrong_format_is_named(graph, tmp_path, content, message):
    path = tmp_path / "wrong.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        imp(graph, path, tmp_path=tmp_path)
    assert str(err.value).splitlines()[1] == f"{path}:1: {message}"


def test_zip_download_is_read(curated, tmp_path):
    import zipfile

    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(AWARDS, "Contracts_PrimeAwardSummaries_2025-01-01_H00M00S00_1.csv")
    summary = imp(curated, archive, tmp_path=tmp_path)
    assert summary.files == [f"{archive}!Contracts_PrimeAwardSummaries_2025-01-01_H00M00S00_1.csv"]
    assert obligations(curated) == AWARD_TOTALS


# --- the CLI ----------------------------------------------------------------------------------------------------------


def test_cli_import_prints_a_summary(tmp_path):
    db = tmp_path / "cli.grafeo"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "load", str(CURATED)]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "import", "usaspending", str(AWARDS), "--review",
                                 str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"usaspending: imported into embedded store at {db} (")
    assert lines[1:] == [
        f"files: {AWARDS}",
        "rows read: 5",
        "nodes:",
        "  Agency           1 created",
        "  Company          2 created",
        "  Contract         5 created",
        "relationships:",
        "  AWARDED          5 created",
        "  AWARDED_TO       5 created",
        "  CHILD_OF         1 created",
        "  PART_OF          1 created",
        "  SUBSIDIARY_OF    1 created",
        "sources written: 5",
        "matched to existing nodes (distinct nodes, by how):",
        "  Agency           1 by alias, 2 by name",
        "  Company          2 by name, 1 by uei",
        f"uncertain matches for review: 1 -> {tmp_path / 'r.csv'}",
    ]


def test_cli_bad_file_exits_nonzero_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.grafeo"), "import", "usaspending", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [
        "Error: import usaspending failed: 1 problem; nothing was written",
        f"{bad}:1: this is not a USAspending Contracts Prime Award Summaries download: 6 of its 6 required columns "
        "are missing (contract_award_unique_key, award_id_piid, awarding_agency_name, awarding_sub_agency_name, "
        "recipient_name, total_obligated_amount); the file's header starts a, b; check the file and the format"]


def test_cli_dry_run_json(tmp_path):
    db = tmp_path / "cli.grafeo"
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "usaspending", str(AWARDS), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["dry_run"], data["rows_read"], data["nodes_created"]) == (
        True, 5, {"Agency": 4, "Company": 5, "Contract": 5})


# --- the real sample --------------------------------------------------------------------------------------------------


def test_real_award_summary_sample(curated, shared_fixtures, tmp_path):
    path = shared_fixtures / "usaspending" / "Contracts_PrimeAwardSummaries_2025-03-28_H02M59S08_1.csv"
    summary = imp(curated, path, tmp_path=tmp_path)
    assert summary.rows_read == 5 and summary.problems_total == 0
    assert dict(summary.nodes_created) == {"Company": 3, "Contract": 5}
    awarded = rel(curated, "AWARDED")
    assert len(awarded) == 5 and {r["a"] for r in awarded} == {"agency:ice"}
    assert {r["p"]["from_match"] for r in awarded} == {"name"}
    totals = obligations(curated)
    assert sorted(totals.values()) == [4745.0, 9387.5, 11375.0, 16000.0, 18867.0]
    assert node(curated, "contract:usa-cont_awd_70cdcr20p00000053_7012_-none-_-none")["description"] == (
        "OUTDOOR GUN RANGE IN ST PAUL MN")
    again = imp(curated, path, tmp_path=tmp_path)
    assert sum(again.nodes_created.values()) == 0


def test_progress_is_sized_to_the_file_and_reaches_its_end(tmp_path, progress_events):
    from statetech.graph.store import GrafeoStore

    Recorder, events = progress_events
    store = GrafeoStore(tmp_path / "p.grafeo")
    run_import(store, "usaspending", [str(AWARDS)], progress=Recorder, seeds=None, review_path=tmp_path / "r.csv")
    store.close()
    size = AWARDS.stat().st_size
    starts = [e for e in events if e[0] == "start"]
    assert starts == [("start", f"checking {AWARDS}", size), ("start", f"importing {AWARDS}", size)]
    updates = [e[1] for e in events if e[0] == "update"]
    assert updates[-1] == size and updates == sorted(updates[: len(updates) // 2]) + sorted(updates[len(updates) // 2:])
    assert events[-1] == ("finish",)


def test_seed_aliases_help_resolve_nodes_already_in_the_store(curated, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "aliases.yaml").write_text(
        "# TEST DATA: a newer seed file that gives Microsoft one more alias than the store has\n"
        "sources:\n  - {id: source:example-import-tests, url: https://example.org/statetech/import-tests, "
        "title: Example source for import tests, publisher: Example, published: 2024-01-01}\n"
        "nodes:\n  - {id: company:microsoft, kind: Company, name: Microsoft Corporation, "
        "aliases: [Microsoft, MSFT, MS REDMOND HOLDINGS], sources: [source:example-import-tests], "
        "confidence: confirmed}\n"
        "  - {id: company:not-in-store, kind: Company, name: Seed Only Vendor, aliases: [SEED ONLY], "
        "sources: [source:example-import-tests], confidence: confirmed}\n", encoding="utf-8")
    header, rows = _rows(AWARDS)
    rows[0][header.index("recipient_name")] = "MS REDMOND HOLDINGS"
    rows[2][header.index("recipient_name")] = "SEED ONLY"
    path = _write(tmp_path / "aliases.csv", header, rows)
    imp(curated, path, tmp_path=tmp_path, seeds=seeds)
    assert [(r["b"], r["p"]["to_match"]) for r in rel(curated, "AWARDED_TO", MSFT)] == [("company:microsoft", "alias")]
    # a seed record the store does not hold cannot be linked to: the recipient becomes a node of its own
    assert [r["b"] for r in rel(curated, "AWARDED_TO", CBP)] == ["company:usa-duns-012345678"]
