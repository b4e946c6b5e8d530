"""Ad-hoc Cypher on the embedded store: where its engine answers differently from Neo4j, fix it or say so.

Stored queries are written and tested on both stores (the parity tests), but ``statetech cypher`` runs whatever an
analyst types, and an investigator comparing a figure from the embedded store with one from Neo4j must not get two
answers without a word. Each difference found is reported upstream-ready in ``docs/grafeo-differences.md``:

* ``sum()`` over no rows (or only nulls) is null on the embedded engine and 0 on Neo4j: fixed here, by running
  ``coalesce(sum(...), 0)``, which is what Neo4j computes;
* ``toString()`` of a float writes ``1`` / ``100000000000000000000`` where Neo4j writes ``1.0`` / ``1.0E20``: the
  text cannot be repaired after the fact, so a warning says so when the answer holds such strings;
* constructs of Neo4j 5 the engine rejects (``COLLECT { }``, label expressions ``:A|B``, type predicates
  ``IS :: STRING``, quantified path patterns, ``round(x, precision)``, ``SHOW ...``): the error names the construct
  and the portable form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from statetech.graph.errors import QueryError
from statetech.graph.store import QueryResult


@dataclass
class AdhocResult(QueryResult):
    """A query result with the engine differences that may affect it."""

    warnings: list[str] = field(default_factory=list)


# (what the engine rejects, how to recognise it in the query, the portable form to suggest)
UNSUPPORTED: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("COLLECT { ... } subqueries", re.compile(r"\bCOLLECT\s*\{", re.I),
     "use a pattern comprehension, e.g. [(c)<-[:AWARDED_TO]-(k) | k.id], or OPTIONAL MATCH ... WITH collect(...)"),
    ("label expressions such as (n:Agency|Company)", re.compile(r"\(\s*\w*\s*:\s*\w+\s*[|&!]|:\s*!\w", re.I),
     "use MATCH (n) WHERE n:Agency OR n:Company"),
    ("type predicate expressions (x IS :: STRING)", re.compile(r"\bIS\s+(NOT\s+)?::|\bIS\s+(NOT\s+)?TYPED\b", re.I),
     "test the value instead, e.g. x IS NOT NULL AND toString(x) = x for a string"),
    ("quantified path patterns ((a)-[:R]->(b)){1,3}", re.compile(r"\)\s*\)\s*\{\s*\d*\s*,?\s*\d*\s*\}"),
     "use a variable-length relationship, e.g. (a)-[:R*1..3]->(b)"),
    ("round() with a precision argument", re.compile(r"\bround\s*\([^()]*(\([^()]*\)[^()]*)*,", re.I),
     "use round(x * 100) / 100.0 for two decimals"),
    ("SHOW commands (indexes, constraints, databases, ...)", re.compile(r"^\s*SHOW\b", re.I),
     "these describe a Neo4j server; run them on Neo4j (statetech --neo4j URI cypher ...)"),
)

_WORD_BEFORE = re.compile(r"[\w.$`]$")


def coalesce_sums(query: str) -> str:
    """Every ``sum(...)`` call (outside strings and comments) wrapped as ``coalesce(sum(...), 0)``."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "'\"`":  # a string literal or quoted name: copied as it is
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if query[j] == "\\" else 1
            out.append(query[i:j + 1])
            i = j + 1
            continue
        if query.startswith("//", i):
            j = query.find("\n", i)
            j = n if j < 0 else j
            out.append(query[i:j])
            i = j
            continue
        match = re.match(r"sum\s*\(", query[i:], re.I)
        if match and not _WORD_BEFORE.search("".join(out[-1:]) if out else ""):
            close = _closing_paren(query, i + match.end() - 1)
            if close is not None:
                inner = coalesce_sums(query[i + match.end():close])
                out.append(f"coalesce({query[i:i + match.end()]}{inner}), 0)")
                i = close + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _closing_paren(text: str, start: int) -> int | None:
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "'\"`":
            j = i + 1
            while j < len(text) and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


_FLOATISH = re.compile(r"^-?\d+(\.\d+)?$")


def _float_text_warning(query: str, result: QueryResult) -> str | None:
    if not re.search(r"\btoString\s*\(", query, re.I):
        return None
    for row in result.rows:
        for value in row.values():
            if isinstance(value, str) and _FLOATISH.match(value):
                return ("toString() of a float differs on the embedded store: it writes 1 and 100000000000000000000 "
                        "where Neo4j writes 1.0 and 1.0E20, so these strings may not match Neo4j's; return the "
                        "number itself and format it in your program")
    return None


def rejection_hint(query: str) -> str | None:
    """Which Neo4j 5 construct of ``query`` the embedded engine does not support, and the portable form."""
    for construct, pattern, portable in UNSUPPORTED:
        if pattern.search(query):
            return f"the embedded store does not support {construct}; {portable}"
    return None


def run_adhoc(graph, text: str, params: dict[str, Any] | None = None, *, write: bool = False) -> AdhocResult:
    """``graph.query`` for a query typed by a person: on the embedded store, with Neo4j's answer where the engine
    differs and a warning or a precise error where it cannot be made to agree."""
    if graph.store.backend != "embedded":
        result = graph.query(text, params, write=write)
        return AdhocResult(result.columns, result.rows)
    portable = coalesce_sums(text)
    try:
        result = graph.query(portable, params, write=write)
    except QueryError as exc:
        hint = rejection_hint(text)
        if hint and "rejected the query" in str(exc):
            raise QueryError(f"{exc}\n{hint}") from None
        raise
    warnings = [w for w in (_float_text_warning(text, result),) if w]
    return AdhocResult(result.columns, result.rows, warnings)
