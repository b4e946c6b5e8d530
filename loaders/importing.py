"""Run an importer over files: check everything first, then resolve and write in batches.

Two streaming passes, so bad input writes nothing and memory stays flat:

1. **check**: every file is read end to end; the header is checked before any row, and every row is parsed and
   validated. Problems carry file, line and column. If any file has a wrong header, or any row a problem (unless
   ``skip_invalid``), the import stops here with :class:`ValidationFailed` and the store is untouched.
2. **write**: the files are read again; each row becomes sourced, validated records; references to agencies,
   companies, people and products are resolved against the graph (:mod:`statetech.loaders.resolve`); records are
   written in batches of idempotent upserts (``write_records(..., single_transaction=False)``). Importers whose
   relationships may point forward in the file (FtM, LittleSis) read it once for nodes, then once for relationships.

Before each batch is written, one read per batch asks which of its nodes and relationships exist already, which gives
the created/updated counts and applies two rules:

* an import never overwrites a curated record (one without ``imported_from``): the curated node stays as it is and
  the imported relationships point at it;
* between imports, a record from a more authoritative file is not overwritten by a less authoritative one
  (:data:`PRECEDENCE`: a USAspending award summary outranks the award as seen through its transactions, which
  outranks a parent-award reference); equal ranks overwrite, so re-importing a corrected file updates it.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from statetech.graph import cypher
from statetech.graph.errors import Problem, StatetechError, ValidationFailed
from statetech.graph.model import Node, RecordSet, Relationship, Source, is_allowed, kind_of_id
from statetech.loaders.common import InputFile, NoProgress, Progress, RowProblem, expand_inputs
from statetech.loaders.resolve import Resolver, ReviewLog

DEFAULT_BATCH = 2000
MAX_PROBLEMS_SHOWN = 50

# imported_from -> rank; higher wins when two imports write the same record. Unlisted tags rank DEFAULT_RANK.
PRECEDENCE: dict[str, int] = {}
DEFAULT_RANK = 20


def rank(imported_from: str | None) -> int:
    return PRECEDENCE.get(imported_from or "", DEFAULT_RANK)


@dataclass
class Emitted:
    """What one input record contributes to the graph, or why it contributes nothing."""

    sources: list[Source] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    skip: str | None = None


@dataclass
class DatasetSource:
    """Where a file came from, for datasets whose records carry no link of their own (``--source-url``)."""

    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published: str | None = None

    @classmethod
    def checked(cls, url: str | None, title: str | None = None, published: str | None = None) -> DatasetSource:
        """From command-line options, refusing a bad URL or date before any file is read."""
        from statetech.loaders.common import BadValue, http_url, parse_date

        if url is not None and not http_url(url):
            raise ValidationFailed([Problem("--source-url", None, f"{url!r} is not an http(s) URL")],
                                   what="bad option")
        try:
            date = parse_date(published)
        except BadValue as exc:
            raise ValidationFailed([Problem("--source-date", None, str(exc), hint="write YYYY-MM-DD")],
                                   what="bad option") from None
        return cls(url=url, title=title, published=date)


@dataclass(frozen=True)
class RowWarning(Problem):
    """A located finding that does not stop the import (e.g. an unreadable link date kept as an undated link)."""


CheckResult = list[Problem] | str | None  # problems, a skip reason, or None when the record is fine


class Importer(ABC):
    """One upstream format. Subclasses stream records, check them, and convert them into model records."""

    format: ClassVar[str] = ""
    title: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    phases: ClassVar[tuple[str, ...]] = ("all",)

    def __init__(self, file: InputFile, dataset_source: DatasetSource | None = None,
                 shared: dict[str, Any] | None = None) -> None:
        self.file = file
        self.dataset_source = dataset_source or DatasetSource()
        # state shared by the importers of one run (one per file), e.g. which upstream entity ids the files define
        self.shared: dict[str, Any] = shared if shared is not None else {}

    def dataset_source_record(self, default_title: str, source_id: str) -> Source | None:
        """The Source for records that carry no link of their own: ``--source-url`` (dated ``--source-date``,
        else the file's modification day), or None when no URL was given."""
        ds = self.dataset_source
        if not ds.url:
            return None
        published = ds.published
        if not published:
            import datetime as _dt

            published = _dt.date.fromtimestamp(self.file.path.stat().st_mtime).isoformat()
        return Source(id=source_id, url=ds.url, title=ds.title or default_title, publisher=ds.publisher or
                      (urlsplit(ds.url).hostname or "web").removeprefix("www."), published=published)

    @abstractmethod
    def header_problems(self) -> list[Problem]:
        """Structure problems found before reading any record (wrong header, wrong format): reject the file."""

    @abstractmethod
    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        """Records with a ``.line``, or :class:`RowProblem` for input that could not be read."""

    @abstractmethod
    def check(self, record: Any) -> CheckResult:
        """Parse and validate one record without touching the store."""

    def prepare(self, record: Any) -> None:
        """First-pass bookkeeping on a record that passed :meth:`check` (e.g. which transaction is an award's latest)."""

    @abstractmethod
    def convert(self, record: Any, resolver: Resolver, phase: str) -> Emitted:
        """Model records for one checked record; references resolved with ``resolver``."""


class ImportRefused(ValidationFailed):
    """The input did not pass the check; nothing was written. Lists the first problems and counts the rest."""

    def __init__(self, fmt: str, shown: list[Problem], total: int) -> None:
        super().__init__(shown, what=f"import {fmt} failed")
        more = f"\n... and {total - len(shown):,} more problems not shown" if total > len(shown) else ""
        self.args = (f"import {fmt} failed: {total:,} problem{'s' if total != 1 else ''}; nothing was written\n"
                     + "\n".join(str(p) for p in shown) + more,)
        self.total = total


IMPORTERS: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    IMPORTERS[cls.format] = cls
    return cls


def importer_formats() -> dict[str, type[Importer]]:
    """Every importer, loaded on first use."""
    from statetech.loaders import atlas, collective_actions, ftm, littlesis, usaspending  # noqa: F401

    return dict(IMPORTERS)


# --- summary ----------------------------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    format: str
    dry_run: bool
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: Counter[str] = field(default_factory=Counter)
    empty_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warnings_total: int = 0
    sources_written: int = 0
    nodes_created: Counter[str] = field(default_factory=Counter)
    nodes_updated: Counter[str] = field(default_factory=Counter)
    nodes_kept: Counter[str] = field(default_factory=Counter)
    relationships_created: Counter[str] = field(default_factory=Counter)
    relationships_updated: Counter[str] = field(default_factory=Counter)
    relationships_kept: Counter[str] = field(default_factory=Counter)
    matched: dict[str, dict[str, int]] = field(default_factory=dict)
    review_items: int = 0
    review_path: str | None = None
    seconds: float = 0.0
    _repeats: dict[tuple, int] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "files": self.files,
            "rows_read": self.rows_read,
            "rows_skipped": dict(sorted(self.rows_skipped.items())),
            "empty_rows": self.empty_rows,
            "problems": [str(p) for p in self.problems],
            "problems_total": self.problems_total,
            "warnings": [str(p) for p in self.warnings],
            "warnings_total": self.warnings_total,
            "sources_written": self.sources_written,
            "nodes_created": dict(sorted(self.nodes_created.items())),
            "nodes_updated": dict(sorted(self.nodes_updated.items())),
            "nodes_kept": dict(sorted(self.nodes_kept.items())),
            "relationships_created": dict(sorted(self.relationships_created.items())),
            "relationships_updated": dict(sorted(self.relationships_updated.items())),
            "relationships_kept": dict(sorted(self.relationships_kept.items())),
            "matched": self.matched,
            "review_items": self.review_items,
            "review_path": self.review_path,
            "seconds": round(self.seconds, 2),
        }

    def _note_warning(self, problem: Problem) -> None:
        self.warnings_total += 1
        if len(self.warnings) < MAX_PROBLEMS_SHOWN:
            self.warnings.append(problem)

    def _note_problem(self, problem: Problem) -> None:
        """Keep the first problems to show; the same message in the same column is shown three times at most."""
        self.problems_total += 1
        key = (problem.file, problem.column, problem.message)
        self._repeats[key] = self._repeats.get(key, 0) + 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN and self._repeats[key] <= 3:
            self.problems.append(problem)


ProgressFactory = Callable[[], Progress]


# --- the run ----------------------------------------------------------------------------------------------------------


def run_import(store, fmt: str, paths: Iterable[str | Path], *, dry_run: bool = False, limit: int | None = None,
               batch_size: int = DEFAULT_BATCH, skip_invalid: bool = False, review_path: str | Path | None = None,
               progress: ProgressFactory | None = None, seeds: Path | None | bool = True,
               dataset_source: DatasetSource | None = None) -> ImportSummary:
    """Import ``paths`` in format ``fmt`` into ``store``; see the module docstring for the two passes and rules.

    ``dry_run`` checks and resolves everything and counts what would change, but writes nothing (not even the
    review file unless ``review_path`` is given). ``limit`` reads only the first N records of each file.
    ``seeds``: the curated seed folder whose aliases help resolution (True: the shipped seeds; None/False: none).
    ``dataset_source``: the Source for records without links of their own (FtM entities without ``sourceUrl``).
    """
    formats = importer_formats()
    if fmt not in formats:
        raise StatetechError(f"unknown import format {fmt!r}; use one of {', '.join(sorted(formats))}")
    cls = formats[fmt]
    make_progress = progress or NoProgress
    started = time.perf_counter()
    summary = ImportSummary(format=fmt, dry_run=dry_run)
    files, problems = expand_inputs(paths, cls.suffixes)
    if not files and not problems:
        problems.append(Problem("<arguments>", None, "no files given", hint="pass one or more data files"))
    if problems:
        raise ValidationFailed(problems, what=f"import {fmt} failed")
    shared: dict[str, Any] = {}
    importers = [cls(f, dataset_source, shared) for f in files]
    summary.files = [f.name for f in files]

    # pass 1: check every file before writing anything
    fatal = False
    for importer in importers:
        header = importer.header_problems()
        if header:
            fatal = True
            for problem in header:
                summary._note_problem(problem)
            continue
        bar = make_progress()
        bar.start(f"checking {importer.file.name}", _size(importer.file))
        try:
            for record in importer.records(bar, limit):
                if isinstance(record, RowProblem):
                    summary._note_problem(record.problem)
                    fatal = fatal or record.fatal or not skip_invalid
                    if not record.fatal:
                        summary.rows_skipped["unreadable row"] += 1
                    continue
                summary.rows_read += 1
                result = importer.check(record)
                if isinstance(result, list):
                    for warning in (p for p in result if isinstance(p, RowWarning)):
                        summary._note_warning(warning)
                    result = [p for p in result if not isinstance(p, RowWarning)] or None
                if isinstance(result, list):
                    for problem in result:
                        summary._note_problem(problem)
                    if not skip_invalid:
                        fatal = True
                    summary.rows_skipped["invalid row"] += 1
                elif isinstance(result, str):
                    summary.rows_skipped[result] += 1
                else:
                    importer.prepare(record)
        finally:
            bar.finish()
        summary.empty_rows += getattr(importer, "empty_rows", 0)
    if fatal:
        raise ImportRefused(fmt, summary.problems, summary.problems_total)

    # pass 2: resolve and write in batches
    review = ReviewLog()
    seed_path = _seed_path(seeds)
    resolver = Resolver.from_store(store, dataset=fmt, review=review, seeds=seed_path)
    if not dry_run:
        store.ensure_schema()
    writer = _BatchWriter(store, summary, batch_size, dry_run)
    with contextlib.nullcontext() if dry_run else store.writing():
        for phase in cls.phases:
            for importer in importers:
                bar = make_progress()
                label = "importing" if len(cls.phases) == 1 else f"importing {phase} of"
                bar.start(f"{label} {importer.file.name}", _size(importer.file))
                try:
                    for record in importer.records(bar, limit):
                        if isinstance(record, RowProblem):
                            continue
                        result = importer.check(record)
                        if isinstance(result, list):
                            result = [p for p in result if not isinstance(p, RowWarning)]
                        if result:
                            continue  # counted in pass 1
                        emitted = importer.convert(record, resolver, phase)
                        if emitted.skip:
                            summary.rows_skipped[emitted.skip] += 1
                            continue
                        writer.add(emitted)
                finally:
                    bar.finish()
            writer.flush()
    summary.matched = resolver.matched_counts()
    summary.review_items = len(review)
    if review_path is not None or (not dry_run and len(review)):
        path = Path(review_path) if review_path is not None else Path(f"statetech-review-{fmt}.csv")
        review.write(path)
        summary.review_path = str(path)
    summary.seconds = time.perf_counter() - started
    return summary


def _size(file: InputFile) -> int:
    try:
        return file.size
    except OSError:
        return 0


def _seed_path(seeds: Path | None | bool) -> Path | None:
    if seeds is True:
        from statetech.graph.api import shipped_seeds_path

        path = shipped_seeds_path()
        return path if any(path.glob("*.yaml")) else None
    return seeds or None


class _BatchWriter:
    """Collects emitted records, de-duplicated by id, and writes them batch by batch."""

    def __init__(self, store, summary: ImportSummary, batch_size: int, dry_run: bool) -> None:
        self.store = store
        self.summary = summary
        self.batch_size = batch_size
        self.dry_run = dry_run
        self._reset()

    def _reset(self) -> None:
        self.sources: dict[str, Source] = {}
        self.nodes: dict[str, Node] = {}
        self.relationships: dict[str, Relationship] = {}

    def add(self, emitted: Emitted) -> None:
        for source in emitted.sources:
            self.sources[source.id] = source
        for node in emitted.nodes:
            held = self.nodes.get(node.id)
            if held is None or rank(node.imported_from) >= rank(held.imported_from):
                self.nodes[node.id] = node
        for rel in emitted.relationships:
            held = self.relationships.get(rel.key)
            if held is None or rank(rel.imported_from) >= rank(held.imported_from):
                self.relationships[rel.key] = rel
        if len(self.nodes) + len(self.relationships) + len(self.sources) >= self.batch_size:
            self.flush()

    def _read(self, query: str, params: dict[str, Any]):
        """Existence checks between writes. While writing they run in a write transaction: the embedded store
        would otherwise reopen its file read-only for every batch (and writable again for the write)."""
        if self.dry_run:
            return self.store.run_read(query, params)
        return self.store.write_transaction([(query, params)])[0]

    def flush(self) -> None:
        if not (self.sources or self.nodes or self.relationships):
            return
        summary = self.summary
        existing = {row["id"]: row["imported_from"] for row in
                    self._read(cypher.EXISTING_NODES, {"ids": list(self.nodes)})} if self.nodes else {}
        nodes: list[Node] = []
        for node in self.nodes.values():
            if node.id not in existing:
                summary.nodes_created[node.kind] += 1
                nodes.append(node)
            elif existing[node.id] is None or rank(node.imported_from) < rank(existing[node.id]):
                summary.nodes_kept[node.kind] += 1
            else:
                summary.nodes_updated[node.kind] += 1
                nodes.append(node)
        new_ids = {n.id for n in self.nodes.values() if n.id not in existing}
        relationships = self._relationships(new_ids)
        records = RecordSet(sources=list(self.sources.values()), nodes=nodes, relationships=relationships)
        if not self.dry_run:
            self.store.write_records(records, batch_size=self.batch_size, single_transaction=False)
        summary.sources_written += len(records.sources)
        self._reset()

    def _relationships(self, new_ids: set[str]) -> list[Relationship]:
        summary = self.summary
        out: list[Relationship] = []
        to_check: dict[str, list[Relationship]] = {}
        for rel in self.relationships.values():
            from_kind, to_kind = kind_of_id(rel.from_id), kind_of_id(rel.to_id)
            if not (from_kind and to_kind and is_allowed(from_kind, rel.type, to_kind)):
                raise StatetechError(f"importer bug: {rel.from_id} -[{rel.type}]-> {rel.to_id} is not allowed")
            if rel.from_id in new_ids or rel.to_id in new_ids:
                summary.relationships_created[rel.type] += 1
                out.append(rel)
            else:
                to_check.setdefault(rel.type, []).append(rel)
        for rel_type, rels in to_check.items():
            rows = [{"id": r.key, "from": r.from_id, "to": r.to_id} for r in rels]
            anchor = "to" if len({r["to"] for r in rows}) > len({r["from"] for r in rows}) else "from"
            stored = {row["id"]: row["imported_from"] for row in
                      self._read(cypher.existing_relationships(rel_type, anchor), {"rows": rows})}
            for rel in rels:
                if rel.key not in stored:
                    summary.relationships_created[rel_type] += 1
                    out.append(rel)
                elif stored[rel.key] is None or rank(rel.imported_from) < rank(stored[rel.key]):
                    summary.relationships_kept[rel_type] += 1
                else:
                    summary.relationships_updated[rel_type] += 1
                    out.append(rel)
        return out


# --- helpers for importers --------------------------------------------------------------------------------------------


def build(cls: type, file: str, line: int, record_id: str | None, column_of: Callable[[str], str | None] | None = None,
          **data: Any) -> tuple[Any, list[Problem]]:
    """Validate one model record built from a row, turning pydantic errors into located Problems."""
    try:
        return cls.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "record"
            message = err["msg"].removeprefix("Value error, ")
            column = column_of(str(err["loc"][0])) if column_of and err["loc"] else None
            problems.append(Problem(file, line, f"{cls.__name__} field {loc!r}: {message}", record_id=record_id,
                                    column=column))
        return None, problems
