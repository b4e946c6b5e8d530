"""The explorer's side of the map front end it shares with the offline maps (graph/maps.py, graph/templates/).

``graph.maps`` builds the JSON the map front end reads (``map_data``), the per-item records merged into a live map
(``map_fragment``) and the variables of its markup (``map_body_context``); saved views are decoded by
``graph.views``. This module only names the explorer's URLs and turns a bad view code into a 400.
"""

from __future__ import annotations

from typing import Any

from statetech.graph.errors import QueryError, StatetechError

# The explorer's own URLs, handed to the map front end: expand a node, open an entity or source page, share a view.
LIVE = {"expandUrl": "/api/expand", "entityUrl": "/entity/", "sourceUrl": "/source/", "viewUrl": "/map"}
# Rows of a stored query's result shown in its HTML table (rendering thousands would cost more than the query);
# the downloads and the JSON twin carry every row.
TABLE_ROWS = 200


def map_data(sub, *, title: str | None = None, live: dict[str, str] | None = None, view=None) -> dict[str, Any]:
    from statetech.graph.maps import map_data as build

    return build(sub, title=title, live=live, view=view)


def map_fragment(sub) -> dict[str, Any]:
    from statetech.graph.maps import map_fragment as build

    return build(sub)


def map_body_context(data: dict[str, Any]) -> dict[str, Any]:
    from statetech.graph.maps import map_body_context as build

    return build(data)


def decode_view(code: str):
    """A saved view from its URL form; a bad code is a 400 with the reason."""
    from statetech.graph.views import decode_view as decode

    try:
        return decode(code)
    except StatetechError:
        raise
    except Exception as exc:  # the decoder reports its own errors; anything else is a malformed code
        raise QueryError(f"this view code cannot be read ({type(exc).__name__}); copy the whole link again") from None
