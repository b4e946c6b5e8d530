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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statetech.graph import cypher
from statetech.graph.errors import QueryError, StatetechError, StoreUnavailable
from statetech.graph.vocabulary import (
    AMOUNT_KEYS,
    CITATION_PREFIX,
    CITED,
    ENTITY_LABEL,
    HAS_HISTORY,
    NEWEST_SOURCE,
    OUT_CITED,
    OUT_HISTORY,
    OUT_MISSING_SOURCES,
    OUT_NEWEST,
    OUT_UNDATED,
    citation_text,
)
from statetech.graph.writer import WriteSummary  # what Graph.load returns; kept importable from here

if TYPE_CHECKING:  # pydantic's record classes: only writes need them, and reads should not pay for the import
    from statetech.graph.model import RecordSet
    from statetech.graph.writer import PreparedBatch

DEFAULT_BATCH = 10_000  # records per batched write (benchmarks/bench_load.py)


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


_PLAIN_TYPES = frozenset({type(None), bool, int, float, str})


def normalise(value: Any) -> Any:
    """Driver- and engine-specific values to plain Python: the common currency of both stores."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if "_labels" in value or "_type" in value:
            return _normalise_entity_dict(value)
        # Plain values are copied without a call each: a whole-graph selection normalises millions of them.
        return {k: v if type(v) in _PLAIN_TYPES else normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN_TYPES else normalise(v) for v in value]
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
    # Write transactions the batched writer may run at once on disjoint batches (see GraphWriter._submit).
    concurrent_writers: int = 1
    # Whether entities store out_cited, the citation words of their outgoing relationships (vocabulary.OUT_CITED):
    # only the embedded store reads them (sources/supports finds relationships through its node text indexes). Neo4j
    # indexes the relationships' sources lists themselves, and on a hub out_cited grows with its degree: an agency
    # with 100,000 awards would rewrite a text of 100,000 words with every batch an import writes.
    keeps_citation_words: bool = False

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
    def writing(self, pause_text_indexes: bool = True) -> Iterator[None]:
        """Hold whatever a run of many write calls should keep open; Neo4j's driver pools connections itself.
        (``pause_text_indexes``: see GrafeoStore.writing.)"""
        yield

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shared structural operations --------------------------------------------------------------------------

    def write_records(self, records: RecordSet, batch_size: int = DEFAULT_BATCH,
                      single_transaction: bool | None = None) -> WriteSummary:
        """Write every record given (see :func:`statetech.graph.writer.load_records`, the one write path)."""
        from statetech.graph.writer import load_records

        return load_records(self, records, batch_size=batch_size, single_transaction=single_transaction)

    # The batched write path (statetech.graph.writer): which records of a batch exist, then one prepared batch.

    def lookup(self, query: str, params: dict[str, Any]) -> QueryResult:
        """A read between batched writes; a store that holds a write handle open may answer through it."""
        return self.run_read(query, params)

    def has_entities(self) -> bool:
        return bool(self.lookup(cypher.ANY_ENTITY, {}).rows)

    def set_properties(self, query: str, params: dict[str, Any]) -> QueryResult:
        """A write that only sets properties of stored records (the provenance fields, statetech.graph.provenance),
        run between batched writes; a store that holds a write handle open may run it through that."""
        return self.run_write(query, params)

    def raise_markers(self, rows: list[dict[str, Any]]) -> None:
        """Raise start nodes' stored summaries with rows of Markers.raise_row (statetech.graph.provenance)."""
        statement = cypher.RAISE_MARKERS if self.keeps_citation_words else cypher.RAISE_MARKERS_WITHOUT_CITATIONS
        self.set_properties(statement, {"rows": rows})

    def existing_nodes(self, ids: list[str]) -> dict[str, str | None]:
        """Which of ``ids`` are stored: id -> its ``imported_from`` (None for a curated node)."""
        return {row["id"]: row["imported_from"] for row in self.lookup(cypher.EXISTING_NODES, {"ids": ids})}

    @abstractmethod
    def existing_relationships(self, rel_type: str, rows: list[dict[str, Any]]) -> dict[str, str | None]:
        """Which of ``rows`` ({id, from, to}) are stored with those ends: id -> ``imported_from``."""

    @abstractmethod
    def write_batch(self, batch: PreparedBatch) -> None:
        """Write one batch prepared by the writer: sources upserted, new records created, existing ones replaced."""

    def clear(self, batch: int = 10_000) -> int:
        """Delete everything in bounded transactions; returns the number of nodes deleted."""
        with self.writing():  # (the embedded store drops its text indexes meanwhile: see GrafeoStore.writing)
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


# --- Neo4j ------------------------------------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """A URI safe to print: any user:password@ part removed."""
    return re.sub(r"//[^/@]*@", "//", uri)


class Neo4jStore(GraphStore):
    backend = "neo4j"
    concurrent_writers = 2

    def __init__(self, uri: str, user: str | None = None, password: str | None = None,
                 database: str | None = None) -> None:
        try:
            import neo4j
            from neo4j.exceptions import AuthError, ConfigurationError, ServiceUnavailable
        except ImportError as exc:  # pragma: no cover - neo4j is a hard dependency
            raise StoreUnavailable("the 'neo4j' package is not installed") from exc
        self._neo4j = neo4j
        uri, user, password = _credentials_from_uri(uri, user, password)
        self._uri = uri
        self._database = database or None
        auth = (user or "neo4j", password) if password is not None else None
        shown = redact_uri(uri)
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
        if scheme in ("http", "https"):
            # Neo4j's http port (7474) serves Neo4j Browser; statetech talks Bolt, usually on port 7687.
            raise StoreUnavailable(f"{shown} is an {scheme}:// address; statetech talks to Neo4j over Bolt: use "
                                   "neo4j://HOST:7687 (or bolt://, neo4j+s:// for Aura and TLS)")
        if self._database and self._database.lower() == "system":
            raise StoreUnavailable("the 'system' database holds Neo4j's own administration data and cannot hold a "
                                   "graph; choose another with --database or NEO4J_DATABASE (or leave it out for "
                                   "the server's default)")
        try:
            # Server notifications ("property key does not exist", ...) would otherwise be printed as warnings in
            # the middle of CLI output; queries that are wrong still fail with an error.
            self._driver = neo4j.GraphDatabase.driver(uri, auth=auth, user_agent="statetech",
                                                      notifications_min_severity="OFF")
            self._driver.verify_connectivity()
            if self._database:
                # a wrong database name would otherwise surface only at the first query, as a bare server code
                self._driver.execute_query("RETURN 1", database_=self._database)
        except neo4j.exceptions.Neo4jError as exc:
            raise StoreUnavailable(_connect_message(exc, shown, self._database)) from exc
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
        # Plain values are kept without a call each: a few thousand rows (sources/supports at 1M nodes) otherwise
        # spend a third of their time here. Records are read as value lists (cheaper than one lookup per key).
        rows = [{k: v if type(v) in _PLAIN_TYPES else normalise(v) for k, v in zip(keys, record.values())}
                for record in result]
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

    def existing_relationships(self, rel_type: str, rows: list[dict[str, Any]]) -> dict[str, str | None]:
        # Through the relationship-id index: no endpoint is expanded, however many relationships a hub has.
        query = cypher.existing_relationships_by_id(rel_type)
        return {row["id"]: row["imported_from"] for row in self.lookup(query, {"rows": rows})}

    def write_batch(self, batch: PreparedBatch) -> None:
        statements: list[tuple[str, str, dict[str, Any]]] = []
        if batch.sources:
            statements.append(("Source", cypher.UPSERT_SOURCES, {"rows": batch.sources}))
        for kind, rows in batch.new_nodes.items():
            statements.append((kind, cypher.create_nodes(kind), {"rows": rows}))
        for kind, rows in batch.changed_nodes.items():
            statements.append((kind, cypher.MERGE_NODE_PROPERTIES if batch.keep_stored else cypher.REPLACE_NODES,
                               {"rows": rows}))
        for rel_type, rows in batch.new_relationships.items():
            statements.append((rel_type, cypher.create_relationships(rel_type), {"rows": rows}))
        for rel_type, rows in batch.changed_relationships.items():
            statements.append((rel_type, cypher.replace_relationships(rel_type, batch.keep_stored), {"rows": rows}))
        results = self.write_transaction([(q, p) for _, q, p in statements])
        for (name, _, params), result in zip(statements, results):
            _check_written(name, len(params["rows"]), result)

    def ensure_schema(self) -> None:
        for statement in cypher.schema_statements():
            # Schema commands cannot share a transaction with data writes, so each runs on its own.
            with self._session(True) as session:
                session.run(statement).consume()

    def close(self) -> None:
        self._driver.close()


def _check_written(name: str, expected: int, result: QueryResult) -> None:
    written = result.rows[0]["written"] if result.rows else 0
    if written != expected:
        raise StatetechError(f"{name}: wrote {written} of {expected} records; endpoints missing from the store?")


def _credentials_from_uri(uri: str, user: str | None, password: str | None) -> tuple[str, str | None, str | None]:
    """``neo4j://user:pass@host`` is a common way to write a URI; the driver refuses it, so the credentials are taken
    out (explicit NEO4J_USERNAME / NEO4J_PASSWORD still win) and the URI is used without them."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri, user, password
    if not (parts.username or parts.password):
        return uri, user, password
    host = parts.netloc.rsplit("@", 1)[1]
    bare = urlunsplit(parts._replace(netloc=host))
    return (bare, user or (unquote(parts.username) if parts.username else None),
            password if password is not None else (unquote(parts.password) if parts.password else None))


def _connect_message(exc: Exception, shown: str, database: str | None) -> str:
    """What to do about an error the server gave while statetech was connecting."""
    code = getattr(exc, "code", "") or ""
    if code.endswith("AuthenticationRateLimit"):
        return (f"Neo4j at {shown} refuses logins for a while after too many failed attempts; wait a few minutes, "
                "then check NEO4J_USERNAME and NEO4J_PASSWORD")
    if code.startswith("Neo.ClientError.Security."):
        return f"Neo4j at {shown} refused the credentials; check NEO4J_USERNAME and NEO4J_PASSWORD"
    if code.endswith("DatabaseNotFound"):
        return (f"Neo4j at {shown} has no database {database!r}; check --database / NEO4J_DATABASE (SHOW DATABASES "
                "lists them), or leave it out to use the server's default")
    if code.endswith("DatabaseUnavailable") or "Unavailable" in code:
        return f"the database {database!r} on Neo4j at {shown} is not available (stopped or starting); try again"
    message = getattr(exc, "message", None) or str(exc)
    return f"Neo4j at {shown} refused the connection: {message.splitlines()[0] if message else code}"


def _neo4j_message(exc: Exception, write: bool) -> str:
    code = getattr(exc, "code", "") or ""
    message = getattr(exc, "message", None) or str(exc)
    if not write and ("AccessMode" in code or "ForbiddenDueToTransactionType" in code or "read" in message.lower()
                      and "write" in message.lower()):
        return f"this query tries to write, but it ran read-only ({code}); use a write command to change data"
    if "no such fulltext schema index" in message.lower():
        # stored queries read indexes that statetech creates when it writes; a store last written by an older
        # statetech (or filled by other tools) may lack the newer ones
        return (f"Neo4j rejected the query: {message.splitlines()[0]}; this store lacks an index statetech creates "
                "when it writes: run 'statetech db refresh' once to create it")
    return f"Neo4j rejected the query: {message.splitlines()[0] if message else code}"


# --- Grafeo (embedded) ------------------------------------------------------------------------------------------------


# Internal node ids remembered between batches (about 100 bytes each): enough for the ends of a large load's next
# batches, bounded so an import's memory stays flat however long the file.
_INTERNAL_IDS_KEPT = 500_000

# Endpoint fields for upsert_edges; the engine consumes them, so they never become properties.
_FROM_FIELD = "_statetech_from"
_TO_FIELD = "_statetech_to"


def _merged_citations(stored: str | None, tokens: list[str]) -> str | None:
    """cypher.RAISE_MARKERS's out_cited: ``tokens`` (sorted) merged into the stored text, each one not already there
    inserted after the words below it and before those above it; None (left absent) when there are none."""
    held = stored.split(" ") if stored is not None else []
    # Every test here runs in C: a hub's text holds a word per award it makes, read and merged once per batch.
    # (sorted() of a sorted list is one pass; a list of two sorted runs is merged in one pass too.)
    known = set(held)
    if len(known) == len(held) and "" not in known and held == sorted(held):
        # sorted and distinct, as statetech writes it: the steps below come to a set union
        new = set(tokens).difference(known)
        if not new:  # (stored is None or a text of words here: an empty one took the hand-edit path)
            return stored
        return " ".join(sorted(held + sorted(new)))
    # a hand edit: the statement's steps, one token at a time, and its join (no separator while the text is empty)
    for token in tokens:
        if token not in held:
            held = [t for t in held if t < token] + [token] + [t for t in held if t > token]
    if not held:
        return None
    text = ""
    for word in held:
        text = f"{text} {word}" if text else word
    return text


def _check_upsert(name: str, expected: int, result: dict[str, Any]) -> None:
    if result.get("skipped"):
        raise StatetechError(f"{name}: {result['skipped']} of {expected} records could not be written; "
                             "endpoints missing from the store?")


def _native_edges(rows_by_type: dict[str, list[dict[str, Any]]], internal: dict[str, int]) -> list[tuple]:
    """(start, end, type, properties) of new relationships, ends as engine node ids; KeyError for an unknown end."""
    from statetech.graph.vocabulary import checked_rel_type

    edges: list[tuple] = []
    for rel_type, rows in rows_by_type.items():
        rel_type = checked_rel_type(rel_type)
        edges += [(internal[r["from"]], internal[r["to"]], rel_type, r["props"]) for r in rows]
    return edges


def default_db_path() -> Path:
    """Per-user data directory (XDG on Linux), overridable with STATETECH_DB or --db."""
    env = os.environ.get("STATETECH_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "statetech" / "statetech.grafeo"


class GrafeoStore(GraphStore):
    backend = "embedded"
    keeps_citation_words = True

    def __init__(self, path: str | Path | None = None) -> None:
        try:
            import grafeo
        except ImportError as exc:  # pragma: no cover - grafeo is a hard dependency
            raise StoreUnavailable("the 'grafeo' package is not installed") from exc
        self._grafeo = grafeo
        self._path = Path(path).expanduser() if path else default_db_path()
        self._db = None
        self._writable = False
        # id -> engine node id of nodes the batched path created or looked up lately, so the next batches' edges
        # find their ends without a query; forgotten on any other write, on reopening, and past a bound.
        self._internal_ids: dict[str, int] = {}
        # While writing() builds a first load in memory: the file's own writable handle, held so that no other
        # process opens the file meanwhile (see writing()).
        self._file_db = None
        # True while writing() holds the citation text indexes dropped (see _pause_text_indexes).
        self._text_indexes_paused = False
        if self._path.exists() and self._path.is_dir():
            raise StoreUnavailable(f"{self._path} is a folder; give --db the path of a database file")

    @property
    def location(self) -> str:
        return f"embedded store at {self._path}"

    @property
    def path(self) -> Path:
        return self._path

    def _open(self, writable: bool):
        if self._db is not None and (self._writable == writable or self._file_db is not None):
            # (a first load being built in memory answers its reads too: reopening would drop it)
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
        self._internal_ids.clear()
        if self._file_db is not None:  # closed while writing() built a first load in memory: nothing is saved
            self._drop_built()
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
            # Plain values are kept without a call each (a whole-graph selection reads 200,000 of them).
            rows.append({c: v if type(v := row.get(c)) in _PLAIN_TYPES else normalise(v) for c in columns})
        return QueryResult(columns, rows)

    def _execute(self, target, query: str, params: dict[str, Any] | None) -> QueryResult:
        try:
            return self._collect(target.execute_cypher(query, params or {}))
        except self._grafeo.GrafeoError as exc:
            text = str(exc)
            if "no text index" in text and target is self._db and self._create_text_indexes(target):
                # a file left without its citation indexes by a writing() run that was killed (see
                # _pause_text_indexes): built on this handle (in memory on a read-only one), and the query run again
                return self._execute(target, query, params)
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
        self._internal_ids.clear()  # a statement may delete nodes: no remembered internal id survives it
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
    def writing(self, pause_text_indexes: bool = True) -> Iterator[None]:
        """Keep the file open writable across many write calls (imports, benchmarks) instead of reopening.

        Into a new or empty file the run is built in an in-memory database and saved over the file when it ends
        (to a temporary file, then renamed into place): the engine's bulk calls are faster in memory and saving
        beats the file-backed store's close (benchmarks/bench_load.py), and a run that fails leaves the file as
        empty as it was. The file stays open writable meanwhile, so another process cannot write to it.

        Into a file that holds data, the citation text indexes are dropped for the run and created again when it
        ends (see _pause_text_indexes), unless ``pause_text_indexes`` is false: for a write of a few records, whose
        upkeep by the engine costs less than creating the indexes again.
        """
        if self._file_db is not None or self._text_indexes_paused:  # already inside writing()
            yield
            return
        db = self._open(writable=True)
        if db.node_count or db.edge_count:
            if not pause_text_indexes:
                yield
                return
            self._pause_text_indexes(db)
            try:
                yield
            finally:
                self._resume_text_indexes()
            return
        self._internal_ids.clear()
        self._file_db, self._db = db, self._grafeo.GrafeoDB()
        try:
            self.ensure_schema()
            self._pause_text_indexes(self._db)
            yield
            self._resume_text_indexes()
        except BaseException:
            self._text_indexes_paused = False
            self._drop_built()
            raise
        self._save_built()

    # Why the citation text indexes are dropped while writing() runs: Grafeo 0.6 removes a node's old text from a
    # full-text index by walking the whole index, so every write that changes an indexed value (a start node's
    # out_cited as its relationships arrive, an entity's cited when its sources change, a deleted node) costs time in
    # proportion to everything indexed: 3.5 ms per node at 1M entities citing 1,000 sources, 76 ms when every source
    # is cited once. Creating an index reads each value once (1.5 to 5 s at 1M), so a run of writes drops both
    # indexes and creates them again when it ends, failed or not (benchmarks/bench_upkeep.py times both). A process
    # killed in between leaves a file without them: the next writable open creates them (ensure_schema), and a
    # read-only handle builds them in memory the first time a query asks for one (_execute).
    # False only for benchmarks/bench_upkeep.py's baseline: the indexes kept current by the engine through every write.
    drops_text_indexes = True

    def _pause_text_indexes(self, db) -> None:
        if not self.drops_text_indexes:
            return
        for prop in (CITED, OUT_CITED):
            if self._has_text_index(db, prop):
                db.drop_text_index(ENTITY_LABEL, prop)
        self._text_indexes_paused = True

    def _resume_text_indexes(self) -> None:
        self._text_indexes_paused = False
        db = self._open(writable=True)
        self._create_text_indexes(db)

    def _has_text_index(self, db, prop: str) -> bool:
        try:
            db.text_search(ENTITY_LABEL, prop, CITATION_PREFIX, 1)
        except self._grafeo.GrafeoError:
            return False
        return True

    def _create_text_indexes(self, db) -> bool:
        """Create the citation text indexes this handle lacks (creating an existing one again would rebuild it);
        True when one was created."""
        created = False
        for prop in (CITED, OUT_CITED):
            if not self._has_text_index(db, prop):
                db.create_text_index(ENTITY_LABEL, prop)
                created = True
        return created

    def _drop_built(self) -> None:
        """Forget the database writing() was building in memory: the file's own handle is the open one again."""
        self._db.close()
        self._db, self._file_db = self._file_db, None
        self._internal_ids.clear()

    def _save_built(self) -> None:
        """Replace the (empty) file with the database built in memory by writing()."""
        if self._file_db is None:
            return
        built, file_db = self._db, self._file_db
        self._internal_ids.clear()
        if not (built.node_count or built.edge_count):
            self._drop_built()
            return
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.saving")
        try:
            temporary.unlink(missing_ok=True)
            built.save(str(temporary))
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            self._drop_built()
            if isinstance(exc, self._grafeo.GrafeoError):
                raise StoreUnavailable(f"cannot save the embedded store {self._path}: "
                                       f"{str(exc).splitlines()[0]}") from exc
            raise
        built.close()
        # Closing the file's handle checkpoints and removes its write-ahead log, so nothing replays over the new file.
        file_db.close()
        self._db, self._file_db = None, None
        os.replace(temporary, self._path)

    def memory_usage(self) -> dict[str, int]:
        """The engine's own estimate of the heap it uses (``total_bytes``) and its memory budget
        (``budget_bytes``: by default a share of this machine's RAM), for sizing what the embedded store can hold."""
        usage = self._open(writable=self._writable).memory_usage()
        return {"total_bytes": int(usage["total_bytes"]),
                "budget_bytes": int(usage["buffer_manager"]["budget_bytes"])}

    def lookup(self, query: str, params: dict[str, Any]) -> QueryResult:
        # Between batched writes the file is open writable; reading through that handle avoids reopening the file
        # read-only for every batch (and writable again for its write).
        if self._db is not None and self._writable:
            return self._execute(self._db, query, params)
        return self.run_read(query, params)

    def set_properties(self, query: str, params: dict[str, Any]) -> QueryResult:
        # Nothing is created or deleted, so the internal ids remembered for the next batch's edges stay valid
        # (write_transaction forgets them).
        if self._db is not None and self._writable:
            return self._execute(self._db, query, params)
        return self.run_write(query, params)

    def raise_markers(self, rows: list[dict[str, Any]]) -> None:
        # The values of cypher.RAISE_MARKERS worked out here, and only the changed ones set: see cypher.STORED_MARKERS.
        db = self._open(writable=True)
        stored = {row["id"]: row for row in self.lookup(cypher.STORED_MARKERS, {"ids": [row["id"] for row in rows]})}
        set_property = db.set_node_property
        for row in rows:
            held = stored.get(row["id"])
            if held is None:  # (the statement's MATCH finds no such node either)
                continue
            node = held["internal"]
            newest, stored_newest = row[OUT_NEWEST], held[OUT_NEWEST]
            # a stored value that is not text compares as null in the statement, which then writes the new date
            if newest is not None and not (type(stored_newest) is str and stored_newest >= newest):
                set_property(node, OUT_NEWEST, newest)
            for flag in (OUT_UNDATED, OUT_MISSING_SOURCES):
                if row[flag] and held[flag] is not True:
                    set_property(node, flag, True)
            stored_cited = held[OUT_CITED]
            cited = _merged_citations(stored_cited if type(stored_cited) is str else None, row["cited_tokens"])
            if cited is not None and cited != stored_cited:  # (None: nothing cited, nothing stored to keep)
                set_property(node, OUT_CITED, cited)

    def existing_relationships(self, rel_type: str, rows: list[dict[str, Any]]) -> dict[str, str | None]:
        # Dialect difference: no relationship-id index in Grafeo 0.6, so the lookup walks from the end with more
        # distinct ids in this batch (the other end is the hub; see cypher.upsert_relationships).
        anchor = "to" if len({r["to"] for r in rows}) > len({r["from"] for r in rows}) else "from"
        query = cypher.existing_relationships(rel_type, anchor)
        return {row["id"]: row["imported_from"] for row in self.lookup(query, {"rows": rows})}

    def write_batch(self, batch: PreparedBatch) -> None:
        """The engine's native bulk calls, several times faster than the same batch as Cypher.

        New nodes and relationships are created in bulk (``batch_create_nodes_with_props`` /
        ``batch_create_edges``, which take the engine's internal node ids: those of this batch's new nodes come back
        from the create call, the others are looked up once per batch through the id index). Existing records are
        replaced with ``upsert_nodes`` / ``upsert_edges(replace=True)``, matched by id, labels and ends. Those calls
        consume the fields naming the ends, so a relationship's own ``from`` / ``to`` properties (which every
        statetech relationship stores; queries read them instead of startNode()/endNode()) travel as ordinary
        properties beside two private endpoint fields.
        """
        from statetech.graph.vocabulary import SOURCE_LABEL, checked_label, checked_rel_type

        db = self._open(writable=True)
        internal = self._internal_ids
        if len(internal) > _INTERNAL_IDS_KEPT:
            internal.clear()
        try:
            if batch.sources:
                result = db.upsert_nodes([SOURCE_LABEL], [r["props"] for r in batch.sources], key="id",
                                         replace=True)
                _check_upsert("Source", len(batch.sources), result)
            for kind, rows in batch.new_nodes.items():
                created = db.batch_create_nodes_with_props([ENTITY_LABEL, checked_label(kind)],
                                                           [r["props"] for r in rows])
                internal.update(zip((r["id"] for r in rows), created))
            for kind, rows in batch.changed_nodes.items():
                # an import merges (never erases a stored value), a curated load replaces: PreparedBatch.keep_stored
                result = db.upsert_nodes([ENTITY_LABEL, checked_label(kind)], [r["props"] for r in rows], key="id",
                                         replace=not batch.keep_stored)
                _check_upsert(kind, len(rows), result)
            if batch.new_relationships:
                try:
                    # Usually every end is known already (a first load created them all): no set of ends is built.
                    edges = _native_edges(batch.new_relationships, internal)
                except KeyError:
                    ends = {r[end] for rows in batch.new_relationships.values() for r in rows
                            for end in ("from", "to")}
                    wanted = [i for i in ends if i not in internal]
                    for row in self._execute(db, cypher.INTERNAL_NODE_IDS, {"ids": wanted}):
                        internal[row["id"]] = row["internal"]
                    missing = sorted(i for i in wanted if i not in internal)
                    if missing:
                        raise StatetechError(f"cannot write relationships: {len(missing)} of their ends are not in "
                                             f"the store (e.g. {missing[0]})") from None
                    edges = _native_edges(batch.new_relationships, internal)
                db.batch_create_edges(edges)
            for rel_type, rows in batch.changed_relationships.items():
                result = db.upsert_edges(
                    checked_rel_type(rel_type),
                    [{**r["props"], _FROM_FIELD: r["from"], _TO_FIELD: r["to"]} for r in rows],
                    key="id", endpoint_key="id", endpoint_labels=[ENTITY_LABEL], src_field=_FROM_FIELD,
                    dst_field=_TO_FIELD, replace=not batch.keep_stored)
                _check_upsert(rel_type, len(rows), result)
        except self._grafeo.GrafeoError as exc:
            raise QueryError(f"the embedded store refused a batch: {str(exc).splitlines()[0]}") from exc

    def ensure_schema(self) -> None:
        db = self._open(writable=True)
        for statement in cypher.schema_statements():
            if "()-[" in statement or statement in cypher.neo4j_only_indexes():
                # Dialect difference: Grafeo 0.6 has no relationship-property index syntax, nor TEXT/FULLTEXT index
                # statements (stored queries that use those have an embedded form, see graph/catalog.py).
                # Relationship MERGEs are anchored on both endpoints, which the node index below makes fast.
                continue
            try:
                db.execute_cypher(statement)
            except self._grafeo.GrafeoError as exc:
                raise QueryError(f"embedded store could not create schema: {exc}") from exc
        # Dialect difference: Grafeo accepts CREATE CONSTRAINT but MERGE/MATCH on {id: ...} only becomes an index
        # lookup (instead of a scan, quadratic over a load) once a property index on 'id' exists.
        # The provenance flags (statetech.graph.provenance) are on the few start nodes that have such relationships:
        # an index costs almost nothing to keep and turns records/unsourced's and records/newest's search for them
        # from a scan of every entity into a lookup (the engine answers equality from a property index, not ranges).
        # records/newest looks its newest dates up one by one in the indexes on newest_source and out_newest
        # (queries/records/newest.grafeo.cypher): without them each lookup would be a scan of every entity.
        # The history flags do the same for records/known-on and records/new-since (statetech.graph.vocabulary), and
        # the amount keys for contracts/largest, which walks them octave by octave and rank by rank.
        for prop in ("id", "name", OUT_UNDATED, OUT_MISSING_SOURCES, NEWEST_SOURCE, OUT_NEWEST, HAS_HISTORY,
                     OUT_HISTORY, *AMOUNT_KEYS):
            if not db.has_property_index(prop):
                db.create_property_index(prop)
        # The citation tokens (statetech.graph.vocabulary.CITED): sources/supports looks a source's token up in
        # these full-text indexes (queries/sources/supports.grafeo.cypher); the engine keeps them current on every
        # write and in the saved file. Not while writing() holds them dropped: it creates them when it ends.
        if not self._text_indexes_paused:
            self._create_text_indexes(db)

    def close(self) -> None:
        self._close_db()
