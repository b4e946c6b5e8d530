"""Curated YAML records: parse with line numbers, validate everything, then hand over a RecordSet.

Validation runs to the end and reports every problem at once, each with ``file:line``, the record id and a hint,
because curators fix files in one pass; and nothing is yielded for writing unless the whole set is clean, so a
bad file never leaves half a load in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from statetech.graph.errors import Problem, ValidationFailed, did_you_mean
from statetech.graph.model import (
    ALLOWED_TRIPLES,
    NODE_KINDS,
    Node,
    RecordSet,
    Relationship,
    Source,
    allowed_targets,
    is_allowed,
    kind_of_id,
)
from statetech.graph.text import unsafe_characters

TOP_LEVEL_KEYS = ("sources", "nodes", "relationships")
YAML_SUFFIXES = (".yaml", ".yml")


class _DatesAsTextConstructor(RoundTripConstructor):
    """Leave timestamps as text: the model checks dates itself and can then point at the line of a bad one."""


_DatesAsTextConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


@dataclass
class _Located:
    record: Any
    file: str
    line: int


@dataclass
class CuratedBundle:
    """Parsed records with where each came from, so later checks can point at the right line."""

    sources: list[_Located] = field(default_factory=list)
    nodes: list[_Located] = field(default_factory=list)
    relationships: list[_Located] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # findings that do not stop a load (e.g. a name holding a bidi override), printed by 'validate'
    warnings: list[Problem] = field(default_factory=list)

    def record_set(self) -> RecordSet:
        return RecordSet(
            sources=[s.record for s in self.sources],
            nodes=[n.record for n in self.nodes],
            relationships=[r.record for r in self.relationships],
        )


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders contribute their YAML files (recursively, sorted for stable output)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()))
        else:
            out.append(path)
    # A file named both directly and through its folder is read once, not reported as duplicating itself.
    unique: dict[Path, Path] = {}
    for path in out:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def read_curated(
    paths: Iterable[str | Path],
    known_ids: Mapping[str, str] | None = None,
    known_sources: Iterable[str] = (),
) -> CuratedBundle:
    """Parse and validate curated files; problems are collected, never raised.

    ``known_ids`` (id -> kind) and ``known_sources`` are records already in the store, so a file may refer to
    them without redefining them.
    """
    bundle = CuratedBundle()
    files = expand_paths(paths)
    if not files:
        bundle.problems.append(Problem("<arguments>", None, "no YAML files found", hint="pass .yaml files or a folder"))
    for path in files:
        _parse_file(path, bundle)
    _cross_check(bundle, dict(known_ids or {}), set(known_sources))
    return bundle


def load_curated(
    paths: Iterable[str | Path],
    known_ids: Mapping[str, str] | None = None,
    known_sources: Iterable[str] = (),
) -> RecordSet:
    """Validated records from curated files, or :class:`ValidationFailed` listing every problem."""
    bundle = read_curated(paths, known_ids, known_sources)
    if bundle.problems:
        raise ValidationFailed(bundle.problems)
    return bundle.record_set()


def load_files(graph, paths: Iterable[str | Path]):
    """Validate curated files against the graph (they may refer to records it already holds), then load them into
    it with :meth:`Graph.load`: all or nothing. Returns the load's :class:`WriteSummary`."""
    records = load_curated(paths, known_ids=graph.known_ids(), known_sources=graph.known_sources())
    return graph.load(records)


def _parse_file(path: Path, bundle: CuratedBundle) -> None:
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        bundle.problems.append(Problem(name, None, "file not found", hint="check the path"))
        return
    except OSError as exc:
        bundle.problems.append(Problem(name, None, f"cannot read file: {exc.strerror}"))
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bundle.problems.append(
            Problem(name, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                    hint="save the file as UTF-8")
        )
        return
    if not text.strip():
        bundle.problems.append(
            Problem(name, 1, "file is empty", hint="add 'sources:', 'nodes:' or 'relationships:' lists, or remove it")
        )
        return
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsTextConstructor
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "malformed YAML"
        bundle.problems.append(Problem(name, line, f"malformed YAML: {reason}",
                                       hint="check indentation, colons and quoting near this line"))
        return
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate keys) with their own text
        bundle.problems.append(Problem(name, None, f"malformed YAML: {exc}".splitlines()[0]))
        return
    if doc is None:
        bundle.problems.append(
            Problem(name, 1, "file has no records", hint="add 'sources:', 'nodes:' or 'relationships:' lists")
        )
        return
    if not isinstance(doc, CommentedMap):
        bundle.problems.append(
            Problem(name, 1, "top level must be a mapping with 'sources', 'nodes' and/or 'relationships' lists")
        )
        return
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            bundle.problems.append(
                Problem(name, doc.lc.key(key)[0] + 1, f"unknown top-level key {key!r}",
                        hint=_suggest(str(key), TOP_LEVEL_KEYS) or "use 'sources', 'nodes' or 'relationships'")
            )
    for section, builder, target in (
        ("sources", _build_source, bundle.sources),
        ("nodes", _build_node, bundle.nodes),
        ("relationships", _build_relationship, bundle.relationships),
    ):
        items = doc.get(section)
        if items is None:
            continue
        if not isinstance(items, CommentedSeq):
            bundle.problems.append(
                Problem(name, doc.lc.key(section)[0] + 1, f"'{section}' must be a list of records",
                        hint="start each record with '- '")
            )
            continue
        for index, item in enumerate(items):
            line = items.lc.item(index)[0] + 1
            if not isinstance(item, CommentedMap):
                bundle.problems.append(Problem(name, line, f"{section} entry #{index + 1} is not a mapping",
                                               hint="write 'key: value' pairs under '- '"))
                continue
            record = builder(item, name, line, bundle.problems)
            if record is not None:
                target.append(_Located(record, name, line))


def _plain(value: Any) -> Any:
    """ruamel's round-trip containers and scalars to plain Python, so pydantic sees ordinary values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _field_line(item: CommentedMap, loc: tuple, default: int) -> int:
    if loc and isinstance(loc[0], str) and loc[0] in item:
        try:
            return item.lc.key(loc[0])[0] + 1
        except (KeyError, TypeError):
            return default
    alias = {"from_id": "from", "to_id": "to"}.get(loc[0]) if loc else None
    if alias and alias in item:
        return item.lc.key(alias)[0] + 1
    return default


def _report(exc: ValidationError, item: CommentedMap, model_fields: Iterable[str], file: str, line: int,
            record_id: str | None, problems: list[Problem]) -> None:
    names = [f for f in model_fields]
    errors = exc.errors(include_url=False)
    # A misspelled required field shows up twice (unknown + missing); report it once, as the misspelling.
    misspelled_targets = {
        did_you_mean(e["loc"][0], names, cutoff=0.75)[0]
        for e in errors
        if e["type"] == "extra_forbidden" and e["loc"]
        and did_you_mean(e["loc"][0], names, cutoff=0.75)
    }
    for err in errors:
        loc = err["loc"]
        if err["type"] == "missing" and loc and str(loc[0]) in misspelled_targets:
            continue
        field_name = ".".join(str(p) for p in loc) if loc else "record"
        where = _field_line(item, loc, line)
        kind = err["type"]
        hint = None
        if kind == "extra_forbidden":
            message = f"unknown field {field_name!r}"
            hint = _suggest(str(loc[0]), names) or f"allowed fields: {', '.join(sorted(names))}"
        elif kind == "missing":
            message = f"missing required field {field_name!r}"
            hint = f"add '{field_name}:'"
        else:
            text = err["msg"].removeprefix("Value error, ")
            message = f"field {field_name!r}: {text}"
            if kind == "literal_error":
                hint = "use one of the listed values"
            elif kind in ("float_parsing", "int_parsing", "float_type", "int_type"):
                hint = "write a plain number without $ or commas"
            elif kind == "too_short" and loc and loc[0] == "sources":
                hint = "cite at least one source id defined under 'sources:'"
        problems.append(Problem(file, where, message, record_id=record_id, hint=hint))


def _record_id(item: CommentedMap) -> str | None:
    value = item.get("id")
    return str(value) if value is not None else None


def _build_source(item: CommentedMap, file: str, line: int, problems: list[Problem]) -> Source | None:
    try:
        source = Source.model_validate(_plain(item))
    except ValidationError as exc:
        _report(exc, item, Source.model_fields, file, line, _record_id(item), problems)
        return None
    if source.published is None:  # optional in the model for imported sources only: a curator always knows it
        problems.append(Problem(file, line, "source has no 'published' date", record_id=source.id,
                                column="published", hint="add published: YYYY-MM-DD (or YYYY-MM, YYYY)"))
        return None
    return source


def _build_node(item: CommentedMap, file: str, line: int, problems: list[Problem]) -> Node | None:
    data = _plain(item)
    record_id = _record_id(item)
    kind = data.get("kind")
    if kind is None and record_id:
        kind = kind_of_id(record_id)
        if kind:
            data["kind"] = kind
    cls = NODE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        where = item.lc.key("kind")[0] + 1 if "kind" in item else line
        hint = _suggest(str(kind), NODE_KINDS) if kind else None
        problems.append(Problem(file, where, f"unknown node kind {kind!r}" if kind else "missing field 'kind'",
                                record_id=record_id, hint=hint or f"use one of {', '.join(NODE_KINDS)}"))
        return None
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        _report(exc, item, cls.model_fields, file, line, record_id, problems)
        return None


def _build_relationship(item: CommentedMap, file: str, line: int, problems: list[Problem]) -> Relationship | None:
    data = _plain(item)
    record_id = _record_id(item) or (
        f"{data.get('from')} {data.get('type')} {data.get('to')}" if isinstance(data, dict) else None
    )
    try:
        rel = Relationship.model_validate(data)
    except ValidationError as exc:
        fields = [("from" if f == "from_id" else "to" if f == "to_id" else f) for f in Relationship.model_fields]
        _report(exc, item, fields, file, line, record_id, problems)
        return None
    misused = rel.type_specific_fields_misused()
    for name in misused:
        problems.append(Problem(file, _field_line(item, (name,), line),
                                f"field {name!r} does not apply to {rel.type} relationships", record_id=rel.key,
                                hint="remove it, or move the fact into 'notes'"))
    return None if misused else rel


def _cross_check(bundle: CuratedBundle, known_ids: dict[str, str], known_sources: set[str]) -> None:
    problems = bundle.problems
    seen: dict[str, _Located] = {}
    for located in [*bundle.sources, *bundle.nodes]:
        rid = located.record.id
        if rid in seen:
            first = seen[rid]
            problems.append(Problem(located.file, located.line, f"duplicate id {rid!r}", record_id=rid,
                                    hint=f"already defined at {first.file}:{first.line}; keep one and merge sources"))
        else:
            seen[rid] = located
    source_ids = {s.record.id for s in bundle.sources} | known_sources
    kinds = dict(known_ids)
    kinds.update({n.record.id: n.record.kind for n in bundle.nodes})

    def check_sources(located: _Located, rid: str) -> None:
        for sid in located.record.sources:
            if sid not in source_ids:
                problems.append(Problem(located.file, located.line, f"cites unknown source {sid!r}", record_id=rid,
                                        hint="define it under 'sources:' (url, title, publisher, published)"))

    for located in bundle.nodes:
        node = located.record
        check_sources(located, node.id)
        _check_display_characters(located, bundle.warnings)
        _check_aliases(located, problems)
        if node.start_date and node.end_date and node.end_date < node.start_date:
            problems.append(Problem(located.file, located.line, f"end_date {node.end_date} is before start_date "
                                    f"{node.start_date}", record_id=node.id, hint="swap or correct the dates"))
        _check_curation_dates(located, node.id, problems)

    rel_seen: dict[str, _Located] = {}
    for located in bundle.relationships:
        rel: Relationship = located.record
        key = rel.key
        if key in rel_seen:
            first = rel_seen[key]
            hint = (f"already defined at {first.file}:{first.line}; give each an explicit 'id: rel:...'"
                    if not rel.id else f"already used at {first.file}:{first.line}")
            problems.append(Problem(located.file, located.line, f"duplicate relationship id {key!r}",
                                    record_id=key, hint=hint))
        else:
            rel_seen[key] = located
        check_sources(located, key)
        ends_known = True
        for end, role in ((rel.from_id, "from"), (rel.to_id, "to")):
            if end not in kinds:
                ends_known = False
                kind = kind_of_id(end)
                article = "an" if kind and kind[0] in "AEIOU" else "a"
                hint = (f"define {article} {kind} node with id {end!r} under 'nodes:'" if kind
                        else "node ids look like 'agency:ice' or 'company:microsoft'")
                close = _suggest(end, kinds)
                problems.append(Problem(located.file, located.line, f"'{role}' node {end!r} is not defined",
                                        record_id=key, hint=close or hint))
        if ends_known and not is_allowed(kinds[rel.from_id], rel.type, kinds[rel.to_id]):
            from_kind, to_kind = kinds[rel.from_id], kinds[rel.to_id]
            targets = allowed_targets(from_kind, rel.type)
            if targets:
                hint = f"{from_kind} {rel.type} may point only to {' | '.join(targets)}"
            else:
                options = sorted({t for f, t, k in ALLOWED_TRIPLES if f == from_kind and k == to_kind})
                hint = (f"between {from_kind} and {to_kind} the model allows {', '.join(options)}" if options
                        else f"the model has no relationship from {from_kind} to {to_kind}")
            problems.append(Problem(located.file, located.line,
                                    f"{from_kind} -[{rel.type}]-> {to_kind} is not allowed by the model",
                                    record_id=key, hint=hint))
        if rel.start_date and rel.end_date and rel.end_date < rel.start_date:
            problems.append(Problem(located.file, located.line, f"end_date {rel.end_date} is before start_date "
                                    f"{rel.start_date}", record_id=key, hint="swap or correct the dates"))
        _check_curation_dates(located, key, problems)


def _check_aliases(located: _Located, problems: list[Problem]) -> None:
    """Aliases are match keys for imports: one that is only a legal form ("Inc.", split off "Babel Street, Inc." by a
    careless comma) or a generic word would pull unrelated imported records onto this node."""
    from statetech.loaders.resolve import generic_name

    node = located.record
    for alias in node.aliases:
        reason = generic_name(alias)
        if reason:
            problems.append(Problem(located.file, located.line, f"alias {alias!r} {reason}", record_id=node.id,
                                    hint="aliases are matched against imported names; give a distinctive name "
                                         "(e.g. the full legal name in one quoted string) or drop it"))


def _check_display_characters(located: _Located, warnings: list[Problem]) -> None:
    """A name with an escape code or a bidi override shows something other than what it holds: a warning, since a
    real name may carry a legitimate right-to-left mark, but one a curator should look at."""
    node = located.record
    for field_name, text in [("name", node.name), *(("aliases", a) for a in node.aliases)]:
        found = unsafe_characters(text)
        if found:
            warnings.append(Problem(located.file, located.line, f"{field_name} {text!r} holds characters that change how it "
                                    f"is displayed ({', '.join(found)})", record_id=node.id,
                                    hint="remove them unless the name really needs them"))


def _check_curation_dates(located: _Located, rid: str, problems: list[Problem]) -> None:
    """A record cannot change before it was added; a wrong ``updated`` would hide it from "new since" queries."""
    record = located.record
    if record.added and record.updated and record.updated < record.added:
        problems.append(Problem(located.file, located.line, f"updated {record.updated} is before added "
                                f"{record.added}", record_id=rid, hint="'updated' is the day of the last change"))


def _suggest(word: str, options: Iterable[str]) -> str | None:
    match = did_you_mean(word, options, cutoff=0.75)
    return f"did you mean {match[0]!r}?" if match else None
