"""Provenance fields kept at write time, so whole-graph provenance questions do not read every record's sources.

records/unsourced (which records cite sources that are not in the graph) and records/newest (records ordered by the
newest source they cite) used to look up every cited id of every entity and relationship at read time: 22 to 62
seconds at 1M nodes / 3M relationships. Instead every write stores, beside a record's ``sources``:

* ``missing_sources`` - the sorted cited ids with no Source node (``['(no source cited)']`` when it cites none);
  only on records that have some, so a complete graph pays nothing for it;
* ``newest_source`` - the newest ``published`` of its cited sources that are in the graph; :data:`UNDATED` when those
  have no date (the queries answer null for it, and sort it where a null sorts); absent when none is in the graph.

The embedded engine finds relationships cheaply only by expanding nodes, so every entity also summarises its outgoing
relationships: ``out_newest`` (the exact newest dated ``newest_source`` among them), ``out_undated`` and
``out_missing_sources`` (true when some have that). Why ``out_newest`` must be exact: records/newest takes the $limit
start nodes with the highest ``out_newest`` and calls the lowest of those F. Each of them has a relationship dated
exactly its ``out_newest`` >= F, so there are at least $limit relationships dated >= F, and the $limit-th newest
relationship T is dated >= F; any relationship dated >= T then has a start node whose ``out_newest`` >= T >= F. So the
relationships dated >= F of the start nodes with ``out_newest`` >= F hold the whole answer, ties included. (With
fewer than $limit such start nodes there is no such F: every dated relationship is a candidate.) An upper bound would
break the first step; that is why a relationship whose date may go down (replaced, or its source's date changed) makes
its start node's summary be recomputed from all its relationships, while new relationships only raise it.

Who keeps them: :class:`ProvenanceKeeper`, used by every statetech write (the batched writer, the one-transaction
curated load, the bulk-import files). A Source written with a new id completes the records flagged missing it (only
those: the ids flagged are remembered, so nothing is read when no record waits for the new source); a Source whose
``published`` changed updates the records citing it (a scan, but a rare one). Anything else that writes to the store
(a hand edit in Neo4j Browser) is seen after :func:`refresh`, which recomputes every field and also upgrades a store
written before these fields existed. Such a store lacks the format marker (a :data:`FORMAT_LABEL` node), and the
queries reading these fields refuse to run on it (:func:`check`) rather than answer wrongly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statetech.graph import cypher, vendors
from statetech.graph.errors import QueryError
from statetech.graph.vocabulary import (
    CITED,
    HAS_HISTORY,
    MISSING_SOURCES,
    NEWEST_SOURCE,
    OUT_CITED,
    OUT_HISTORY,
    OUT_MISSING_SOURCES,
    OUT_NEWEST,
    OUT_UNDATED,
    amount_key_values,
    citation_text,
    citation_tokens,
)

if TYPE_CHECKING:
    from statetech.graph.store import GraphStore

UNDATED = "undated"  # newest_source of a record whose cited sources in the graph carry no date
NO_SOURCE = "(no source cited)"
FORMAT_ID = "statetech:format"
# 2: every Company also stores its agency count (statetech.graph.vendors), kept by the same write paths and refresh
# 3: the embedded store indexes newest_source and out_newest (records/newest looks dates up in them), and every entity
#    stores its curation history flags (has_history, out_history: statetech.graph.vocabulary); a refresh adds both
# 4: every Contract with an obligated amount stores its amount keys (statetech.graph.vocabulary.AMOUNT_KEYS), which the
#    embedded store indexes (contracts/largest walks them); a refresh adds them
# 5: every entity stores the citation tokens of its own sources and of its outgoing relationships' (cited,
#    out_cited: statetech.graph.vocabulary), which the embedded store's full-text index holds (sources/supports
#    finds the records citing a source through them); a refresh adds them. Neo4j stores no out_cited (see
#    GraphStore.keeps_citation_words); a refresh there removes what an earlier statetech stored
FORMAT_VERSION = 5
REFRESH_COMMAND = "statetech db refresh"
LOOKUP_CHUNK = 10_000
_ABSENT = object()  # a cited id known to have no Source node


def derive(cited: Iterable[Any] | None, dates: Mapping[str, Any]) -> tuple[str | None, list[str] | None]:
    """(newest_source, missing_sources) of a record citing ``cited``; ``dates`` maps the id of every Source in the
    graph to its ``published`` (None when undated) and may map an absent id to ``_ABSENT``.

    The same answer records/unsourced and records/newest computed at read time before: a missing id cited twice is
    listed twice, and the newest date is the greatest ``published`` text of the cited sources that exist.
    """
    cited = list(cited or ())
    if not cited:
        return None, [NO_SOURCE]
    missing: list[str] = []
    newest = None
    found = False
    for sid in cited:
        date = dates.get(sid, _ABSENT) if isinstance(sid, str) else _ABSENT
        if date is _ABSENT:
            missing.append(sid if isinstance(sid, str) else str(sid))
            continue
        found = True
        if date is not None and (newest is None or date > newest):
            newest = date
    if not found:
        return None, sorted(missing)
    return (newest if newest is not None else UNDATED), (sorted(missing) or None)


@dataclass
class Markers:
    """The summary of one entity's outgoing relationships (the ``out_*`` fields); None means absent."""

    out_newest: str | None = None
    out_undated: bool | None = None
    out_missing_sources: bool | None = None
    out_history: bool | None = None
    cited: set[str] = field(default_factory=set)  # the citation tokens of out_cited (vocabulary.OUT_CITED)
    # False for a store that keeps no out_cited (GraphStore.keeps_citation_words): no tokens are gathered, and the
    # row's out_cited is None, which a refresh writes (removing what an older statetech stored there)
    citations: bool = True

    def add(self, newest: str | None, missing: list[str] | None, history: bool = False, sources: Any = ()) -> None:
        """Count one relationship: its provenance fields, whether it has an 'added' or 'updated' day, and the ids it
        cites."""
        if self.citations:
            self.cited |= citation_tokens(sources)
        if history:
            self.out_history = True
        if newest == UNDATED:
            self.out_undated = True
        elif newest is not None and (self.out_newest is None or newest > self.out_newest):
            self.out_newest = newest
        if missing:
            self.out_missing_sources = True

    def props(self) -> dict[str, Any]:
        """The fields that are set (for a record being created)."""
        return {k: v for k, v in self.row().items() if v is not None}

    def row(self) -> dict[str, Any]:
        return {OUT_NEWEST: self.out_newest, OUT_UNDATED: self.out_undated,
                OUT_MISSING_SOURCES: self.out_missing_sources, OUT_HISTORY: self.out_history,
                OUT_CITED: citation_text(self.cited)}

    def raise_row(self, node_id: str) -> dict[str, Any]:
        """A row of cypher.RAISE_MARKERS: the values to raise the stored summary with, and the tokens to add."""
        return {"id": node_id, **self.row(), "cited_tokens": sorted(self.cited)}


def start_node_summaries(relationships: Iterable[Any],
                         derived: Callable[[Any], tuple[str | None, list[str] | None]],
                         citations: bool) -> dict[str, dict[str, Any]]:
    """Each start node's ``out_*`` fields (only those set) over ``relationships``, given :func:`derive` for a list of
    cited ids: what a first load stores with its nodes, every relationship being new. ``citations``: whether the
    store keeps out_cited (GraphStore.keeps_citation_words)."""
    markers: dict[str, Markers] = {}
    for rel in relationships:
        markers.setdefault(rel.from_id, Markers(citations=citations)).add(*derived(rel.sources), has_history(rel),
                                                                          rel.sources)
    return {node_id: m.props() for node_id, m in markers.items()}


def has_history(rel: Any) -> bool:
    """Whether a relationship record has an 'added' or 'updated' day (its start node's out_history)."""
    return rel.added is not None or rel.updated is not None


def field_values(newest: str | None, missing: list[str] | None) -> dict[str, Any]:
    return {NEWEST_SOURCE: newest, MISSING_SOURCES: missing}


def add_fields(props: dict[str, Any], newest: str | None, missing: list[str] | None, merging: bool = False) -> bool:
    """Add a record's provenance fields to the ``props`` it is written with; returns False when the stored ones stay
    (see PreparedBatch.keep_stored in statetech.graph.writer).

    A merged row (an import over a stored record) carries them only with its own ``sources``, and then also as null,
    which removes a stored value; created and replaced rows carry only the values that are set.
    """
    if merging:
        if "sources" not in props:
            return False
        props[NEWEST_SOURCE] = newest
        props[MISSING_SOURCES] = missing
        return True
    if newest is not None:
        props[NEWEST_SOURCE] = newest
    if missing:
        props[MISSING_SOURCES] = missing
    return True


class SourceDates(dict):
    """Source id -> ``published`` (None when undated) or ``_ABSENT``, filled from the store on demand (without a
    store, e.g. for a new database's bulk-import files, the dates are all given up front).

    :meth:`derived` remembers its answer per list of cited ids: records share a few thousand lists, so a load of a
    million records derives each list once instead of once per record. Any change to the dates forgets them.
    """

    def __init__(self, store: GraphStore | None = None) -> None:
        super().__init__()
        self.store = store
        self._derived: dict[tuple[Any, ...], tuple[str | None, list[str] | None]] = {}

    def derived(self, cited: Iterable[Any] | None) -> tuple[str | None, list[str] | None]:
        """:func:`derive` of ``cited`` with these dates (the same answer, remembered)."""
        try:
            key = tuple(cited) if cited else ()
            answer = self._derived.get(key)
        except TypeError:  # an unhashable value in a hand-made list: nothing to remember it by
            return derive(cited, self)
        if answer is None:
            answer = self._derived[key] = derive(cited, self)
        return answer

    # every way the dates change forgets the remembered answers
    def __setitem__(self, key: str, value: Any) -> None:
        self._derived.clear()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._derived.clear()
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._derived.clear()
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._derived.clear()
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._derived.clear()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._derived.clear()
        super().clear()

    def popitem(self) -> tuple[str, Any]:
        self._derived.clear()
        return super().popitem()

    def bound(self, kept: int) -> None:
        """Forget every date once more than ``kept`` are held (only with a store, which :meth:`ensure` reads them
        back from when a later batch needs them): an import that writes a Source per row would otherwise keep a
        date for every row, the one part of a long import's memory that grew with the file."""
        if self.store is not None and len(self) > kept:
            self.clear()

    def ensure(self, ids: Iterable[str]) -> None:
        wanted = [i for i in {i for i in ids if isinstance(i, str)} if i not in self]
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start:start + LOOKUP_CHUNK]
            for row in self.store.lookup(cypher.SOURCE_DATES_BY_IDS, {"ids": chunk}):
                self[row["id"]] = row["published"]
            for sid in chunk:
                self.setdefault(sid, _ABSENT)

    def load_all(self) -> None:
        self.clear()
        for row in self.store.lookup(cypher.SOURCE_DATES, {}):
            if isinstance(row["id"], str):
                self[row["id"]] = row["published"]


class ProvenanceKeeper:
    """Keeps the provenance fields right through one write run (see the module docstring)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.dates = SourceDates(store)
        self._empty_at_start: bool | None = None
        self._stored_flagged: set[str] | None = None  # ids flagged missing in the store when the run began
        self._run_flagged: set[str] = set()  # ids this run flagged missing

    def start(self, *, write: bool = True) -> bool:
        """Before the run's first write: a store without entities gets the format marker (every field it will hold
        is kept by statetech). Returns whether it needs it; ``write=False`` leaves writing it to the caller (in the
        transaction of the records)."""
        if self._empty_at_start is None:
            self._empty_at_start = not self.store.has_entities()
            if self._empty_at_start:
                self._stored_flagged = set()
                if write:
                    write_format(self.store)
            return self._empty_at_start
        return False

    def sources_written(self, sources: Iterable[Any]) -> tuple[set[str], set[str]]:
        """Note the Sources about to be written; returns (ids new to the graph, ids whose date changes)."""
        sources = list(sources)
        self.dates.ensure(s.id for s in sources)
        new, changed = set(), set()
        for source in sources:
            published = source.published
            published = None if published is None else str(published)
            before = self.dates.get(source.id, _ABSENT)
            if before is _ABSENT:
                new.add(source.id)
            elif before != published:
                changed.add(source.id)
            self.dates[source.id] = published
        return new, changed

    def ensure_cited(self, records: Iterable[Any]) -> None:
        """Know the date (or absence) of every source ``records`` cite."""
        self.dates.ensure(sid for record in records for sid in record.sources or ())

    def values(self, cited: Iterable[Any] | None) -> tuple[str | None, list[str] | None]:
        newest, missing = self.dates.derived(cited)
        if missing:
            self._run_flagged.update(missing)
        return newest, missing

    def completes(self, new_ids: set[str]) -> set[str]:
        """Which of ``new_ids`` (Sources new to the graph) some stored record is flagged missing."""
        if not new_ids:
            return set()
        hit = new_ids & self._run_flagged
        if self._stored_flagged is None:
            self._stored_flagged = flagged_ids(self.store)
        return hit | (new_ids & self._stored_flagged)

    def after_write(self, new_ids: set[str], changed_ids: set[str]) -> None:
        """Bring records written before up to date with the Sources just written."""
        completed = self.completes(new_ids)
        if completed or changed_ids:
            fix_records(self.store, self.dates, completed, changed_ids)


def flagged_ids(store: GraphStore) -> set[str]:
    ids: set[str] = set()
    for query in (cypher.FLAGGED_ENTITY_MISSING, cypher.FLAGGED_RELATIONSHIP_MISSING):
        for row in store.lookup(query, {}):
            ids.update(m for m in row["missing"] or () if isinstance(m, str))
    return ids


def format_write() -> tuple[str, dict[str, Any]]:
    """(query, params) writing this statetech's format marker, alone or inside a caller's transaction."""
    return cypher.WRITE_STORE_FORMAT, {"id": FORMAT_ID, "version": FORMAT_VERSION}


def write_format(store: GraphStore) -> None:
    store.run_write(*format_write())


def has_format(store: GraphStore) -> bool:
    rows = store.lookup(cypher.STORE_FORMAT, {}).rows
    return bool(rows) and rows[0]["version"] == FORMAT_VERSION


def check(store: GraphStore) -> None:
    """Refuse (QueryError naming the fix) when the store holds records whose derived fields (the provenance fields,
    and the vendor agency counts of statetech.graph.vendors) statetech did not keep: it was written by a statetech
    older than the fields of :data:`FORMAT_VERSION`. Stored queries declaring ``derived_fields: true`` call this."""
    # Sources carry no derived fields: a store holding no entity has nothing to get wrong.
    if has_format(store) or not store.has_entities():
        return
    raise QueryError(f"{store.location} lacks the derived fields this query reads (provenance fields, vendor agency "
                     f"counts: it was written by an older statetech, or a load into it was cut off); run "
                     f"'{REFRESH_COMMAND}' once (with the same --db / --neo4j) to compute them")


# --- bringing stored records up to date ---------------------------------------------------------------------------


@dataclass
class RefreshSummary:
    """What :func:`refresh` changed."""

    entities: int = 0
    relationships: int = 0
    markers: int = 0
    entities_read: int = 0
    relationships_read: int = 0
    vendors: int = 0  # agency counts changed (statetech.graph.vendors)
    vendors_read: int = 0
    contracts: int = 0  # contracts whose amount keys changed (statetech.graph.vocabulary.AMOUNT_KEYS)
    contracts_read: int = 0


def _entity_change(row: dict[str, Any], dates: Mapping[str, Any]) -> dict[str, Any] | None:
    newest, missing = derive(row["sources"], dates)
    history = True if row["dated"] else None
    cited = citation_text(citation_tokens(row["sources"]))
    if (newest == row.get(NEWEST_SOURCE) and missing == row.get(MISSING_SOURCES) and history == row.get(HAS_HISTORY)
            and cited == row.get(CITED)):
        return None
    return {"id": row["id"], **field_values(newest, missing), HAS_HISTORY: history, CITED: cited}


def _set_in_chunks(store: GraphStore, query: str, key: str, items: list[Any], **params: Any) -> None:
    """Run ``query`` with ``items`` given as ``key``, :data:`LOOKUP_CHUNK` at a time."""
    for start in range(0, len(items), LOOKUP_CHUNK):
        store.set_properties(query, {key: items[start:start + LOOKUP_CHUNK], **params})


def _write_entity_fields(store: GraphStore, rows: list[dict[str, Any]]) -> None:
    _set_in_chunks(store, cypher.SET_ENTITY_PROVENANCE, "rows", rows)


def _write_relationship_fields(store: GraphStore, fixes: dict[str, dict[str, dict[str, Any]]]) -> None:
    groups = [{"start": start, "fixes": by_rid} for start, by_rid in fixes.items()]
    size = 0
    chunk: list[dict[str, Any]] = []
    for group in groups:
        chunk.append(group)
        size += len(group["fixes"])
        if size >= LOOKUP_CHUNK:
            store.set_properties(cypher.SET_RELATIONSHIP_PROVENANCE, {"groups": chunk})
            chunk, size = [], 0
    if chunk:
        store.set_properties(cypher.SET_RELATIONSHIP_PROVENANCE, {"groups": chunk})


def recompute_markers(store: GraphStore, ids: Iterable[str]) -> None:
    statement = cypher.recompute_markers_statement(store.keeps_citation_words)
    _set_in_chunks(store, statement, "ids", sorted(set(ids)), undated=UNDATED)


def fix_records(store: GraphStore, dates: SourceDates, completed: set[str], changed: set[str]) -> tuple[int, int]:
    """Recompute the fields of the records flagged missing one of ``completed`` or citing one of ``changed``."""
    entity_rows: dict[str, dict[str, Any]] = {}
    rel_rows: dict[tuple[str, Any], dict[str, Any]] = {}
    for ids, entities, relationships in ((completed, cypher.ENTITIES_MISSING_ANY, cypher.RELATIONSHIPS_MISSING_ANY),
                                         (changed, cypher.ENTITIES_CITING_ANY, cypher.RELATIONSHIPS_CITING_ANY)):
        if not ids:
            continue
        wanted = dict.fromkeys(ids, True)
        for row in store.lookup(entities, {"ids": wanted}):
            entity_rows[row["id"]] = row
        for row in store.lookup(relationships, {"ids": wanted}):
            rel_rows[(row["start"], row["rid"])] = row
    dates.ensure(sid for row in (*entity_rows.values(), *rel_rows.values()) for sid in row["sources"] or ()
                 if isinstance(sid, str))
    entity_changes = [c for row in entity_rows.values() if (c := _entity_change(row, dates))]
    _write_entity_fields(store, entity_changes)
    fixes: dict[str, dict[str, dict[str, Any]]] = {}
    for (start, rid), row in rel_rows.items():
        newest, missing = derive(row["sources"], dates)
        if newest != row.get(NEWEST_SOURCE) or missing != row.get(MISSING_SOURCES):
            fixes.setdefault(start, {})[str(rid)] = field_values(newest, missing)
    _write_relationship_fields(store, fixes)
    recompute_markers(store, fixes)
    return len(entity_changes), sum(map(len, fixes.values()))


def refresh(store: GraphStore, *, chunk: int = 20_000) -> RefreshSummary:
    """Recompute every provenance field from what is stored and mark the store as kept; writes only what differs.

    For stores written by an older statetech, and after edits made outside statetech (Neo4j Browser). Entities are
    read a chunk at a time with their outgoing relationships, so memory stays bounded on a large graph.
    """
    store.ensure_schema()
    with store.writing():
        return _refresh(store, chunk)


def _refresh(store: GraphStore, chunk: int) -> RefreshSummary:
    summary = RefreshSummary()
    dates = SourceDates(store)
    dates.load_all()
    ids = sorted(row["id"] for row in store.lookup(cypher.ENTITY_IDS, {}) if isinstance(row["id"], str))
    for begin in range(0, len(ids), chunk):
        part = ids[begin:begin + chunk]
        entities = store.lookup(cypher.ENTITIES_PROVENANCE, {"ids": part}).rows
        rels = store.lookup(cypher.OUT_RELATIONSHIPS_PROVENANCE, {"ids": part}).rows
        summary.entities_read += len(entities)
        summary.relationships_read += len(rels)
        markers: dict[str, Markers] = {}
        fixes: dict[str, dict[str, dict[str, Any]]] = {}
        citations = store.keeps_citation_words
        for row in rels:
            newest, missing = derive(row["sources"], dates)
            markers.setdefault(row["start"], Markers(citations=citations)).add(newest, missing, row["dated"],
                                                                               row["sources"])
            if newest != row.get(NEWEST_SOURCE) or missing != row.get(MISSING_SOURCES):
                fixes.setdefault(row["start"], {})[str(row["rid"])] = field_values(newest, missing)
        entity_changes = []
        marker_changes = []
        for row in entities:
            change = _entity_change(row, dates)
            if change:
                entity_changes.append(change)
            wanted = markers.get(row["id"], Markers(citations=citations)).row()
            if any(row.get(k) != v for k, v in wanted.items()):
                marker_changes.append({"id": row["id"], **wanted})
        _write_entity_fields(store, entity_changes)
        _write_relationship_fields(store, fixes)
        _set_in_chunks(store, cypher.SET_MARKERS, "rows", marker_changes)
        summary.entities += len(entity_changes)
        summary.relationships += sum(map(len, fixes.values()))
        summary.markers += len(marker_changes)
    summary.vendors_read, summary.vendors = vendors.refresh(store)
    summary.contracts_read, summary.contracts = refresh_amount_keys(store)
    write_format(store)
    return summary


def refresh_amount_keys(store: GraphStore) -> tuple[int, int]:
    """Recompute every contract's amount keys from its stored amount; returns (contracts read, contracts changed).

    Not provenance, but derived at write time like it, and refreshed with it (the keys are a few integers per
    contract, so every contract is read at once).
    """
    changes = []
    rows = store.lookup(cypher.CONTRACT_AMOUNT_KEYS, {}).rows
    for row in rows:
        amount = row["amount"]
        # a hand-written amount may be anything: only finite numbers get keys (as every amount the model accepts)
        number = isinstance(amount, (int, float)) and not isinstance(amount, bool) and math.isfinite(amount)
        wanted = amount_key_values(row["id"], amount if number else None)
        if any(row[name] != value for name, value in wanted.items()):
            changes.append({"id": row["id"], **wanted})
    _set_in_chunks(store, cypher.SET_CONTRACT_AMOUNT_KEYS, "rows", changes)
    return len(rows), len(changes)
