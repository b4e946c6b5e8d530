"""The import's shortcuts change nothing but speed: an import through them emits exactly the records, problems,
skips, warnings and counts that the plain path (every record validated by pydantic, the file read and parsed again
for the write pass) gives, on the fixtures and on a file of hostile rows. No server needed."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest

from statetech.graph.api import Graph
from statetech.graph.model import Agency, Company, Relationship
from statetech.graph.store import GrafeoStore
from statetech.loaders import importing
from statetech.loaders.curated import load_files
from statetech.loaders.importing import RecordMaker, Spool, run_import
from statetech.loaders.usaspending import UsaspendingImporter

FIXTURES = Path(__file__).parent / "fixtures" / "usaspending"
AWARDS = FIXTURES / "awards.csv"
TRANSACTIONS = FIXTURES / "transactions.csv"
CURATED = FIXTURES / "curated.yaml"


def _hostile(path: Path) -> Path:
    """Award rows an importer meets in real downloads and spreadsheet re-saves: padded and placeholder values, names
    only, DUNS without their zeros, non-ASCII names, one recipient spelled three ways, an order whose parent is
    itself, money and dates in spreadsheet style, a huge amount, a far-future end, an end before its start."""
    with AWARDS.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        template = next(reader)
    col = {c: i for i, c in enumerate(header)}
    rows = []

    def row(n: int, **values: str) -> None:
        out = list(template)
        key = f"CONT_AWD_HOSTILE{n:03d}_7012_-NONE-_-NONE-"
        out[col["contract_award_unique_key"]] = key
        out[col["award_id_piid"]] = f"HOSTILE{n:03d}"
        out[col["usaspending_permalink"]] = f"https://www.usaspending.gov/award/{key}/"
        for name, value in values.items():
            out[col[name]] = value
        rows.append(out)

    row(1, recipient_name="  Microsoft   Corporation ", recipient_uei=" tstuei000001 ")
    row(2, recipient_name="N/A", recipient_uei="", recipient_duns="12345", recipient_parent_uei="",
        recipient_parent_name="")
    row(3, recipient_name="Société Générale S.A.", recipient_uei="", recipient_duns="", recipient_parent_uei="",
        recipient_parent_name="SOCIETE GENERALE")
    row(4, recipient_name="ACME WIDGETS, INC.", recipient_uei="ACMEUEI00001", recipient_parent_uei="ACMEUEI00001",
        recipient_parent_name="ACME WIDGETS INC")
    row(5, recipient_name="Acme Widgets Inc", recipient_uei="ACMEUEI00001", recipient_parent_uei="",
        recipient_parent_name="ACME HOLDINGS")
    row(6, recipient_name="acme widgets", recipient_uei="", recipient_duns="", recipient_parent_uei="",
        recipient_parent_name="")
    row(7, total_obligated_amount="$1,234,567", current_total_value_of_award="(12.50)",
        potential_total_value_of_award="", period_of_performance_start_date="5/7/20",
        period_of_performance_current_end_date="2099-01-01", last_modified_date="")
    row(8, total_obligated_amount="1e999", period_of_performance_start_date="2021-03-01",
        period_of_performance_current_end_date="2020-03-01", usaspending_permalink="",
        awarding_sub_agency_code="", awarding_sub_agency_name="Unknown", awarding_agency_code="")
    row(9, parent_award_id_piid="HOSTILE009", parent_award_agency_id="7012", award_type_code="C",
        prime_award_base_transaction_description="x" * 300, naics_code="", naics_description="  ",
        awarding_office_name="")
    row(10, parent_award_id_piid="HOSTILEIDV", parent_award_agency_id="", award_type_code="", idv_type_code="B",
        recipient_name="\u00a0Palantir USG\u00a0", recipient_uei="", recipient_duns="")
    row(11, award_id_piid="", awarding_agency_name="-", awarding_agency_code="", awarding_sub_agency_code="7012")
    row(12, recipient_name="MICROSOFT CORPORATION", recipient_uei="TSTUEI000001", total_obligated_amount="0",
        award_type_code="X")
    row(13, recipient_name="Palantir USG Inc", recipient_uei="", recipient_duns="", recipient_parent_uei="",
        recipient_parent_name="PALANTIR TECHNOLOGIES INC.")
    row(14, awarding_sub_agency_code=" 9999 ", awarding_sub_agency_name="Office of  Hostile Testing")
    row(15, awarding_sub_agency_code="9999", awarding_sub_agency_name="OFFICE OF HOSTILE TESTING")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class _Recording(Graph):
    """A Graph whose import_ keeps every record the importer emitted (as plain data) before writing them."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self.emitted: list[tuple] = []

    def import_(self, stream, **kwargs):
        def recorded():
            for out in stream:
                self.emitted.append(tuple(
                    [(type(r).__name__, list(r.__dict__.items()), sorted(r.model_fields_set), r.model_dump())
                     for r in records] for records in (out.sources, out.nodes, out.relationships)))
                yield out
        return super().import_(recorded(), **kwargs)


def _import(tmp_path: Path, name: str, paths: list[Path], **options):
    graph = _Recording(GrafeoStore(tmp_path / f"{name}.grafeo"))
    try:
        load_files(graph, [CURATED])
        recording = graph
        results = []
        for path in paths:
            summary = run_import(recording, "usaspending", [path], seeds=None, review_path=tmp_path / f"{name}.csv",
                                 **options)
            results.append(summary.as_dict() | {"seconds": None, "review_path": None})
        return recording.emitted, results, (tmp_path / f"{name}.csv").read_text()
    finally:
        graph.close()


@pytest.mark.parametrize("dry_run", [True, False])
def test_fast_paths_emit_what_the_plain_path_emits(tmp_path, monkeypatch, dry_run):
    hostile = _hostile(tmp_path / "hostile.csv")
    files = [AWARDS, TRANSACTIONS, hostile, AWARDS]
    spooled = []
    entries = Spool.entries

    def counted(self, progress, size):
        for entry in entries(self, progress, size):
            spooled.append(entry)
            yield entry

    monkeypatch.setattr(Spool, "CHUNK", 3)  # several chunks per file
    monkeypatch.setattr(Spool, "entries", counted)
    fast = _import(tmp_path, "fast", files, dry_run=dry_run, skip_invalid=True)
    assert len(spooled) == 5 + 5 + 15 + 5  # every usable row of every file came back from a spool
    with monkeypatch.context() as plain:
        plain.setattr(importing, "_MADE_BY_HAND", {})  # every record through pydantic
        plain.setattr(UsaspendingImporter, "spools", False)  # pass 2 reads and parses the file again
        slow = _import(tmp_path, "slow", files, dry_run=dry_run, skip_invalid=True)
    assert fast == slow
    emitted, summaries, review = fast
    # the hostile rows did go through: contracts, companies resolved and created, a skipped row, warnings
    assert summaries[2]["rows_read"] == 15
    assert summaries[2]["rows_skipped"] == {
        "award record rejected by the model: Contract field 'obligated_usd': inf is not a finite number": 1}
    assert [w.split(": ", 1)[0] for w in summaries[2]["warnings"]] == [
        f"{hostile}:8 (column period_of_performance_current_end_date)",
        f"{hostile}:9 (column period_of_performance_current_end_date)"]
    # written: the fixture's first import already created one of the companies (a dry run remembers nothing)
    assert summaries[2]["nodes_created"] == {"Company": 5 if dry_run else 4, "Contract": 16, "Agency": 1}
    assert summaries[2]["relationships_created"] == {"AWARDED": 14, "AWARDED_TO": 14, "CHILD_OF": 2,
                                                     "SUBSIDIARY_OF": 2 if dry_run else 1, "PART_OF": 1}
    kinds = {r[0] for out in emitted for records in out for r in records}
    assert kinds == {"Source", "Contract", "Agency", "Company", "Relationship"}
    assert "palantir" in review.lower()


@pytest.mark.parametrize("failure", ["no temporary folder", "disk full on the second chunk"])
def test_a_spool_that_cannot_be_written_costs_a_second_read_not_the_import(tmp_path, monkeypatch, failure):
    hostile = _hostile(tmp_path / "hostile.csv")
    expected = _import(tmp_path, "expected", [hostile, TRANSACTIONS], skip_invalid=True)
    if failure == "no temporary folder":
        monkeypatch.setattr(Spool, "open", classmethod(lambda cls: None))
    else:
        import tempfile

        class Full:
            def __init__(self):
                self.file, self.writes = tempfile.TemporaryFile(), 0

            def write(self, data):
                self.writes += 1
                if self.writes > 2:
                    raise OSError(28, "No space left on device")
                return self.file.write(data)

            def __getattr__(self, name):
                return getattr(self.file, name)

        monkeypatch.setattr(Spool, "CHUNK", 3)
        monkeypatch.setattr(Spool, "open", classmethod(lambda cls: cls(Full())))
    reread = []
    records = UsaspendingImporter.records
    monkeypatch.setattr(UsaspendingImporter, "records",
                        lambda self, *a: reread.append(self.file.name) or records(self, *a))
    assert _import(tmp_path, "fallback", [hostile, TRANSACTIONS], skip_invalid=True) == expected
    assert reread == [str(hostile)] * 2 + [str(TRANSACTIONS)] * 2  # both passes read each file


def test_what_is_written_is_what_was_checked_even_if_the_file_changes_between_the_passes(tmp_path, monkeypatch):
    path = tmp_path / "awards.csv"
    path.write_bytes(AWARDS.read_bytes())
    expected = _import(tmp_path, "expected", [AWARDS])
    finish = Spool.finish

    def then_overwrite(self):
        finish(self)
        path.write_text("contract_award_unique_key\nnot,the,same,file\n")  # e.g. a download restarted meanwhile

    monkeypatch.setattr(Spool, "finish", then_overwrite)
    emitted, summaries, review = _import(tmp_path, "changed", [path])
    assert emitted == expected[0] and len(emitted) == 5
    assert review.replace(str(path), str(AWARDS)) == expected[2]
    assert summaries[0] | {"files": None} == expected[1][0] | {"files": None}


def test_the_spool_reports_progress_towards_the_file_size(tmp_path, monkeypatch, progress_events):
    Recorder, events = progress_events
    monkeypatch.setattr(Spool, "CHUNK", 2)
    graph = Graph(GrafeoStore(tmp_path / "g.grafeo"))
    try:
        run_import(graph, "usaspending", [AWARDS], seeds=None, dry_run=True, progress=Recorder)
    finally:
        graph.close()
    size = AWARDS.stat().st_size
    second = events.index(("start", f"importing {AWARDS}", size))
    updates = [e[1] for e in events[second:] if e[0] == "update"]
    assert len(updates) >= 3 and updates == sorted(updates) and updates[-1] == size and updates[0] < size


def test_the_gc_threshold_is_restored_after_an_import(tmp_path):
    before = gc.get_threshold()
    graph = Graph(GrafeoStore(tmp_path / "g.grafeo"))
    try:
        run_import(graph, "usaspending", [AWARDS], seeds=None, dry_run=True)
        assert gc.get_threshold() == before
        with pytest.raises(importing.ValidationFailed):
            run_import(graph, "usaspending", [tmp_path / "missing.csv"], seeds=None)
        assert gc.get_threshold() == before
    finally:
        graph.close()


# --- records made from a template -------------------------------------------------------------------------------------

SHARED = dict(type="AWARDED_TO", confidence="confirmed", imported_from="usaspending:awards")
VARYING = dict(from_id="contract:usa-cont_awd_1", to_id="company:microsoft", sources=["source:usa-cont_awd_1"],
               from_match=None, to_match="uei", amount_usd=1234.5)
ODD = [" padded", "", None, 1, 1.5, float("inf"), float("nan"), True, "not_a_type", "AWARDED", "uei", "alleged",
       [], ["source:a", "x"], [" s"], ("a",), ["source:ok"], 10**30, b"bytes", "company:x", "Company:X"]


def _same(made, data):
    slow = Relationship.model_validate(data)
    assert made == slow
    assert list(made.__dict__.items()) == list(slow.__dict__.items())
    assert made.model_fields_set == slow.model_fields_set
    assert repr(made) == repr(slow)


def test_a_maker_gives_the_record_pydantic_gives():
    maker = RecordMaker(Relationship, **SHARED)
    assert maker._ready is not None  # the shared fields passed their checks once
    _same(maker(**VARYING), {**SHARED, **VARYING})
    for name in VARYING:
        for value in ODD:
            data = {**VARYING, name: value}
            try:
                Relationship.model_validate({**SHARED, **data})
            except importing.ValidationError:  # refused by pydantic: refused the same way through the maker
                with pytest.raises(importing.ValidationError):
                    maker(**data)
                continue
            _same(maker(**data), {**SHARED, **data})


def test_a_maker_with_an_odd_shared_value_leaves_every_record_to_pydantic():
    maker = RecordMaker(Relationship, **{**SHARED, "imported_from": " padded "})
    assert maker._ready is None
    made = maker(**VARYING)
    assert made.imported_from == "padded"  # pydantic stripped it
    with pytest.raises(importing.ValidationError):
        RecordMaker(Relationship, **{**SHARED, "type": "NOT_A_TYPE"})(**VARYING)


def test_a_maker_refuses_a_shared_field_given_again_and_missing_required_fields():
    maker = RecordMaker(Relationship, **SHARED)
    with pytest.raises(TypeError):
        maker(**VARYING, type="AWARDED")  # make_record(**fixed, **varying): one value per field
    with pytest.raises(importing.ValidationError):
        maker(**{k: v for k, v in VARYING.items() if k != "sources"})


def test_records_from_one_maker_share_no_lists():
    maker = RecordMaker(Relationship, **SHARED)
    shared = ["source:usa-cont_awd_1"]
    a, b = maker(**{**VARYING, "sources": shared}), maker(**{**VARYING, "sources": shared})
    assert a.sources == b.sources == shared and a.sources is not shared and a.sources is not b.sources
    company = RecordMaker(Company, confidence="confirmed", imported_from="usaspending:awards")
    x = company(id="company:usa-uei-a", name="A", sources=shared)
    y = company(id="company:usa-uei-b", name="B", sources=shared)
    assert x.aliases == y.aliases == [] and x.aliases is not y.aliases and x.external_ids is not y.external_ids
    assert x == Company(id="company:usa-uei-a", name="A", sources=shared, confidence="confirmed",
                        imported_from="usaspending:awards")


def test_agency_levels_are_the_models():
    assert importing._HAND_CHECKS[Agency]["level"] == {"federal", "state", "local", "national", "international", None}


# --- resolution -------------------------------------------------------------------------------------------------------


def test_the_near_miss_prefilter_never_changes_an_answer():
    import random

    from statetech.graph.errors import did_you_mean
    from statetech.loaders.resolve import Resolver

    resolver = Resolver()
    rng = random.Random(7)
    letters = "abcdefgh ijk"
    found = 0
    for _ in range(3000):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 14)))
        pool = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 14))) for _ in range(8)]
        pool += [word, word[:-1] + "x", word + "y", word[::-1]]
        expected = did_you_mean(word, pool, n=3, cutoff=0.85)
        kept = resolver._could_be_close(word, pool, 0.85)
        assert set(expected) <= set(kept)
        assert (did_you_mean(word, kept, n=3, cutoff=0.85) if kept else []) == expected
        found += len(expected)
    assert found > 3000  # the word itself, at least, every time
