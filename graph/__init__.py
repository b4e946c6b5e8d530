"""The core: model, stores, structural Cypher, subgraphs and maps."""

from statetech.graph.api import Graph, Stats
from statetech.graph.errors import QueryError, StatetechError, StoreUnavailable, ValidationFailed
from statetech.graph.model import RecordSet

__all__ = ["Graph", "Stats", "RecordSet", "StatetechError", "ValidationFailed", "StoreUnavailable", "QueryError"]
