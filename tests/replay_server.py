"""A local HTTP server (127.0.0.1, a free port) replaying recorded upstream responses for the fetch tests.

It answers the endpoints statetech's fetch client uses with the files in ``tests/fixtures/replay/`` (real upstream
shapes; see that folder's README). Tests can put a sequence of misbehaving answers in front of any route: a 429 with
Retry-After, a 500, a body cut short of its Content-Length, a slow answer. Every request is recorded so tests can
assert what the client asked for, and in which order. Nothing here reaches the network.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPLAY = Path(__file__).parent / "fixtures" / "replay"


@dataclass
class Reply:
    """One scripted answer. ``truncate_at`` sends that many bytes of the body (announcing the full length) and
    closes the connection; ``delay`` waits before the status line."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_at: int | None = None
    use_fixture: bool = False  # the recorded answer, but with this reply's delay / truncation applied


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object
    headers: dict[str, str]


class ReplayServer:
    """``with ReplayServer() as server: server.url ...``; ``server.script(method, path, [Reply, ...])``."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._scripts: dict[tuple[str, str], list[Reply]] = {}
        self._status_polls = 0
        self.running_polls = 1  # how many "running" answers the download status gives before "finished"
        self.range_supported = True
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def script(self, method: str, path: str, replies: list[Reply]) -> None:
        """Answer the next requests to ``method path`` with ``replies`` in turn, then with the recording."""
        self._scripts.setdefault((method, path), []).extend(replies)

    def paths(self, method: str | None = None) -> list[str]:
        return [s.path for s in self.requests if method is None or s.method == method]

    # -- the recorded upstream ------------------------------------------------------------------------------------
    def recorded(self, method: str, path: str, query: dict[str, list[str]], body: object) -> tuple[int, bytes, str]:
        if method == "POST" and path == "/api/v2/autocomplete/awarding_agency/":
            return self._json("usaspending/autocomplete-awarding-agency.json")
        if method == "POST" and path == "/api/v2/search/spending_by_award/":
            codes = (body or {}).get("filters", {}).get("award_type_codes", [])
            group = "idvs" if any(c.startswith("IDV") for c in codes) else "contracts"
            page = (body or {}).get("page", 1)
            return self._json(f"usaspending/search-{group}-{page}.json")
        if method == "POST" and path == "/api/v2/download/awards/":
            return self._json("usaspending/download-awards.json")
        if method == "GET" and path == "/api/v2/download/status":
            with self._lock:
                self._status_polls += 1
                polls = self._status_polls
            return self._json(f"usaspending/status-{'running' if polls <= self.running_polls else 'finished'}.json")
        if method == "GET" and path.startswith("/generated_downloads/"):
            return self._file(REPLAY / "usaspending" / Path(path).name, "application/zip")
        if method == "GET" and path == "/collective-action/tech/main/actions.csv":
            return self._file(REPLAY / "collective_actions" / "actions.csv", "text/csv")
        if method == "GET" and path == "/collective-action/tech/main/actions.json":
            return self._file(REPLAY / "collective_actions" / "actions.json", "application/json")
        if method == "GET" and path == "/download.csv":
            return self._file(REPLAY / "atlas" / "download.csv", "text/csv")
        if method == "GET" and path.startswith("/api/entities/"):
            parts = path.strip("/").split("/")
            if len(parts) == 3:
                return self._json(f"littlesis/entity-{parts[2]}.json", missing_status=404)
            if len(parts) == 4 and parts[3] == "relationships":
                page = query.get("page", ["1"])[0]
                return self._json(f"littlesis/relationships-{parts[2]}-page{page}.json", missing_status=404)
        return 404, json.dumps({"errors": [{"title": f"no recording for {method} {path}"}]}).encode(), \
            "application/json"

    def _json(self, name: str, missing_status: int = 404) -> tuple[int, bytes, str]:
        path = REPLAY / name
        if not path.exists():
            return missing_status, json.dumps({"errors": [{"title": "Resource is missing or never existed"}]}).encode(), \
                "application/json"
        return 200, path.read_text(encoding="utf-8").replace("{base}", self.url).encode(), "application/json"

    def _file(self, path: Path, content_type: str) -> tuple[int, bytes, str]:
        return 200, path.read_bytes(), content_type

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                query = parse_qs(parts.query)
                with server._lock:
                    server.requests.append(Seen(method, parts.path, query, body, dict(self.headers)))
                    script = server._scripts.get((method, parts.path))
                    reply = script.pop(0) if script else None
                if reply is not None and not reply.use_fixture:
                    status, payload, ctype = reply.status, reply.body, reply.headers.get("Content-Type",
                                                                                          "application/json")
                else:
                    status, payload, ctype = server.recorded(method, parts.path, query, body)
                headers = dict(reply.headers) if reply else {}
                if reply and reply.delay:
                    time.sleep(reply.delay)
                start = 0
                range_header = self.headers.get("Range")
                if status == 200 and range_header and server.range_supported and range_header.startswith("bytes="):
                    start = int(range_header[6:].split("-")[0] or 0)
                    if start >= len(payload):
                        status, payload, start = 416, b"", 0
                    else:
                        status = 206
                        headers["Content-Range"] = f"bytes {start}-{len(payload) - 1}/{len(payload)}"
                        payload = payload[start:]
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    if key != "Content-Type":
                        self.send_header(key, value)
                if reply and reply.truncate_at is not None:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload[:reply.truncate_at])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

        return Handler
