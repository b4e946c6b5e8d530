"""First loads of many records into an empty Neo4j database through ``neo4j-admin database import full``.

The batched writer (:mod:`statetech.graph.writer`) goes through transactions; Neo4j's offline importer builds the
store files directly and is many times faster for a first load of millions of records, but only into a database that
does not exist yet, with the server stopped. This module writes the importer's CSV files from the same validated
records the writer gets, with the same properties (:func:`statetech.graph.writer.record_properties`, derived ones
such as ``search_text`` included) and the same labels and relationship types, and runs the importer. The schema
(:func:`statetech.graph.cypher.schema_statements`) is not the importer's job: it goes into ``schema.cypher`` beside
the CSV files, to be run once the server is up (the launcher in tests/neo4j_server.py does it itself).

One file per node kind and per relationship type, so each has its own typed header (``amount_usd:double``,
``sources:string[]``) and no column stands empty for a whole kind. Values are typed from the records themselves:
text is quoted, a missing value is an empty unquoted field (the importer then sets no property, as the writer
leaves out ``None``), whole numbers are ``long`` and fractional ones ``double`` (``float`` in the importer is 32-bit
and would round money amounts), lists are arrays joined by :data:`ARRAY_DELIMITER`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statetech.graph.errors import StatetechError
from statetech.graph.vocabulary import (
    ENTITY_LABEL,
    KIND_BY_PREFIX,
    SOURCE_LABEL,
    checked_label,
    checked_rel_type,
    is_allowed,
)

if TYPE_CHECKING:
    from statetech.graph.model import RecordSet

# The unit separator: list items are free text, and no curated or imported text has a use for this control character
# (write_import_files refuses a list item holding it rather than splitting the item in two).
ARRAY_DELIMITER = "\x1f"
ARRAY_DELIMITER_OPTION = "U+001F"
SCHEMA_FILE = "schema.cypher"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "import.report"  # the importer's list of bad entries (none: the records are checked before)
# Node ids live in two id spaces, as in the store: entities and sources are looked up by different labels.
ENTITY_ID_SPACE = ENTITY_LABEL
SOURCE_ID_SPACE = SOURCE_LABEL


class BulkImportError(StatetechError):
    """Records cannot be bulk-imported as they are, or neo4j-admin's import failed."""


@dataclass
class ImportFiles:
    """The CSV files of one bulk import and what they hold; :meth:`arguments` is the importer's command line."""

    directory: Path
    node_files: list[Path] = field(default_factory=list)
    relationship_files: list[Path] = field(default_factory=list)
    schema_file: Path | None = None
    sources: int = 0
    nodes: int = 0
    relationships: int = 0
    # Some text holds a line break: the importer must be told, and then reads more slowly.
    multiline: bool = False

    @property
    def elements(self) -> int:
        return self.sources + self.nodes + self.relationships

    def arguments(self, database: str = "neo4j", *, overwrite: bool = False) -> list[str]:
        """What follows ``neo4j-admin`` to import these files into ``database``."""
        args = ["database", "import", "full", database]
        args += [f"--nodes={path}" for path in self.node_files]
        args += [f"--relationships={path}" for path in self.relationship_files]
        # No --strict: write_import_files has already checked that every relationship's ends are among the nodes.
        args += [f"--array-delimiter={ARRAY_DELIMITER_OPTION}", "--id-type=string",
                 # beside the files, not in whatever directory the importer was started from
                 f"--report-file={self.directory / REPORT_FILE}"]
        if self.multiline:
            args.append("--multiline-fields=true")
        if overwrite:
            args.append("--overwrite-destination=true")
        return args

    def command(self, database: str = "neo4j", *, admin: Sequence[str] = ("neo4j-admin",)) -> str:
        """The import as a shell command line, for a person to run against their own (stopped) Neo4j."""
        return shlex.join([*admin, *self.arguments(database)])

    @classmethod
    def read(cls, directory: str | os.PathLike) -> ImportFiles:
        """The files :func:`write_import_files` wrote into ``directory`` (from its manifest)."""
        directory = Path(directory).resolve()
        try:
            manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BulkImportError(f"{directory} holds no {MANIFEST_FILE}; write the import files with "
                                  f"'statetech load --bulk-import-dir {directory}' first") from None
        return cls(directory, [directory / name for name in manifest["node_files"]],
                   [directory / name for name in manifest["relationship_files"]], directory / SCHEMA_FILE,
                   manifest["sources"], manifest["nodes"], manifest["relationships"], manifest["multiline"])

    def _write_manifest(self) -> None:
        manifest = {"node_files": [p.name for p in self.node_files],
                    "relationship_files": [p.name for p in self.relationship_files],
                    "sources": self.sources, "nodes": self.nodes, "relationships": self.relationships,
                    "multiline": self.multiline}
        (self.directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def write_import_files(records: RecordSet, directory: str | os.PathLike) -> ImportFiles:
    """Write ``records`` as neo4j-admin import CSV files (and ``schema.cypher``) into ``directory``.

    Records are de-duplicated by id as a load would leave them (the last one given wins). Every relationship must
    connect two entities of the same records, in a direction the model allows: the importer builds a new database,
    so there is nothing else for an end to be found in. Raises :class:`BulkImportError` naming the record otherwise,
    before any file is written.
    """
    directory = Path(directory)
    sources = list({s.id: s for s in records.sources}.values())
    nodes = list({n.id: n for n in records.nodes}.values())
    relationships = list({r.key: r for r in records.relationships}.values())
    _check_relationships(relationships, {n.id for n in nodes})

    try:
        return _write_files(directory, sources, nodes, relationships)
    except OSError as exc:
        raise BulkImportError(f"cannot write the import files into {directory}: {exc.strerror or exc}; "
                              f"give a directory you can write to") from exc


def _write_files(directory: Path, sources: list[Any], nodes: list[Any], relationships: list[Any]) -> ImportFiles:
    from statetech.graph import cypher
    from statetech.graph.provenance import FORMAT_ID, FORMAT_VERSION, SourceDates, add_fields, start_node_summaries
    from statetech.graph.vendors import VENDOR, counts_from_records
    from statetech.graph.vocabulary import AGENCY_COUNT
    from statetech.graph.writer import record_properties

    # The provenance fields the writer stores (statetech.graph.provenance): the database is new, so the records'
    # own sources are all the graph has, and every start node's summary is known from the relationships here.
    dates = SourceDates()
    dates.update((s.id, s.published) for s in sources)
    # (no out_cited: Neo4j keeps none, GraphStore.keeps_citation_words)
    summaries = start_node_summaries(relationships, dates.derived, citations=False)
    # and every vendor's agency count (statetech.graph.vendors), from the same relationships
    agency_counts = counts_from_records(nodes, relationships)

    def with_fields(props: dict[str, Any], cited: list[str]) -> dict[str, Any]:
        add_fields(props, *dates.derived(cited))
        return props

    def node_properties(node: Any) -> dict[str, Any]:
        props = with_fields({**record_properties(node), **summaries.get(node.id, {})}, node.sources)
        if node.kind == VENDOR:
            props[AGENCY_COUNT] = agency_counts.get(node.id, 0)
        return props

    def relationship_properties(rel: Any) -> dict[str, Any]:
        return with_fields(record_properties(rel), rel.sources)

    directory.mkdir(parents=True, exist_ok=True)
    files = ImportFiles(directory.resolve())
    by_kind: dict[str, list[Any]] = {}
    for node in nodes:
        by_kind.setdefault(node.kind, []).append(node)
    by_type: dict[str, list[Any]] = {}
    for rel in relationships:
        by_type.setdefault(rel.type, []).append(rel)

    if sources:
        path = files.directory / "nodes-source.csv"
        files.multiline |= _write_group(path, sources, record_properties, [f"id:ID({SOURCE_ID_SPACE})", ":LABEL"],
                                        lambda s: [s.id, SOURCE_LABEL])
        files.node_files.append(path)
        files.sources = len(sources)
    for kind, group in sorted(by_kind.items()):
        labels = f"{ENTITY_LABEL}{ARRAY_DELIMITER}{checked_label(kind)}"  # several labels: the array delimiter
        path = files.directory / f"nodes-{kind.lower()}.csv"
        files.multiline |= _write_group(path, group, node_properties, [f"id:ID({ENTITY_ID_SPACE})", ":LABEL"],
                                        lambda n, labels=labels: [n.id, labels])
        files.node_files.append(path)
        files.nodes += len(group)
    for rel_type, group in sorted(by_type.items()):
        checked_rel_type(rel_type)
        path = files.directory / f"relationships-{rel_type.lower()}.csv"
        files.multiline |= _write_group(
            path, group, relationship_properties,
            [f":START_ID({ENTITY_ID_SPACE})", f":END_ID({ENTITY_ID_SPACE})", ":TYPE"],
            lambda r: [r.from_id, r.to_id, r.type])
        files.relationship_files.append(path)
        files.relationships += len(group)

    files.schema_file = files.directory / SCHEMA_FILE
    statements = [*cypher.schema_statements(), cypher.AWAIT_INDEXES]
    if nodes:  # the store's format marker, as the writer leaves it after a first load
        statements.append(cypher.store_format_statement(FORMAT_ID, FORMAT_VERSION))
    files.schema_file.write_text("".join(f"{statement};\n" for statement in statements), encoding="utf-8")
    files._write_manifest()
    return files


def schema_statements(files_or_directory: ImportFiles | str | os.PathLike) -> list[str]:
    """The statements of a ``schema.cypher`` written by :func:`write_import_files`, to run once the server is up."""
    directory = files_or_directory.directory if isinstance(files_or_directory, ImportFiles) else Path(
        files_or_directory)
    text = (directory / SCHEMA_FILE).read_text(encoding="utf-8")
    return [statement.strip() for statement in text.split(";\n") if statement.strip()]


def run_import(files: ImportFiles, neo4j_home: str | os.PathLike, *, admin: Sequence[str] = ("neo4j-admin",),
               database: str = "neo4j", overwrite: bool = False, timeout: float | None = None,
               env: dict[str, str] | None = None) -> str:
    """Run the importer on ``files`` into ``database`` of the (stopped) Neo4j at ``neo4j_home``; returns its output.

    ``admin`` is how neo4j-admin is started: the script of an installed Neo4j, or
    ``java -cp ... org.neo4j.cli.AdminTool`` on a classpath that holds neo4j-import-tool (tests/neo4j_server.py).
    Raises :class:`BulkImportError` with the end of the importer's output when it fails (for instance when the
    database already exists).
    """
    home = Path(neo4j_home)
    home.mkdir(parents=True, exist_ok=True)
    command = [*admin, *files.arguments(database, overwrite=overwrite)]
    try:
        done = subprocess.run(command, env={**os.environ, **(env or {}), "NEO4J_HOME": str(home)},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=timeout)
    except OSError as exc:
        raise BulkImportError(f"cannot run {admin[0]}: {exc.strerror or exc}; check the path to neo4j-admin") from exc
    except subprocess.TimeoutExpired as exc:
        raise BulkImportError(f"the import into {home} did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0 or "IMPORT DONE" not in done.stdout:
        lines = [line for line in done.stdout.splitlines() if line.strip() and not line.startswith(("\t", "."))]
        tail = "\n".join(lines[-12:])
        hint = ("; a bulk import only creates a new database: with the server stopped, give a Neo4j home without "
                f"database '{database}', or another database name") if "already exist" in done.stdout else ""
        raise BulkImportError(f"neo4j-admin import into {home} failed (exit {done.returncode}){hint}:\n{tail}")
    return done.stdout


# --- the CSV files ----------------------------------------------------------------------------------------------------


_TYPE_NAMES: dict[type, str] = {str: "string", bool: "boolean", int: "long", float: "double"}


def _write_group(path: Path, records: list[Any], properties: Callable[[Any], dict[str, Any]], key_header: list[str],
                 key_values: Callable[[Any], list[str]]) -> bool:
    """One CSV file: key columns, then one typed column per property any record of the group has.

    Two passes over the records (types first, then rows) rather than holding every record's properties at once.
    Returns whether any text holds a line break.
    """
    # A node's ``id`` is its :ID column, which the importer also stores as the ``id`` property.
    skipped = "id" if key_header[0].startswith("id:ID") else None
    seen: dict[str, set[type]] = {}  # property -> Python types of its values
    item_kinds: dict[str, set[type]] = {}  # list property -> Python types of its items
    for record in records:
        for name, value in properties(record).items():
            kinds = seen.get(name)
            if kinds is None:
                kinds = seen[name] = set()
            kinds.add(type(value))
            if type(value) is list:
                item_kinds.setdefault(name, set()).update(map(type, value))
    seen.pop(skipped, None)
    names = sorted(seen)
    columns = [_column(name, seen[name], item_kinds.get(name, set()), records, properties) for name in names]
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerow([*key_header, *(f"{n}:{t}" for n, (t, _) in zip(names, columns))])
        # Every value quoted and a missing one left empty and unquoted: the importer reads "" as an empty text and an
        # empty field as no property.
        writer = csv.writer(out, quoting=csv.QUOTE_NOTNULL, lineterminator="\n")
        cells = [(name, text) for name, (_, text) in zip(names, columns)]
        for record in records:
            props = properties(record)
            row = key_values(record)
            for name, text in cells:
                value = props.get(name)
                row.append(None if value is None else text(value, record, name))
            writer.writerow(row)
    # A line break inside a value makes more lines than rows (checked on the file, in C, not cell by cell).
    data = path.read_bytes()
    return data.count(b"\n") != len(records) + 1 or b"\r" in data


def _column(name: str, kinds: set[type], item_kinds: set[type], records: list[Any],
            properties: Callable[[Any], dict[str, Any]]):
    """(importer type, function writing one value) of a property whose values have the Python types ``kinds``
    (and, for a list, whose items have ``item_kinds``)."""
    if kinds == {list} and len(item_kinds) == 1 and next(iter(item_kinds)) in _TYPE_NAMES:
        return f"{_TYPE_NAMES[next(iter(item_kinds))]}[]", _list_text
    if len(kinds) == 1 and next(iter(kinds)) in _TYPE_NAMES:
        type_name = _TYPE_NAMES[next(iter(kinds))]
        return type_name, _SCALAR_TEXT[type_name]
    # Pydantic models give every field one type; this names a record holding the second type met.
    first = None
    for record in records:
        value = properties(record).get(name)
        if value is None:
            continue
        kind = (list, *sorted({type(v).__name__ for v in value})) if type(value) is list else type(value)
        if first is None:
            first = kind
        if kind != first or (type(value) is not list and kind not in _TYPE_NAMES):
            break
    raise BulkImportError(f"{_record_id(record)}: property {name!r} holds values of more than one type or of a type "
                          f"a Neo4j property cannot hold ({', '.join(sorted(k.__name__ for k in kinds))}); every "
                          f"record of a kind must give it one type (a list holds one type too)")


def _float_text(value: float, record: Any = None, name: str = "") -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _plain_text(value: Any, record: Any = None, name: str = "") -> str:
    return value if type(value) is str else str(value)


def _bool_text(value: bool, record: Any = None, name: str = "") -> str:
    return "true" if value else "false"


_SCALAR_TEXT = {"string": _plain_text, "long": _plain_text, "double": _float_text, "boolean": _bool_text}


def _list_text(value: list[Any], record: Any, name: str) -> str:
    items = [_float_text(item) if type(item) is float else _bool_text(item) if type(item) is bool else str(item)
             for item in value]
    text = ARRAY_DELIMITER.join(items)
    if text.count(ARRAY_DELIMITER) != len(items) - 1:
        raise BulkImportError(f"{_record_id(record)}: an item of {name!r} holds the control character "
                              f"U+001F; remove it from the record")
    if "" in items:
        raise BulkImportError(f"{_record_id(record)}: {name!r} has an empty item, which the importer would "
                              f"drop; remove it from the record")
    return text


def _record_id(record: Any) -> str:
    return getattr(record, "key", None) or getattr(record, "id", "?")


def _check_relationships(relationships: Iterable[Any], node_ids: set[str]) -> None:
    for rel in relationships:
        for end in (rel.from_id, rel.to_id):
            if end not in node_ids:
                raise BulkImportError(f"{rel.key}: {end} is not among the records; a bulk import makes a new "
                                      f"database, so every relationship's ends must be loaded with it")
        from_kind = KIND_BY_PREFIX.get(rel.from_id.split(":", 1)[0])
        to_kind = KIND_BY_PREFIX.get(rel.to_id.split(":", 1)[0])
        if not (from_kind and to_kind and is_allowed(from_kind, rel.type, to_kind)):
            raise BulkImportError(f"{rel.from_id} -[{rel.type}]-> {rel.to_id} is not allowed by the model")
