"""``statetech fetch``: the real client code against a local replay server (tests/replay_server.py), never the network.

The recorded answers are in the upstream shapes (tests/fixtures/replay/README.md). Misbehaviour is scripted per
test: 429 with Retry-After, 500, a body cut short, a slow answer. End-to-end runs go through the CLI on both stores
and must print the same import summary as ``statetech import`` of the same file.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from replay_server import REPLAY, Reply, ReplayServer
from statetech.cli.main import cli
from statetech.loaders.remote import (
    AwardQuery,
    FetchError,
    HttpClient,
    Politeness,
    fetch_dataset_file,
    fetch_usaspending,
)

AWARD_ZIP = "PrimeAwardSummariesAndSubawards_2025-03-28_H02M59S08_1.zip"
AWARD_KEYS = {
    "CONT_AWD_70CDCR20P00000053_7012_-NONE-_-NONE-", "CONT_AWD_70CDCR21P00000021_7012_-NONE-_-NONE-",
    "CONT_AWD_70CDCR22P00000014_7012_-NONE-_-NONE-", "CONT_AWD_70CDCR23P00000017_7012_-NONE-_-NONE-",
    "CONT_AWD_70CDCR24P00000013_7012_-NONE-_-NONE-",
}


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


def quick(**kw) -> Politeness:
    """Real retries, tiny pauses; sleeps are recorded (and taken) so tests can check what was honoured."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(min(seconds, 0.05))

    pol = Politeness(backoff=0.01, min_interval=0.0, poll_interval=0.01, timeout=5.0, sleep=sleep, **kw)
    pol.slept = slept  # type: ignore[attr-defined]
    return pol


def store_args(backend: str, request, tmp_path: Path) -> list[str]:
    if backend == "embedded":
        return ["--db", str(tmp_path / "store.grafeo")]
    store = request.getfixturevalue("neo4j_store")
    store.clear()
    request.addfinalizer(store.clear)
    uri = request.getfixturevalue("neo4j_server")[0]
    return ["--neo4j", uri]


def invoke(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def counts(summary: dict) -> dict:
    return {k: summary[k] for k in ("rows_read", "nodes_created", "relationships_created", "sources_written",
                                    "rows_skipped")}


# --- USAspending: search (paged) + download job (polled) + zip ---------------------------------------------------------


def test_usaspending_end_to_end_matches_import_and_reruns_from_cache(server, backend, request, tmp_path):
    where = store_args(backend, request, tmp_path)
    cache = tmp_path / "cache"
    args = [*where, "fetch", "usaspending", "--agency", "ICE", "--since", "2019-01-01", "--until", "2025-03-28",
            "--cache", str(cache), "--url", server.url, "--json", "-q"]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    # the walk: agency lookup, two contract pages (hasNext), one IDV page, the job, two polls, the file
    assert [(s.method, s.path) for s in server.requests] == [
        ("POST", "/api/v2/autocomplete/awarding_agency/"),
        ("POST", "/api/v2/search/spending_by_award/"),
        ("POST", "/api/v2/search/spending_by_award/"),
        ("POST", "/api/v2/search/spending_by_award/"),
        ("POST", "/api/v2/download/awards/"),
        ("GET", "/api/v2/download/status"),
        ("GET", "/api/v2/download/status"),
        ("GET", f"/generated_downloads/{AWARD_ZIP}"),
    ]
    search = server.requests[1].body
    assert search["filters"]["agencies"] == [{"type": "awarding", "tier": "subtier",
                                              "name": "U.S. Immigration and Customs Enforcement",
                                              "toptier_name": "Department of Homeland Security"}]
    assert search["filters"]["time_period"] == [{"start_date": "2019-01-01", "end_date": "2025-03-28"}]
    assert search["filters"]["award_type_codes"] == ["A", "B", "C", "D"]
    assert [r.body["page"] for r in server.requests[1:3]] == [1, 2]
    assert server.requests[4].body["filters"]["agencies"] == search["filters"]["agencies"]
    assert server.requests[5].query == {"file_name": [AWARD_ZIP]}
    assert report["fetch"]["from_cache"] is False and report["fetch"]["warnings"] == []
    assert "award search: 5 matching awards" in report["fetch"]["notes"]
    # only the prime award summaries CSV is imported, not the subawards file in the same zip
    assert [Path(f).name for f in report["fetch"]["files"]] == ["Contracts_PrimeAwardSummaries_2025-03-28_H02M59S08_1.csv"]
    assert report["nodes_created"] == {"Agency": 2, "Company": 3, "Contract": 5}
    assert report["relationships_created"] == {"AWARDED": 5, "AWARDED_TO": 5, "PART_OF": 1, "SUBSIDIARY_OF": 1}

    # the same summary as 'statetech import' of that file into a fresh store of the same kind (dry run: counts)
    extracted = report["fetch"]["files"][0]
    fresh = ["--db", str(tmp_path / "fresh.grafeo")]
    direct = json.loads(invoke([*fresh, "import", "usaspending", extracted, "--json", "-q"]).output)
    assert counts(direct) == counts(report)

    # the text summary is import's own
    text = invoke([*where, "fetch", "usaspending", "--agency", "ICE", "--since", "2019-01-01", "--until",
                   "2025-03-28", "--cache", str(cache), "--url", server.url, "--offline", "-q"])
    assert text.exit_code == 0, text.output
    assert "fetched usaspending: from the cache (no download)" in text.output
    assert "usaspending: imported into" in text.output
    assert "  Contract         0 created, 5 already present (rewritten)" in text.output
    assert len(server.requests) == 8  # --offline: not one more request

    obligated = invoke([*where, "cypher", "MATCH (c:Contract) RETURN c.award_id AS piid, c.obligated_usd AS usd "
                        "ORDER BY piid", "--format", "json"])
    rows = json.loads(obligated.output)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert [(r["piid"], r["usd"]) for r in rows] == [
        ("70CDCR20P00000053", 16000.0), ("70CDCR21P00000021", 9387.5), ("70CDCR22P00000014", 4745.0),
        ("70CDCR23P00000017", 11375.0), ("70CDCR24P00000013", 18867.0)]


def test_usaspending_honours_retry_after_and_retries_a_500(server, tmp_path):
    server.script("POST", "/api/v2/search/spending_by_award/",
                  [Reply(429, b'{"detail": "Request was throttled."}', {"Retry-After": "3"}),
                   Reply(500, b'{"detail": "internal error"}')])
    client = HttpClient(quick())
    fetched = fetch_usaspending(AwardQuery(agency="ICE"), client, tmp_path, server.url)
    assert client.politeness.slept[:2] == [3.0, 0.02]  # Retry-After as asked, then the backoff after the 500
    assert client.waits == [3.0, 0.02]
    searches = [s for s in server.requests if s.path == "/api/v2/search/spending_by_award/"]
    assert [s.body["page"] for s in searches] == [1, 1, 1, 2, 1]
    assert {p.name for p in fetched.files} == {"Contracts_PrimeAwardSummaries_2025-03-28_H02M59S08_1.csv"}


def test_a_retry_after_too_long_is_reported_not_waited(server, tmp_path):
    server.script("POST", "/api/v2/autocomplete/awarding_agency/", [Reply(429, b"", {"Retry-After": "7200"})])
    client = HttpClient(quick())
    with pytest.raises(FetchError) as err:
        fetch_usaspending(AwardQuery(agency="ICE"), client, tmp_path, server.url)
    assert str(err.value) == (f"{server.url}/api/v2/autocomplete/awarding_agency/ is rate-limiting statetech and asks "
                              "it to wait 7200s; try again later")
    assert client.politeness.slept == []


def test_persistent_500_fails_cleanly_and_writes_nothing(server, backend, request, tmp_path):
    where = store_args(backend, request, tmp_path)
    server.script("POST", "/api/v2/download/awards/", [Reply(500, b'{"detail": "database unavailable"}')] * 3)
    result = invoke([*where, "fetch", "usaspending", "--agency", "ICE", "--cache", str(tmp_path / "c"),
                     "--url", server.url, "--retries", "2", "-q"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: POST {server.url}/api/v2/download/awards/ failed after 3 attempts: HTTP 500: database unavailable; "
        "nothing was imported, try again later (completed downloads stay in the cache)")
    assert "Traceback" not in result.output
    stats = json.loads(invoke([*where, "stats", "--format", "json"]).output)
    assert (stats["nodes"], stats["relationships"], stats["sources"]) == (0, 0, 0)
    assert not list((tmp_path / "c").rglob("fetched.json"))
    # the search pages already fetched are reused by the next run: no second search
    server.requests.clear()
    again = invoke([*where, "fetch", "usaspending", "--agency", "ICE", "--cache", str(tmp_path / "c"),
                    "--url", server.url, "--download-only", "-q"])
    assert again.exit_code == 0, again.output
    assert "/api/v2/search/spending_by_award/" not in server.paths()


def test_truncated_download_resumes_with_a_range_request(server, tmp_path):
    size = (REPLAY / "usaspending" / AWARD_ZIP).stat().st_size
    server.script("GET", f"/generated_downloads/{AWARD_ZIP}", [Reply(use_fixture=True, truncate_at=3000)])
    client = HttpClient(quick(retries=0))
    with pytest.raises(FetchError) as err:
        fetch_usaspending(AwardQuery(agency="ICE"), client, tmp_path, server.url)
    assert f"the download was cut off after 3,000 of {size:,} bytes" in str(err.value)
    folder = next((tmp_path / "usaspending").iterdir())
    assert (folder / "awards.zip.part").stat().st_size == 3000
    assert not (folder / "awards.zip").exists() and not (folder / "fetched.json").exists()

    server.requests.clear()
    fetched = fetch_usaspending(AwardQuery(agency="ICE"), HttpClient(quick()), tmp_path, server.url)
    downloads = [s for s in server.requests if s.path.startswith("/generated_downloads/")]
    assert [d.headers.get("Range") for d in downloads] == ["bytes=3000-"]
    # the job was remembered: no second download request, the status is asked again
    assert "/api/v2/download/awards/" not in server.paths()
    assert zipfile.is_zipfile(folder / "awards.zip")
    assert (folder / "awards.zip").read_bytes() == (REPLAY / "usaspending" / AWARD_ZIP).read_bytes()
    assert fetched.files[0].exists()


def test_truncated_json_and_slow_answers_are_retried(server, tmp_path):
    server.script("POST", "/api/v2/search/spending_by_award/", [Reply(use_fixture=True, truncate_at=40)])
    server.script("GET", "/api/v2/download/status", [Reply(use_fixture=True, delay=1.5)])
    pol = quick()
    pol.timeout = 0.5
    client = HttpClient(pol)
    fetched = fetch_usaspending(AwardQuery(agency="ICE"), client, tmp_path, server.url)
    assert len(client.waits) == 2
    assert fetched.notes[1] == "award search: 5 matching awards"


def test_slow_answer_within_the_timeout_is_waited_for(server, tmp_path):
    server.script("GET", "/download.csv", [Reply(use_fixture=True, delay=0.4)])
    client = HttpClient(quick(retries=0))
    fetched = fetch_dataset_file("atlas", client, tmp_path, f"{server.url}/download.csv")
    assert client.waits == []
    assert fetched.files[0].read_bytes() == (REPLAY / "atlas" / "download.csv").read_bytes()


def test_slow_answer_beyond_the_timeout_fails_with_the_url(server, tmp_path):
    server.script("GET", "/download.csv", [Reply(use_fixture=True, delay=1.0)] * 2)
    pol = quick(retries=1)
    pol.timeout = 0.3
    with pytest.raises(FetchError) as err:
        fetch_dataset_file("atlas", HttpClient(pol), tmp_path, f"{server.url}/download.csv")
    assert str(err.value) == (f"GET {server.url}/download.csv failed after 2 attempts: no answer within 0.3s; nothing "
                              "was imported, try again later (completed downloads stay in the cache)")
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".part")]


def test_failed_download_job_is_reported(server, tmp_path):
    server.script("GET", "/api/v2/download/status",
                  [Reply(200, json.dumps({"status": "failed", "message": "Download too large", "file_name": "x",
                                          "file_url": None}).encode())])
    with pytest.raises(FetchError) as err:
        fetch_usaspending(AwardQuery(agency="ICE"), HttpClient(quick()), tmp_path, server.url)
    assert str(err.value) == "USAspending could not build the download: Download too large"


def test_awards_missing_from_the_download_are_reported(server, tmp_path):
    page = json.loads((REPLAY / "usaspending" / "search-contracts-2.json").read_text())
    page["results"].append({**page["results"][0], "Award ID": "70CDCR25P00000099",
                            "generated_internal_id": "CONT_AWD_70CDCR25P00000099_7012_-NONE-_-NONE-"})
    server.script("POST", "/api/v2/search/spending_by_award/", [Reply(use_fixture=True),
                                                                Reply(200, json.dumps(page).encode())])
    fetched = fetch_usaspending(AwardQuery(agency="ICE"), HttpClient(quick()), tmp_path, server.url)
    assert fetched.warnings == ["1 awards found by the search are missing from the download: 70CDCR25P00000099"]


def test_agency_names_abbreviations_and_codes(server, tmp_path):
    for given, expected in (("ICE", "U.S. Immigration and Customs Enforcement"), ("7012", "U.S. Immigration and "
                            "Customs Enforcement"), ("department of homeland security", "Department of Homeland "
                            "Security"), ("070", "Department of Homeland Security")):
        server.requests.clear()
        fetch_usaspending(AwardQuery(agency=given), HttpClient(quick()), tmp_path / given, server.url)
        assert server.requests[1].body["filters"]["agencies"][0]["name"] == expected
    with pytest.raises(FetchError) as err:
        fetch_usaspending(AwardQuery(agency="Bureau of Nothing"), HttpClient(quick()), tmp_path / "x", server.url)
    assert str(err.value).startswith("USAspending knows no awarding agency called 'Bureau of Nothing'; did you mean "
                                     "one of: ")


def test_bad_query_options_fail_before_any_request(server, tmp_path):
    for extra, message in ((["--since", "2020-13-01"], "Error: --since '2020-13-01' is not a real date"),
                           (["--since", "2001-01-01"], "Error: --since 2001-01-01: USAspending's award search starts "
                                                        "at 2007-10-01"),
                           (["--naics", "54x"], "Error: --naics '54x' is not a NAICS code (2 to 6 digits)")):
        result = invoke(["--db", str(tmp_path / "s.grafeo"), "fetch", "usaspending", "--agency", "ICE", *extra,
                         "--url", server.url, "--cache", str(tmp_path / "c")])
        assert result.exit_code == 1 and result.output.startswith(message), result.output
    assert server.requests == []


def test_offline_without_cache_says_what_to_do(server, tmp_path):
    result = invoke(["--db", str(tmp_path / "s.grafeo"), "fetch", "atlas", "--offline", "--cache",
                     str(tmp_path / "c"), "--url", f"{server.url}/download.csv"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: downloading download.csv is not in the cache and --offline forbids "
                                     f"downloading it (GET {server.url}/download.csv); run once without --offline")
    assert server.requests == []


# --- published files ---------------------------------------------------------------------------------------------------


def test_atlas_end_to_end_through_the_environment_url(server, backend, request, tmp_path):
    where = store_args(backend, request, tmp_path)
    env = {"STATETECH_ATLAS_URL": f"{server.url}/download.csv"}
    result = invoke([*where, "fetch", "atlas", "--cache", str(tmp_path / "c"), "--json", "-q"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert server.paths() == ["/download.csv"]
    assert report["rows_read"] == 14
    assert report["nodes_created"] == {"Agency": 14, "Company": 8, "Product": 10}
    assert report["relationships_created"] == {"PROVIDES": 8, "USES": 14}
    direct = json.loads(invoke(["--db", str(tmp_path / "fresh.grafeo"), "import", "atlas",
                                str(REPLAY / "atlas" / "download.csv"), "--json", "-q"]).output)
    assert counts(direct) == counts(report)


def test_collective_actions_csv_and_json(server, tmp_path):
    db = ["--db", str(tmp_path / "s.grafeo")]
    for name in ("actions.csv", "actions.json"):
        result = invoke([*db, "fetch", "collective-actions", "--cache", str(tmp_path / "c"), "--json", "-q",
                         "--url", f"{server.url}/collective-action/tech/main/{name}"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert Path(report["fetch"]["files"][0]).name == name
        assert report["rows_read"] == 33
    # the second file describes the same actions: nothing new
    assert report["nodes_created"] == {}
    assert report["rows_skipped"] == {"action names no company": 1}


def test_an_html_error_page_never_reaches_the_importer(server, tmp_path):
    server.script("GET", "/download.csv", [Reply(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                                                 {"Content-Type": "text/html"})])
    result = invoke(["--db", str(tmp_path / "s.grafeo"), "fetch", "atlas", "--cache", str(tmp_path / "c"),
                     "--url", f"{server.url}/download.csv", "--retries", "0"])
    assert result.exit_code == 1
    assert "the server sent a web page instead of the data file" in result.output
    assert not list((tmp_path / "c").rglob("*.csv"))


def test_credentials_in_a_url_are_never_printed(server, tmp_path):
    host = server.url.replace("http://", "")
    result = invoke(["--db", str(tmp_path / "s.grafeo"), "fetch", "atlas", "--cache", str(tmp_path / "c"),
                     "--url", f"http://user:s3cret@{host}/missing.csv", "--retries", "0"])
    assert result.exit_code == 1
    assert "s3cret" not in result.output
    assert f"GET {server.url}/missing.csv failed with HTTP 404" in result.output


# --- LittleSis -----------------------------------------------------------------------------------------------------------


def test_littlesis_entity_relationship_pages_and_related_entities(server, backend, request, tmp_path):
    where = store_args(backend, request, tmp_path)
    result = invoke([*where, "fetch", "littlesis", "990002", "--cache", str(tmp_path / "c"), "--url", server.url,
                     "--json", "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert server.paths() == ["/api/entities/990002", "/api/entities/990002/relationships",
                              "/api/entities/990002/relationships", "/api/entities/990001", "/api/entities/990004"]
    assert [r.query for r in server.requests[1:3]] == [{"page": ["1"]}, {"page": ["2"]}]
    assert report["fetch"]["notes"] == ["LittleSis entity 990002: 2 page(s) of relationships, 2 related entities"]
    assert report["nodes_created"] == {"Company": 2, "Person": 1}
    assert report["relationships_created"] == {"SUBSIDIARY_OF": 1, "WORKS_FOR": 1}
    rows = json.loads(invoke([*where, "cypher", "MATCH (a)-[r]->(b) WHERE type(r) IN ['WORKS_FOR','SUBSIDIARY_OF'] "
                              "RETURN a.name AS a, type(r) AS t, b.name AS b ORDER BY t", "--format", "json"]).output)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert [(r["a"], r["t"], r["b"]) for r in rows] == [
        ("Example Vision Systems", "SUBSIDIARY_OF", "Palantir Technologies"),
        ("Test Person Example", "WORKS_FOR", "Palantir Technologies")]


def test_littlesis_token_is_sent_and_a_missing_entity_is_clear(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LITTLESIS_API_TOKEN", "tok-123")
    result = invoke(["--db", str(tmp_path / "s.grafeo"), "fetch", "littlesis", "424242", "--cache",
                     str(tmp_path / "c"), "--url", server.url])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: GET {server.url}/api/entities/424242 failed with HTTP 404: Resource is "
                                     "missing or never existed; check the id or the URL")
    assert server.requests[0].headers.get("Littlesis-Api-Token") == "tok-123"
    assert "tok-123" not in result.output
