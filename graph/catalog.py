"""The stored-query catalog: one Cypher file per query, a YAML header in ``//`` comments, typed parameters.

The body of each file runs unchanged in Neo4j Browser. A file ``NAME.grafeo.cypher`` beside ``NAME.cypher`` is the
embedded engine's form of the same query, used only where Grafeo's dialect needs it; the parity tests prove that
both forms give the same rows.

Loading is strict because a catalog mistake otherwise surfaces as a confusing store error in front of an analyst:
every header key, parameter option and ``$param`` is checked, both ways, and each problem names ``file:line``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from statetech.graph.cypher import PACKED_COLUMN, PackedQuery, blank_non_code, packed_query
from statetech.graph.dates import check_partial_date
from statetech.graph.errors import Problem, QueryError, UnknownEntity, ValidationFailed, did_you_mean
from statetech.graph.vocabulary import NODE_KIND_NAMES as NODE_KINDS, kind_of_id

PARAM_TYPES = ("string", "int", "float", "date", "bool", "list", "entity")
LIST_ITEM_TYPES = ("string", "int", "float", "date", "bool")
HEADER_KEYS = ("name", "title", "description", "params", "returns", "writes", "derived_fields")
PARAM_KEYS = ("type", "required", "default", "choices", "help", "kind", "items")
# Engine names a variant file may carry, mapped to the store backend that runs it.
VARIANT_ENGINES = {"grafeo": "embedded"}

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Param:
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    choices: list[Any] | None = None
    help: str = ""
    # entity parameters: the node kinds a name may resolve to (empty = any kind)
    kinds: tuple[str, ...] = ()
    # list parameters: the type of each item
    items: str = "string"

    def coerce(self, raw: Any) -> Any:
        """Turn a command-line string (or a Python value) into the declared type, or say what was expected."""
        if raw is None:
            return None
        try:
            if self.type == "list":
                value = [_coerce(self.items, item) for item in _as_items(raw)]
            else:
                value = _coerce(self.type, raw)
        except (TypeError, ValueError):
            raise QueryError(f"parameter '{self.name}' expects {self.describe()}, got {raw!r}") from None
        if self.choices is not None:
            bad = [v for v in (value if self.type == "list" else [value]) if v not in self.choices]
            if bad:
                raise QueryError(f"parameter '{self.name}' must be one of {', '.join(map(str, self.choices))}; "
                                 f"got {bad[0]!r}")
        return value

    def describe(self) -> str:
        """The expected type in words, as error messages and ``query show`` print it."""
        if self.type == "list":
            return f"a comma-separated list of {_describe(self.items, plural=True)}"
        if self.type == "entity" and self.kinds:
            return f"the id or name of {' or '.join(_article(k) for k in self.kinds)}"
        return _describe(self.type)


def _as_items(raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return [raw]


def _coerce(kind: str, raw: Any) -> Any:
    if kind in ("string", "entity"):
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise TypeError
        return str(raw)
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, float):
            if not raw.is_integer():
                raise ValueError
            return int(raw)
        if isinstance(raw, int):
            return raw
        return int(str(raw).strip())
    if kind == "float":
        if isinstance(raw, bool):
            raise TypeError
        value = float(str(raw).strip())
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError
        return value
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
        raise ValueError
    if kind == "date":
        # Stored dates are ISO strings of the precision the source gave, so a parameter stays a string that sorts
        # and compares with them (a datetime.date would not compare with '2024-03').
        if isinstance(raw, _dt.date):
            return raw.isoformat()[:10]
        return check_partial_date(str(raw).strip())
    raise ValueError(kind)


def _describe(kind: str, plural: bool = False) -> str:
    words = {
        "string": ("a string", "strings"), "entity": ("an entity id or name", "entity ids or names"),
        "int": ("a whole number", "whole numbers"), "float": ("a number", "numbers"),
        "bool": ("true or false", "true/false values"),
        "date": ("a date YYYY-MM-DD (or YYYY-MM, YYYY)", "dates YYYY-MM-DD (or YYYY-MM, YYYY)"),
        "list": ("a comma-separated list", "lists"),
    }[kind]
    return words[1] if plural else words[0]


def _article(kind: str) -> str:
    return ("an " if kind[0] in "AEIOU" else "a ") + kind


@dataclass
class StoredQuery:
    name: str
    title: str
    description: str
    params: dict[str, Param]
    returns: list[str]
    body: str
    path: Path
    body_line: int
    writes: bool = False
    # reads fields statetech derives at write time (the provenance fields, vendor agency counts): refused on a store
    # without them (statetech.graph.provenance.check), which would answer wrongly
    derived_fields: bool = False
    variants: dict[str, str] = field(default_factory=dict)
    variant_paths: dict[str, Path] = field(default_factory=dict)
    # the canonical body with its rows collected into one record (statetech.graph.cypher.packed_query), which the
    # Neo4j store runs instead: None for a write or for a shape the rewrite leaves alone
    packed: PackedQuery | None = None

    def text_for(self, backend: str) -> str:
        """The text shown for (and, unpacked, run on) ``backend``: its variant file, else the canonical body."""
        return self.variants.get(backend, self.body)

    def bind(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Coerce given values, apply defaults, and insist on required parameters; unknown keys are errors."""
        unknown = sorted(set(raw) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise QueryError(f"query '{self.name}' has no parameter {', '.join(map(repr, unknown))}; "
                             f"its parameters: {known}")
        bound: dict[str, Any] = {}
        for name, param in self.params.items():
            if name in raw and raw[name] is not None:
                bound[name] = param.coerce(raw[name])
            elif param.required:
                raise QueryError(f"query '{self.name}' needs --param {name}=... ({param.describe()})")
            else:
                bound[name] = param.coerce(param.default) if param.default is not None else None
        return bound


def parse_query_file(path: Path, namespace_root: Path) -> StoredQuery:
    """Parse one stored query; problems raise :class:`ValidationFailed` naming ``path:line``."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    where = str(path)
    header: list[str] = []
    for line in lines:
        if line.startswith("//"):
            header.append(line[2:].removeprefix(" "))
        else:
            break
    body_start = len(header)
    body = "\n".join(lines[body_start:]).strip() + "\n"
    expected_name = path.relative_to(namespace_root).with_suffix("").as_posix()
    try:
        meta = YAML(typ="safe").load("\n".join(header)) if header else None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValidationFailed([Problem(where, line, f"query header is not valid YAML: {problem}",
                                        hint="write '// key: value' lines; quote values that contain ':' or '#'")],
                               "bad stored query") from None
    if not isinstance(meta, dict):
        raise ValidationFailed([Problem(where, 1, "a stored query starts with a header of '// key: value' lines",
                                        hint="give at least '// title:', '// description:' and '// returns:'")],
                               "bad stored query")
    problems: list[Problem] = []
    for key in meta:
        if key not in HEADER_KEYS:
            close = did_you_mean(key, HEADER_KEYS)
            problems.append(Problem(where, _header_line(lines, key), f"unknown header key {key!r}",
                                    hint=f"did you mean '{close[0]}'?" if close else f"use {', '.join(HEADER_KEYS)}"))
    for key in ("title", "description"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            problems.append(Problem(where, _header_line(lines, key), f"header lacks '{key}'",
                                    hint=f"add a '// {key}: ...' line"))
    name = meta.get("name", expected_name)
    if name != expected_name:
        problems.append(Problem(where, _header_line(lines, "name"), f"name {name!r} does not match the file",
                                hint=f"a query's name is its path under queries/: use {expected_name!r}"))
    returns = meta.get("returns")
    if not isinstance(returns, list) or not returns or not all(isinstance(c, str) for c in returns):
        problems.append(Problem(where, _header_line(lines, "returns"), "header lacks 'returns'",
                                hint="list the returned columns, e.g. '// returns: [id, name]'"))
        returns = []
    writes = meta.get("writes", False)
    if not isinstance(writes, bool):
        problems.append(Problem(where, _header_line(lines, "writes"), "'writes' must be true or false"))
    derived = meta.get("derived_fields", False)
    if not isinstance(derived, bool):
        problems.append(Problem(where, _header_line(lines, "derived_fields"), "'derived_fields' must be true or false"))
    if not body.strip():
        problems.append(Problem(where, body_start + 1, "no Cypher below the header",
                                hint="write the query after the '//' header lines"))
    params = _parse_params(meta.get("params"), lines, where, problems)
    used = _used_params(body)
    for pname in sorted(used - set(params)):
        problems.append(Problem(where, _param_use_line(lines, pname, body_start), f"${pname} is used but not declared",
                                hint="declare it under '// params:'"))
    for pname in sorted(set(params) - used):
        problems.append(Problem(where, _param_decl_line(lines, pname), f"parameter '{pname}' is declared but never used",
                                hint=f"use ${pname} in the query or remove it from the header"))
    query = StoredQuery(
        name=expected_name, title=str(meta.get("title") or ""), description=str(meta.get("description") or ""),
        params=params, returns=list(returns), body=body, path=path, body_line=body_start + 1,
        writes=writes is True, derived_fields=derived is True,
    )
    if not query.writes:
        query.packed = packed_query(body)
    for variant in sorted(path.parent.glob(path.stem + ".*.cypher")):
        engine = variant.name[len(path.stem) + 1: -len(".cypher")]
        if engine not in VARIANT_ENGINES:
            problems.append(Problem(str(variant), 1, f"unknown engine {engine!r} in a variant file name",
                                    hint=f"name variants NAME.<engine>.cypher with engine one of "
                                         f"{', '.join(VARIANT_ENGINES)}"))
            continue
        vlines = variant.read_text(encoding="utf-8").splitlines()
        vstart = next((i for i, line in enumerate(vlines) if not line.startswith("//")), len(vlines))
        vtext = "\n".join(vlines[vstart:]).strip() + "\n"
        vused = _used_params(vtext)
        for pname in sorted(vused - used):
            problems.append(Problem(str(variant), _param_use_line(vlines, pname, vstart),
                                    f"${pname} is used here but not in {path.name}",
                                    hint="a variant takes exactly the canonical query's parameters"))
        for pname in sorted(used - vused):
            problems.append(Problem(str(variant), vstart + 1, f"${pname} of {path.name} is never used here",
                                    hint="a variant takes exactly the canonical query's parameters"))
        query.variants[VARIANT_ENGINES[engine]] = vtext
        query.variant_paths[VARIANT_ENGINES[engine]] = variant
    if problems:
        raise ValidationFailed(problems, "bad stored query")
    return query


def _parse_params(spec_map: Any, lines: list[str], where: str, problems: list[Problem]) -> dict[str, Param]:
    params: dict[str, Param] = {}
    if spec_map is None:
        return params
    if not isinstance(spec_map, dict):
        problems.append(Problem(where, _header_line(lines, "params"), "'params' must map names to specs",
                                hint="e.g. '//   agency: {type: entity, kind: Agency, required: true}'"))
        return params
    for name, spec in spec_map.items():
        line = _param_decl_line(lines, name)
        start = len(problems)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            problems.append(Problem(where, line, f"parameter name {name!r} is not a Cypher name",
                                    hint="use letters, digits and '_'"))
            continue
        spec = spec if spec is not None else {}
        if not isinstance(spec, dict):
            problems.append(Problem(where, line, f"parameter '{name}' needs a spec like {{type: string}}"))
            continue
        for key in spec:
            if key not in PARAM_KEYS:
                close = did_you_mean(key, PARAM_KEYS)
                problems.append(Problem(where, line, f"parameter '{name}' has unknown option {key!r}",
                                        hint=f"did you mean '{close[0]}'?" if close else
                                        f"use {', '.join(PARAM_KEYS)}"))
        kind = spec.get("type", "string")
        if kind not in PARAM_TYPES:
            problems.append(Problem(where, line, f"parameter '{name}' has unknown type {kind!r}",
                                    hint=f"use one of {', '.join(PARAM_TYPES)}"))
            continue
        items = spec.get("items", "string")
        if "items" in spec and kind != "list":
            problems.append(Problem(where, line, f"parameter '{name}': 'items' applies only to list parameters"))
        elif items not in LIST_ITEM_TYPES:
            problems.append(Problem(where, line, f"parameter '{name}' has unknown item type {items!r}",
                                    hint=f"use one of {', '.join(LIST_ITEM_TYPES)}"))
        kinds_raw = spec.get("kind", [])
        kinds = tuple([kinds_raw] if isinstance(kinds_raw, str) else kinds_raw or [])
        if "kind" in spec and kind != "entity":
            problems.append(Problem(where, line, f"parameter '{name}': 'kind' applies only to entity parameters"))
        for k in kinds:
            if k not in NODE_KINDS:
                problems.append(Problem(where, line, f"parameter '{name}' names unknown node kind {k!r}",
                                        hint=f"use {', '.join(NODE_KINDS)}"))
        choices = spec.get("choices")
        if choices is not None and (not isinstance(choices, list) or not choices):
            problems.append(Problem(where, line, f"parameter '{name}': 'choices' must be a non-empty list"))
            choices = None
        required = spec.get("required", False)
        if not isinstance(required, bool):
            problems.append(Problem(where, line, f"parameter '{name}': 'required' must be true or false"))
        if required is True and spec.get("default") is not None:
            problems.append(Problem(where, line, f"parameter '{name}' is required and has a default",
                                    hint="drop one: a default makes the parameter optional"))
        if len(problems) > start:
            continue
        param = Param(name, kind, required is True, None, None, str(spec.get("help") or ""), kinds, items)
        if choices is not None:
            try:
                param.choices = [_coerce(items if kind == "list" else kind, c) for c in choices]
            except (TypeError, ValueError):
                problems.append(Problem(where, line, f"parameter '{name}': choices must be "
                                        f"{_describe(items) if kind == 'list' else param.describe()}"))
                continue
        if spec.get("default") is not None:
            try:
                param.default = param.coerce(spec["default"])
            except QueryError as exc:
                problems.append(Problem(where, line, f"default does not fit: {exc}"))
                continue
        params[name] = param
    return params


def _used_params(body: str) -> set[str]:
    # string literals, backtick-quoted names and comments cannot hold a parameter
    return set(_PARAM_RE.findall(blank_non_code(body)))


def _header_line(lines: list[str], key: Any) -> int:
    pattern = re.compile(rf"^//\s?{re.escape(str(key))}\s*:")
    for number, line in enumerate(lines, start=1):
        if not line.startswith("//"):
            break
        if pattern.match(line):
            return number
    return 1


def _param_decl_line(lines: list[str], name: Any) -> int:
    """The header line declaring parameter ``name`` (indented under 'params:')."""
    pattern = re.compile(rf"^//\s+{re.escape(str(name))}\s*:")
    in_params = False
    for number, line in enumerate(lines, start=1):
        if not line.startswith("//"):
            break
        if re.match(r"^//\s?params\s*:", line):
            in_params = True
            continue
        if in_params and pattern.match(line):
            return number
    return _header_line(lines, "params")


def _param_use_line(lines: list[str], name: str, start: int) -> int:
    pattern = re.compile(rf"\${re.escape(name)}(?![A-Za-z0-9_])")
    blanked = blank_non_code("\n".join(lines[start:])).split("\n")
    for number, line in enumerate(blanked, start=start + 1):
        if pattern.search(line):
            return number
    return start + 1


class Catalog:
    """All stored queries under a folder (default: the shipped ``queries/``)."""

    def __init__(self, queries: dict[str, StoredQuery]) -> None:
        self.queries = queries

    @classmethod
    def load(cls, root: str | Path | None = None) -> Catalog:
        base = Path(root) if root else Path(str(files("statetech.queries")))
        if not base.is_dir():
            raise QueryError(f"{base} is not a folder of stored queries")
        queries: dict[str, StoredQuery] = {}
        problems: list[Problem] = []
        canonical = {p for p in base.rglob("*.cypher") if p.name.count(".") == 1}
        for path in sorted(base.rglob("*.cypher")):
            if path.name.count(".") > 1:
                # NAME.engine.cypher variants are read with their canonical file; an orphan is a mistake
                stem = path.name.split(".", 1)[0]
                if path.parent / f"{stem}.cypher" not in canonical:
                    problems.append(Problem(str(path), 1, "variant without a canonical query",
                                            hint=f"add {stem}.cypher beside it, or rename it"))
                continue
            try:
                query = parse_query_file(path, base)
            except ValidationFailed as exc:
                problems.extend(exc.problems)
                continue
            queries[query.name] = query
        if problems:
            raise ValidationFailed(problems, "the query catalog has errors")
        return cls(queries)

    def __iter__(self) -> Iterator[StoredQuery]:
        return iter(sorted(self.queries.values(), key=lambda q: q.name))

    def __len__(self) -> int:
        return len(self.queries)

    def get(self, name: str) -> StoredQuery:
        try:
            return self.queries[name]
        except KeyError:
            close = did_you_mean(name, self.queries, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; 'statetech query list' shows them all"
            raise QueryError(f"no stored query named {name!r}{hint}") from None

    def bind(self, graph, name: str, params: dict[str, Any] | None = None) -> tuple[StoredQuery, dict[str, Any]]:
        """Coerce the parameters and resolve entity parameters to ids on ``graph``."""
        query = self.get(name)
        bound = query.bind(params or {})
        for pname, param in query.params.items():
            if param.type == "entity" and bound.get(pname) is not None:
                bound[pname] = resolve_entity(graph, param, bound[pname])
        return query, bound

    def run(self, graph, name: str, params: dict[str, Any] | None = None):
        """Bind, resolve entity parameters, and run in a read transaction unless the query declares ``writes``."""
        query, bound = self.bind(graph, name, params)
        if query.derived_fields:
            from statetech.graph.provenance import check

            check(graph.store)
        backend = graph.store.backend
        if backend == "neo4j" and query.packed is not None:
            return unpack(graph.query(query.packed.text, bound), query.packed.columns)
        return graph.query(query.text_for(backend), bound, write=query.writes)


def unpack(result, columns: tuple[str, ...]):
    """The rows of a packed query's one record, as the unpacked query would have returned them."""
    from statetech.graph.store import QueryResult

    packed = result.rows[0][PACKED_COLUMN] if result.rows else []
    names = list(columns)
    return QueryResult(names, [dict(zip(names, row)) for row in packed])


def resolve_entity(graph, param: Param, ref: str) -> str:
    """An id for an entity parameter: an id, or a name unambiguous among the parameter's kinds."""
    try:
        entity_id = graph.resolve(ref, kinds=param.kinds or None)
    except UnknownEntity as exc:
        raise UnknownEntity(f"parameter '{param.name}': {exc}") from None
    kind = kind_of_id(entity_id)
    if param.kinds and kind not in param.kinds:
        raise UnknownEntity(f"parameter '{param.name}' expects {' or '.join(_article(k) for k in param.kinds)}; "
                            f"{entity_id!r} is {_article(kind or 'unknown kind')}")
    return entity_id
