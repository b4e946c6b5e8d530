"""An in-process search index for the explorer on the embedded store, giving exactly the answers of
:data:`statetech.graph.cypher.EXPLORE_SEARCH`.

Why: the embedded engine has no substring index (its text index is BM25 over whole words), so every keystroke of the
typeahead scanned a million strings (159 ms at 1M entities, over a second at concurrency 8). The explorer opens the
embedded store read-only, so the entities cannot change under it, and one read of (id, kind, name, aliases) at start
is enough to answer every search from memory.

Exactly the same answers, by the same rule: an entity matches when its id, its lower-cased name or one of its
lower-cased aliases contains the (lower-cased) text; rank 0 for an exact id, name or alias, 1 for a name or alias that
starts with the text, 2 for the rest; then lower-cased name, then id; at most ``limit`` rows. Names and aliases
that are not plain ASCII are lower-cased by the engine's own ``toLower`` while the index is built, so the two cannot
fold a character differently; the stored ``search_text`` that narrows the Cypher query's candidates is honoured too
(see ``_checked``).

How: per kind, rows sorted by (lower-cased name, id), so within a rank the answer order is the row order. Exact and
prefix matches come from binary search over the sorted names, aliases and ids; "contains" is ``str.find`` over one
newline-joined string of every row's id, name and aliases in row order, stopping as soon as enough rows are found,
and reading only the blocks of rows whose bitmap of three-character pieces allows the text (a rare text would
otherwise read the whole string). A search the index cannot answer exactly (a text holding a newline; a store with
an entity whose kind is not in the model, or whose name is missing) returns ``None`` and the caller runs the query.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from statetech.graph import cypher
from statetech.graph.vocabulary import NODE_KIND_NAMES
from statetech.graph.vocabulary import search_text as stored_search_text

log = logging.getLogger(__name__)

# Joins the fields and rows of the "contains" string; a search text holding it is answered by the Cypher query, so a
# match can never straddle two fields.
_SEPARATOR = "\n"
# Names and aliases sent to the engine's toLower per query.
_FOLD_BATCH = 10_000
# Rows per block of the "contains" filter, and bits in each block's bitmap of three-character pieces.
_BLOCK_ROWS = 2048
_GRAM_BITS = 1 << 16


class _KindRows:
    """The entities of one kind, sorted by (lower-cased name, id), with the sorted keys that find them."""

    def __init__(self, kind: str, rows: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]) -> None:
        # rows: (lower-cased name, id, name, aliases, lower-cased aliases)
        rows.sort(key=lambda row: (row[0], row[1]))
        self.kind = kind
        self.lnames = [row[0] for row in rows]
        self.ids = [row[1] for row in rows]
        self.names = [row[2] for row in rows]
        self.aliases = [row[3] for row in rows]
        self.laliases = [row[4] for row in rows]
        by_id = sorted(range(len(rows)), key=self.ids.__getitem__)
        self.id_keys = [self.ids[i] for i in by_id]
        self.id_rows = array("q", by_id)
        alias_pairs = sorted((alias, i) for i, aliases in enumerate(self.laliases) for alias in aliases)
        self.alias_keys = [alias for alias, _ in alias_pairs]
        self.alias_rows = array("q", [i for _, i in alias_pairs])
        # one string of every row (id, name, aliases) in row order, and where each row starts in it
        parts: list[str] = []
        starts = array("q")
        offset = 0
        for row in rows:
            starts.append(offset)
            segment = _SEPARATOR.join((row[1], row[0], *row[4])) + _SEPARATOR
            parts.append(segment)
            offset += len(segment)
        starts.append(offset)
        self.text = "".join(parts)
        self.starts = starts
        self._build_gram_filter()
        # Rows whose stored search_text (lower-cased by Python when written) is not what the index searches (an id
        # that is not lower-case, a name the engine folds differently): the Cypher query requires both to match, so
        # these rows are checked against their search_text too.
        self.odd: dict[int, str] = {}
        for i, row in enumerate(rows):
            python_folded = stored_search_text(row[1], row[2], row[3])
            if python_folded != _SEPARATOR.join((row[1], row[0], *row[4])):
                self.odd[i] = python_folded

    def __len__(self) -> int:
        return len(self.ids)

    def rank(self, i: int, text: str) -> int:
        """0, 1 or 2 as EXPLORE_SEARCH ranks row ``i`` (which matches ``text``)."""
        lname = self.lnames[i]
        laliases = self.laliases[i]
        if self.ids[i] == text or lname == text or text in laliases:
            return 0
        if lname.startswith(text) or any(alias.startswith(text) for alias in laliases):
            return 1
        return 2

    def _checked(self, i: int, text: str) -> bool:
        odd = self.odd.get(i)
        return odd is None or text in odd

    def ranked(self, text: str, limit: int) -> _Candidates:
        """The rows of rank 0 and 1: all of them, or at least the first ``limit`` (then ``complete`` is False)."""
        n = len(text)
        prefix_key = lambda value: value[:n]  # noqa: E731 - sorted strings stay sorted cut to their first n chars
        found: dict[int, int] = {}
        complete = True

        def add(i: int) -> None:
            if i not in found and self._checked(i, text):
                found[i] = self.rank(i, text)

        # exact id
        at = bisect_left(self.id_keys, text)
        if at < len(self.id_keys) and self.id_keys[at] == text:
            add(self.id_rows[at])
        # names equal to the text, then names starting with it: both are runs of rows, already in answer order
        name_lo = bisect_left(self.lnames, text)
        name_eq = bisect_right(self.lnames, text, lo=name_lo)
        name_hi = bisect_right(self.lnames, text, lo=name_eq, key=prefix_key)
        for lo, hi in ((name_lo, name_eq), (name_eq, name_hi)):
            taken = 0
            for i in range(lo, hi):
                if taken == limit:
                    complete = False
                    break
                if self._checked(i, text):
                    add(i)
                    taken += 1
        # aliases equal to the text, then aliases starting with it: rows anywhere, so the smallest are picked
        alias_lo = bisect_left(self.alias_keys, text)
        alias_eq = bisect_right(self.alias_keys, text, lo=alias_lo)
        alias_hi = bisect_right(self.alias_keys, text, lo=alias_eq, key=prefix_key)
        for lo, hi in ((alias_lo, alias_eq), (alias_eq, alias_hi)):
            # one row may have several aliases in the run: count rows, not aliases
            rows = {i for i in self.alias_rows[lo:hi] if self._checked(i, text)} if self.odd \
                else set(self.alias_rows[lo:hi])
            if len(rows) > limit:
                complete = False
                rows = heapq.nsmallest(limit, rows)
            for i in rows:
                add(i)
        return _Candidates(self, found, complete, name_lo, name_hi)

    def _build_gram_filter(self) -> None:
        """A bitmap of the three-character pieces in each block of rows, so that a search for a rare text reads
        only the blocks that can hold it (str.find over every row of a million-entity kind costs tens of ms)."""
        text, starts = self.text, self.starts
        self.block_offsets = [starts[i] for i in range(0, len(self.ids), _BLOCK_ROWS)] + [len(text)]
        self.block_grams: list[bytearray] = []
        # every two-character piece of the rows (each is the start of a three-character one: rows end in a newline)
        self.pairs: set[tuple[str, str]] = set()
        for lo, hi in zip(self.block_offsets, self.block_offsets[1:]):
            block = text[lo:hi]
            grams = set(zip(block, block[1:], block[2:]))
            self.pairs.update(gram[:2] for gram in grams)
            bitmap = bytearray(_GRAM_BITS // 8)
            for value in map(hash, grams):
                value &= _GRAM_BITS - 1
                bitmap[value >> 3] |= 1 << (value & 7)
            self.block_grams.append(bitmap)

    def _regions(self, text: str) -> list[tuple[int, int]]:
        """Spans of the joined rows that may hold ``text``: the blocks whose bitmap has every three-character piece
        of it (a block without one cannot hold it), or everything for a shorter text."""
        if len(text) == 2 and (text[0], text[1]) not in self.pairs:
            return []
        if len(text) < 3:
            return [(0, len(self.text))]
        probes = set()
        for value in map(hash, set(zip(text, text[1:], text[2:]))):
            value &= _GRAM_BITS - 1
            probes.add((value >> 3, 1 << (value & 7)))
        offsets = self.block_offsets
        regions: list[tuple[int, int]] = []
        for b, bitmap in enumerate(self.block_grams):
            if all(bitmap[byte] & bit for byte, bit in probes):
                if regions and regions[-1][1] == offsets[b]:
                    regions[-1] = (regions[-1][0], offsets[b + 1])
                else:
                    regions.append((offsets[b], offsets[b + 1]))
        return regions

    def _contains(self, text: str, wanted: int, found: dict[int, int], name_lo: int, name_hi: int) -> None:
        """Add the first ``wanted`` rows of rank 2 (in row order) to ``found``."""
        haystack, starts = self.text, self.starts
        # rows whose name starts with the text are all of rank 0 or 1 and were looked at already: skip them whole
        skip_from, skip_to = starts[name_lo], starts[name_hi]
        for lo, hi in self._regions(text):
            position = lo
            while True:
                position = haystack.find(text, position, hi)
                if position < 0:
                    break
                if skip_from <= position < skip_to:
                    position = skip_to
                    continue
                i = bisect_right(starts, position) - 1
                position = starts[i + 1]
                if i in found or not self._checked(i, text):
                    continue
                rank = self.rank(i, text)
                found[i] = rank
                if rank == 2:
                    wanted -= 1
                    if wanted == 0:
                        return

    def row(self, i: int, rank: int) -> dict[str, Any]:
        return {"id": self.ids[i], "kind": self.kind, "name": self.names[i], "aliases": list(self.aliases[i]),
                "rank": rank}


@dataclass
class _Candidates:
    rows: _KindRows
    found: dict[int, int]  # row -> rank
    complete: bool
    name_lo: int
    name_hi: int


class SearchIndex:
    """Every entity of a store that does not change, searchable as :data:`cypher.EXPLORE_SEARCH` searches it."""

    def __init__(self, entities: Iterable[dict[str, Any]]) -> None:
        """``entities``: rows with id, kind, name, lname (the engine's toLower of the name), aliases and laliases
        (the engine's toLower of each alias), as :data:`cypher.SEARCH_INDEX_ENTITIES` returns them."""
        by_kind: dict[str, list] = {}
        self.usable = True
        count = 0
        for entity in entities:
            entity_id, kind, name, lname = entity["id"], entity["kind"], entity["name"], entity["lname"]
            aliases = tuple(entity["aliases"] or ())
            laliases = tuple(entity["laliases"] or ())
            if not all(isinstance(v, str) for v in (entity_id, kind, name, lname, *aliases, *laliases)) \
                    or len(aliases) != len(laliases):
                # Cypher orders and compares such values by rules the index does not copy: leave it to the query.
                self.usable = False
                by_kind = {}
                break
            by_kind.setdefault(kind, []).append((lname, entity_id, name, aliases, laliases))
            count += 1
        self.size = count if self.usable else 0
        self._kinds = {kind: _KindRows(kind, rows) for kind, rows in by_kind.items()}

    @classmethod
    def from_store(cls, store) -> SearchIndex:
        """Every entity, read kind by kind (the store must not change afterwards: the explorer's is read-only).

        Plain ASCII is lower-cased here (A-Z to a-z, as any toLower does); every other name and alias is folded by
        the engine's own toLower, so no character can fold differently from EXPLORE_SEARCH. An entity whose kind is
        not in the model would be missed, so then the index stays unused and the query answers.
        """
        rows: list[dict[str, Any]] = []
        for kind in NODE_KIND_NAMES:
            rows.extend(store.run_read(cypher.SEARCH_INDEX_ENTITIES, {"kind": kind}).rows)
        total = store.run_read(cypher.SEARCH_INDEX_COUNT).rows[0]["count"]
        unusual = {value for row in rows for value in (row["name"], *(row["aliases"] or ()))
                   if isinstance(value, str) and not value.isascii()}
        folded: dict[str, str] = {}
        values = sorted(unusual)
        for start in range(0, len(values), _FOLD_BATCH):
            folded.update((r["value"], r["folded"]) for r in store.run_read(
                cypher.FOLD_TEXT, {"values": values[start:start + _FOLD_BATCH]}).rows)

        def fold(value: Any) -> Any:
            if not isinstance(value, str):
                return None
            return value.lower() if value.isascii() else folded.get(value)

        for row in rows:
            row["lname"] = fold(row["name"])
            row["laliases"] = [fold(alias) for alias in row["aliases"] or ()]
        index = cls(rows)
        if index.usable and index.size != total:
            index.usable = False
            index._kinds = {}
        return index

    def search(self, text: str, *, limit: int, kinds: Collection[str] | None = None) -> list[dict[str, Any]] | None:
        """The rows EXPLORE_SEARCH returns for ``text`` (already lower-cased, as its $text), or None when the
        index cannot answer this one exactly (the caller then runs the query)."""
        if not self.usable or _SEPARATOR in text:
            return None
        if not text:
            return []
        wanted = self._kinds.values() if kinds is None else [self._kinds[k] for k in kinds if k in self._kinds]
        candidates = [rows.ranked(text, limit) for rows in wanted]
        # A source of rank 0 or 1 rows that stopped at `limit` means at least `limit` rows rank before any row that
        # merely contains the text; otherwise every row of rank 0 and 1 is known, and the rest of the answer is the
        # first rows of rank 2 (each kind scans for as many as could still fit, in its row order).
        ranked = sum(len(c.found) for c in candidates)
        if ranked < limit and all(c.complete for c in candidates):
            for c in candidates:
                c.rows._contains(text, limit - ranked, c.found, c.name_lo, c.name_hi)
        best = [(rank, c.rows.lnames[i], c.rows.ids[i], c.rows, i) for c in candidates for i, rank in c.found.items()]
        best.sort(key=lambda hit: hit[:3])
        return [rows.row(i, rank) for rank, _lname, _id, rows, i in best[:limit]]


class BackgroundSearchIndex:
    """A :class:`SearchIndex` built in a daemon thread; until it is ready (or if building failed) ``search`` returns
    None, so the caller's Cypher query answers and the answers never differ."""

    def __init__(self, store, on_ready: Callable[[BackgroundSearchIndex], None] | None = None) -> None:
        self._store = store
        self._on_ready = on_ready
        self._index: SearchIndex | None = None
        self.error: str | None = None
        self.build_seconds: float | None = None
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._build, name="statetech-search-index", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        started = time.perf_counter()
        try:
            index = SearchIndex.from_store(self._store)
        except Exception as exc:  # the explorer keeps searching with Cypher; the log says why
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("search index not built (%s); searches use the store's query", self.error)
        else:
            self.build_seconds = time.perf_counter() - started
            if index.usable:
                self._index = index
                log.info("search index of %d entities built in %.1f s", index.size, self.build_seconds)
            else:
                log.info("search index not used: an entity's id, name or aliases are not all text")
        finally:
            self.ready.set()
            if self._on_ready is not None:
                self._on_ready(self)

    @property
    def index(self) -> SearchIndex | None:
        return self._index

    def wait(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)

    def search(self, text: str, *, limit: int, kinds: Collection[str] | None = None) -> list[dict[str, Any]] | None:
        index = self._index
        return None if index is None else index.search(text, limit=limit, kinds=kinds)


def start_search_index(graph, on_ready: Callable[[BackgroundSearchIndex], None] | None = None) \
        -> BackgroundSearchIndex | None:
    """Give an embedded-store graph a search index built in the background (``graph.search_index``); ``on_ready``
    is called from the building thread when it is done (or failed).

    Only for a graph whose entities do not change while it is used (the explorer's read-only store). Neo4j answers
    the search from its own text index, so it gets none.
    """
    if graph.store.backend != "embedded":
        return None
    graph.search_index = BackgroundSearchIndex(graph.store, on_ready)
    return graph.search_index
