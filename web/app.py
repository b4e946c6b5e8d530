"""The browser explorer: a read-only FastAPI app over one graph, every page also served as JSON under ``/api``.

Each page's data comes from one function below (``*_data``) that calls the library (``statetech.graph.explore`` and
friends) and returns a dict; the route renders it with a Jinja2 template (autoescaped) or returns it as JSON. Keys
starting with ``_`` are rendering aids for the HTML page (the map's drawing data, derived from the same records) and
are left out of the JSON.

Safety: the graph is wrapped in :class:`~statetech.graph.explore.ReadOnlyStore`, so no request can reach a write path;
every response carries a Content-Security-Policy that allows scripts and styles only from this server's /static and
no request to any other host; data reaches the map as JSON in a non-executable script element.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode

import anyio
from fastapi import FastAPI, Request
from markupsafe import Markup, escape
from fastapi.responses import HTMLResponse, JSONResponse, Response

from statetech.graph import explore
from statetech.graph.errors import StatetechError, StoreUnavailable, UnknownEntity
from statetech.graph.vocabulary import NODE_KIND_NAMES, RELATIONSHIP_TYPES
from statetech.web import mapdata

DEFAULT_TIMEOUT = 30.0
STATIC_CACHE = "public, max-age=31536000, immutable"
# Scripts and styles only from this server; no frame, object, or request to any other host; forms only to here.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAP_ASSETS = ("vis-network.min.js", "map.js", "map.css")
_HTTP_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)

# The JSON API, as the /api page lists it (OpenAPI at /openapi.json has the same routes).
API_ENDPOINTS = (
    ("GET /api/home", "counts by kind and relationship type, newest dated records and sources, the seed case"),
    ("GET /api/search?q=TEXT&kinds=A,B&limit=N", "entities whose id, name or alias contains TEXT (typeahead)"),
    ("GET /api/entity/ID", "an entity: properties, relationship groups with counts and first pages, timeline, sources"),
    ("GET /api/relationships/ID?type=T&direction=out|in&offset=N&limit=N", "one page of a relationship group"),
    ("GET /api/timeline/ID?offset=N&limit=N", "an entity's dated relationships, oldest first"),
    ("GET /api/source/ID?offset=N&limit=N", "a source and the entities and relationships that cite it"),
    ("GET /api/queries", "the stored queries"),
    ("GET /api/queries/NAME?PARAM=VALUE...", "a stored query's form; with every required parameter, its rows"),
    ("GET /download/FORMAT/NAME?PARAM=VALUE...", "a stored query's result as csv, json, jsonl or gexf"),
    ("GET /api/path?from=A&to=B&max_hops=N&limit=N", "the shortest paths between two entities, hop by hop"),
    ("GET /api/expand?id=ID&offset=N&limit=N&kinds=A,B&types=X,Y", "a page of an entity's neighbours for the map"),
    ("GET /api/map?focus=ID&depth=N | query=NAME&param.P=V | view=CODE", "the nodes and relationships of a map"),
)


class PageTimeout(StatetechError):
    """A page took longer than the server allows."""


# --- helpers ----------------------------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """JSON-safe values: non-finite numbers become null, anything unusual becomes its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return str(value)


def script_json(value: Any) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element (the map module's own escaping: no value can
    close the element or start markup), marked so the template does not HTML-escape it a second time."""
    from statetech.graph.maps import script_json as escape

    return Markup(escape(plain(value)))


def api_href(path: str, query: dict[str, str]) -> str:
    """The JSON twin of a page: /api in front of its path (home is /api/home)."""
    if path.startswith("/api/"):
        target = path
    else:
        target = "/api/home" if path == "/" else "/api" + path
    return target + ("?" + urlencode(query) if query else "")


def http_url(value: Any) -> str | None:
    return value if isinstance(value, str) and _HTTP_URL.match(value) else None


def entity_href(entity_id: str) -> str:
    return "/entity/" + quote(entity_id, safe=":")


def source_href(source_id: str) -> str:
    return "/source/" + quote(source_id, safe=":")


def money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "" if value is None else str(value)
    return f"${value:,.2f}".replace(".00", "")


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")


CELL_ITEMS = 50  # items of a list shown in one result-table cell


def cell(value: Any) -> Markup:
    """A value from the data as escaped HTML: entity and source ids link to their pages, http(s) URLs link out,
    lists are comma-separated, maps are JSON. Written in Python, not as a template macro: a result table of
    thousands of cells renders many times faster."""
    return Markup(_cell_text(value))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _string_cell(value) if ":" in value else str(escape(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(escape(number(value)))
    if isinstance(value, dict):
        return f"<code>{escape(json.dumps(plain(value), ensure_ascii=False))}</code>"
    if isinstance(value, (list, tuple)):
        # A cell holding a long list (a year's 50,000 action ids) would make the page megabytes long and slow to
        # render; the table shows the first CELL_ITEMS and says how many more the downloads and the JSON hold.
        shown = ", ".join(_cell_text(item) for item in value[:CELL_ITEMS])
        if len(value) > CELL_ITEMS:
            shown += f' <span class="muted">… and {len(value) - CELL_ITEMS:,} more (all in the downloads)</span>'
        return shown
    return str(escape(str(value)))


@lru_cache(maxsize=65_536)
def _string_cell(value: str) -> str:
    # Result tables repeat the same ids (a path's hubs, a vendor in every row): building each link once keeps a
    # 200-row table of paths within a few milliseconds.
    text = escape(value)
    if explore.is_entity_id(value):
        return f'<a href="{escape(entity_href(value))}">{text}</a>'
    if explore.is_source_id(value):
        return f'<a href="{escape(source_href(value))}">{text}</a>'
    if _HTTP_URL.match(value):
        return f'<a href="{text}" rel="noopener noreferrer nofollow" target="_blank">{text}</a>'
    return str(text)


def table_rows(columns: list[str], rows: list[dict[str, Any]]) -> Markup:
    """The ``<tr>`` elements of a result table, every cell through :func:`cell`."""
    return Markup("\n".join("<tr>" + "".join(f"<td>{_cell_text(row.get(c))}</td>" for c in columns) + "</tr>"
                             for row in rows))


@lru_cache(maxsize=None)
def _static_files() -> dict[str, tuple[bytes, str]]:
    """Every file served under /static: the explorer's own, and the map front end shared with offline maps."""
    out: dict[str, tuple[bytes, str]] = {}
    folder = files("statetech.web") / "static"
    for entry in folder.iterdir():
        if entry.is_file():
            out[entry.name] = (entry.read_bytes(), _media_type(entry.name))
    for name in MAP_ASSETS:
        out[name] = (map_asset(name).encode("utf-8"), _media_type(name))
    return out


def map_asset(name: str) -> str:
    from statetech.graph.maps import map_asset as asset

    return asset(name)


def _media_type(name: str) -> str:
    if name.endswith(".js"):
        return "text/javascript; charset=utf-8"
    if name.endswith(".css"):
        return "text/css; charset=utf-8"
    if name.endswith(".png"):
        return "image/png"
    return "application/octet-stream"


@lru_cache(maxsize=None)
def static_version(name: str) -> str:
    """A digest of a static file, put in its URL so a long cache never serves a stale copy after an upgrade."""
    body = _static_files()[name][0]
    return hashlib.sha256(body).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def _templates():
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

    loader = ChoiceLoader([FileSystemLoader(str(files("statetech.web") / "templates")),
                           FileSystemLoader(str(files("statetech.graph") / "templates"))])
    env = Environment(loader=loader, autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(static_url=static_url, api_href=api_href, entity_href=entity_href, source_href=source_href,
                       http_url=http_url,
                       money=money, number=number, is_entity_id=explore.is_entity_id,
                       is_source_id=explore.is_source_id, script_json=script_json, kinds=NODE_KIND_NAMES,
                       rel_types=RELATIONSHIP_TYPES, urlencode=urlencode, map_context=mapdata.map_body_context,
                       cell=cell, table_rows=table_rows)
    env.filters["json"] = lambda v: json.dumps(plain(v), ensure_ascii=False, indent=2)
    return env


# --- the app ----------------------------------------------------------------------------------------------------------


def create_app(graph, *, catalog=None, timeout: float = DEFAULT_TIMEOUT, serialise: bool | None = None) -> FastAPI:
    """The explorer over ``graph`` (read-only: every write path of the store is closed).

    ``timeout`` bounds each page in seconds (504 beyond it). ``serialise`` makes store reads take turns (default: at most
    one per CPU at once on the embedded store, no bound on Neo4j; see explore.read_only).
    """
    from statetech.graph.catalog import Catalog
    from statetech.web import pages

    graph = explore.read_only(graph, serialise=serialise)
    catalog = catalog or Catalog.load()
    env = _templates()
    app = FastAPI(title="statetech explorer", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Read-only explorer of the statetech graph. Every HTML page has a JSON twin under /api.")
    app.state.graph = graph
    app.state.catalog = catalog

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # the time the server spent on the request, for benchmarks/bench_serve.py and the browser's dev tools
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            with anyio.fail_after(timeout):
                return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
        except TimeoutError:
            raise PageTimeout(f"this page took longer than {timeout:g} s; narrow the request (a smaller page, a "
                              "more specific query) and try again") from None

    def render(template: str, data: dict[str, Any], request: Request, status: int = 200) -> HTMLResponse:
        html = env.get_template(template).render(data=data, request=request, path=request.url.path,
                                                 query=dict(request.query_params), version=_version())
        return HTMLResponse(html, status_code=status)

    def respond(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(plain(data), status_code=status)
        return render(template, data, request, status)

    def error_response(request: Request, status: int, title: str, message: str) -> Response:
        if request.url.path.startswith(("/api/", "/download/", "/openapi")):
            return JSONResponse({"error": {"status": status, "title": title, "message": message}},
                                status_code=status)
        return render("error.html", {"status": status, "title": title, "message": message}, request, status)

    @app.exception_handler(UnknownEntity)
    async def not_found(request: Request, exc: UnknownEntity):
        return error_response(request, 404, "Not found", str(exc))

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable):
        return error_response(request, 503, "The graph store is unavailable", str(exc))

    @app.exception_handler(PageTimeout)
    async def too_slow(request: Request, exc: PageTimeout):
        return error_response(request, 504, "Timed out", str(exc))

    @app.exception_handler(StatetechError)
    async def bad_request(request: Request, exc: StatetechError):
        return error_response(request, 400, "Bad request", str(exc))

    @app.exception_handler(404)
    async def no_route(request: Request, exc: Exception):
        return error_response(request, 404, "Not found", f"there is no page at {request.url.path}")

    @app.exception_handler(405)
    async def wrong_method(request: Request, exc: Exception):
        return error_response(request, 405, "Method not allowed", "the explorer only reads: use GET")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # No traceback reaches the page; the server log has it.
        import logging

        logging.getLogger("statetech.web").exception("error serving %s", request.url.path)
        return error_response(request, 500, "Internal error",
                              f"the explorer failed on this request ({type(exc).__name__}); the server keeps serving")

    # -- pages: each is registered twice, as HTML and as its JSON twin under /api ------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home_page(request: Request):
        return respond(request, "home.html", await call(pages.home_data, graph, catalog))

    @app.get("/api/home", summary="Counts, newest records and sources, the seed case")
    async def home_api(request: Request):
        return respond(request, "home.html", await call(pages.home_data, graph, catalog))

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/search", summary="Search entities by id, name or alias")
    async def search(request: Request, q: str = "", kinds: str = "", limit: str = ""):
        return respond(request, "search.html", await call(pages.search_data, graph, q, kinds, limit))

    @app.get("/entity/{entity_id:path}", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/entity/{entity_id:path}", summary="An entity page")
    async def entity(request: Request, entity_id: str, per_group: str = ""):
        return respond(request, "entity.html", await call(pages.entity_data, graph, entity_id, per_group))

    @app.get("/relationships/{entity_id:path}", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/relationships/{entity_id:path}", summary="One page of an entity's relationship group")
    async def relationships(request: Request, entity_id: str, type: str = "", direction: str = "out",
                            offset: str = "", limit: str = ""):
        return respond(request, "relationships.html",
                       await call(pages.relationships_data, graph, entity_id, type, direction, offset, limit))

    @app.get("/timeline/{entity_id:path}", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/timeline/{entity_id:path}", summary="An entity's dated relationships")
    async def timeline(request: Request, entity_id: str, offset: str = "", limit: str = ""):
        return respond(request, "timeline.html", await call(pages.timeline_data, graph, entity_id, offset, limit))

    @app.get("/source/{source_id:path}", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/source/{source_id:path}", summary="A source and what cites it")
    async def source(request: Request, source_id: str, offset: str = "", limit: str = ""):
        return respond(request, "source.html", await call(pages.source_data, graph, source_id, offset, limit))

    @app.get("/queries", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/queries", summary="The stored queries")
    async def queries(request: Request):
        return respond(request, "queries.html", await call(pages.queries_data, catalog))

    @app.get("/queries/{name:path}", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/queries/{name:path}", summary="A stored query: form, Cypher and (with its parameters) rows")
    async def stored_query(request: Request, name: str):
        params = dict(request.query_params)
        return respond(request, "query.html", await call(pages.query_data, graph, catalog, name, params))

    @app.get("/download/{fmt}/{name:path}", summary="A stored query's result as csv, json, jsonl or gexf")
    async def download(request: Request, fmt: str, name: str):
        params = dict(request.query_params)
        body, media_type, filename = await call(pages.download_data, graph, catalog, name, fmt, params)
        return Response(body, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/path", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/path", summary="How two entities are connected")
    async def path(request: Request):
        params = request.query_params
        return respond(request, "path.html", await call(
            pages.path_data, graph, params.get("from", ""), params.get("to", ""), params.get("max_hops", ""),
            params.get("limit", "")))

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/api/map", summary="A map: around a focus, of a stored query's result, or a saved view")
    async def map_page(request: Request):
        return respond(request, "map_page.html", await call(pages.map_data_for, graph, catalog,
                                                            dict(request.query_params)))

    @app.get("/api/expand", summary="A page of an entity's neighbours, for the live map")
    async def expand(request: Request, id: str = "", offset: str = "", limit: str = "", kinds: str = "",
                     types: str = ""):
        return JSONResponse(plain(await call(pages.expand_data, graph, id, offset, limit, kinds, types)))

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    async def api_page(request: Request):
        return render("api.html", {"endpoints": API_ENDPOINTS}, request)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        found = _static_files().get(name)
        if found is None:
            raise UnknownEntity(f"no static file {name!r}")
        body, media_type = found
        return Response(body, media_type=media_type, headers={"Cache-Control": STATIC_CACHE})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    return app


@lru_cache(maxsize=None)
def _version() -> str:
    from statetech import __version__

    return __version__
