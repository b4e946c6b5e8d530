"""Saved map views: which nodes a map shows, where they sit, and which filters are on.

A view travels three ways: as a ``.json`` file ("Save view" in the map, ``statetech map --view FILE``), inside a
URL (``#view=`` on an offline map, ``?view=`` on the explorer's ``/map``), and as a :class:`MapView` in Python. The
URL form is the same compact JSON, base64url-encoded without padding, so a link and a file hold exactly the same
view. Everything is checked on the way in: a view comes from outside (a link someone sent), so it may only name ids
that look like statetech ids and kinds, types and confidence levels the model has.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statetech.graph.dates import is_partial_date
from statetech.graph.errors import StatetechError
from statetech.graph.model import CONFIDENCE_LEVELS, NODE_KINDS, RELATIONSHIP_TYPES
from statetech.graph.selection import ENTITY_ID_RE

VIEW_VERSION = 1
# The most nodes a view may hold: the map front end's hard cap on drawn nodes.
MAX_VIEW_NODES = 3000
# A view code in a URL beyond this is refused before decoding (about 3,000 nodes with positions).
MAX_VIEW_CHARS = 400_000
MAX_TITLE_CHARS = 500
_BASE64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


class ViewError(StatetechError):
    """A saved map view could not be read."""


@dataclass
class MapView:
    """The nodes of a map, their positions ({id: [x, y]} in the map's own units) and the filters that were on."""

    nodes: list[str]
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    title: str | None = None
    focus: str | None = None
    hidden_kinds: list[str] = field(default_factory=list)
    hidden_types: list[str] = field(default_factory=list)
    # confidence levels shown; empty means all
    confidence: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    version: int = VIEW_VERSION

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the map front end writes and reads (also the file format)."""
        return {
            "version": self.version,
            "title": self.title,
            "focus": self.focus,
            "nodes": list(self.nodes),
            "positions": {node_id: [_round(x), _round(y)] for node_id, (x, y) in self.positions.items()},
            "filters": {"hiddenKinds": list(self.hidden_kinds), "hiddenTypes": list(self.hidden_types),
                        "confidence": list(self.confidence), "since": self.since, "until": self.until},
        }


def subgraph_for_view(graph, view: MapView):
    """The view's nodes from the store, with the relationships among them; and the view's ids the store lacks."""
    sub = graph.subgraph_for_ids(view.nodes, title=view.title or "Saved view")
    sub.focus = view.focus if view.focus in sub.nodes else None
    missing = [node_id for node_id in view.nodes if node_id not in sub.nodes]
    return sub, missing


def encode_view(view: MapView) -> str:
    """The view as URL-safe text: base64url (no padding) of compact JSON."""
    text = json.dumps(view.as_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_view(text: str) -> MapView:
    """A view from its URL form (as :func:`encode_view` writes it); a clear :class:`ViewError` otherwise."""
    code = (text or "").strip()
    if code.startswith("view="):
        code = code[len("view="):]
    code = code.rstrip("=")  # padding is optional
    if not code:
        raise ViewError("the view code is empty; copy the whole link (everything after 'view=')")
    if len(code) > MAX_VIEW_CHARS:
        raise ViewError(f"the view code is {len(code):,} characters, more than the {MAX_VIEW_CHARS:,} a view can "
                        f"hold; save the view to a file instead")
    if not _BASE64URL_RE.match(code):
        raise ViewError("the view code has characters a view code never has (only letters, digits, '-' and '_'); "
                        "copy the whole link again")
    try:
        raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        body = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise ViewError("the view code is cut short or damaged (it does not decode); copy the whole link again") \
            from None
    return view_from_json(body, where="the view code")


def read_view(path: str | Path) -> MapView:
    """A view saved by the map's "Save view" button (or :func:`write_view`)."""
    path = Path(path)
    try:
        body = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ViewError(f"{path}: no such view file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ViewError(f"{path}: cannot be read as a view file ({exc})") from None
    return view_from_json(body, where=str(path))


def write_view(view: MapView, path: str | Path) -> None:
    Path(path).write_text(json.dumps(view.as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def view_from_json(body: str, *, where: str = "view") -> MapView:
    """A checked :class:`MapView` from its JSON text; ``where`` names the file or code in messages."""
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ViewError(f"{where}: not a saved map view (bad JSON at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg})") from None
    return view_from_dict(value, where=where)


def view_from_dict(value: Any, *, where: str = "view") -> MapView:
    if not isinstance(value, dict):
        raise ViewError(f"{where}: not a saved map view (expected a JSON object)")
    version = value.get("version")
    if version != VIEW_VERSION:
        raise ViewError(f"{where}: view format version {version!r} is not supported (this statetech reads version "
                        f"{VIEW_VERSION}); save the view again from a current map")
    nodes = value.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise ViewError(f"{where}: 'nodes' must be a non-empty list of entity ids")
    if len(nodes) > MAX_VIEW_NODES:
        raise ViewError(f"{where}: {len(nodes):,} nodes, more than a map view can hold ({MAX_VIEW_NODES:,}); "
                        f"save a smaller view")
    for node_id in nodes:
        _check_id(node_id, where)
    if len(set(nodes)) != len(nodes):
        raise ViewError(f"{where}: 'nodes' lists an id twice")
    positions_in = value.get("positions") or {}
    if not isinstance(positions_in, dict):
        raise ViewError(f"{where}: 'positions' must map ids to [x, y]")
    known = set(nodes)
    positions: dict[str, tuple[float, float]] = {}
    for node_id, xy in positions_in.items():
        if node_id not in known:
            _check_id(node_id, where)
            raise ViewError(f"{where}: 'positions' has {node_id!r}, which is not in 'nodes'")
        if (not isinstance(xy, list) or len(xy) != 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in xy)):
            raise ViewError(f"{where}: the position of {node_id!r} must be [x, y] with two finite numbers")
        positions[node_id] = (float(xy[0]), float(xy[1]))
    filters = value.get("filters") or {}
    if not isinstance(filters, dict):
        raise ViewError(f"{where}: 'filters' must be an object")
    title = value.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE_CHARS):
        raise ViewError(f"{where}: 'title' must be text of at most {MAX_TITLE_CHARS} characters")
    focus = value.get("focus")
    if focus is not None:
        _check_id(focus, where, what="focus")
    return MapView(
        nodes=list(nodes),
        positions=positions,
        title=title,
        focus=focus,
        hidden_kinds=_names(filters.get("hiddenKinds"), NODE_KINDS, "hiddenKinds", "node kind", where),
        hidden_types=_names(filters.get("hiddenTypes"), RELATIONSHIP_TYPES, "hiddenTypes", "relationship type",
                            where),
        confidence=_names(filters.get("confidence"), CONFIDENCE_LEVELS, "confidence", "confidence level", where),
        since=_date(filters.get("since"), "since", where),
        until=_date(filters.get("until"), "until", where),
    )


def _check_id(node_id: Any, where: str, what: str = "node") -> None:
    if not isinstance(node_id, str) or not ENTITY_ID_RE.match(node_id):
        shown = repr(node_id)[:80]
        raise ViewError(f"{where}: {what} {shown} is not an entity id (ids look like 'agency:ice')")


def _names(value: Any, allowed, key: str, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ViewError(f"{where}: filters.{key} must be a list")
    allowed = tuple(allowed)
    for name in value:
        if name not in allowed:
            raise ViewError(f"{where}: filters.{key}: {str(name)[:80]!r} is not a {what}; use one of "
                            f"{', '.join(allowed)}")
    return list(dict.fromkeys(value))


def _date(value: Any, key: str, where: str) -> str | None:
    if value in (None, ""):
        return None
    if not is_partial_date(value):
        raise ViewError(f"{where}: filters.{key} {str(value)[:40]!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    return value


def _round(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded
