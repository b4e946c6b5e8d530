"""The stored-query catalog: one Cypher file per query, a YAML header in ``//`` comments, typed parameters.

The body of each file runs unchanged in Neo4j Browser. A file ``NAME.grafeo.cypher`` beside ``NAME.cypher`` is the
embedded engine's form of the same query, used only where Grafeo's dialect needs it.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from statetech.graph.errors import Problem, QueryError, ValidationFailed

PARAM_TYPES = ("string", "int", "float", "date", "bool", "list", "entity")
_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING_OR_COMMENT_RE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*")


@dataclass
class Param:
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    choices: list[Any] | None = None
    help: str = ""

    def coerce(self, raw: Any) -> Any:
        """Turn a command-line string (or a Python value) into the declared type, or say what was expected."""
        if raw is None:
            return None
        try:
            value = _coerce(self.type, raw)
        except (TypeError, ValueError):
            raise QueryError(f"parameter '{self.name}' expects {_describe(self.type)}, got {raw!r}") from None
        if self.choices is not None and value not in self.choices:
            raise QueryError(f"parameter '{self.name}' must be one of {', '.join(map(str, self.choices))}; "
                             f"got {raw!r}")
        return value


def _coerce(kind: str, raw: Any) -> Any:
    if kind in ("string", "entity"):
        if not isinstance(raw, (str, int, float)):
            raise TypeError
        return str(raw)
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return int(str(raw).strip())
    if kind == "float":
        if isinstance(raw, bool):
            raise TypeError
        return float(str(raw).strip())
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
        if isinstance(raw, _dt.date):
            return raw.isoformat()
        text = str(raw).strip()
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
            raise ValueError
        parts = [int(p) for p in text.split("-")]
        _dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        return text
    if kind == "list":
        if isinstance(raw, (list, tuple)):
            return [str(v) for v in raw]
        return [part.strip() for part in str(raw).split(",") if part.strip()]
    raise ValueError(kind)


def _describe(kind: str) -> str:
    return {
        "string": "a string", "entity": "an entity id or name", "int": "a whole number", "float": "a number",
        "bool": "true or false", "date": "a date YYYY-MM-DD (or YYYY-MM, YYYY)", "list": "a comma-separated list",
    }[kind]


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
    variants: dict[str, str] = field(default_factory=dict)

    def text_for(self, backend: str) -> str:
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
                raise QueryError(f"query '{self.name}' needs --param {name}=... ({_describe(param.type)})")
            else:
                bound[name] = param.coerce(param.default) if param.default is not None else None
        return bound


def parse_query_file(path: Path, namespace_root: Path) -> StoredQuery:
    """Parse one stored query; problems raise :class:`ValidationFailed` naming ``path:line``."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    header: list[str] = []
    for line in lines:
        if line.startswith("//"):
            header.append(line[2:].removeprefix(" "))
        else:
            break
    body_start = len(header)
    body = "\n".join(lines[body_start:]).strip() + "\n"
    default_name = path.relative_to(namespace_root).with_suffix("").as_posix()
    where = str(path)
    try:
        meta = YAML(typ="safe").load("\n".join(header)) or {}
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ValidationFailed([Problem(where, line, f"query header is not valid YAML: {exc}".splitlines()[0])],
                               "bad stored query") from None
    if not isinstance(meta, dict):
        raise ValidationFailed([Problem(where, 1, "query header must be '// key: value' lines")], "bad stored query")
    problems: list[Problem] = []
    for key in ("title", "description"):
        if not meta.get(key):
            problems.append(Problem(where, 1, f"header lacks '{key}'", hint=f"add a '// {key}: ...' line"))
    params: dict[str, Param] = {}
    for name, spec in (meta.get("params") or {}).items():
        spec = spec or {}
        kind = spec.get("type", "string")
        if kind not in PARAM_TYPES:
            problems.append(Problem(where, _line_of(lines, name), f"parameter '{name}' has unknown type {kind!r}",
                                    hint=f"use one of {', '.join(PARAM_TYPES)}"))
            continue
        params[name] = Param(name, kind, bool(spec.get("required", False)), spec.get("default"),
                             spec.get("choices"), spec.get("help", ""))
    used = _used_params(body)
    for name in sorted(used - set(params)):
        problems.append(Problem(where, _line_of(lines, "$" + name, start=body_start), f"${name} is used but not declared",
                                hint="declare it under '// params:'"))
    for name in sorted(set(params) - used):
        problems.append(Problem(where, _line_of(lines, name), f"parameter '{name}' is declared but never used",
                                hint=f"use ${name} in the query or remove it from the header"))
    if problems:
        raise ValidationFailed(problems, "bad stored query")
    query = StoredQuery(
        name=meta.get("name", default_name), title=meta["title"], description=meta["description"], params=params,
        returns=list(meta.get("returns") or []), body=body, path=path, body_line=body_start + 1,
        writes=bool(meta.get("writes", False)),
    )
    for variant in path.parent.glob(path.stem + ".*.cypher"):
        backend = variant.name[len(path.stem) + 1: -len(".cypher")]
        vtext = "\n".join(l for l in variant.read_text(encoding="utf-8").splitlines() if not l.startswith("//"))
        if _used_params(vtext) != used:
            raise ValidationFailed([Problem(str(variant), 1, "variant uses other parameters than the canonical query",
                                            hint=f"use exactly: {', '.join(sorted(used))}")], "bad stored query")
        query.variants[{"grafeo": "embedded"}.get(backend, backend)] = vtext.strip() + "\n"
    return query


def _used_params(body: str) -> set[str]:
    return set(_PARAM_RE.findall(_STRING_OR_COMMENT_RE.sub("", body)))


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    for number, line in enumerate(lines[start:], start=start + 1):
        if needle in line:
            return number
    return start + 1


class Catalog:
    """All stored queries under a folder (default: the shipped ``queries/``)."""

    def __init__(self, queries: dict[str, StoredQuery]) -> None:
        self.queries = queries

    @classmethod
    def load(cls, root: str | Path | None = None) -> Catalog:
        base = Path(root) if root else Path(str(files("statetech.queries")))
        queries: dict[str, StoredQuery] = {}
        problems: list[Problem] = []
        for path in sorted(base.rglob("*.cypher")):
            if path.name.count(".") > 1:  # NAME.engine.cypher variants are read with their canonical file
                continue
            try:
                query = parse_query_file(path, base)
            except ValidationFailed as exc:
                problems.extend(exc.problems)
                continue
            if query.name in queries:
                problems.append(Problem(str(path), 1, f"query name {query.name!r} is used twice",
                                        hint=f"also in {queries[query.name].path}"))
            queries[query.name] = query
        if problems:
            raise ValidationFailed(problems, "the query catalog has errors")
        return cls(queries)

    def __iter__(self):
        return iter(sorted(self.queries.values(), key=lambda q: q.name))

    def get(self, name: str) -> StoredQuery:
        try:
            return self.queries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self.queries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; 'statetech query list' shows them all"
            raise QueryError(f"no stored query named {name!r}{hint}") from None

    def run(self, graph, name: str, params: dict[str, Any] | None = None):
        """Bind, resolve entity parameters, and run in a read transaction unless the query declares ``writes``."""
        query = self.get(name)
        bound = query.bind(params or {})
        for pname, param in query.params.items():
            if param.type == "entity" and bound.get(pname) is not None:
                bound[pname] = graph.resolve(bound[pname])
        return graph.query(query.text_for(graph.store.backend), bound, write=query.writes)
