"""The importer's fast paths give exactly what the slow ones gave: records made by hand (loaders/importing.py) equal
pydantic's, cached readings (dates, the seeds' alias table, names) equal fresh ones. No server needed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from statetech.graph.model import Agency, Company, Contract, Relationship, Source
from statetech.loaders import importing, resolve
from statetech.loaders.common import BadValue, parse_amount, parse_date
from statetech.loaders.importing import ImportSummary, checked_record, run_import

FIXTURES = Path(__file__).parent / "fixtures" / "usaspending"

CONTRACT = dict(
    id="contract:usa-cont_awd_1", name="70CTD: cloud hosting", award_id="70CTD", award_type="delivery_order",
    obligated_usd=1234.5, current_usd=2000.0, potential_usd=3000.0, start_date="2020-01-31", end_date="2021-02",
    description="cloud hosting", naics="541511: CUSTOM PROGRAMMING", psc="DA01: IT", notes="Awarding office: X",
    external_ids=["usaspending:CONT_AWD_1", "piid:70CTD"], sources=["source:usa-cont_awd_1"], confidence="confirmed",
    imported_from="usaspending:awards",
)
SOURCE = dict(id="source:usa-cont_awd_1", url="https://www.usaspending.gov/award/CONT_AWD_1/",
              title="USAspending award 70CTD", publisher="USAspending.gov", published="2021-01-15")
AGENCY = dict(id="agency:usa-7012", name="U.S. Immigration and Customs Enforcement", agency_code="7012",
              level="federal", country="US", sources=["source:usa-cont_awd_1"], confidence="confirmed",
              imported_from="usaspending:awards")
COMPANY = dict(id="company:usa-uei-tstuei000001", name="MICROSOFT CORPORATION", uei="TSTUEI000001", duns="000012345",
               country="USA", sources=["source:usa-cont_awd_1"], confidence="confirmed",
               imported_from="usaspending:awards")
RELATIONSHIP = dict(from_id="contract:usa-cont_awd_1", to_id="company:microsoft", type="AWARDED_TO",
                    sources=["source:usa-cont_awd_1"], confidence="confirmed", imported_from="usaspending:awards",
                    from_match=None, to_match="uei", amount_usd=1234.5)

# Values the model rejects or changes (strips, converts, coerces): the hand checks must leave every one to pydantic.
ODD_VALUES = [" padded", "padded ", "", "\u00a0nbsp", "x\u2028", None, 1, 1.5, math.inf, -math.inf, math.nan, True,
              "2020-13-01", "2021-02-30", "20200101", "2020-1-5", "contract:Bad", "contract:", "company:x",
              "source:x", "src:x", "agency:x", "agency:X", "federal", "local", "planetary", "http://", "https://a b", "ftp://x.org/", [], ["source:a", "x"], [" s"], ("a",),
              ["source:ok"], "not_a_type", "AWARDED", "uei", "alleged", "idv", 10**30, "1e400", b"bytes"]


def _slow(cls, data):
    try:
        return cls.model_validate(data)
    except ValidationError:
        return None


def _same(hand, slow) -> None:
    assert slow is not None, "made by hand, but pydantic refuses it"
    assert hand == slow
    assert list(hand.__dict__.items()) == list(slow.__dict__.items())
    assert hand.model_fields_set == slow.model_fields_set
    assert hand.model_dump() == slow.model_dump()
    assert repr(hand) == repr(slow)


KINDS = [(Contract, CONTRACT), (Source, SOURCE), (Relationship, RELATIONSHIP), (Agency, AGENCY), (Company, COMPANY)]


@pytest.mark.parametrize("cls, good", KINDS)
def test_good_records_are_made_by_hand_and_equal_pydantic(cls, good):
    hand = checked_record(cls, dict(good))
    assert hand is not None
    _same(hand, cls.model_validate(good))


@pytest.mark.parametrize("cls, good", KINDS)
def test_every_odd_value_in_every_field_is_left_to_pydantic_or_equal(cls, good):
    made_by_hand = 0
    for name in good:
        for value in ODD_VALUES:
            data = {**good, name: value}
            hand, slow = checked_record(cls, data), _slow(cls, data)
            if hand is not None:
                made_by_hand += 1
                _same(hand, slow)
        data = {k: v for k, v in good.items() if k != name}  # a field left out
        hand = checked_record(cls, data)
        if hand is not None:
            _same(hand, cls.model_validate(data))
    assert made_by_hand > 0  # the None, empty-list and plain-text cases that are valid did take the fast path


def test_unknown_fields_and_aliases_go_to_pydantic():
    assert checked_record(Contract, {**CONTRACT, "colour": "red"}) is None
    assert checked_record(Relationship, {**RELATIONSHIP, "from": "agency:x"}) is None
    with pytest.raises(ValidationError):
        importing.make_record(Contract, **{**CONTRACT, "colour": "red"})


def test_records_made_by_hand_do_not_share_lists():
    shared = ["source:usa-cont_awd_1"]
    a = checked_record(Relationship, {**RELATIONSHIP, "sources": shared})
    b = checked_record(Relationship, {**RELATIONSHIP, "type": "AWARDED", "sources": shared})
    assert a.sources == b.sources == shared and a.sources is not shared and a.sources is not b.sources


def test_the_hand_checks_cover_the_model_they_were_written_for():
    # A validator added to the model switches the fast path off for that class (and this test fails, asking for the
    # checks in loaders/importing.py to be reviewed against it).
    assert set(importing._MADE_BY_HAND) == {Contract, Source, Relationship, Agency, Company}


def test_every_record_of_the_fixture_imports_equals_pydantic(graph, monkeypatch):
    made: list[tuple[type, dict, object]] = []
    original = importing.checked_record

    def recording(cls, data):
        record = original(cls, data)
        made.append((cls, dict(data), record))
        return record

    monkeypatch.setattr(importing, "checked_record", recording)
    made_from_templates = importing.RecordMaker.__call__

    def recording_maker(self, **varying):
        record = made_from_templates(self, **varying)
        made.append((self.cls, {**self.fixed, **varying}, record))
        return record

    monkeypatch.setattr(importing.RecordMaker, "__call__", recording_maker)
    for path in (FIXTURES / "awards.csv", FIXTURES / "transactions.csv"):
        run_import(graph, "usaspending", [path], dry_run=True, seeds=None)
    by_hand = [(cls, data, record) for cls, data, record in made if record is not None]
    assert {cls for cls, _, _ in by_hand} == {Contract, Source, Relationship, Agency, Company}
    for cls, data, record in by_hand:
        _same(record, cls.model_validate(data))


def test_plain_amounts_read_as_before():
    for text in ("0", "12", "12.", "12.50", "001234.56", "99999999999.99"):
        assert parse_amount(text) == float(text)
    assert parse_amount("1,234.50") == 1234.5 and parse_amount("(5)") == -5.0 and parse_amount(" 7 ") == 7.0
    with pytest.raises(BadValue, match="is not an amount of money"):
        parse_amount("12.3.4")


def test_cached_dates_read_and_fail_as_before():
    assert parse_date("2020-01-31") == parse_date("2020-01-31") == "2020-01-31"
    assert parse_date(" 2020-01-31 00:00:00 ") == "2020-01-31"
    assert parse_date("1856-00-00") == "1856"
    for _ in range(2):  # the second time from the cache: still refused, with the value as written
        with pytest.raises(BadValue, match=r"^'2021-02-30' is not a day of that month$"):
            parse_date("2021-02-30 ")
        with pytest.raises(BadValue, match=r"^'2021-xx ' is not a date$"):
            parse_date("2021-xx ")
    assert parse_date("9/30/32") == "2032-09-30"


def test_folded_names_equal_the_unicode_path():
    for name in ("MICROSOFT CORPORATION", "Amazon.com, Inc.", "AT&T  Corp", "Macy's"):
        slow = "".join(c for c in __import__("unicodedata").normalize("NFKD", name)
                       if not __import__("unicodedata").combining(c)).casefold()
        assert resolve._fold(name) == slow
    assert resolve.normalise_name("Société Générale S.A.") == "societe generale"


def test_seed_aliases_are_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    text = ("# TEST DATA\nsources:\n  - {id: source:example-seed, url: 'https://example.org/a', title: A, "
            "publisher: Example, published: 2024-01-01}\nnodes:\n"
            "  - {id: company:example, kind: Company, name: Example Corp, aliases: [EXCO], uei: ABC123, "
            "sources: [source:example-seed], confidence: reported}\n")
    (seeds / "a.yaml").write_text(text)
    first = resolve.seed_entities(seeds)
    assert first == [{"kind": "Company", "id": "company:example", "name": "Example Corp", "aliases": ["EXCO"],
                      "uei": "ABC123"}]
    cached = list((tmp_path / "cache" / "statetech").glob("seed-entities-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text()) == first
    # an edited seed file is read again, never answered from the old table
    (seeds / "a.yaml").write_text(text.replace("[EXCO]", "[EXCO, EXAMPLE HOLDINGS]"))
    assert resolve.seed_entities(seeds)[0]["aliases"] == ["EXCO", "EXAMPLE HOLDINGS"]
    # a damaged cache file is ignored and rewritten
    resolve._seed_entities.clear()
    for path in (tmp_path / "cache" / "statetech").glob("seed-entities-*.json"):
        path.write_text("{not json")
    assert resolve.seed_entities(seeds)[0]["aliases"] == ["EXCO", "EXAMPLE HOLDINGS"]


def test_import_summary_carries_the_writer_counts_once():
    counted = {f.name for f in importing.fields(importing.ImportCounts)}
    assert counted <= {f.name for f in importing.fields(ImportSummary)}
    assert counted <= set(ImportSummary(format="x", dry_run=True).as_dict())
