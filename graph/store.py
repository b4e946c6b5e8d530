"""The store interface and its two backends: Neo4j (production) and Grafeo (embedded default).

Both run the same Cypher from :mod:`statetech.graph.cypher` and return rows of plain Python values, so callers and
tests cannot tell them apart except by speed. Dialect differences live here, visibly:

* Grafeo returns nodes and relationships as dicts carrying ``_id``/``_labels``/``_type`` keys; Neo4j returns driver
  objects. Both are normalised by :func:`normalise` to the same shape.
* Grafeo has no per-transaction read-only mode, but a database opened with ``open_read_only`` refuses every write.
  The embedded store therefore keeps the file open read-only and reopens it writable only for writes: a canned
  query that tries to write fails in the engine, as it does in a Neo4j read transaction.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statetech.graph import cypher
from statetech.graph.errors import QueryError, StatetechError, StoreUnavailable
from statetech.graph.model import RecordSet

DEFAULT_BATCH = 2000


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def values(self) -> list[list[Any]]:
        return [[row.get(c) for c in self.columns] for row in self.rows]


@dataclass
class WriteSummary:
    sources: int = 0
    nodes: int = 0
    relationships: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)


def normalise(value: Any) -> Any:
    """Driver- and engine-specific values to plain Python: the common currency of both stores."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if "_labels" in value or "_type" in value:
            return _normalise_entity_dict(value)
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    # neo4j driver types, imported lazily so the embedded store works without touching the driver
    type_name = type(value).__module__ + "." + type(value).__name__
    if type_name == "neo4j.graph.Node":
        props = {k: normalise(v) for k, v in dict(value).items()}
        props["_labels"] = sorted(value.labels)
        return props
    if type_name == "neo4j.graph.Relationship":
        props = {k: normalise(v) for k, v in dict(value).items()}
        props["_type"] = value.type
        return props
    if type_name == "neo4j.graph.Path":
        return {"nodes": [normalise(n) for n in value.nodes], "relationships": [normalise(r) for r in value.relationships]}
    if hasattr(value, "iso_format"):  # neo4j.time.Date / DateTime / Duration
        return value.iso_format()
    return str(value)


def _normalise_entity_dict(value: dict[str, Any]) -> dict[str, Any]:
    out = {k: normalise(v) for k, v in value.items() if not k.startswith("_")}
    if "_labels" in value:
        out["_labels"] = sorted(value["_labels"])
    if "_type" in value:
        out["_type"] = value["_type"]
    if "nodes" in value and "relationships" in value and "_labels" not in value:
        return {"nodes": normalise(value["nodes"]), "relationships": normalise(value["relationships"])}
    return out


class GraphStore(ABC):
    """What every backend offers. Structural writes are shared here; backends supply transactions."""

    backend: str = ""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, safe to print (never a password)."""

    @abstractmethod
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def run_read(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        """Run a query in a read-only transaction: a write attempt raises :class:`QueryError`."""

    @abstractmethod
    def run_write(self, query: str, params: dict[str, Any] | None = None) -> QueryResult: ...

    @abstractmethod
    def write_transaction(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[QueryResult]:
        """Run statements in one write transaction: all of them land or none do."""

    @abstractmethod
    def close(self) -> None: ...

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold whatever a run of many write calls should keep open; Neo4j's driver pools connections itself."""
        yield

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shared structural operations --------------------------------------------------------------------------

    def write_records(self, records: RecordSet, batch_size: int = DEFAULT_BATCH,
                      single_transaction: bool | None = None) -> WriteSummary:
        """Upsert sources, then nodes, then relationships (endpoints must exist first).

        Small sets go in one transaction so a failure leaves the store as it was; very large sets (imports,
        benchmarks) are written in batches of idempotent MERGEs, so re-running after a failure converges.
        """
        statements = list(_record_statements(records, batch_size))
        if single_transaction is None:
            single_transaction = len(records) <= 50_000
        summary = WriteSummary()
        if single_transaction:
            results = self.write_transaction([(q, p) for _, _, q, p in statements])
        else:
            results = [self.write_transaction([(q, p)])[0] for _, _, q, p in statements]
        for (section, name, _, params), result in zip(statements, results):
            expected = len(params["rows"])
            written = result.rows[0]["written"] if result.rows else 0
            if written != expected:
                raise StatetechError(f"{name}: wrote {written} of {expected} records; endpoints missing from the store?")
            if section == "sources":
                summary.sources += written
            elif section == "nodes":
                summary.nodes += written
                summary.by_kind[name] = summary.by_kind.get(name, 0) + written
            else:
                summary.relationships += written
                summary.by_type[name] = summary.by_type.get(name, 0) + written
        return summary

    def clear(self, batch: int = 10_000) -> int:
        """Delete everything in bounded transactions; returns the number of nodes deleted."""
        for statement in (cypher.DELETE_RELATIONSHIP_BATCH, cypher.DELETE_BATCH):
            deleted = 0
            while True:
                result = self.run_write(statement, {"batch": batch})
                count = result.rows[0]["deleted"] if result.rows else 0
                deleted += count
                if count < batch:
                    break
        return deleted

    def known_ids(self) -> dict[str, str]:
        return {row["id"]: row["kind"] for row in self.run_read(cypher.KNOWN_ENTITIES)}

    def known_sources(self) -> set[str]:
        return {row["id"] for row in self.run_read(cypher.KNOWN_SOURCES)}


def _record_statements(records: RecordSet, batch_size: int) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
    for chunk in _chunks([{"id": s.id, "props": s.properties()} for s in records.sources], batch_size):
        yield "sources", "Source", cypher.UPSERT_SOURCES, {"rows": chunk}
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in records.nodes:
        by_kind[node.kind].append({"id": node.id, "props": node.properties()})
    for kind, rows in by_kind.items():
        for chunk in _chunks(rows, batch_size):
            yield "nodes", kind, cypher.upsert_nodes(kind), {"rows": chunk}
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel in records.relationships:
        by_type[rel.type].append({"id": rel.key, "from": rel.from_id, "to": rel.to_id, "props": rel.properties()})
    for rel_type, rows in by_type.items():
        for chunk in _chunks(rows, batch_size):
            # Anchor the MERGE on the end with more distinct ids in this chunk: the other end is the hub.
            anchor = "to" if len({r["to"] for r in chunk}) > len({r["from"] for r in chunk}) else "from"
            yield "relationships", rel_type, cypher.upsert_relationships(rel_type, anchor), {"rows": chunk}


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# --- Neo4j ------------------------------------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """A URI safe to print: any user:password@ part removed."""
    return re.sub(r"//[^/@]*@", "//", uri)


class Neo4jStore(GraphStore):
    backend = "neo4j"

    def __init__(self, uri: str, user: str | None = None, password: str | None = None,
                 database: str | None = None) -> None:
        try:
            import neo4j
            from neo4j.exceptions import AuthError, ConfigurationError, ServiceUnavailable
        except ImportError as exc:  # pragma: no cover - neo4j is a hard dependency
            raise StoreUnavailable("the 'neo4j' package is not installed") from exc
        self._neo4j = neo4j
        self._uri = uri
        self._database = database or None
        auth = (user or "neo4j", password) if password is not None else None
        shown = redact_uri(uri)
        try:
            # Server notifications ("property key does not exist", ...) would otherwise be printed as warnings in
            # the middle of CLI output; queries that are wrong still fail with an error.
            self._driver = neo4j.GraphDatabase.driver(uri, auth=auth, user_agent="statetech",
                                                      notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except AuthError as exc:
            raise StoreUnavailable(
                f"Neo4j at {shown} refused the credentials; check NEO4J_USERNAME and NEO4J_PASSWORD"
            ) from exc
        except (ServiceUnavailable, OSError) as exc:
            raise StoreUnavailable(
                f"cannot reach Neo4j at {shown}; check that the server is running and that NEO4J_URI "
                "(or --neo4j) names its Bolt address, e.g. neo4j://localhost:7687 or neo4j+s://xxxx.databases.neo4j.io"
            ) from exc
        except (ConfigurationError, ValueError) as exc:
            raise StoreUnavailable(
                f"invalid Neo4j URI {shown}: use a neo4j://, neo4j+s://, bolt:// or bolt+s:// address"
            ) from exc
        except Exception as exc:
            raise StoreUnavailable(f"cannot connect to Neo4j at {shown}: {type(exc).__name__}") from exc

    @property
    def location(self) -> str:
        db = f" (database {self._database})" if self._database else ""
        return f"Neo4j at {redact_uri(self._uri)}{db}"

    def _session(self, write: bool):
        mode = self._neo4j.WRITE_ACCESS if write else self._neo4j.READ_ACCESS
        return self._driver.session(database=self._database, default_access_mode=mode)

    @staticmethod
    def _collect(result) -> QueryResult:
        keys = list(result.keys())
        rows = [{k: normalise(record[k]) for k in keys} for record in result]
        return QueryResult(keys, rows)

    def _run(self, write: bool, query: str, params: dict[str, Any] | None) -> QueryResult:
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        def work(tx):
            return self._collect(tx.run(query, params or {}))

        try:
            with self._session(write) as session:
                return session.execute_write(work) if write else session.execute_read(work)
        except Neo4jError as exc:
            raise QueryError(_neo4j_message(exc, write)) from exc
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"lost connection to Neo4j at {redact_uri(self._uri)}") from exc

    def run_read(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        return self._run(False, query, params)

    def run_write(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        return self._run(True, query, params)

    def write_transaction(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[QueryResult]:
        from neo4j.exceptions import Neo4jError

        def work(tx):
            return [self._collect(tx.run(q, p)) for q, p in statements]

        try:
            with self._session(True) as session:
                return session.execute_write(work)
        except Neo4jError as exc:
            raise QueryError(_neo4j_message(exc, True)) from exc

    def ensure_schema(self) -> None:
        for statement in cypher.schema_statements():
            # Schema commands cannot share a transaction with data writes, so each runs on its own.
            with self._session(True) as session:
                session.run(statement).consume()

    def close(self) -> None:
        self._driver.close()


def _neo4j_message(exc: Exception, write: bool) -> str:
    code = getattr(exc, "code", "") or ""
    message = getattr(exc, "message", None) or str(exc)
    if not write and ("AccessMode" in code or "ForbiddenDueToTransactionType" in code or "read" in message.lower()
                      and "write" in message.lower()):
        return f"this query tries to write, but it ran read-only ({code}); use a write command to change data"
    return f"Neo4j rejected the query: {message.splitlines()[0] if message else code}"


# --- Grafeo (embedded) ------------------------------------------------------------------------------------------------


def default_db_path() -> Path:
    """Per-user data directory (XDG on Linux), overridable with STATETECH_DB or --db."""
    env = os.environ.get("STATETECH_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "statetech" / "statetech.grafeo"


class GrafeoStore(GraphStore):
    backend = "embedded"

    def __init__(self, path: str | Path | None = None) -> None:
        try:
            import grafeo
        except ImportError as exc:  # pragma: no cover - grafeo is a hard dependency
            raise StoreUnavailable("the 'grafeo' package is not installed") from exc
        self._grafeo = grafeo
        self._path = Path(path).expanduser() if path else default_db_path()
        self._db = None
        self._writable = False
        if self._path.exists() and self._path.is_dir():
            raise StoreUnavailable(f"{self._path} is a folder; give --db the path of a database file")

    @property
    def location(self) -> str:
        return f"embedded store at {self._path}"

    @property
    def path(self) -> Path:
        return self._path

    def _open(self, writable: bool):
        if self._db is not None and self._writable == writable:
            return self._db
        self._close_db()
        try:
            if writable or not self._path.exists():
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._grafeo.GrafeoDB(str(self._path))
                if not writable:
                    # A fresh, empty file was just created so it can be opened read-only like any other.
                    self._db.close()
                    self._db = self._grafeo.GrafeoDB.open_read_only(str(self._path))
            else:
                self._db = self._grafeo.GrafeoDB.open_read_only(str(self._path))
        except Exception as exc:
            self._db = None
            text = str(exc)
            if "lock" in text.lower():
                raise StoreUnavailable(
                    f"the embedded store {self._path} is in use by another statetech process; close it, or give "
                    "another file with --db / STATETECH_DB"
                ) from exc
            raise StoreUnavailable(f"cannot open the embedded store {self._path}: {text.splitlines()[0]}") from exc
        self._writable = writable
        return self._db

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @staticmethod
    def _collect(result) -> QueryResult:
        columns = list(getattr(result, "columns", []) or [])
        rows = []
        for row in result:
            if not columns:
                columns = list(row.keys())
            rows.append({c: normalise(row.get(c)) for c in columns})
        return QueryResult(columns, rows)

    def _execute(self, target, query: str, params: dict[str, Any] | None) -> QueryResult:
        try:
            return self._collect(target.execute_cypher(query, params or {}))
        except self._grafeo.GrafeoError as exc:
            text = str(exc)
            if "read-only" in text:
                raise QueryError(
                    "this query tries to write, but it ran read-only (embedded store); use a write command to change data"
                ) from exc
            raise QueryError(f"the embedded store rejected the query: {text.splitlines()[0]}") from exc
        except BaseException as exc:
            # A panic inside the Rust engine arrives as pyo3's PanicException (a BaseException): the query failed,
            # the process did not, so it is reported like any other rejected query.
            if type(exc).__name__ != "PanicException":
                raise
            first = (str(exc).splitlines() or ["internal error"])[0]
            raise QueryError(f"the embedded store failed on this query (engine panic: {first}); "
                             "try narrowing it, or run it on Neo4j") from exc

    def run_read(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        return self._execute(self._open(writable=False), query, params)

    def run_write(self, query: str, params: dict[str, Any] | None = None) -> QueryResult:
        return self.write_transaction([(query, params or {})])[0]

    def write_transaction(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[QueryResult]:
        db = self._open(writable=True)
        tx = db.begin_transaction()
        try:
            results = [self._execute(tx, q, p) for q, p in statements]
            tx.commit()
            return results
        except BaseException:
            if tx.is_active:
                tx.rollback()
            raise

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Keep the file open writable across many write calls (imports, benchmarks) instead of reopening."""
        self._open(writable=True)
        yield

    def ensure_schema(self) -> None:
        db = self._open(writable=True)
        for statement in cypher.schema_statements():
            if "()-[" in statement:
                # Dialect difference: Grafeo 0.6 has no relationship-property index syntax. Relationship MERGEs
                # are anchored on both endpoints, which the node index below already makes fast.
                continue
            try:
                db.execute_cypher(statement)
            except self._grafeo.GrafeoError as exc:
                raise QueryError(f"embedded store could not create schema: {exc}") from exc
        # Dialect difference: Grafeo accepts CREATE CONSTRAINT but MERGE/MATCH on {id: ...} only becomes an index
        # lookup (instead of a scan, quadratic over a load) once a property index on 'id' exists.
        for prop in ("id", "name"):
            if not db.has_property_index(prop):
                db.create_property_index(prop)

    def close(self) -> None:
        self._close_db()
