"""Download public datasets into a local cache, politely, so ``statetech fetch`` imports local files.

Reading only: nothing here writes to a store. Each source turns a request (an agency and date range, a LittleSis id,
a dataset URL) into files on disk in the formats :mod:`statetech.loaders.importing` already reads, and the caller
imports them through the same path as ``statetech import``.

Why a cache keyed by request, and why files appear only complete:

* every download is written to ``NAME.part`` and renamed into place only once it is whole (its length matches the
  server's ``Content-Length``, a zip opens, a JSON document parses). A truncated or failed download therefore never
  reaches an importer, and the next run resumes the ``.part`` with an HTTP ``Range`` request where the server allows;
* each request has its own folder (a hash of the request), and a ``fetched.json`` manifest is written last, listing
  the files. A re-run with the same request imports from the cache without touching the network; ``--offline`` insists
  on it; ``--refresh`` downloads again;
* hosts are asked politely: a pause between requests, ``429 Too Many Requests`` honoured by its ``Retry-After``,
  ``5xx``, timeouts and cut connections retried with growing pauses, then a clear error naming the URL.

Upstream endpoints (base URLs configurable, e.g. to point the tests at a local replay server):

* USAspending (``STATETECH_USASPENDING_URL``, default https://api.usaspending.gov):
  ``POST /api/v2/autocomplete/awarding_agency/`` (agency name, abbreviation or code -> the name the filters need),
  ``POST /api/v2/search/spending_by_award/`` (paged by ``page_metadata.hasNext``; the list of matching awards, used
  to check the download is complete), ``POST /api/v2/download/awards/`` then ``GET /api/v2/download/status`` until
  ``finished``, then the zip at ``file_url`` (Prime Award Summaries CSV, the format ``import usaspending`` reads);
* Collective Actions in Tech (``STATETECH_COLLECTIVE_ACTIONS_URL``): the published ``actions.csv`` / ``actions.json``;
* EFF Atlas of Surveillance (``STATETECH_ATLAS_URL``): ``https://atlasofsurveillance.org/download.csv``;
* LittleSis (``STATETECH_LITTLESIS_URL``, default https://littlesis.org): ``GET /api/entities/ID``,
  ``GET /api/entities/ID/relationships?page=N`` (paged by ``meta.pageCount`` or ``links.next``) and
  ``GET /api/entities/OTHER`` for every entity at the other end. ``LITTLESIS_API_TOKEN``, when set, is sent as the
  ``Littlesis-Api-Token`` header (never printed).
"""

from __future__ import annotations

import base64
import csv
import email.utils
import hashlib
import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from statetech.graph.errors import StatetechError
from statetech.loaders.common import NoProgress, Progress

USER_AGENT = "statetech-fetch/0.1 (+https://pypi.org/project/statetech/)"

DEFAULT_URLS: dict[str, str] = {
    "usaspending": "https://api.usaspending.gov",
    "collective_actions": "https://raw.githubusercontent.com/collective-action/tech/main/actions.csv",
    "atlas": "https://atlasofsurveillance.org/download.csv",
    "littlesis": "https://littlesis.org",
}
URL_ENV = {
    "usaspending": "STATETECH_USASPENDING_URL",
    "collective_actions": "STATETECH_COLLECTIVE_ACTIONS_URL",
    "atlas": "STATETECH_ATLAS_URL",
    "littlesis": "STATETECH_LITTLESIS_URL",
}
DATASET_TITLES = {
    "collective_actions": ("Collective Actions in Tech: dataset of tech worker actions", "Collective Actions in Tech"),
    "atlas": ("Atlas of Surveillance: dataset download", "Electronic Frontier Foundation"),
}
CONTRACT_TYPES = ["A", "B", "C", "D"]
IDV_TYPES = ["IDV_A", "IDV_B", "IDV_B_A", "IDV_B_B", "IDV_B_C", "IDV_C", "IDV_D", "IDV_E"]
SEARCH_EARLIEST = "2007-10-01"  # the award search refuses earlier dates (its own message says so)
SEARCH_PAGE_SIZE = 100
MAX_SEARCH_PAGES = 1000  # 100,000 awards: beyond that, ask for narrower filters rather than hammer the API
RETRY_STATUSES = {500, 502, 503, 504}
CHUNK = 64 * 1024


class FetchError(StatetechError):
    """A download failed, was refused, or (with --offline) is not in the cache; nothing was imported."""


def default_cache_dir() -> Path:
    """Per-user data directory (XDG on Linux), beside the embedded store; ``STATETECH_CACHE`` overrides it."""
    env = os.environ.get("STATETECH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "statetech" / "downloads"


def base_url(source: str, given: str | None = None) -> str:
    """The URL to use for a source: the option, else its environment variable, else the public default."""
    url = given or os.environ.get(URL_ENV[source]) or DEFAULT_URLS[source]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"{url!r} is not an http(s) URL (from {'--url' if given else URL_ENV[source]})")
    return url.rstrip("/") if source in ("usaspending", "littlesis") else url


def _shown(url: str) -> str:
    """A URL as it may be printed: user and password removed."""
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        parts = parts._replace(netloc=host)
    return urllib.parse.urlunsplit(parts)


# --- HTTP: polite, retried, resumable ---------------------------------------------------------------------------------


@dataclass
class Politeness:
    """How hard to try and how gently: defaults suit the public APIs; tests shrink the pauses."""

    retries: int = 4                 # extra attempts after the first, for 429 / 5xx / timeouts / cut connections
    backoff: float = 2.0             # seconds before the first retry, doubled each time
    max_retry_after: float = 300.0   # a Retry-After longer than this is reported instead of waited out
    timeout: float = 60.0            # seconds without a byte before a connection counts as failed
    min_interval: float = 0.5        # seconds between two requests, so a paged walk never bursts
    poll_interval: float = 5.0       # seconds between download-status polls
    poll_timeout: float = 3600.0     # give up on a download job after this long
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpClient:
    """urllib with the retry rules above. ``offline`` turns every request into a clear error."""

    def __init__(self, politeness: Politeness | None = None, offline: bool = False,
                 progress: Callable[[], Progress] | None = None, headers: dict[str, str] | None = None) -> None:
        self.politeness = politeness or Politeness()
        self.offline = offline
        self.progress = progress or NoProgress
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.requests = 0
        self.bytes_downloaded = 0
        self.waits: list[float] = []   # every pause taken for a retry, in seconds (reported, and checked by tests)
        self._last_request = 0.0

    # one attempt loop shared by JSON requests and file downloads
    def _attempts(self, method: str, url: str, what: str, attempt: Callable[[int], Any]) -> Any:
        if self.offline:
            raise FetchError(f"{what} is not in the cache and --offline forbids downloading it ({method} {_shown(url)}); "
                             "run once without --offline")
        pol = self.politeness
        last = ""
        for number in range(pol.retries + 1):
            gap = pol.min_interval - (time.monotonic() - self._last_request)
            if gap > 0:
                pol.sleep(gap)
            self._last_request = time.monotonic()
            self.requests += 1
            try:
                return attempt(number)
            except urllib.error.HTTPError as exc:
                status = exc.code
                detail = _error_detail(exc)
                if status == 429:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                    if wait is None:
                        wait = pol.backoff * 2 ** number
                    if wait > pol.max_retry_after:
                        raise FetchError(f"{_shown(url)} is rate-limiting statetech and asks it to wait {wait:.0f}s; "
                                         "try again later") from None
                    last = f"HTTP 429 Too Many Requests (waited {wait:g}s as asked)"
                elif status in RETRY_STATUSES:
                    wait = pol.backoff * 2 ** number
                    last = f"HTTP {status}{': ' + detail if detail else ''}"
                else:
                    hint = {404: "check the id or the URL", 410: "it was deleted upstream",
                            400: "the server refused the request", 401: "it needs an API token",
                            403: "access was refused"}.get(status, "")
                    raise FetchError(f"{method} {_shown(url)} failed with HTTP {status}"
                                     + (f": {detail}" if detail else "") + (f"; {hint}" if hint else "")) from None
            except _Truncated as exc:
                wait, last = pol.backoff * 2 ** number, str(exc)
            except (TimeoutError, socket.timeout):
                wait, last = pol.backoff * 2 ** number, f"no answer within {pol.timeout:g}s"
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    wait, last = pol.backoff * 2 ** number, f"no answer within {pol.timeout:g}s"
                else:
                    wait, last = pol.backoff * 2 ** number, f"connection failed: {reason}"
            if number < pol.retries:
                self.waits.append(wait)
                pol.sleep(wait)
        attempts = pol.retries + 1
        raise FetchError(f"{method} {_shown(url)} failed after {attempts} attempt{'s' if attempts != 1 else ''}: {last}; "
                         "nothing was imported, try again later (completed downloads stay in the cache)")

    def _request(self, method: str, url: str, body: Any = None, extra: dict[str, str] | None = None):
        data = None
        headers = dict(self.headers)
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        headers.update(extra or {})
        parts = urllib.parse.urlsplit(url)
        if parts.username or parts.password:
            # credentials in the URL travel as Basic auth; urllib would take them for part of the host name
            pair = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            url = _shown(url)
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        return urllib.request.urlopen(request, timeout=self.politeness.timeout)  # noqa: S310 - http(s) checked

    def json(self, method: str, url: str, body: Any = None, what: str = "a response") -> Any:
        """A JSON document; a body cut short or that does not parse is retried like a dropped connection."""

        def attempt(_: int) -> Any:
            with self._request(method, url, body) as response:
                expected = response.headers.get("Content-Length")
                try:
                    raw = response.read()
                except http.client.IncompleteRead as exc:
                    raise _Truncated(f"the response was cut off after {len(exc.partial):,} bytes") from None
                self.bytes_downloaded += len(raw)
                if expected and expected.isdigit() and len(raw) < int(expected):
                    raise _Truncated(f"the response was cut off after {len(raw):,} of {int(expected):,} bytes")
                try:
                    return json.loads(raw)
                except ValueError:
                    raise _Truncated(f"the response is not complete JSON ({len(raw):,} bytes)") from None

        return self._attempts(method, url, what, attempt)

    def download(self, url: str, dest: Path, label: str, check: Callable[[Path], str | None] | None = None) -> Path:
        """Stream ``url`` to ``dest`` through ``dest.part``; resume a leftover ``.part`` with a Range request.

        ``check`` looks at the finished ``.part`` and returns a reason when it is unusable (a truncated zip, an HTML
        error page): that counts as a failed attempt, and the part is discarded so the next attempt starts afresh.
        """
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)

        def attempt(_: int) -> Path:
            have = part.stat().st_size if part.exists() else 0
            extra = {"Range": f"bytes={have}-"} if have else {}
            try:
                response = self._request("GET", url, extra=extra)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and have:  # the part is already whole (or larger than the file): start over
                    part.unlink()
                    raise _Truncated("the partial download did not match the file; starting again") from None
                raise
            with response:
                if have and response.status != 206:
                    have = 0  # the server ignored the Range header: start from the beginning
                length = response.headers.get("Content-Length")
                total = have + int(length) if length and length.isdigit() else 0
                bar = self.progress()
                bar.start(label, total)
                done = have
                try:
                    with open(part, "ab" if have else "wb") as out:
                        while True:
                            try:
                                chunk = response.read(CHUNK)
                            except http.client.IncompleteRead as exc:
                                out.write(exc.partial)
                                done += len(exc.partial)
                                self.bytes_downloaded += len(exc.partial)
                                raise _Truncated(f"the download was cut off after {done:,} bytes") from None
                            if not chunk:
                                break
                            out.write(chunk)
                            done += len(chunk)
                            self.bytes_downloaded += len(chunk)
                            bar.update(done)
                finally:
                    bar.finish()
            if total and done < total:
                raise _Truncated(f"the download was cut off after {done:,} of {total:,} bytes")
            reason = check(part) if check else None
            if reason:
                part.unlink()
                raise _Truncated(reason)
            os.replace(part, dest)
            return dest

        return self._attempts("GET", url, label, attempt)


class _Truncated(Exception):
    """A response that ended early or could not be read whole: retried like a dropped connection."""


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None when absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own words about an error (USAspending ``detail``/``message``, LittleSis ``errors[].title``)."""
    try:
        raw = exc.read(4096)
    except Exception:  # noqa: BLE001 - the status alone is still worth reporting
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return "" if text.startswith("<") else text[:200]
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list):
            return "; ".join(str(e.get("title", e)) if isinstance(e, dict) else str(e) for e in data["errors"])[:300]
        for key in ("detail", "message", "error"):
            if data.get(key):
                return str(data[key])[:300]
    return ""


# --- the cache --------------------------------------------------------------------------------------------------------


def request_key(*parts: Any) -> str:
    """A short stable name for a request: the same request always lands in the same cache folder."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def _write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=1, sort_keys=True).encode())


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Fetched:
    """What a fetch left in the cache for the importer, and what it did to get it."""

    format: str                   # the import format of ``files``
    files: list[Path]
    folder: Path
    from_cache: bool              # True when nothing had to be downloaded
    notes: list[str] = field(default_factory=list)       # what was asked and found
    warnings: list[str] = field(default_factory=list)    # e.g. awards the search found that the download lacks
    requests: int = 0
    bytes_downloaded: int = 0
    source_url: str | None = None
    source_title: str | None = None
    source_published: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, "files": [str(f) for f in self.files], "cache": str(self.folder),
                "from_cache": self.from_cache, "notes": self.notes, "warnings": self.warnings,
                "requests": self.requests, "bytes_downloaded": self.bytes_downloaded}


def _manifest(folder: Path, refresh: bool, client: HttpClient) -> Fetched | None:
    """The cached result of this request, when a previous run completed it."""
    path = folder / "fetched.json"
    if refresh or not path.exists():
        return None
    data = _read_json(path)
    files = [folder / name for name in data["files"]]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        if client.offline:
            raise FetchError(f"the cache in {folder} is incomplete (missing {', '.join(missing)}); "
                             "run without --offline to download again")
        return None
    return Fetched(format=data["format"], files=files, folder=folder, from_cache=True,
                   notes=data.get("notes", []), warnings=data.get("warnings", []),
                   source_url=data.get("source_url"), source_title=data.get("source_title"),
                   source_published=data.get("source_published"))


def _save_manifest(fetched: Fetched) -> Fetched:
    _write_json(fetched.folder / "fetched.json", {
        "format": fetched.format, "files": [f.name for f in fetched.files], "notes": fetched.notes,
        "warnings": fetched.warnings, "source_url": fetched.source_url, "source_title": fetched.source_title,
        "source_published": fetched.source_published,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return fetched


def _cached_json(client: HttpClient, path: Path, method: str, url: str, body: Any = None, what: str = "") -> Any:
    """A JSON response kept in the cache: paged walks resume where an interrupted run stopped."""
    if path.exists():
        return _read_json(path)
    data = client.json(method, url, body, what=what or path.name)
    _write_json(path, data)
    return data


# --- single published files: Collective Actions in Tech, Atlas of Surveillance ----------------------------------------


def fetch_dataset_file(fmt: str, client: HttpClient, cache: Path, url: str | None = None,
                       refresh: bool = False) -> Fetched:
    """One published file (CSV or JSON) into the cache; its type is taken from the URL's ending."""
    url = base_url(fmt, url)
    folder = Path(cache) / fmt / request_key(fmt, url)
    cached = _manifest(folder, refresh, client)
    if cached:
        return cached
    name = Path(urllib.parse.urlsplit(url).path).name or "download"
    suffix = ".json" if name.lower().endswith((".json", ".jsonl")) else ".csv"
    if not name.lower().endswith(suffix):
        name += suffix
    dest = folder / name
    client.download(url, dest, f"downloading {name}", check=_check_json if suffix == ".json" else _check_text)
    title, publisher = DATASET_TITLES[fmt]
    fetched = Fetched(format=fmt, files=[dest], folder=folder, from_cache=False, source_url=url,
                      source_title=title, notes=[f"downloaded {_shown(url)} ({dest.stat().st_size:,} bytes)"])
    return _save_manifest(fetched)


def _check_json(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            json.load(handle)
    except ValueError:
        return "the download is not complete JSON (cut off, or an error page)"
    return None


def _check_text(path: Path) -> str | None:
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "the server sent a web page instead of the data file"
    if not head:
        return "the download is empty"
    return None


def _check_zip(path: Path) -> str | None:
    if not zipfile.is_zipfile(path):
        return "the download is not a complete zip archive"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        return "the downloaded zip archive is damaged"
    return f"the downloaded zip archive is damaged ({bad})" if bad else None


# --- USAspending --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardQuery:
    """Which contract awards to fetch: the filters of USAspending's advanced search, as the user gave them."""

    agency: str
    sub_agency: str | None = None
    recipient: str | None = None
    naics: tuple[str, ...] = ()
    psc: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def checked(self) -> AwardQuery:
        for name, value in (("--since", self.since), ("--until", self.until)):
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise FetchError(f"{name} {value!r} is not a date; write YYYY-MM-DD")
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise FetchError(f"{name} {value!r} is not a real date") from None
        if self.since and self.until and self.since > self.until:
            raise FetchError(f"--since {self.since} is after --until {self.until}")
        if self.since and self.since < SEARCH_EARLIEST:
            raise FetchError(f"--since {self.since}: USAspending's award search starts at {SEARCH_EARLIEST}; "
                             "for older awards download the files from its Custom Award Download page and use "
                             "'statetech import usaspending'")
        for code in self.naics:
            if not re.fullmatch(r"\d{2,6}", code):
                raise FetchError(f"--naics {code!r} is not a NAICS code (2 to 6 digits)")
        for code in self.psc:
            if not re.fullmatch(r"[A-Za-z0-9]{1,4}", code):
                raise FetchError(f"--psc {code!r} is not a product/service code (1 to 4 letters or digits)")
        return self


def _agency_filter(client: HttpClient, base: str, folder: Path, text: str, tier_wanted: str | None) -> dict[str, str]:
    """Resolve a name, abbreviation or code to USAspending's own agency name (the filters match names exactly)."""
    data = _cached_json(client, folder / f"agency-{request_key(text)}.json", "POST",
                        f"{base}/api/v2/autocomplete/awarding_agency/", {"search_text": text, "limit": 50},
                        what=f"the agency lookup for {text!r}")
    wanted = text.strip().casefold()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for item in data.get("results") or []:
        top = item.get("toptier_agency") or {}
        sub = item.get("subtier_agency") or {}
        if tier_wanted != "subtier" and wanted in {str(top.get(k) or "").casefold()
                                                   for k in ("name", "abbreviation", "cgac_code", "toptier_code")}:
            found[("toptier", top["name"])] = {"type": "awarding", "tier": "toptier", "name": top["name"]}
        if tier_wanted != "toptier" and wanted in {str(sub.get(k) or "").casefold()
                                                   for k in ("name", "abbreviation", "subtier_code")}:
            if item.get("toptier_flag") and sub.get("name") == top.get("name"):
                found[("toptier", top["name"])] = {"type": "awarding", "tier": "toptier", "name": top["name"]}
            else:
                found[("subtier", sub["name"])] = {"type": "awarding", "tier": "subtier", "name": sub["name"],
                                                   "toptier_name": top.get("name", "")}
    if len(found) == 1:
        return next(iter(found.values()))
    names = sorted({f"{(i.get('subtier_agency') or {}).get('name')} ({(i.get('toptier_agency') or {}).get('name')})"
                    for i in data.get("results") or []})
    if not found:
        raise FetchError(f"USAspending knows no awarding agency called {text!r}"
                         + (f"; did you mean one of: {', '.join(names[:8])}" if names else
                            "; give the agency's name, abbreviation (e.g. ICE) or code"))
    raise FetchError(f"{text!r} names several agencies: {', '.join(sorted(n for _, n in found))}; "
                     "give the full name")


def fetch_usaspending(query: AwardQuery, client: HttpClient, cache: Path, url: str | None = None,
                      refresh: bool = False) -> Fetched:
    """Contract awards matching ``query``: the award search lists them, the download delivers their full records.

    The search (paged) says which awards match; the download job delivers the Prime Award Summaries CSV that
    ``import usaspending`` reads. Every award the search found must be in the download, else the difference is
    reported, because a silently shorter file is the worst outcome for someone about to publish a total.
    """
    query = query.checked()
    base = base_url("usaspending", url)
    folder = Path(cache) / "usaspending" / request_key("awards", base, query.__dict__)
    cached = _manifest(folder, refresh, client)
    if cached:
        return cached
    if refresh and folder.exists():
        for stale in folder.glob("search-*.json"):
            stale.unlink()
        for stale in ("job.json", "awards.zip"):
            (folder / stale).unlink(missing_ok=True)
    agencies = [_agency_filter(client, base, folder, query.agency, "toptier" if query.sub_agency else None)]
    if query.sub_agency:
        sub = _agency_filter(client, base, folder, query.sub_agency, "subtier")
        agencies = [{**sub, "toptier_name": agencies[0]["name"]}]
    today = date.today().isoformat()
    filters: dict[str, Any] = {
        "agencies": agencies,
        "time_period": [{"start_date": query.since or SEARCH_EARLIEST, "end_date": query.until or today}],
    }
    if query.recipient:
        filters["recipient_search_text"] = [query.recipient]
    if query.naics:
        filters["naics_codes"] = {"require": list(query.naics)}
    if query.psc:
        filters["psc_codes"] = list(query.psc)
    notes = [f"agency filter: {', '.join(a['tier'] + ' ' + repr(a['name']) for a in agencies)}; "
             f"{filters['time_period'][0]['start_date']} to {filters['time_period'][0]['end_date']}"]

    # 1. the award search, page by page (contracts and IDVs are separate searches: the API takes one group at a time)
    found: dict[str, str] = {}
    for group, codes in (("contracts", CONTRACT_TYPES), ("idvs", IDV_TYPES)):
        page = 1
        while True:
            if page > MAX_SEARCH_PAGES:
                raise FetchError(f"more than {MAX_SEARCH_PAGES * SEARCH_PAGE_SIZE:,} {group} match; narrow the "
                                 "request with --since/--until, --sub-agency, --naics or --psc")
            body = {"filters": {**filters, "award_type_codes": codes}, "subawards": False,
                    "fields": ["Award ID", "generated_internal_id", "Recipient Name", "Award Amount"],
                    "limit": SEARCH_PAGE_SIZE, "page": page, "sort": "Award ID", "order": "asc"}
            data = _cached_json(client, folder / f"search-{group}-{page:04d}.json", "POST",
                                f"{base}/api/v2/search/spending_by_award/", body,
                                what=f"page {page} of the {group} search")
            results, meta = data.get("results"), data.get("page_metadata")
            if not isinstance(results, list) or not isinstance(meta, dict):
                (folder / f"search-{group}-{page:04d}.json").unlink()
                raise FetchError(f"the award search answered in an unexpected shape (page {page}: no 'results' "
                                 "or 'page_metadata'); the API may have changed")
            for row in results:
                key = row.get("generated_internal_id")
                if key:
                    found[str(key)] = str(row.get("Award ID") or key)
            if not meta.get("hasNext"):
                break
            page += 1
    notes.append(f"award search: {len(found):,} matching awards")
    if not found:
        raise FetchError("USAspending's award search finds no contract awards for this request; nothing to import "
                         "(check the agency, the dates and the other filters)")

    # 2. the download job: request, poll, fetch the zip (all resumable from the cache)
    archive = folder / "awards.zip"
    if not archive.exists():
        job_path = folder / "job.json"
        if job_path.exists():
            job = _read_json(job_path)
        else:
            job = client.json("POST", f"{base}/api/v2/download/awards/",
                              {"filters": {**filters, "award_type_codes": CONTRACT_TYPES + IDV_TYPES},
                               "file_format": "csv"}, what="the download request")
            if not isinstance(job, dict) or not job.get("file_name"):
                raise FetchError("the download request was answered without a file name; the API may have changed")
            _write_json(job_path, job)
        file_url = _wait_for_download(client, base, job, job_path)
        client.download(file_url, archive, f"downloading {job['file_name']}", check=_check_zip)
    files = _extract_award_summaries(archive, folder)
    in_file = _award_keys(files)
    missing = sorted(set(found) - in_file)
    notes.append(f"download: {len(in_file):,} awards in {', '.join(f.name for f in files)}")
    warnings = []
    if missing:
        warnings.append(f"{len(missing):,} awards found by the search are missing from the download: "
                        + ", ".join(found[k] for k in missing[:10]) + (" ..." if len(missing) > 10 else ""))
    fetched = Fetched(format="usaspending", files=files, folder=folder, from_cache=False, notes=notes,
                      warnings=warnings)
    return _save_manifest(fetched)


def _wait_for_download(client: HttpClient, base: str, job: dict[str, Any], job_path: Path) -> str:
    """Poll the download status until the file is ready; its URL (made absolute against the API's base)."""
    pol = client.politeness
    status_url = job.get("status_url") or (f"{base}/api/v2/download/status?"
                                           + urllib.parse.urlencode({"file_name": job["file_name"]}))
    # the API answers with its own host name in status_url; keep the path, use the configured base
    parts = urllib.parse.urlsplit(status_url)
    status_url = f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    while True:
        status = client.json("GET", status_url, what="the download status")
        state = status.get("status")
        if state == "finished":
            file_url = status.get("file_url") or job.get("file_url")
            if not file_url:
                raise FetchError("the download finished without a file URL; the API may have changed")
            return urllib.parse.urljoin(base + "/", file_url)
        if state == "failed":
            job_path.unlink(missing_ok=True)  # a new run asks for a new job
            raise FetchError(f"USAspending could not build the download: {status.get('message') or 'no reason given'}")
        if state not in ("ready", "running"):
            raise FetchError(f"the download status is {state!r}, which statetech does not know; the API may have "
                             "changed")
        if time.monotonic() - started > pol.poll_timeout:
            raise FetchError(f"the download was not ready after {pol.poll_timeout:.0f}s; run the same command "
                             "again later to keep waiting for it")
        pol.sleep(pol.poll_interval)


def _extract_award_summaries(archive: Path, folder: Path) -> list[Path]:
    """The contract Prime Award Summaries CSVs of a download zip (subaward files are not imported)."""
    with zipfile.ZipFile(archive) as zipped:
        members = sorted(n for n in zipped.namelist()
                         if Path(n).name.startswith("Contracts_PrimeAwardSummaries") and n.lower().endswith(".csv"))
        if not members:
            raise FetchError(f"the download {archive.name} holds no Contracts_PrimeAwardSummaries CSV "
                             f"(it has: {', '.join(zipped.namelist()[:5]) or 'nothing'})")
        files = []
        for member in members:
            dest = folder / Path(member).name
            if not dest.exists():
                write_atomic(dest, zipped.read(member))
            files.append(dest)
    return files


def _award_keys(files: Iterable[Path]) -> set[str]:
    keys: set[str] = set()
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                key = row.get("contract_award_unique_key")
                if key:
                    keys.add(key)
    return keys


# --- LittleSis ------------------------------------------------------------------------------------------------------------


def fetch_littlesis(entity_id: int, client: HttpClient, cache: Path, url: str | None = None,
                    refresh: bool = False) -> Fetched:
    """One LittleSis entity, all its relationships (every page), and the entities at their other ends."""
    base = base_url("littlesis", url)
    folder = Path(cache) / "littlesis" / request_key("entity", base, entity_id)
    cached = _manifest(folder, refresh, client)
    if cached:
        return cached
    if refresh and folder.exists():
        for stale in folder.glob("*.json"):
            stale.unlink()
    files = [folder / f"entity-{entity_id}.json"]
    _cached_json(client, files[0], "GET", f"{base}/api/entities/{entity_id}", what=f"LittleSis entity {entity_id}")
    others: set[int] = set()
    page, next_url = 1, f"{base}/api/entities/{entity_id}/relationships?page=1"
    while next_url:
        path = folder / f"relationships-{entity_id}-{page:04d}.json"
        data = _cached_json(client, path, "GET", next_url, what=f"page {page} of the relationships")
        items = data.get("data")
        if not isinstance(items, list):
            path.unlink()
            raise FetchError(f"LittleSis answered page {page} of the relationships of {entity_id} without a list")
        files.append(path)
        for item in items:
            attrs = item.get("attributes") or {}
            for end in ("entity1_id", "entity2_id"):
                if isinstance(attrs.get(end), int) and attrs[end] != entity_id:
                    others.add(attrs[end])
        next_url = _next_page(data, base, entity_id, page)
        page += 1
    notes = [f"LittleSis entity {entity_id}: {page - 1} page(s) of relationships, {len(others)} related entities"]
    warnings = []
    for other in sorted(others):
        path = folder / f"entity-{other}.json"
        try:
            _cached_json(client, path, "GET", f"{base}/api/entities/{other}", what=f"LittleSis entity {other}")
        except FetchError as exc:
            if "HTTP 404" not in str(exc) and "HTTP 410" not in str(exc):
                raise
            warnings.append(f"LittleSis entity {other} is gone upstream ({'deleted' if '410' in str(exc) else 'not '
                            'found'}); its relationships are skipped")
            continue
        files.append(path)
    fetched = Fetched(format="littlesis", files=files, folder=folder, from_cache=False, notes=notes,
                      warnings=warnings)
    return _save_manifest(fetched)


def _next_page(data: dict[str, Any], base: str, entity_id: int, page: int) -> str | None:
    """The next page's URL from ``links.next``, else from ``meta.currentPage``/``meta.pageCount``."""
    links = data.get("links") or {}
    if isinstance(links, dict) and links.get("next"):
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base + "/", links["next"]))
        return f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    meta = data.get("meta") or {}
    current, count = meta.get("currentPage"), meta.get("pageCount")
    if isinstance(current, int) and isinstance(count, int) and current < count:
        return f"{base}/api/entities/{entity_id}/relationships?page={current + 1}"
    return None


def token_headers() -> dict[str, str]:
    """LittleSis sends higher rate limits to token holders; the token comes from the environment only."""
    token = os.environ.get("LITTLESIS_API_TOKEN")
    return {"Littlesis-Api-Token": token} if token else {}


__all__ = ["AwardQuery", "FetchError", "Fetched", "HttpClient", "Politeness", "base_url", "default_cache_dir",
           "fetch_dataset_file", "fetch_littlesis", "fetch_usaspending"]
