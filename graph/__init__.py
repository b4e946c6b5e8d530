"""The core: model, stores, structural Cypher, subgraphs and maps."""

from statetech.graph.errors import QueryError, StatetechError, StoreUnavailable, ValidationFailed

__all__ = ["Graph", "Stats", "RecordSet", "StatetechError", "ValidationFailed", "StoreUnavailable", "QueryError"]

# Graph, Stats and RecordSet pull in pydantic and the store drivers; loading them on first use keeps importing any
# statetech.graph submodule (every CLI command does) from paying for them.
_LAZY = {"Graph": "statetech.graph.api", "Stats": "statetech.graph.api", "RecordSet": "statetech.graph.model"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'statetech.graph' has no attribute {name!r}")
