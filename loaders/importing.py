"""Run an importer over files: check everything first, then resolve and write in batches.

Two streaming passes, so bad input writes nothing and memory stays flat:

1. **check**: every file is read end to end; the header is checked before any row, and every row is parsed and
   validated. Problems carry file, line and column. If any file has a wrong header, or any row a problem (unless
   ``skip_invalid``), the import stops here with :class:`ValidationFailed` and the store is untouched.
2. **write**: each usable record becomes sourced, validated records; references to agencies, companies, people and
   products are resolved against the graph (:mod:`statetech.loaders.resolve`); records are written in batches of
   idempotent upserts (``write_records(..., single_transaction=False)``). Importers whose relationships may point
   forward in the file (FtM, LittleSis) go through it once for nodes, then once for relationships.

Each row is parsed once per pass: :meth:`Importer.parse` returns the parsed record (or its problems, or why it is
skipped), and what the write pass converts is what a parse returned, never the raw row parsed again. Importers that
can (``Importer.spools``, the USAspending one) keep what pass 1 parsed in a temporary :class:`Spool` file, and the
write pass reads those parsed values back instead of reading and parsing the input again (so it also writes exactly
what was checked, even if the file changes meanwhile); the others read and parse the file again in pass 2.

Writing is the graph's business (:meth:`statetech.graph.api.Graph.import_`, :mod:`statetech.graph.writer`): it
batches, counts created/updated/kept records, and applies the precedence rule (an import never overwrites a curated
record; a more authoritative import is not overwritten by a less authoritative one, :data:`PRECEDENCE`).
"""

from __future__ import annotations

import math as _math
import re as _re
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel as _pydantic_base
from pydantic import ValidationError
from pydantic_core import PydanticUndefined as _Undefined

from statetech.graph import model as _model
from statetech.graph.dates import check_partial_date
from statetech.graph.errors import Problem, StatetechError, ValidationFailed, did_you_mean
from statetech.graph.model import Node, Relationship, Source
from statetech.graph.writer import (  # noqa: F401 - importers register ranks here
    DEFAULT_BATCH,
    PRECEDENCE,
    ImportCounts,
    rank,
)
from statetech.loaders.common import InputFile, NoProgress, Progress, RowProblem, expand_inputs
from statetech.loaders.resolve import Resolver, ReviewLog

MAX_PROBLEMS_SHOWN = 50
MAX_SKIPPED_SHOWN = 20  # skipped rows listed in the summary; ``report_path`` gets every one


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


FAR_FUTURE_YEARS = 30
_horizon: list[Any] = [None, ""]  # [hour it was computed in, year], read on every row


def _far_future_year() -> str:
    """This year + FAR_FUTURE_YEARS, as text: the calendar is asked once an hour, not on every row."""
    hour = int(time.time() // 3600)
    if _horizon[0] != hour:
        import datetime as _dt

        _horizon[:] = [hour, str(_dt.date.today().year + FAR_FUTURE_YEARS)]
    return _horizon[1]


def date_warnings(file: str, line: int, record_id: str | None, dates: dict[str, str | None],
                  start: str | None = None, end: str | None = None) -> list[RowWarning]:
    """Dates that read but look wrong: ``end`` before ``start`` (often a two-digit year in the wrong century), or a
    date more than :data:`FAR_FUTURE_YEARS` ahead. Warnings naming file:line; the values are kept (the file may be
    right), so an investigator sees them before quoting them."""
    found: list[RowWarning] = []
    first, last = dates.get(start) if start else None, dates.get(end) if end else None
    if first and last:
        n = min(len(first), len(last))
        if last[:n] < first[:n]:
            found.append(RowWarning(file, line, f"end date {last} is before start date {first}", record_id=record_id,
                                    column=end,
                                    hint="check the year (a spreadsheet may have shortened it to two digits)"))
    horizon = _far_future_year()
    for column, value in dates.items():
        if value and value[:4] > horizon:
            found.append(RowWarning(file, line, f"{column} {value} is more than {FAR_FUTURE_YEARS} years ahead",
                                    record_id=record_id, column=column, hint="check the year"))
    return found


CheckResult = list[Problem] | str | None  # what Importer.check returns: problems, a skip reason, or None


@dataclass
class Parsed:
    """One record parsed once: the value :meth:`Importer.convert` takes, or why the record cannot be used.

    ``problems`` may hold :class:`RowWarning` findings, which are reported and do not stop the record.
    """

    value: Any = None
    problems: list[Problem] = field(default_factory=list)
    skip: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not isinstance(p, RowWarning)]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if isinstance(p, RowWarning)]

    @property
    def usable(self) -> bool:
        return self.skip is None and not self.errors


class KeyTally:
    """The keys of a JSON file's records, gathered while pass 1 checks them: keys no field reads (unknown, perhaps
    renamed) and optional keys a record lacks (its field stays empty). JSON has no header to check up front, so
    each key is reported once per file, at the first record that shows it, like a CSV header's columns."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.unknown: dict[tuple[str, str], list] = {}  # (where, key) -> [first line, records, close known key]
        self.missing: dict[tuple[str, str], list] = {}
        self.closed = False  # pass 2 parses the records again: count them once

    def see(self, line: int, where: str, keys, known, optional=()) -> None:
        if self.closed:
            return
        keys = set(keys)
        for key in sorted(k for k in keys if k not in known):
            entry = self.unknown.setdefault((where, key), [line, 0, (did_you_mean(key, sorted(known)) or [None])[0]])
            entry[1] += 1
        for key in optional:
            if key not in keys:
                self.missing.setdefault((where, key), [line, 0, None])[1] += 1

    def notes(self) -> list[Problem]:
        self.closed = True
        notes = []
        for (where, key), (line, count, close) in self.unknown.items():
            notes.append(Problem(self.file_name, line, f"unknown key {key!r} in {where} is not read "
                                 f"({count:,} record{'s' if count != 1 else ''}, the first here)", column=key,
                                 hint=f"is it {close!r} misspelled or renamed? Rename it back" if close
                                 else "check that the file has the expected layout"))
        for (where, key), (line, count, _) in self.missing.items():
            notes.append(Problem(self.file_name, line, f"optional key {key!r} is missing in {where} "
                                 f"({count:,} record{'s' if count != 1 else ''}, the first here): its field stays "
                                 "empty (values stored by earlier imports are kept)", column=key,
                                 hint="check the download; a renamed key can be renamed back"))
        return notes


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
        """The Source for records that carry no link of their own: ``--source-url``, dated ``--source-date`` (else
        unknown: a file's modification day is when it was downloaded, not published), or None without a URL."""
        ds = self.dataset_source
        if not ds.url:
            return None
        published = ds.published
        return Source(id=source_id, url=ds.url, title=ds.title or default_title, publisher=ds.publisher or
                      (urlsplit(ds.url).hostname or "web").removeprefix("www."), published=published)

    @abstractmethod
    def header_problems(self) -> list[Problem]:
        """Structure problems found before reading any record (wrong header, wrong format): reject the file."""

    def column_notes(self) -> list[Problem]:
        """Unknown and missing optional columns (after :meth:`header_problems`): reported, refused by ``strict``."""
        from statetech.loaders.common import CsvStream

        stream = getattr(self, "stream", None)
        return stream.column_notes() if isinstance(stream, CsvStream) else []

    @property
    def _keys(self) -> KeyTally:
        """The tally of this file's record keys; JSON importers call ``self._keys.see(...)`` while parsing."""
        tally = self.__dict__.get("_key_tally")
        if tally is None:
            tally = self._key_tally = KeyTally(self.file.name)
        return tally

    def key_notes(self) -> list[Problem]:
        """Unknown and missing optional keys of JSON records, found while pass 1 checked them (see :class:`KeyTally`):
        reported like :meth:`column_notes`, refused by ``strict``."""
        tally = self.__dict__.get("_key_tally")
        return tally.notes() if tally is not None else []

    @abstractmethod
    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        """Records with a ``.line``, or :class:`RowProblem` for input that could not be read."""

    @abstractmethod
    def parse(self, record: Any) -> Parsed:
        """Parse and validate one record without touching the store (called once per record per pass)."""

    def check(self, record: Any) -> list[Problem] | str | None:
        """Problems, a skip reason, or None: :meth:`parse` for callers that only want the verdict."""
        parsed = self.parse(record)
        return parsed.problems or parsed.skip

    def prepare(self, parsed: Any) -> None:
        """First-pass bookkeeping on a parsed, usable record (e.g. which transaction is an award's latest)."""

    # Importers whose parsed values can be written as plain data (str, float, None, tuples) set ``spools`` and give
    # the two conversions: pass 2 then reads back what pass 1 parsed (:class:`Spool`) instead of reading and
    # parsing the file again.
    spools: ClassVar[bool] = False

    def to_spool(self, parsed: Any) -> Any:
        """A usable parsed value as plain data for :mod:`marshal`."""
        raise NotImplementedError

    def from_spool(self, line: int, data: Any) -> Any:
        """The parsed value :meth:`to_spool` was given, from its plain data."""
        raise NotImplementedError

    @abstractmethod
    def convert(self, parsed: Any, resolver: Resolver, phase: str) -> Emitted:
        """Model records for one parsed record (:attr:`Parsed.value`); references resolved with ``resolver``."""


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


@dataclass(kw_only=True)
class ImportSummary(ImportCounts):
    """What an import read, skipped, found wrong and wrote: the writer's :class:`ImportCounts` (created / updated /
    kept, by kind and type) plus what the importer saw."""

    format: str
    dry_run: bool
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: Counter[str] = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)  # the first MAX_SKIPPED_SHOWN, each with its line
    report_path: str | None = None
    empty_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warnings_total: int = 0
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
            "skipped": [str(p) for p in self.skipped],
            "report_path": self.report_path,
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

    def _note_skip(self, file: str, line: int | None, reason: str, report: Any = None,
                   counted_as: str | None = None) -> None:
        """Count a skipped row under ``counted_as`` (default: its reason), list it (the first few) with its line and
        full reason, and log it to the report."""
        self.rows_skipped[counted_as or reason] += 1
        if len(self.skipped) < MAX_SKIPPED_SHOWN:
            self.skipped.append(Problem(file, line, reason))
        if report is not None:
            report.writerow([file, "" if line is None else line, reason])

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


def run_import(graph, fmt: str, paths: Iterable[str | Path], *, dry_run: bool = False, limit: int | None = None,
               batch_size: int = DEFAULT_BATCH, skip_invalid: bool = False, review_path: str | Path | None = None,
               progress: ProgressFactory | None = None, seeds: Path | None | bool = True,
               dataset_source: DatasetSource | None = None, report_path: str | Path | None = None,
               strict: bool = False) -> ImportSummary:
    """Import ``paths`` in format ``fmt`` into ``graph``; see the module docstring for the two passes and rules.

    ``graph`` is a :class:`~statetech.graph.api.Graph` (a bare store is accepted too). ``dry_run`` checks and
    resolves everything and counts what would change, but writes nothing (not even the review file unless
    ``review_path`` is given). ``limit`` reads only the first N records of each file. ``seeds``: the curated seed
    folder whose aliases help resolution (True: the shipped seeds; None/False: none). ``dataset_source``: the Source
    for records without links of their own (FtM entities without ``sourceUrl``). ``report_path``: a CSV listing
    every skipped row (file, line, reason); the summary lists only the first :data:`MAX_SKIPPED_SHOWN`. ``strict``:
    an unknown or missing optional column refuses the file (otherwise it is a warning in the summary).
    """
    from statetech.graph.api import Graph

    if not isinstance(graph, Graph):
        graph = Graph(graph)
    formats = importer_formats()
    if fmt not in formats:
        raise StatetechError(f"unknown import format {fmt!r}; use one of {', '.join(sorted(formats))}")
    cls = formats[fmt]
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
    report_file = Path(report_path).open("w", encoding="utf-8", newline="") if report_path is not None else None
    try:
        report = None
        if report_file is not None:
            import csv

            report = csv.writer(report_file)
            report.writerow(["file", "line", "reason"])
            summary.report_path = str(report_path)
        with _fewer_collections():
            _run(graph, fmt, cls, importers, summary, report, dry_run=dry_run, limit=limit, batch_size=batch_size,
                 skip_invalid=skip_invalid, review_path=review_path, make_progress=progress or NoProgress,
                 seeds=seeds, strict=strict)
    finally:
        if report_file is not None:
            report_file.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _run(graph, fmt: str, cls: type[Importer], importers: list[Importer], summary: ImportSummary, report: Any, *,
         dry_run: bool, limit: int | None, batch_size: int, skip_invalid: bool, review_path: str | Path | None,
         make_progress: ProgressFactory, seeds: Path | None | bool, strict: bool) -> None:
    spools: dict[Importer, Spool | None] = {}  # what pass 1 parsed, for pass 2 (see Spool)
    try:
        _check_and_write(graph, fmt, cls, importers, summary, report, spools, dry_run=dry_run, limit=limit,
                         batch_size=batch_size, skip_invalid=skip_invalid, review_path=review_path,
                         make_progress=make_progress, seeds=seeds, strict=strict)
    finally:
        for spool in spools.values():
            if spool is not None:
                spool.close()


def _check_and_write(graph, fmt: str, cls: type[Importer], importers: list[Importer], summary: ImportSummary,
                     report: Any, spools: dict[Importer, Spool | None], *, dry_run: bool, limit: int | None,
                     batch_size: int, skip_invalid: bool, review_path: str | Path | None,
                     make_progress: ProgressFactory, seeds: Path | None | bool, strict: bool) -> None:
    # pass 1: check every file before writing anything
    fatal = False
    for importer in importers:
        header = importer.header_problems()
        if header:
            fatal = True
            for problem in header:
                summary._note_problem(problem)
            continue
        for note in importer.column_notes():
            if strict:
                fatal = True
                summary._note_problem(note)
            else:
                summary._note_warning(note)
        bar = make_progress()
        bar.start(f"checking {importer.file.name}", _size(importer.file))
        spool = spools[importer] = Spool.open() if importer.spools and not fatal else None
        try:
            for record in importer.records(bar, limit):
                if isinstance(record, RowProblem):
                    summary._note_problem(record.problem)
                    fatal = fatal or record.fatal or not skip_invalid
                    if not record.fatal:
                        summary._note_skip(record.problem.file, record.problem.line,
                                           f"unreadable row: {record.problem.message}", report,
                                           counted_as="unreadable row")
                    continue
                summary.rows_read += 1
                parsed = importer.parse(record)
                if parsed.problems:
                    for warning in parsed.warnings:
                        summary._note_warning(warning)
                    errors = parsed.errors
                    if errors:
                        for problem in errors:
                            summary._note_problem(problem)
                        fatal = fatal or not skip_invalid
                        summary._note_skip(importer.file.name, _line(record),
                                           "invalid row: " + "; ".join(p.message for p in errors), report,
                                           counted_as="invalid row")
                        continue
                if parsed.skip is not None:
                    summary._note_skip(importer.file.name, _line(record), parsed.skip, report)
                else:
                    importer.prepare(parsed.value)
                    if spool is not None and not fatal:
                        spool.add(_line(record), importer.to_spool(parsed.value))
        finally:
            bar.finish()
            if spool is not None:
                spool.finish()
        summary.empty_rows += getattr(importer, "empty_rows", 0)
        for note in importer.key_notes():
            if strict or fatal:  # a refusal lists them with its problems: a misspelled key often explains those
                fatal = True
                summary._note_problem(note)
            else:
                summary._note_warning(note)
    if fatal:
        raise ImportRefused(fmt, summary.problems, summary.problems_total)

    # pass 2: the records pass 1 parsed (read back from its spool, or the file read and parsed again as it streams
    # by), resolved and handed to the graph's writer
    review = ReviewLog()
    resolver = Resolver.from_graph(graph, dataset=fmt, review=review, seeds=_seed_path(seeds))

    def usable(importer: Importer, bar: Progress) -> Iterator[tuple[int | None, Any]]:
        """(line, parsed value) of every usable record of the importer's file, in file order."""
        spool = spools.get(importer)
        if spool is not None and spool.complete:
            for line, data in spool.entries(bar, _size(importer.file)):
                yield line, importer.from_spool(line, data)
            return
        for record in importer.records(bar, limit):
            if isinstance(record, RowProblem):
                continue
            parsed = importer.parse(record)
            if parsed.usable:  # the others were counted in pass 1
                yield _line(record), parsed.value

    def emitted() -> Iterator[Emitted]:
        for phase in cls.phases:
            for importer in importers:
                bar = make_progress()
                label = "importing" if len(cls.phases) == 1 else f"importing {phase} of"
                bar.start(f"{label} {importer.file.name}", _size(importer.file))
                try:
                    for line, value in usable(importer, bar):
                        out = importer.convert(value, resolver, phase)
                        if out.skip:
                            summary._note_skip(importer.file.name, line, out.skip, report)
                            continue
                        yield out
                finally:
                    bar.finish()

    counts = graph.import_(emitted(), batch_size=batch_size, dry_run=dry_run)
    for counter in fields(ImportCounts):
        setattr(summary, counter.name, getattr(counts, counter.name))
    summary.matched = resolver.matched_counts()
    summary.review_items = len(review)
    if review_path is not None or (not dry_run and len(review)):
        path = Path(review_path) if review_path is not None else Path(f"statetech-review-{fmt}.csv")
        review.write(path)
        summary.review_path = str(path)


# The cyclic garbage collector's first threshold while an import runs (Python's default is 700). Each row allocates
# dozens of short-lived objects (values, records, their dicts), none of them in reference cycles, so the default
# started a young collection every few rows, and the objects alive at that moment (the writer's batch being filled)
# were promoted and walked again by the older generations: about a fifth of a dry run's CPU time at 100k rows. With
# a young generation the size of a batch, most of a batch is freed before it is ever promoted. Collections still
# run (cycles are still freed), just less often; memory was measured unchanged. The count is of objects allocated
# and not yet freed, so at 100,000 a collection still came every ~15,000 award rows (as the resolution maps grew)
# and walked everything young, finding nothing: no collection during an award import, dry or into the embedded
# store, found a single unreachable object (records hold no cycles). At a million, one or two run per 100,000 rows.
IMPORT_GC_THRESHOLD = 1_000_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    import gc

    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], IMPORT_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class Spool:
    """What pass 1 parsed, kept for pass 2 in an unnamed temporary file (deleted when closed, or when the process
    ends): pass 2 reads these entries back instead of reading and parsing the input again, which cost as much as
    the check itself on a 286-column award file. Entries are (line, plain data) in file order, :mod:`marshal`-ed a
    chunk at a time and compressed (zlib level 1: a few times smaller, so a million rows spool a few hundred MB at
    most, even where the temporary folder is in memory).

    A spool that cannot be written (no temporary folder, a full disk) is dropped, and pass 2 reads the file again
    as before: it costs time, never the import.
    """

    CHUNK = 2_000  # entries per marshal call

    def __init__(self, file: IO[bytes]) -> None:
        self._file: IO[bytes] | None = file
        self._pending: list[tuple[int | None, Any]] = []
        self._size = 0
        self.complete = False

    @classmethod
    def open(cls) -> Spool | None:
        import tempfile

        try:
            return cls(tempfile.TemporaryFile(prefix="statetech-import-", suffix=".spool"))
        except OSError:
            return None

    def add(self, line: int | None, data: Any) -> None:
        self._pending.append((line, data))
        if len(self._pending) >= self.CHUNK:
            self._write()

    def _write(self) -> None:
        import marshal
        import zlib

        if self._file is None:
            self._pending = []
            return
        blob = zlib.compress(marshal.dumps(self._pending), 1)
        self._pending = []
        try:
            self._file.write(len(blob).to_bytes(8, "little"))
            self._file.write(blob)
        except OSError:
            self.close()

    def finish(self) -> None:
        """Every entry of the file is in: the spool can stand in for it in pass 2."""
        if self._pending:
            self._write()
        if self._file is not None:
            try:
                self._file.flush()
                self._size = self._file.tell()
                self.complete = True
            except OSError:
                self.close()

    def entries(self, progress: Progress, file_size: int) -> Iterator[tuple[int | None, Any]]:
        """The entries in the order they were added; ``progress`` counts towards the input's size, as a read of
        the input would."""
        import marshal
        import zlib

        assert self._file is not None and self.complete
        self._file.seek(0)
        read = self._file.read
        done = 0
        while done < self._size:
            length = int.from_bytes(read(8), "little")
            chunk = marshal.loads(zlib.decompress(read(length)))
            done += 8 + length
            yield from chunk
            progress.update(file_size * done // self._size)
        progress.update(file_size)

    def close(self) -> None:
        self.complete = False
        self._pending = []
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None


def _line(record: Any) -> int | None:
    return getattr(record, "line", None)


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


# --- helpers for importers --------------------------------------------------------------------------------------------


def build(cls: type, file: str, line: int, record_id: str | None, column_of: Callable[[str], str | None] | None = None,
          **data: Any) -> tuple[Any, list[Problem]]:
    """Validate one model record built from a row, turning pydantic errors into located Problems."""
    made = checked_record(cls, data)
    if made is not None:
        return made, []
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


# --- records checked by hand ------------------------------------------------------------------------------------------
#
# An award file yields a contract, its source and two or three relationships per row, and pydantic's validation of
# them (two Python field validators on every field of the model) was the largest single cost of converting a row.
# Most rows hold values the model would take unchanged, so for the record classes importers make per row the fields
# are checked here, each by the same rule the model applies, and the record is made directly. A value that fails a
# check here (or a field this table does not know) is left to pydantic, which accepts or refuses it with its own
# message: the hand checks only ever decide "the model would accept this unchanged", never "refuse". The table is
# used only while the model's validators are the ones it was written against (``_HAND_CHECKED_VALIDATORS``); a
# changed model switches it off until it is reviewed. tests/test_import_records.py compares records made both ways,
# good and odd values alike, and every record the USAspending fixtures produce.

# The rule of each field, as the model applies it to the kinds of value importers give (text, floats, lists of text).
# TEXT, AMOUNT, DATE: optional; STRING: text, possibly empty; REQUIRED_TEXT: text, not empty.
TEXT, STRING, REQUIRED_TEXT, AMOUNT, DATE, TEXT_LIST, SOURCE_IDS, CONTRACT_ID, SOURCE_ID, URL = range(10)
AGENCY_ID, COMPANY_ID = range(10, 12)
_SLUG_ID = {CONTRACT_ID: _re.compile(r"^contract:[a-z0-9][a-z0-9._-]*$"),
            SOURCE_ID: _re.compile(r"^source:[a-z0-9][a-z0-9._-]*$"),
            AGENCY_ID: _re.compile(r"^agency:[a-z0-9][a-z0-9._-]*$"),
            COMPANY_ID: _re.compile(r"^company:[a-z0-9][a-z0-9._-]*$"),
            URL: _re.compile(r"^https?://[^\s/$.?#][^\s]*$")}


def _valid_date(value: str) -> bool:
    """The model's partial-date rule (for a stripped text value); remembered, since a file's dates repeat (a few
    thousand days), in a dict: its lookup is a fraction of an lru_cache's, on two or three values of every row."""
    known = _valid_dates.get(value)
    if known is None:
        try:
            check_partial_date(value)
            known = True
        except ValueError:
            known = False
        if len(_valid_dates) >= VALID_DATES_KEPT:  # bounded: memory stays flat whatever the file holds
            _valid_dates.clear()
        _valid_dates[value] = known
    return known


_valid_dates: dict[str, bool] = {}
VALID_DATES_KEPT = 8192


# One function per rule, True when the model would accept the value under that rule and keep it unchanged. Each
# field's function is looked up once per class (_MADE_BY_HAND), so a record's check is one call per field instead
# of a walk down a chain of rule tests for every field of every record.


def _text(value: Any) -> bool:
    # str_strip_whitespace: a value already stripped is the value the model keeps (Python's strip removes a superset
    # of what pydantic-core's trim removes)
    return value is None or (type(value) is str and value == value.strip())


def _string(value: Any) -> bool:
    return type(value) is str and value == value.strip()


def _required_text(value: Any) -> bool:
    return type(value) is str and value != "" and value == value.strip()


def _amount(value: Any) -> bool:
    # a float the stores can hold (ints and text are pydantic's to convert)
    return value is None or (type(value) is float and _math.isfinite(value))


def _date(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is not str:
        return False
    known = _valid_dates.get(value)  # _valid_date's memo, asked here first: most dates are in it
    return known if known is not None else value == value.strip() and _valid_date(value)


def _text_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    for item in value:
        if type(item) is not str or item != item.strip():
            return False
    return True


def _source_ids(value: Any) -> bool:
    if type(value) is not list or not value:
        return False
    for item in value:
        if type(item) is not str or item != item.strip() or item[:7] != "source:":
            return False
    return True


def _matching(pattern: _re.Pattern) -> Callable[[Any], bool]:
    match = pattern.match

    def check(value: Any) -> bool:
        return type(value) is str and value == value.strip() and match(value) is not None

    return check


def _one_of(choices: frozenset) -> Callable[[Any], bool]:
    """A Literal's choices (None among them when the field is optional)."""
    def check(value: Any) -> bool:
        return None in choices if value is None else type(value) is str and value in choices

    return check


_RULES: dict[int, Callable[[Any], bool]] = {
    TEXT: _text, STRING: _string, REQUIRED_TEXT: _required_text, AMOUNT: _amount, DATE: _date,
    TEXT_LIST: _text_list, SOURCE_IDS: _source_ids, **{rule: _matching(pattern) for rule, pattern in _SLUG_ID.items()},
}


def _check_of(rule: Any) -> Callable[[Any], bool]:
    """The function telling whether the model would accept a value under ``rule`` and keep it unchanged."""
    return _one_of(rule) if type(rule) is frozenset else _RULES[rule]


def _choices(cls: type, name: str) -> frozenset:
    """The values a Literal field takes (None too when it is optional); anything else in its type is left out, so
    the check stays on the safe side (a value outside the set goes to pydantic)."""
    from typing import Literal, get_args, get_origin

    found: set[Any] = set()

    def walk(annotation: Any) -> None:
        if get_origin(annotation) is Literal:
            found.update(get_args(annotation))
        elif annotation is type(None):
            found.add(None)
        else:
            for inner in get_args(annotation):
                walk(inner)

    walk(cls.model_fields[name].annotation)
    return frozenset(found)


_CONFIDENCE = frozenset(_model.CONFIDENCE_LEVELS)
_HAND_CHECKS: dict[type, dict[str, Any]] = {
    _model.Source: {"id": SOURCE_ID, "url": URL, "title": REQUIRED_TEXT, "publisher": REQUIRED_TEXT,
                    "published": DATE},
    _model.Contract: {
        "id": CONTRACT_ID, "name": REQUIRED_TEXT, "sources": SOURCE_IDS, "confidence": _CONFIDENCE,
        "imported_from": TEXT, "external_ids": TEXT_LIST, "award_id": TEXT,
        "award_type": frozenset((*_model.AwardType.__args__, None)),
        "obligated_usd": AMOUNT, "current_usd": AMOUNT, "potential_usd": AMOUNT, "start_date": DATE,
        "end_date": DATE, "description": TEXT, "naics": TEXT, "psc": TEXT, "notes": TEXT,
    },
    # the entities an award row names (agencies, recipients), with the fields importers give them
    _model.Agency: {
        "id": AGENCY_ID, "name": REQUIRED_TEXT, "sources": SOURCE_IDS, "confidence": _CONFIDENCE,
        "imported_from": TEXT, "external_ids": TEXT_LIST, "agency_code": TEXT, "country": TEXT,
        "level": _choices(_model.Agency, "level"),
    },
    _model.Company: {
        "id": COMPANY_ID, "name": REQUIRED_TEXT, "sources": SOURCE_IDS, "confidence": _CONFIDENCE,
        "imported_from": TEXT, "external_ids": TEXT_LIST, "uei": TEXT, "duns": TEXT, "country": TEXT,
    },
    _model.Relationship: {
        "from_id": STRING, "to_id": STRING, "type": frozenset(_model.RELATIONSHIP_TYPES), "sources": SOURCE_IDS,
        "confidence": _CONFIDENCE, "imported_from": TEXT, "from_match": frozenset((*_model.MATCH_METHODS, None)),
        "to_match": frozenset((*_model.MATCH_METHODS, None)), "amount_usd": AMOUNT,
    },
}
# The validators each class had when its checks above were written; any other set switches the table off for it.
_HAND_CHECKED_VALIDATORS = {
    _model.Source: {"_dates_as_strings", "_fits_the_store"},
    _model.Contract: {"_dates_as_strings", "_fits_the_store", "_id_has_kind_prefix", "_sources_are_source_ids"},
    _model.Agency: {"_dates_as_strings", "_fits_the_store", "_id_has_kind_prefix", "_sources_are_source_ids"},
    _model.Company: {"_dates_as_strings", "_fits_the_store", "_id_has_kind_prefix", "_sources_are_source_ids"},
    _model.Relationship: {"_dates_as_strings", "_fits_the_store", "_known_type", "_sources_are_source_ids"},
}


def _defaults(cls: type) -> tuple[dict[str, Any], tuple[str, ...], frozenset[str]]:
    """The model's fields in order with their plain defaults (None for the rest, filled below), the fields whose
    default is made by a factory, and the required fields."""
    plain, factories, required = {}, [], set()
    for name, info in cls.model_fields.items():
        plain[name] = None
        if info.default_factory is not None:
            factories.append(name)
        elif info.default is not _Undefined:
            plain[name] = info.default
        else:
            required.add(name)
    return plain, tuple(factories), frozenset(required)


def _usable(cls: type) -> bool:
    decorators = cls.__pydantic_decorators__
    factories = _defaults(cls)[1]
    return (set(decorators.field_validators) == _HAND_CHECKED_VALIDATORS[cls] and not decorators.model_validators
            and set(_HAND_CHECKS[cls]) <= set(cls.model_fields)
            and all(cls.model_fields[f].default_factory is list for f in factories)
            # a list field given a value is checked as a list (checked_record copies it)
            and all(_HAND_CHECKS[cls].get(f, TEXT_LIST) in (TEXT_LIST, SOURCE_IDS) for f in factories))


@dataclass(frozen=True)
class _HandMade:
    """What making a class's records by hand needs, worked out once per class."""

    checks: dict[str, Callable[[Any], bool]]  # field name -> its rule's function
    plain: dict[str, Any]  # every field in the model's order, with its plain default (None for factories)
    factories: tuple[str, ...]  # fields whose default is a new empty list
    required: frozenset[str]
    lists: tuple[str, ...]  # the other fields whose rule takes a list (a given list is copied)

    @classmethod
    def of(cls, model: type, rules: dict[str, Any]) -> _HandMade:
        plain, factories, required = _defaults(model)
        lists = tuple(name for name, rule in rules.items()
                      if type(rule) is not frozenset and rule in (TEXT_LIST, SOURCE_IDS) and name not in factories)
        return cls({name: _check_of(rule) for name, rule in rules.items()}, plain, factories, required, lists)


_MADE_BY_HAND = {cls: _HandMade.of(cls, checks) for cls, checks in _HAND_CHECKS.items() if _usable(cls)}

# Setting an instance's slots through their descriptors, as pydantic's model_construct does with
# object.__setattr__ (which would look each one up by name on every record).
_set_dict = _pydantic_base.__dict__["__dict__"].__set__
_set_fields_set = _pydantic_base.__dict__["__pydantic_fields_set__"].__set__
_set_extra = _pydantic_base.__dict__["__pydantic_extra__"].__set__
_set_private = _pydantic_base.__dict__["__pydantic_private__"].__set__


def _new_record(cls: type, values: dict[str, Any], fields_set: set[str]) -> Any:
    record = cls.__new__(cls)
    _set_dict(record, values)
    _set_fields_set(record, fields_set)
    _set_extra(record, None)
    _set_private(record, None)
    return record


def checked_record(cls: type, data: dict[str, Any]) -> Any:
    """``cls(**data)`` made without pydantic when every field passes the model's rule by hand, else None.

    Only for the fields in :data:`_HAND_CHECKS` (data keys are field names, not aliases); any other key, a missing
    required field, or a value a check does not accept returns None, and the caller validates with pydantic as usual.
    """
    made = _MADE_BY_HAND.get(cls)
    if made is None:
        return None
    if not made.required <= data.keys():  # pydantic says which field is missing
        return None
    checks = made.checks
    for name, value in data.items():
        check = checks.get(name)
        if type(value) is str and (check is _text or check is _string):  # most fields: checked here, without a call
            if value != value.strip():
                return None
        elif check is None or not check(value):
            return None
    values = {**made.plain, **data}  # every key of data is a field: the model's field order is kept
    # lists copied, as pydantic copies them: records sharing one list (a row's source ids) stay independent
    for name in made.factories:  # every factory is ``list`` (checked in _usable)
        value = values[name]
        values[name] = [] if value is None else value.copy()
    for name in made.lists:
        value = values[name]
        if type(value) is list:
            values[name] = value.copy()
    return _new_record(cls, values, set(data))


def make_record(cls: type, **data: Any) -> Any:
    """``cls(**data)``, by hand when :func:`checked_record` can (field names, not aliases, as keys)."""
    made = checked_record(cls, data)
    return made if made is not None else cls.model_validate(data)


class RecordMaker:
    """Records of one class that share some fields: ``maker(**varying)`` equals ``make_record(cls, **fixed,
    **varying)``.

    An importer makes the same kinds of record on every row (an award's AWARDED and AWARDED_TO relationships, with
    the dataset's confidence and tag), so the shared fields are checked once, when the maker is made, and each record
    checks only the fields that vary. Whenever a value is one the hand checks cannot vouch for (or the class has no
    hand checks), the record is made by :func:`make_record`, so pydantic accepts or refuses it as usual.
    """

    def __init__(self, cls: type, **fixed: Any) -> None:
        self.cls = cls
        self.fixed = fixed
        self._ready: tuple | None = None
        made = _MADE_BY_HAND.get(cls)
        if made is None:
            return
        checks = made.checks
        for name, value in fixed.items():
            check = checks.get(name)
            if check is None or not check(value):
                return
        base = {**made.plain, **{name: [] for name in made.factories}, **fixed}  # the model's field order
        # every record gets lists of its own, as pydantic gives them: the shared ones, and any list given
        copied = tuple(name for name, value in base.items() if type(value) is list or name in made.lists)
        self._ready = (checks, base, copied, made.required - fixed.keys(), frozenset(fixed))

    def __call__(self, **varying: Any) -> Any:
        ready = self._ready
        if ready is not None:
            checks, base, copied, required, fixed_names = ready
            for name, value in varying.items():
                check = checks.get(name)
                if name in fixed_names:
                    break
                if type(value) is str and (check is _text or check is _string):  # as in checked_record
                    if value != value.strip():
                        break
                elif check is None or not check(value):
                    break
            else:
                if required <= varying.keys():
                    values = {**base, **varying}
                    for name in copied:
                        value = values[name]
                        if type(value) is list:
                            values[name] = value.copy()
                    return _new_record(self.cls, values, fixed_names | varying.keys())
        return make_record(self.cls, **self.fixed, **varying)
