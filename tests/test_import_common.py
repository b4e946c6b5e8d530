"""Streaming readers, messy values and entity resolution: unit tests, no store."""

from __future__ import annotations

import gzip
import json

import pytest

from statetech.loaders.common import (
    BadValue,
    CsvRow,
    CsvSpec,
    CsvStream,
    InputFile,
    JsonStream,
    JsonValue,
    RowProblem,
    parse_amount,
    parse_bool,
    parse_date,
    parse_int,
    parse_pylist,
    slug,
)
from statetech.loaders.resolve import Resolver, ReviewLog, normalise_identifier, normalise_name

# --- values -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("1234", 1234.0), ("16000.00", 16000.0), ("$1,234.50", 1234.5), ("1,234,567", 1234567.0), ("(1,234.00)", -1234.0),
    ("-$5", -5.0), ("$-5", -5.0), ("1.2E+06", 1200000.0), (" 42 ", 42.0), ("", None), ("-", None), (None, None),
    ("N/A", None),
])
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["12,34", "1.2.3", "abc", "$", "12 000", "1,23,456"])
def test_parse_amount_rejects(text):
    with pytest.raises(BadValue) as err:
        parse_amount(text)
    assert str(err.value) == f"{text!r} is not an amount of money"


@pytest.mark.parametrize("text, expected", [
    ("2017-12-22", "2017-12-22"), ("2017-12-22 00:00:00", "2017-12-22"), ("2021-05-04T20:26:45Z", "2021-05-04"),
    ("2017/12/22", "2017-12-22"), ("12/22/17", "2017-12-22"), ("12/22/2017", "2017-12-22"), ("1/5/30", "2030-01-05"),
    ("9/30/32", "2032-09-30"), ("1/1/75", "1975-01-01"),
    ("1/5/29", "2029-01-05"), ("2019", "2019"), ("2019-07", "2019-07"), ("1856-00-00", "1856"), ("2019-02-00", "2019-02"),
    ("September 12, 2019", "2019-09-12"), ("Sept. 2019", "2019-09"), ("Jan 5 2020", "2020-01-05"), ("", None),
    (None, None), ("12/22/2017 3:45 PM", "2017-12-22"),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, message", [
    ("13/01/2018", "'13/01/2018': month 13 > 12; dates here are read month/day/year"),
    ("2019-02-30", "'2019-02-30' is not a day of that month"),
    ("Meeting documents", "'Meeting documents' is not a date"),
    ("0999-01-01", "'0999-01-01': year 999 is out of range"),
])
def test_parse_date_rejects(text, message):
    with pytest.raises(BadValue) as err:
        parse_date(text)
    assert str(err.value) == message


def test_parse_pylist_reads_literals_only():
    assert parse_pylist("['a', 'b']") == ["a", "b"]
    assert parse_pylist("[(37.4, -122.1)]") == [(37.4, -122.1)]
    assert parse_pylist("None") == parse_pylist("") == parse_pylist("[]") == []
    assert parse_pylist("plain") == ["plain"]
    with pytest.raises(BadValue):
        parse_pylist("[__import__('os').system('echo no')]")
    with pytest.raises(BadValue):
        parse_pylist("['a', 'b'")


def test_parse_int_and_bool():
    assert parse_int("1,200") == 1200 and parse_int("300.0") == 300 and parse_int("None") is None
    with pytest.raises(BadValue):
        parse_int("3.5")
    assert parse_bool("True") is True and parse_bool("f") is False and parse_bool("None") is None


def test_slug_is_stable_and_short():
    assert slug("CONT_AWD_70CDCR20P00000053_7012_-NONE-_-NONE-") == "cont_awd_70cdcr20p00000053_7012_-none-_-none"
    long = slug("x" * 200)
    assert len(long) == 80 and long == slug("x" * 200) and long != slug("x" * 199)
    assert slug("---") == "x"


# --- CSV --------------------------------------------------------------------------------------------------------------

SPEC = CsvSpec("test table", required=("id", "name"), optional=("amount",), renames={"amount": ("total",)})


def rows(tmp_path, content: bytes | str, spec=SPEC, name="t.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    stream = CsvStream(InputFile(path), spec)
    return stream, list(stream.rows()) if not stream.header_problems else []


def test_csv_bom_crlf_empty_rows_and_line_numbers(tmp_path):
    stream, out = rows(tmp_path, b"\xef\xbb\xbfID,Name,Total\r\n1,a,5\r\n,,\r\n\r\n2,\"b\r\nwith break\",6\r\n3,c,7\r\n")
    assert stream.header_problems == []
    assert [(r.line, r.values) for r in out] == [
        (2, {"id": "1", "name": "a", "amount": "5"}),
        (5, {"id": "2", "name": "b\r\nwith break", "amount": "6"}),
        (7, {"id": "3", "name": "c", "amount": "7"}),
    ]
    assert stream.empty_rows == 2


def test_csv_missing_column_names_a_close_match(tmp_path):
    stream, _ = rows(tmp_path, "id,nmae\n1,a\n")
    assert [str(p) for p in stream.header_problems] == [
        f"{tmp_path / 't.csv'}:1 (column name): missing column 'name'; did you mean 'nmae'?"]


def test_csv_wrong_field_count_and_truncation(tmp_path):
    _, out = rows(tmp_path, "id,name\n1,a,extra\n2,b\n3")
    assert [str(r.problem) if isinstance(r, RowProblem) else r.line for r in out] == [
        f"{tmp_path / 't.csv'}:2: row has 3 fields, the header has 2; a value probably holds an unquoted comma or "
        "line break; quote it",
        3,
        f"{tmp_path / 't.csv'}:4: last row has 1 of 2 fields: the file looks truncated; download it again, or delete "
        "the incomplete last line",
    ]


def test_csv_trailing_empty_fields_from_spreadsheets_are_fine(tmp_path):
    _, out = rows(tmp_path, "id,name\n1,a,,\n")
    assert [r.values for r in out] == [{"id": "1", "name": "a"}]


def test_csv_not_utf8(tmp_path):
    _, out = rows(tmp_path, b"id,name\n1,caf\xe9\n2,ok\n")
    assert str(out[0].problem) == (f"{tmp_path / 't.csv'}:2 (column name): not UTF-8 text (byte 0xe9); save the "
                                   "file as UTF-8 ('CSV UTF-8' in Excel)")
    assert out[1].values == {"id": "2", "name": "ok"}


def test_csv_limit_and_gzip(tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"id,name\n1,a\n2,b\n3,c\n"))
    stream = CsvStream(InputFile(path), SPEC)
    assert [r.values["id"] for r in stream.rows(limit=2)] == ["1", "2"]


def test_excel_workbook_is_named(tmp_path):
    import zipfile

    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    stream, _ = rows(tmp_path, path.read_bytes(), name="book.csv")
    assert [p.message for p in stream.header_problems] == ["this is an Excel workbook, not a CSV file"]


# --- JSON -------------------------------------------------------------------------------------------------------------


def values(tmp_path, text: str, **kwargs):
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")
    return [(v.line, v.value) if isinstance(v, JsonValue) else str(v.problem)
            for v in JsonStream(InputFile(path)).values(**kwargs)]


def test_json_lines_and_arrays_stream_with_line_numbers(tmp_path):
    assert values(tmp_path, '{"a": 1}\n\n{"a": 2}\n') == [(1, {"a": 1}), (3, {"a": 2})]
    assert values(tmp_path, '[\n  {"a": 1},\n  {\n    "a": 2\n  }\n]\n') == [(2, {"a": 1}), (3, {"a": 2})]
    assert values(tmp_path, "[]") == []
    assert values(tmp_path, '[{"a": 1}]', unwrap_array=False) == [(1, [{"a": 1}])]


def test_json_large_values_cross_chunk_boundaries(tmp_path):
    items = [{"id": i, "text": "x" * 5000} for i in range(100)]
    out = values(tmp_path, json.dumps(items, indent=1))
    assert [v["id"] for _, v in out] == list(range(100))


def test_json_truncated_array(tmp_path):
    out = values(tmp_path, '[\n{"a": 1},\n{"a": 2')
    assert out[0] == (2, {"a": 1})
    assert out[1] == f"{tmp_path / 't.json'}:3: invalid JSON: Expecting ',' delimiter (the file looks truncated); " \
                     "download it again"


# --- resolution -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind, key", [
    ("MICROSOFT CORPORATION", "Company", "microsoft"), ("Microsoft Corp.", "Company", "microsoft"),
    ("Amazon Web Services, Inc.", "Company", "amazon web services"), ("FOO L.L.C.", "Company", "foo"),
    ("The Boeing Company", "Company", "boeing"), ("AT&T Corp", "Company", "at and t"),
    ("Acme d/b/a Acme Vision", "Company", "acme"), ("Nestlé S.A.", "Company", "nestle"),
    ("U.S. Immigration and Customs Enforcement", "Agency", "immigration and customs enforcement"),
    ("United States Secret Service", "Agency", "secret service"), ("Co", "Company", "co"),
])
def test_normalise_name(name, kind, key):
    assert normalise_name(name, kind) == key


def test_normalise_identifier():
    assert normalise_identifier("duns", "12345678") == "012345678"
    assert normalise_identifier("cik", "0001321655") == "1321655"
    assert normalise_identifier("uei", " kabjzbbj4b54 ") == "KABJZBBJ4B54"
    assert normalise_identifier("uei", "-NONE-") is None


def resolver() -> Resolver:
    r = Resolver("test", ReviewLog())
    r.add_entity({"id": "company:microsoft", "kind": "Company", "name": "Microsoft Corporation",
                  "aliases": ["Microsoft", "MSFT"]})
    r.add_entity({"id": "company:palantir", "kind": "Company", "name": "Palantir Technologies Inc.",
                  "aliases": ["Palantir"], "uei": "PALANTIRUEI1"})
    r.add_entity({"id": "company:acme-east", "kind": "Company", "name": "Acme Systems", "external_ids": ["ori:X"]})
    r.add_entity({"id": "company:acme-west", "kind": "Company", "name": "ACME SYSTEMS INC"})
    r.add_entity({"id": "company:old-import", "kind": "Company", "name": "Old Import LLC", "duns": "000000001",
                  "imported_from": "usaspending:awards"})
    return r


def test_resolution_order_and_methods():
    r = resolver()
    assert r.resolve("Company", "Anything", [("uei", "palantiruei1")], "company:x1").method == "uei"
    assert r.resolve("Company", "MSFT", [], "company:x2").method == "alias"
    assert r.resolve("Company", "microsoft corporation", [], "company:x3").method == "name"
    m = r.resolve("Company", "MICROSOFT CORP.", [], "company:x4")
    assert (m.id, m.method, m.created) == ("company:microsoft", "normalised_name", False)
    assert r.resolve("Company", "Old Import", [("duns", "1")], "company:x5").method == "duns"
    assert r.matched_counts() == {"Company": {"alias": 1, "duns": 1, "name": 1, "normalised_name": 1, "uei": 1}}


def test_new_entity_is_created_once_and_found_again_as_imported():
    r = resolver()
    first = r.resolve("Company", "Brand New Vendor LLC", [("uei", "NEWUEI000001")], "company:usa-uei-newuei000001")
    again = r.resolve("Company", "BRAND NEW VENDOR", [("uei", "NEWUEI000001")], "company:usa-uei-newuei000001")
    other = r.resolve("Company", "Brand New Vendor", [], "company:aos-brand-new-vendor")
    assert (first.method, first.created) == ("imported", True)
    assert (again.id, again.method, again.created) == ("company:usa-uei-newuei000001", "imported", False)
    assert (other.id, other.method) == ("company:usa-uei-newuei000001", "normalised_name")
    assert r.created == {"Company": 1}


def test_conflicting_identifier_refuses_a_name_match():
    r = resolver()
    m = r.resolve("Company", "Palantir Technologies Inc.", [("uei", "OTHERUEI0001")], "company:usa-uei-otheruei0001")
    assert (m.id, m.created) == ("company:usa-uei-otheruei0001", True)
    assert [i.reason for i in r.review.items] == [
        "same name but uei OTHERUEI0001 differs from the node's PALANTIRUEI1"]


def test_ambiguous_curated_match_goes_to_review():
    r = resolver()
    m = r.resolve("Company", "Acme Systems, Inc.", [], "company:new-acme")
    assert (m.id, m.created) == ("company:new-acme", True)
    assert sorted((i.candidate_id, i.reason) for i in r.review.items) == [
        ("company:acme-east", "ambiguous name 'Acme Systems, Inc.': 2 nodes match"),
        ("company:acme-west", "ambiguous name 'Acme Systems, Inc.': 2 nodes match"),
    ]


def test_near_misses_are_reviewed_not_merged():
    r = resolver()
    m = r.resolve("Company", "PALANTIR USG INC", [], "company:palantir-usg")
    spelled = r.resolve("Company", "Mircosoft Corporation", [], "company:typo")
    assert m.created and spelled.created
    assert [(i.kept_as, i.candidate_id, i.reason) for i in r.review.items] == [
        ("company:palantir-usg", "company:palantir", "one name starts with the other ('palantir usg' / 'palantir')"),
        ("company:typo", "company:microsoft", "names spelled alike ('mircosoft' / 'microsoft')"),
    ]


def test_lookup_never_creates():
    r = resolver()
    assert r.lookup("Company", "msft").id == "company:microsoft"
    assert r.lookup("Company", "students") is None
    assert r.created == {}


def test_candidate_ids_and_kinds():
    r = resolver()
    assert r.resolve("Company", "microsoft", [], "company:cat-microsoft",
                     candidate_ids=["company:microsoft"]).method in ("id", "alias")
    assert r.resolve("Agency", "Microsoft", [], "agency:x").created  # other kinds never match


def test_rows_are_csvrows(tmp_path):
    _, out = rows(tmp_path, "id,name\n1,a\n")
    assert isinstance(out[0], CsvRow) and out[0].get("missing") == ""
