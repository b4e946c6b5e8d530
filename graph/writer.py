"""The one write path: every record that reaches a store goes through :class:`GraphWriter`.

Loaders and importers only turn files into validated records; this module decides how they are written:

* **batching** - records are held, de-duplicated by id, and written a batch at a time (sources, then nodes, then
  relationships, so endpoints exist before the relationships that need them);
* **what exists** - before each batch is written, one read per batch (per relationship type) asks which of its nodes
  and relationships are already stored. That gives the created/updated/kept counts, and lets every store write new
  records with plain CREATEs and existing ones by id, never a MERGE that has to search (see ``create_nodes`` in
  :mod:`statetech.graph.cypher`);
* **precedence** (imports only) - an import never overwrites a curated record (one without ``imported_from``): the
  curated record stays as it is and the imported relationships point at it. Between imports, a record from a more
  authoritative file is not overwritten by a less authoritative one (:data:`PRECEDENCE`, filled in by the importers,
  e.g. a USAspending award summary outranks the same award seen through its transactions); equal ranks overwrite, so
  re-importing a corrected file updates it. Curated loads (:meth:`Graph.load`) write every record they are given.
* **store fast paths** - each store writes a prepared batch its own fastest way (:meth:`GraphStore.write_batch`):
  Neo4j in one transaction of UNWIND CREATE / replace-by-id statements, the embedded engine through its native bulk
  calls. On Neo4j a batch is written in the background while the caller makes the next one's records (one batch in
  flight; see :meth:`GraphWriter.flush`).

Small curated loads (at most :data:`SINGLE_TRANSACTION_LIMIT` records) go in one transaction of idempotent MERGEs
instead, so a failure leaves the store exactly as it was. Batches are each atomic; re-running a batched load after a
failure converges, because every record is found by id the second time.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

from statetech.graph import cypher
from statetech.graph.errors import StatetechError
from statetech.graph.provenance import (
    UNDATED,
    Markers,
    ProvenanceKeeper,
    add_fields,
    format_write,
    has_history,
    recompute_markers,
    start_node_summaries,
    write_format,
)
from statetech.graph.vendors import VENDOR, AgencyCounts, counts_from_records
from statetech.graph.vocabulary import AGENCY_COUNT, KIND_BY_PREFIX, OUT_HISTORY, is_allowed, with_derived

if TYPE_CHECKING:
    from statetech.graph.model import Node, RecordSet, Relationship, Source
    from statetech.graph.store import GraphStore

DEFAULT_BATCH = 10_000
DRY_RUN_MEMORY = 200_000  # ids a dry run remembers as "would be created" (about 150 bytes each)
# Source dates an import's provenance keeper holds between batches (about 160 bytes each; SourceDates.bound)
SOURCE_DATES_KEPT = 200_000
SINGLE_TRANSACTION_LIMIT = 50_000

# imported_from -> rank; higher wins when two imports write the same record. Unlisted tags rank DEFAULT_RANK.
PRECEDENCE: dict[str, int] = {}
DEFAULT_RANK = 20


def rank(imported_from: str | None) -> int:
    return PRECEDENCE.get(imported_from or "", DEFAULT_RANK)


def record_properties(record: Any) -> dict[str, Any]:
    """A record's store properties, as ``record.properties()`` gives them, without pydantic's serialiser.

    Every field of the model is a plain value (text, number, list of text), so reading the instance's fields is
    the same as ``model_dump`` and about ten times faster, which matters at hundreds of thousands of records.
    tests/test_writer.py checks the two agree on every record of the fixtures and seeds.
    """
    values = record.__dict__
    if "from_id" in values:
        return relationship_properties(record, record.key)
    # an entity also gets its derived properties (search_text), as Node.properties() gives them
    return with_derived({k: v for k, v in values.items() if v is not None and v != []})


def relationship_properties(rel: Relationship, key: str) -> dict[str, Any]:
    """A relationship's store properties given its key (``rel.key``, which the writer has already computed)."""
    props = {k: v for k, v in rel.__dict__.items() if v is not None and k not in _ENDS_AND_ID and v != []}
    props["id"] = key
    props["from"] = rel.from_id
    props["to"] = rel.to_id
    return props


# Relationship fields stored under other names: the key as ``id``, the ends as ``from`` / ``to``.
_ENDS_AND_ID = frozenset({"from_id", "to_id", "id"})


class RecordBatch(Protocol):
    """Anything carrying records to write: a :class:`RecordSet`, or what an importer emits for one row."""

    sources: list[Source]
    nodes: list[Node]
    relationships: list[Relationship]


@dataclass
class WriteSummary:
    """What a curated load wrote (every record it was given)."""

    sources: int = 0
    nodes: int = 0
    relationships: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportCounts:
    """What an import wrote, or would write in a dry run: per kind and type, created / updated / kept as it was."""

    sources_written: int = 0
    nodes_created: Counter[str] = field(default_factory=Counter)
    nodes_updated: Counter[str] = field(default_factory=Counter)
    nodes_kept: Counter[str] = field(default_factory=Counter)
    relationships_created: Counter[str] = field(default_factory=Counter)
    relationships_updated: Counter[str] = field(default_factory=Counter)
    relationships_kept: Counter[str] = field(default_factory=Counter)


@dataclass
class PreparedBatch:
    """One batch as a store writes it: properties only, split into records to create and records to replace.

    ``*_rows`` are dicts ``{"id", "props"}`` (nodes, sources) or ``{"id", "from", "to", "props"}``
    (relationships), grouped by kind / type; ``new_node_ids`` are the ids this batch creates, so a store can find
    the relationships' ends among them without asking.
    """

    sources: list[dict[str, Any]] = field(default_factory=list)
    new_nodes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed_nodes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    new_relationships: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed_relationships: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Imports merge their properties into a stored record instead of replacing them: a re-import of a file whose
    # column was renamed or dropped (so the field reads as missing) must never erase a value an earlier import stored.
    # Curated loads replace, so a field removed from a seed record goes.
    keep_stored: bool = False

    def __len__(self) -> int:
        return (len(self.sources) + sum(map(len, self.new_nodes.values())) + sum(map(len, self.changed_nodes.values()))
                + sum(map(len, self.new_relationships.values()))
                + sum(map(len, self.changed_relationships.values())))


class GraphWriter:
    """Collects records, de-duplicated by id, and writes them batch by batch (see the module docstring).

    ``importing``: apply the precedence rule and count created/updated/kept (imports); otherwise every record given
    is written (curated loads). ``dry_run``: look everything up and count, write nothing.
    """

    def __init__(self, store: GraphStore, *, batch_size: int = DEFAULT_BATCH, importing: bool = True,
                 dry_run: bool = False, unique_records: bool = False) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be 1 or more")
        self.store = store
        self.batch_size = batch_size
        self.importing = importing
        self.dry_run = dry_run
        # With ``unique_records`` the caller promises that no id (or relationship key) comes twice in the whole run
        # (load_records de-duplicates its RecordSet first). Then a relationship touching a node this run created
        # cannot be stored yet, and needs no lookup. An importer's stream may repeat records across batches, so
        # there only the current batch's new nodes count.
        self._created: set[str] | None = set() if unique_records else None
        # A dry run writes nothing, so what it would have created is remembered (id -> imported_from) to count a
        # record that comes again in a later batch as the update it would be. Bounded, so a dry run's memory stays
        # flat: a record repeated more than DRY_RUN_MEMORY records later would be counted as created twice (a real
        # run asks the store and is always exact).
        self._would_exist: dict[str, str | None] = {}
        self._first_load: bool | None = None
        self._allowed_ends: set[tuple[str, str, str]] = set()  # (from prefix, type, to prefix) checked
        self._pool = None
        self._pending: list[tuple[Any, bool]] = []
        self._writing_behind = False  # a batch is being written in the background (flush)
        self.counts = ImportCounts()
        self.summary = WriteSummary()
        self._properties = _no_properties if dry_run else record_properties
        # Provenance fields (statetech.graph.provenance) are computed here for every record written; the summary
        # of each entity's outgoing relationships is either given whole for a first load (precompute_markers) or
        # raised / recomputed after each batch (_follow_up).
        self._provenance = None if dry_run else ProvenanceKeeper(store)
        self._precomputed: dict[str, dict[str, Any]] | None = None
        self._needs_format = False
        self._source_changes: tuple[set[str], set[str]] = (set(), set())
        self._raise_markers: dict[str, Markers] = {}
        self._recompute_markers: set[str] = set()
        # Vendor agency counts (statetech.graph.vendors): given whole for a first load, else the vendors each batch's
        # new relationships (and replaced companies) can affect are recounted after it.
        self._agency_counts: dict[str, int] | None = None
        self._vendors = None if dry_run else AgencyCounts(store)
        self._reset()

    def _reset(self) -> None:
        self._raise_markers = {}
        self._recompute_markers = set()
        self._source_changes = (set(), set())
        self._sources: dict[str, Source] = {}
        self._nodes: dict[str, Node] = {}
        self._relationships: dict[str, Relationship] = {}

    def __len__(self) -> int:
        return len(self._sources) + len(self._nodes) + len(self._relationships)

    def add(self, batch: RecordBatch) -> None:
        """Hold ``batch``'s records; a record seen twice keeps the higher-ranked (on a tie, the later) version."""
        for source in batch.sources:
            self._sources[source.id] = source
        nodes, rels = self._nodes, self._relationships
        if self._created is not None:
            # unique_records: no id comes twice in the run, so there is no held version to rank against
            nodes.update({node.id: node for node in batch.nodes})
            rels.update({rel.key: rel for rel in batch.relationships})
            if len(self) >= self.batch_size:
                self.flush()
            return
        for node in batch.nodes:
            held = nodes.get(node.id)
            if held is None or rank(node.imported_from) >= rank(held.imported_from):
                nodes[node.id] = node
        for rel in batch.relationships:
            key = rel.key
            held = rels.get(key)
            if held is None or rank(rel.imported_from) >= rank(held.imported_from):
                rels[key] = rel
        if len(self) >= self.batch_size:
            self.flush()

    def precompute_markers(self, records: RecordBatch) -> None:
        """For a first load (no entity stored): every start node's summary of its outgoing relationships, from the
        relationships about to be written, so it is stored with the node and no batch has to update it."""
        keeper = self._provenance
        if keeper is None:
            return
        keeper.sources_written(records.sources)
        keeper.ensure_cited(records.relationships)
        self._precomputed = start_node_summaries(records.relationships, keeper.dates.derived,
                                                 self.store.keeps_citation_words)
        self._agency_counts = counts_from_records(records.nodes, records.relationships)
        # sources_written above only looked at the records: the batches compare them with the store themselves
        for source in records.sources:
            keeper.dates.pop(source.id, None)

    def write(self, records: Iterable[RecordBatch]) -> None:
        # Everything alive when the write starts (a caller's RecordSet of a million records, the resolver's maps)
        # is moved out of the collector's sight: otherwise each full collection walks it again while the batches
        # allocate, which cost as much as the writing itself at 400,000 records (benchmarks/bench_load.py).
        gc.freeze()
        try:
            for batch in records:
                self.add(batch)
            self.flush()
            self._settle(final=True)
            if self._needs_format:
                # Only once every batch is in: a run cut off half way leaves a store the queries refuse until
                # 'statetech db refresh'.
                write_format(self.store)
        finally:
            self._settle(cancel=True, final=True)
            gc.unfreeze()

    # -- one batch ---------------------------------------------------------------------------------------------------

    def flush(self) -> None:
        if not len(self):
            return
        if self._writing_behind:
            # the batch being written in the background (see below) is stored, with its follow-up, before this one
            # is prepared: its lookups see every earlier write, and only one thread uses the store at a time
            self._writing_behind = False
            self._settle()
        prepared = self._prepare()
        if len(self._would_exist) > DRY_RUN_MEMORY:
            for key in list(islice(self._would_exist, len(self._would_exist) - DRY_RUN_MEMORY)):
                del self._would_exist[key]
        if not self.dry_run and len(prepared):
            follow_up = bool(self._raise_markers or self._recompute_markers or self._source_changes[1]
                             or self._vendors or self._provenance.completes(self._source_changes[0]))
            after = (self._raise_markers, self._recompute_markers, self._source_changes) if follow_up else None
            if self._first_load and self.store.concurrent_writers > 1 and not follow_up:
                self._submit(prepared)
            elif self.store.concurrent_writers > 1:
                # A server store writes the batch (and its follow-up) in the background while the caller makes the
                # next batch's records (an importer's parsing and resolution, which never use the store): one batch
                # in flight, settled before the next one is prepared. The follow-up is given this batch's own
                # summaries (_reset gives the next batch new ones). Neo4j, 100k award rows: see bench_import.py.
                self._settle()
                self._pending.append((self._executor().submit(self._write_and_follow_up, prepared, after), True))
                self._writing_behind = True
            else:
                self._settle()
                self._write_and_follow_up(prepared, after)
        self._reset()

    def _write_and_follow_up(self, prepared: PreparedBatch, after: tuple | None) -> None:
        self.store.write_batch(prepared)
        if after is not None:
            self._follow_up(*after)

    def _follow_up(self, raising: dict[str, Markers], recomputing: set[str],
                   source_changes: tuple[set[str], set[str]]) -> None:
        """After a batch: the start nodes' summaries, then records written before that its Sources complete."""
        raised = [m.raise_row(node_id) for node_id, m in raising.items() if node_id not in recomputing]
        if raised:
            self.store.raise_markers(raised)
            with_history = [row["id"] for row in raised if row[OUT_HISTORY]]
            if with_history:
                self.store.set_properties(cypher.RAISE_HISTORY, {"ids": with_history})
        if recomputing:
            recompute_markers(self.store, recomputing)
        self._provenance.after_write(*source_changes)
        if self._vendors:
            self._vendors.apply()

    # A first load of unique records asks the store nothing between batches, so a store that takes concurrent
    # write transactions (Neo4j) is given several disjoint batches at once. Relationships wait until every batch
    # creating nodes has committed, since their ends must be visible.

    def _executor(self):
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.store.concurrent_writers)
        return self._pool

    def _submit(self, prepared: PreparedBatch) -> None:
        self._executor()
        creates_nodes = bool(prepared.sources or prepared.new_nodes or prepared.changed_nodes)
        if prepared.new_relationships or prepared.changed_relationships:
            self._settle(only_nodes=True)
        while len(self._pending) >= self.store.concurrent_writers:
            self._pending.pop(0)[0].result()
        self._pending.append((self._pool.submit(self.store.write_batch, prepared), creates_nodes))

    def _settle(self, only_nodes: bool = False, cancel: bool = False, final: bool = False) -> None:
        """Wait for batches in flight (those creating nodes, with ``only_nodes``); the first failure is raised."""
        waiting, self._pending = self._pending, []
        failure = None
        for future, creates_nodes in waiting:
            if only_nodes and not creates_nodes:
                self._pending.append((future, creates_nodes))
                continue
            if cancel:
                future.cancel()
            try:
                future.result()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after every batch has finished
                failure = failure or exc
        if final and self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if failure is not None and not cancel:
            raise failure

    def _prepare(self) -> PreparedBatch:
        out = PreparedBatch(keep_stored=self.importing)
        counts, summary = self.counts, self.summary
        # A dry run only counts: the properties of what it would write are never needed.
        properties = self._properties
        keeper = self._provenance
        if keeper is not None:
            if self._created is None:
                # An import's stream: every date this batch needs is read again below, so the dates of earlier
                # batches can go (a first load of unique records keeps the dates precompute_markers gathered).
                keeper.dates.bound(SOURCE_DATES_KEPT)
            self._needs_format |= keeper.start(write=False)
            self._source_changes = keeper.sources_written(self._sources.values())
            keeper.ensure_cited((*self._nodes.values(), *self._relationships.values()))
        # a dry run only counts: the rows a store would be given are never built
        if not self.dry_run:
            out.sources = [{"id": s.id, "props": properties(s)} for s in self._sources.values()]
        counts.sources_written += len(self._sources)
        summary.sources += len(self._sources)

        if self._first_load is None:
            # Unique records into a store holding no entity yet: nothing this run meets can exist already.
            self._first_load = self._created is not None and not self.store.has_entities()
        first_load = self._first_load
        existing = self.store.existing_nodes(list(self._nodes)) if self._nodes and not first_load else {}
        if self.dry_run and self._would_exist:
            existing.update((i, self._would_exist[i]) for i in self._nodes if i in self._would_exist)
        # Rows are grouped first and counted a group at a time: at hundreds of thousands of records a counter
        # update per record cost more than building the rows.
        new_nodes, changed_nodes = out.new_nodes, out.changed_nodes
        if existing:
            for node in self._nodes.values():
                if node.id not in existing:
                    new_nodes.setdefault(node.kind, []).append(node)
                elif self.importing and _keeps(existing[node.id], node.imported_from):
                    counts.nodes_kept[node.kind] += 1
                else:
                    changed_nodes.setdefault(node.kind, []).append(node)
        else:
            for node in self._nodes.values():
                new_nodes.setdefault(node.kind, []).append(node)
        new_ids: set[str] = set()
        for group, tally in ((new_nodes, counts.nodes_created), (changed_nodes, counts.nodes_updated)):
            for kind, nodes in group.items():
                if group is new_nodes:
                    new_ids.update(node.id for node in nodes)
                    if self.dry_run:
                        self._would_exist.update((node.id, node.imported_from) for node in nodes)
                # a dry run only counts: the rows a store would be given are never built
                group[kind] = [] if self.dry_run else [{"id": node.id, "props": properties(node)} for node in nodes]
                if keeper is not None:
                    self._add_node_fields(group[kind], nodes, changed=group is changed_nodes)
                    if kind == VENDOR:
                        self._add_agency_counts(group[kind], changed=group is changed_nodes)
                tally[kind] += len(nodes)
                summary.nodes += len(nodes)
                summary.by_kind[kind] = summary.by_kind.get(kind, 0) + len(nodes)
        if self._created is not None:
            self._created |= new_ids
            new_ids = self._created

        # Every relationship's ends must be kinds the model allows for its type (checked once per combination).
        allowed = self._allowed_ends
        new_rels: dict[str, list[tuple[str, Relationship]]] = {}
        to_check: dict[str, list[tuple[str, Relationship]]] = defaultdict(list)
        for key, rel in self._relationships.items():
            ends = (rel.from_id.partition(":")[0], rel.type, rel.to_id.partition(":")[0])
            if ends not in allowed:
                from_kind, to_kind = KIND_BY_PREFIX.get(ends[0]), KIND_BY_PREFIX.get(ends[2])
                if not (from_kind and to_kind and is_allowed(from_kind, rel.type, to_kind)):
                    raise StatetechError(f"{rel.from_id} -[{rel.type}]-> {rel.to_id} is not allowed by the model")
                allowed.add(ends)
            # In a first load of unique records nothing this run meets is stored yet; otherwise a relationship
            # touching a node created now cannot be stored either.
            if first_load or rel.from_id in new_ids or rel.to_id in new_ids:
                new_rels.setdefault(rel.type, []).append((key, rel))
            else:
                to_check[rel.type].append((key, rel))
        changed_rels: dict[str, list[tuple[str, Relationship]]] = {}
        for rel_type, rels in to_check.items():
            stored = self.store.existing_relationships(
                rel_type, [{"id": key, "from": r.from_id, "to": r.to_id} for key, r in rels])
            if self.dry_run and self._would_exist:
                stored.update((key, self._would_exist[key]) for key, _ in rels if key in self._would_exist)
            for key, rel in rels:
                if key not in stored:
                    new_rels.setdefault(rel_type, []).append((key, rel))
                elif self.importing and _keeps(stored[key], rel.imported_from):
                    counts.relationships_kept[rel_type] += 1
                else:
                    changed_rels.setdefault(rel_type, []).append((key, rel))
        row = self._relationship_row
        for group, into, tally in ((new_rels, out.new_relationships, counts.relationships_created),
                                   (changed_rels, out.changed_relationships, counts.relationships_updated)):
            for rel_type, rels in group.items():
                if self.dry_run and group is new_rels:
                    self._would_exist.update((key, rel.imported_from) for key, rel in rels)
                into[rel_type] = [] if self.dry_run else [row(key, rel) for key, rel in rels]
                if keeper is not None:
                    self._add_relationship_fields(into[rel_type], rels, changed=group is changed_rels)
                    if group is new_rels and self._agency_counts is None:
                        for _, rel in rels:
                            self._vendors.note_relationship(rel_type, rel.from_id, rel.to_id)
                tally[rel_type] += len(rels)
                summary.relationships += len(rels)
                summary.by_type[rel_type] = summary.by_type.get(rel_type, 0) + len(rels)
        if self._raise_markers and out.new_nodes:
            self._fold_markers(out.new_nodes)
        return out

    def _fold_markers(self, new_nodes: dict[str, list[dict[str, Any]]]) -> None:
        """A start node this batch creates is created with its summary (the fields it has are the ones raising it
        from nothing would set) instead of being raised by a statement after the batch: an import's new records
        (an award and its AWARDED_TO, CHILD_OF) were most of that statement's rows and of a batch's follow-up."""
        raising, recomputed = self._raise_markers, self._recompute_markers
        for rows in new_nodes.values():
            for row in rows:
                node_id = row["id"]
                if node_id in raising and node_id not in recomputed:
                    row["props"].update(raising.pop(node_id).props())

    def _add_node_fields(self, rows: list[dict[str, Any]], nodes: list[Node], changed: bool) -> None:
        keeper = self._provenance
        merging = changed and self.importing
        precomputed = self._precomputed
        for row, node in zip(rows, nodes):
            props = row["props"]
            add_fields(props, *keeper.values(node.sources), merging)
            if precomputed is not None:
                props.update(precomputed.get(node.id, ()))
            elif changed and not merging:
                # a replaced entity loses its summary: it is recomputed from its relationships after the batch
                self._recompute_markers.add(node.id)

    def _add_agency_counts(self, rows: list[dict[str, Any]], changed: bool) -> None:
        """A first load stores each Company's count computed from the records; otherwise a new Company starts at 0
        (its relationships, new too, get it recounted), a replaced one is recounted after the batch (its stored count
        is gone), and a merged one (an import) keeps its stored count."""
        counts = self._agency_counts
        if counts is not None:
            for row in rows:
                row["props"][AGENCY_COUNT] = counts.get(row["id"], 0)
        elif not changed:
            for row in rows:
                row["props"][AGENCY_COUNT] = 0
        elif not self.importing:
            self._vendors.note_replaced(row["id"] for row in rows)

    def _add_relationship_fields(self, rows: list[dict[str, Any]], rels: list[tuple[str, Relationship]],
                                 changed: bool) -> None:
        keeper = self._provenance
        merging = changed and self.importing
        for row, (_, rel) in zip(rows, rels):
            newest, missing = keeper.values(rel.sources)
            if not add_fields(row["props"], newest, missing, merging):
                continue  # an import's row without sources keeps the stored ones, and their fields
            if self._precomputed is not None:
                continue
            if changed:
                self._recompute_markers.add(rel.from_id)
            else:
                markers = self._raise_markers.get(rel.from_id)
                if markers is None:
                    markers = self._raise_markers[rel.from_id] = Markers(citations=self.store.keeps_citation_words)
                markers.add(newest, missing, has_history(rel), rel.sources)

    def _relationship_row(self, key: str, rel: Relationship) -> dict[str, Any]:
        # A dry run only counts: no properties.
        props = {} if self.dry_run else relationship_properties(rel, key)
        return {"id": key, "from": rel.from_id, "to": rel.to_id, "props": props}


def _no_properties(record: Any) -> dict[str, Any]:
    return {}


def _keeps(stored_tag: str | None, incoming_tag: str | None) -> bool:
    """True when the stored record must stay: it is curated, or it came from a more authoritative import."""
    return stored_tag is None or rank(incoming_tag) < rank(stored_tag)


# --- curated loads in one transaction ---------------------------------------------------------------------------------


def upsert_statements(records: RecordSet, provenance: ProvenanceKeeper | None = None
                      ) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(section, kind or type, query, params) of idempotent MERGEs for ``records``, all in one transaction.

    With ``provenance`` (whose source dates already hold the records' sources and every id they cite), every record
    carries its provenance fields, and a last statement recomputes the summary of every entity written (the MERGE
    replaced its properties) and of every relationship's start node.
    """
    def properties(record: Any) -> dict[str, Any]:
        props = record_properties(record)
        if provenance is not None:
            add_fields(props, *provenance.values(record.sources))
        return props

    if records.sources:
        rows = [{"id": s.id, "props": record_properties(s)} for s in records.sources]
        yield "sources", "Source", cypher.UPSERT_SOURCES, {"rows": rows}
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in records.nodes:
        by_kind[node.kind].append({"id": node.id, "props": properties(node)})
    for kind, rows in by_kind.items():
        yield "nodes", kind, cypher.upsert_nodes(kind), {"rows": rows}
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel in records.relationships:
        by_type[rel.type].append({"id": rel.key, "from": rel.from_id, "to": rel.to_id,
                                  "props": properties(rel)})
    for rel_type, rows in by_type.items():
        # Anchor the MERGE on the end with more distinct ids: the other end is the hub (see upsert_relationships).
        anchor = "to" if len({r["to"] for r in rows}) > len({r["from"] for r in rows}) else "from"
        yield "relationships", rel_type, cypher.upsert_relationships(rel_type, anchor), {"rows": rows}
    if provenance is not None:
        ids = sorted({n.id for n in records.nodes} | {r.from_id for r in records.relationships})
        if ids:
            statement = cypher.recompute_markers_statement(provenance.store.keeps_citation_words)
            yield "provenance", "summaries", statement, {"ids": ids, "undated": UNDATED}


def load_in_one_transaction(store: GraphStore, records: RecordSet) -> WriteSummary:
    keeper = ProvenanceKeeper(store)
    needs_format = keeper.start(write=False)
    new_sources, changed_sources = keeper.sources_written(records.sources)
    keeper.ensure_cited((*records.nodes, *records.relationships))
    statements = list(upsert_statements(records, keeper))
    # Vendor agency counts (statetech.graph.vendors): the MERGEs replace every written Company's properties, and the
    # relationships may raise other vendors' counts; those vendors are found now (the same set as after the write:
    # AgencyCounts.affected) and recounted by the transaction's last statement, after everything it writes.
    vendors = AgencyCounts(store)
    vendors.note_replaced(n.id for n in records.nodes if n.kind == VENDOR)
    for rel in records.relationships:
        vendors.note_relationship(rel.type, rel.from_id, rel.to_id)
    if vendors:
        statements.append(("vendors", "agency counts", cypher.RECOMPUTE_AGENCY_COUNTS,
                           {"ids": sorted(vendors.affected())}))
    if needs_format and records.nodes:
        statements.append(("provenance", "format", *format_write()))
    results = store.write_transaction([(q, p) for _, _, q, p in statements])
    # Records stored before that these Sources complete or re-date (a second transaction: if it fails, the fields
    # of those records stay as they were until 'statetech db refresh').
    keeper.after_write(new_sources, changed_sources)
    summary = WriteSummary()
    for (section, name, _, params), result in zip(statements, results):
        if section in ("provenance", "vendors"):
            continue
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


# Records from which a one-transaction write drops the embedded store's text indexes. Both the engine's upkeep of a
# changed node and creating an index again cost time in proportion to everything indexed; measured at 1M entities,
# creating them again costs as much as the upkeep of 80 to 430 changed nodes (benchmarks/bench_upkeep.py).
PAUSE_TEXT_INDEXES_FROM = 200


def load_records(store: GraphStore, records: RecordSet, *, batch_size: int = DEFAULT_BATCH,
                 single_transaction: bool | None = None) -> WriteSummary:
    """Write curated (or generated) records: every record given is written, whatever is stored."""
    if single_transaction is None:
        single_transaction = len(records) <= SINGLE_TRANSACTION_LIMIT
    if single_transaction:
        # One transaction; the embedded store drops its text indexes meanwhile only when the records are enough for
        # the engine's own upkeep of them to cost more than creating them again (see GrafeoStore.writing).
        with store.writing(pause_text_indexes=len(records) >= PAUSE_TEXT_INDEXES_FROM):
            return load_in_one_transaction(store, records)
    writer = GraphWriter(store, batch_size=batch_size, importing=False, unique_records=True)
    with store.writing():
        unique = _unique(records)
        if not store.has_entities():
            writer.precompute_markers(unique)
        # Sources and nodes first, so every relationship's ends are stored (or in its batch) when it is written.
        writer.write(_slices(unique, batch_size))
    return writer.summary


def _unique(records: RecordSet) -> _Slice:
    """One record per id / relationship key, the last given winning (as successive upserts would leave it)."""
    return _Slice(sources=list({s.id: s for s in records.sources}.values()),
                  nodes=list({n.id: n for n in records.nodes}.values()),
                  relationships=list({r.key: r for r in records.relationships}.values()))


@dataclass
class _Slice:
    sources: list[Any] = field(default_factory=list)
    nodes: list[Any] = field(default_factory=list)
    relationships: list[Any] = field(default_factory=list)


def _slices(records: RecordSet | _Slice, size: int) -> Iterator[_Slice]:
    for start in range(0, len(records.sources), size):
        yield _Slice(sources=records.sources[start:start + size])
    for start in range(0, len(records.nodes), size):
        yield _Slice(nodes=records.nodes[start:start + size])
    for start in range(0, len(records.relationships), size):
        yield _Slice(relationships=records.relationships[start:start + size])
