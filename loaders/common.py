"""Streaming readers for public datasets: CSV and JSON(L) rows with their line numbers, messy values, progress.

Everything here streams: one row in memory at a time (plus one row of look-ahead, so a short last row can be
reported as a truncated file rather than a bad row). Files may be plain, ``.gz`` or ``.zip`` (each CSV/JSON member
read in turn), with or without a UTF-8 BOM, with LF or CRLF line endings. Problems are reported as
:class:`~statetech.graph.errors.Problem` values naming the file, line and column, never raised from the middle of a
stream, so a checking pass can collect every problem of a file in one go.
"""

from __future__ import annotations

import ast
import codecs
import csv
import datetime as _dt
import gzip
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Protocol

from statetech.graph.errors import Problem, did_you_mean
from statetech.graph.ids import short_hash, slug  # noqa: F401 - importers take them from here

csv.field_size_limit(64 * 1024 * 1024)  # Atlas summaries and FtM descriptions can be long; the default is 128 KiB


# --- progress ---------------------------------------------------------------------------------------------------------


class Progress(Protocol):
    """What a reader reports to: the CLI passes a progress bar; the library default does nothing."""

    def start(self, label: str, total: int) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def finish(self) -> None:
        pass


PROGRESS_EVERY = 2000  # rows between progress updates: cheap enough not to show in the profile


# --- input files --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    """One readable stream: a plain or gzipped file, or one member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def size(self) -> int:
        """Bytes the progress bar counts to: the member's uncompressed size, else the file's size on disk."""
        if self.member:
            with zipfile.ZipFile(self.path) as archive:
                return archive.getinfo(self.member).file_size
        return self.path.stat().st_size

    def open_binary(self) -> tuple[IO[bytes], Callable[[], int]]:
        """The byte stream and a function giving the position the progress bar should show."""
        if self.member:
            archive = zipfile.ZipFile(self.path)
            stream = archive.open(self.member)
            return _Closing(stream, archive), stream.tell
        raw = self.path.open("rb")
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return _Closing(gzip.GzipFile(fileobj=raw), raw), raw.tell
        raw.seek(0)
        return raw, raw.tell


class _Closing(io.RawIOBase):
    """A readable stream that also closes the container it came from."""

    def __init__(self, inner: IO[bytes], outer: Any) -> None:
        self._inner, self._outer = inner, outer

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def close(self) -> None:
        try:
            self._inner.close()
            self._outer.close()
        finally:
            super().close()


def expand_inputs(paths: Iterable[str | Path], suffixes: Sequence[str]) -> tuple[list[InputFile], list[Problem]]:
    """Files as given; a zip archive contributes its members whose names end in one of ``suffixes``."""
    files: list[InputFile] = []
    problems: list[Problem] = []
    for raw in paths:
        if str(raw) == "-":
            problems.append(Problem("-", None, "imports read a file twice (check, then write), so stdin cannot be used",
                                    hint="save the data to a file and pass its path"))
            continue
        path = Path(raw)
        if not path.exists():
            problems.append(Problem(str(path), None, "file not found", hint="check the path"))
            continue
        if path.is_dir():
            problems.append(Problem(str(path), None, "is a folder", hint="pass the data files themselves"))
            continue
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
            if any(n.startswith("xl/") for n in names):
                problems.append(Problem(str(path), None, "this is an Excel workbook, not a CSV file",
                                        hint="open it and save as 'CSV UTF-8 (Comma delimited)'"))
                continue
            members = [n for n in names if n.lower().endswith(tuple(suffixes))]
            if not members:
                problems.append(Problem(str(path), None, f"the archive has no {' / '.join(suffixes)} files",
                                        hint=f"it holds: {', '.join(names[:5]) or 'nothing'}"))
            files.extend(InputFile(path, m) for m in sorted(members))
            continue
        files.append(InputFile(path))
    return files, problems


def text_stream(file: InputFile, errors: str = "strict") -> tuple[IO[str], Callable[[], int]]:
    """UTF-8 text (a BOM is dropped), with universal newlines left to the CSV reader (``newline=''``).

    CSV is read with ``errors="surrogateescape"``: a byte that is not UTF-8 survives as a lone surrogate, so the row
    holding it can be reported with its line and column instead of failing the whole chunk it was decoded in.
    """
    binary, position = file.open_binary()
    if not isinstance(binary, io.BufferedIOBase):
        binary = io.BufferedReader(binary, buffer_size=_CHUNK)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors=errors, newline=""), position


def sniff_kind(file: InputFile) -> str:
    """'json', 'csv', 'excel', 'binary' or 'empty', from the first bytes: used to reject the wrong format early."""
    binary, _ = file.open_binary()
    try:
        head = binary.read(4096)
    finally:
        binary.close()
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    stripped = head.lstrip()
    if not stripped:
        return "empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    if b"\x00" in head:
        return "binary"
    if stripped[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def wrong_kind_problem(file: InputFile, kind: str, expected: str) -> Problem | None:
    """A Problem when the file's first bytes show it is not ``expected`` ('csv' or 'json')."""
    if kind == expected:
        return None
    if kind == "empty":
        return Problem(file.name, 1, "file is empty", hint="download it again")
    if kind == "excel":
        return Problem(file.name, 1, "this is an Excel workbook, not a CSV file",
                       hint="open it and save as 'CSV UTF-8 (Comma delimited)'")
    if kind == "binary":
        return Problem(file.name, 1, "this is not a text file", hint="check that you passed the data file")
    if kind == "json":
        return Problem(file.name, 1, "this file is JSON, not CSV", hint="use the importer for this JSON format")
    return Problem(file.name, 1, "this file is CSV (or other text), not JSON",
                   hint="use the importer for this CSV format")


# --- CSV --------------------------------------------------------------------------------------------------------------


def column_key(name: str) -> str:
    """Header names compared loosely: case, spaces, punctuation and a stray BOM do not matter."""
    return re.sub(r"[^a-z0-9]+", "_", name.replace("\ufeff", "").strip().lower()).strip("_")


@dataclass
class CsvSpec:
    """The columns an importer reads: required ones reject the file when absent; ``renames`` map older names."""

    format_label: str
    required: Sequence[str]
    optional: Sequence[str] = ()
    # canonical name -> other names upstream has used for it (older downloads, spreadsheet edits)
    renames: dict[str, Sequence[str]] = field(default_factory=dict)
    # alternatives: at least one column of each group must be present
    one_of: Sequence[Sequence[str]] = ()
    # columns upstream writes that the importer deliberately does not read; any other column is reported as unknown
    ignored: Sequence[str] = ()


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]
    present: frozenset[str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class RowProblem:
    """A row the reader could not turn into values (wrong field count, broken quoting, bad bytes)."""

    problem: Problem
    fatal: bool = False  # the rest of the file cannot be read


class CsvStream:
    """Header check first (:attr:`header_problems`), then :meth:`rows` streams values of the spec's columns."""

    def __init__(self, file: InputFile, spec: CsvSpec) -> None:
        self.file = file
        self.spec = spec
        self.header: list[str] = []
        self.header_problems: list[Problem] = []
        self.columns: dict[str, int] = {}
        self.empty_rows = 0
        self._check_header()
        self.present = frozenset(self.columns)  # the columns every row has values for, in CsvRow.present

    def column_notes(self) -> list[Problem]:
        """Header findings that do not stop an import: a column no field reads (unknown, perhaps renamed), and an
        optional column that is absent (its field stays empty on every row). ``--strict`` refuses them."""
        if self.header_problems or not self.header:
            return []
        read = set(self.columns.values())
        ignored = {column_key(c) for c in self.spec.ignored}
        unknown = [h for i, h in enumerate(self.header)
                   if i not in read and column_key(h) and column_key(h) not in ignored]
        missing = [c for c in self.spec.optional if c not in self.columns]
        notes = []
        for name in unknown:
            close = did_you_mean(name, missing, cutoff=0.6)
            notes.append(Problem(self.file.name, 1, f"unknown column {name!r} is not read", column=name,
                                 hint=f"is it {close[0]!r} renamed? Rename it back" if close
                                 else "check that the file has the expected layout"))
        for name in missing:
            notes.append(Problem(self.file.name, 1, f"optional column {name!r} is missing: its field stays empty "
                                 "(values stored by earlier imports are kept)", column=name,
                                 hint="check the download; a renamed column can be renamed back"))
        return notes

    def _check_header(self) -> None:
        kind = sniff_kind(self.file)
        wrong = wrong_kind_problem(self.file, kind, "csv")
        if wrong:
            self.header_problems.append(wrong)
            return
        text, _ = text_stream(self.file, errors="surrogateescape")
        try:
            reader = csv.reader(text, strict=True)
            self.header = next(reader, [])
            if _not_utf8(self.header):
                self.header_problems.append(Problem(self.file.name, 1, "not UTF-8 text",
                                                    hint="save the file as UTF-8 ('CSV UTF-8' in Excel)"))
                return
        except (csv.Error, UnicodeDecodeError) as exc:
            self.header_problems.append(Problem(self.file.name, 1, f"cannot read the header row: {exc}"))
            return
        finally:
            text.close()
        by_key: dict[str, int] = {}
        for index, name in enumerate(self.header):
            by_key.setdefault(column_key(name), index)
        for canonical in (*self.spec.required, *self.spec.optional, *(c for g in self.spec.one_of for c in g)):
            for candidate in (canonical, *self.spec.renames.get(canonical, ())):
                if column_key(candidate) in by_key:
                    self.columns[canonical] = by_key[column_key(candidate)]
                    break
        missing = [c for c in self.spec.required if c not in self.columns]
        for group in self.spec.one_of:
            if not any(c in self.columns for c in group):
                missing.append(" or ".join(group))
        expected = len(self.spec.required) + len(self.spec.one_of)
        if expected > 2 and len(missing) > expected / 2:
            self.header_problems.append(Problem(
                self.file.name, 1, f"this is not a {self.spec.format_label}: {len(missing)} of its {expected} "
                f"required columns are missing ({', '.join(missing)})",
                hint=f"the file's header starts {', '.join(self.header[:4])!s}; check the file and the format"))
            return
        for name in missing:
            close = did_you_mean(name, self.header, cutoff=0.7)
            hint = (f"did you mean {close[0]!r}?" if close
                    else f"is this a {self.spec.format_label}? Its header has these columns")
            self.header_problems.append(Problem(self.file.name, 1, f"missing column {name!r}", column=name,
                                                hint=hint))

    def rows(self, progress: Progress | None = None, limit: int | None = None) -> Iterator[CsvRow | RowProblem]:
        """Rows after the header, each with the line it starts on; ``limit`` counts non-empty rows."""
        progress = progress or NoProgress()
        text, position = text_stream(self.file, errors="surrogateescape")
        width = len(self.header)
        wanted = list(self.columns.items())
        present = self.present
        self._names = [c for c, _ in wanted]
        self._pick = itemgetter(*(i for _, i in wanted)) if len(wanted) > 1 else None
        name = self.file.name
        reader = csv.reader(text, strict=True)
        count = 0
        try:
            next(reader, None)
            previous_end = reader.line_num
            pending: tuple[int, list[str]] | None = None
            while True:
                try:
                    row = next(reader, None)
                except csv.Error as exc:
                    if pending is not None:
                        yield self._emit(pending, width, wanted, present, last=False)
                    yield RowProblem(Problem(name, previous_end + 1, f"cannot parse CSV: {exc}",
                                             hint="a quote is probably not closed; if this is the last line, "
                                                  "the file was cut off: download it again"), fatal=True)
                    return
                except UnicodeDecodeError as exc:
                    yield RowProblem(Problem(name, previous_end + 1, f"not UTF-8 text ({exc.reason})",
                                             hint="save the file as UTF-8 ('CSV UTF-8' in Excel)"), fatal=True)
                    return
                if row is None:
                    break
                start = previous_end + 1
                previous_end = reader.line_num
                if not row or all(not v.strip() for v in row):
                    self.empty_rows += 1
                    continue
                if pending is not None:
                    yield self._emit(pending, width, wanted, present, last=False)
                    count += 1
                    if limit is not None and count >= limit:
                        return
                    if count % PROGRESS_EVERY == 0:
                        progress.update(position())
                pending = (start, row)
            if pending is not None and (limit is None or count < limit):
                yield self._emit(pending, width, wanted, present, last=True)
        finally:
            progress.update(position())
            text.close()

    def _emit(self, pending: tuple[int, list[str]], width: int, wanted: list[tuple[str, int]],
              present: frozenset[str], last: bool) -> CsvRow | RowProblem:
        """One read row as values, or as the problem that keeps it from being read (a plain call: a generator
        per row cost more than the checks)."""
        line, row = pending
        if _not_utf8(row):
            index = next(i for i, v in enumerate(row) if _not_utf8([v]))
            column = self.header[index] if index < len(self.header) else f"#{index + 1}"
            bad = next(c for c in row[index] if "\udc80" <= c <= "\udcff")
            return RowProblem(Problem(self.file.name, line, f"not UTF-8 text (byte 0x{ord(bad) - 0xdc00:02x})",
                                      column=column, hint="save the file as UTF-8 ('CSV UTF-8' in Excel)"))
        if len(row) != width:
            extra_empty = len(row) > width and not any(v.strip() for v in row[width:])
            if not extra_empty:
                if len(row) < width and last:
                    return RowProblem(Problem(self.file.name, line,
                                              f"last row has {len(row)} of {width} fields: the file looks truncated",
                                              hint="download it again, or delete the incomplete last line"))
                return RowProblem(Problem(self.file.name, line, f"row has {len(row)} fields, the header has {width}",
                                          hint="a value probably holds an unquoted comma or line break; quote it"))
        if len(row) >= width and len(wanted) > 1:  # every wanted column is there: one C call picks them
            return CsvRow(line, dict(zip(self._names, self._pick(row))), present)
        return CsvRow(line, {c: row[i] if i < len(row) else "" for c, i in wanted}, present)


def _not_utf8(values: list[str]) -> bool:
    joined = "".join(values)
    if joined.isascii():  # a flag Python keeps on every string: most rows need no encoding to tell
        return False
    try:
        joined.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


# --- JSON -------------------------------------------------------------------------------------------------------------


@dataclass
class JsonValue:
    line: int
    value: Any


_WS = re.compile(r"[ \t\r\n]*")
_CHUNK = 1 << 16
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape keeps it


class JsonStream:
    """Top-level JSON values one at a time: JSON Lines, concatenated documents, or the elements of a top-level array.

    A small incremental parser over :meth:`json.JSONDecoder.raw_decode`, so a multi-GB array never sits in memory
    and every value knows the line it starts on.
    """

    def __init__(self, file: InputFile) -> None:
        self.file = file
        self.top_level_array = False

    def values(self, progress: Progress | None = None, limit: int | None = None,
               unwrap_array: bool = True) -> Iterator[JsonValue | RowProblem]:
        progress = progress or NoProgress()
        # undecodable bytes survive as lone surrogates, so the line holding one can be named (a strict decoder
        # fails on the whole 64 KiB chunk, far from the byte)
        text, position = text_stream(self.file, errors="surrogateescape")
        decoder = json.JSONDecoder()
        buf = ""
        pos = 0
        line = 1
        eof = False
        in_array = False
        count = 0
        name = self.file.name

        def fill() -> bool:
            nonlocal buf, pos, eof
            if eof:
                return False
            chunk = text.read(_CHUNK)
            if not chunk:
                eof = True
                return False
            bad = _UNDECODABLE.search(chunk)
            buf = buf[pos:] + chunk
            pos = 0
            if bad:  # ``line`` is the line of ``pos``, now the start of ``buf``
                at = len(buf) - len(chunk) + bad.start()
                raise _Stop(Problem(name, line + buf.count("\n", 0, at),
                                    f"not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02X})",
                                    hint="save the file as UTF-8"))
            return True

        def skip_ws() -> None:
            nonlocal pos, line
            while True:
                match = _WS.match(buf, pos)
                line += buf.count("\n", pos, match.end())
                pos = match.end()
                if pos < len(buf) or not fill():
                    return

        try:
            skip_ws()
            if pos < len(buf) and buf[pos] == "[" and unwrap_array:
                in_array = True
                self.top_level_array = True
                pos += 1
                skip_ws()
                if pos < len(buf) and buf[pos] == "]":
                    return
            while True:
                skip_ws()
                if pos >= len(buf):
                    if in_array:
                        raise _Stop(Problem(name, line, "the JSON array is not closed: the file looks truncated",
                                            hint="download it again"))
                    return
                start_line = line
                while True:
                    try:
                        value, end = decoder.raw_decode(buf, pos)
                        break
                    except json.JSONDecodeError as exc:
                        if fill():
                            continue
                        truncated = not buf[exc.pos:].strip() or "Unterminated" in exc.msg
                        # a value cut off by the end of the file is reported where it starts
                        at = start_line if truncated else start_line + buf.count("\n", pos, exc.pos)
                        raise _Stop(Problem(
                            name, at, f"invalid JSON: {exc.msg}" + (" (the file looks truncated)" if truncated else ""),
                            hint="download it again" if truncated else "check the JSON syntax near this line"))
                line += buf.count("\n", pos, end)
                pos = end
                yield JsonValue(start_line, value)
                count += 1
                if count % PROGRESS_EVERY == 0:
                    progress.update(position())
                if limit is not None and count >= limit:
                    return
                skip_ws()
                if in_array:
                    if pos < len(buf) and buf[pos] == ",":
                        pos += 1
                        continue
                    if pos < len(buf) and buf[pos] == "]":
                        pos += 1
                        in_array = False
                        skip_ws()
                        if pos < len(buf):
                            raise _Stop(Problem(name, line, "unexpected data after the closing ']'"))
                        return
                    raise _Stop(Problem(name, line, "expected ',' or ']' between array elements"
                                        if pos < len(buf) else "the JSON array is not closed: the file looks truncated",
                                        hint="download it again" if pos >= len(buf) else None))
        except _Stop as stop:
            yield RowProblem(stop.problem, fatal=True)
        finally:
            progress.update(position())
            text.close()


class _Stop(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


# --- messy values -----------------------------------------------------------------------------------------------------


class BadValue(ValueError):
    """A value that cannot be read; the message says what was expected."""


_AMOUNT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


_PLAIN_AMOUNT = re.compile(r"\d+(?:\.\d*)?")


def parse_amount(text: str | None) -> float | None:
    """Money as spreadsheets and downloads write it: '1234', '1,234.50', '$1,234', '(1,234.00)', '-$5', '1.2E+06'."""
    if text is None or text == "":  # the commonest values of a download's amount columns
        return None
    if type(text) is str and _PLAIN_AMOUNT.fullmatch(text):  # what downloads write: digits and cents, read as-is
        return float(text)
    value = str(text).strip()
    if value in ("", "-", "—", "N/A", "n/a", "NULL", "null", "None"):
        return None
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    if value.startswith("-"):
        negative, value = not negative, value[1:].strip()
    value = value.removeprefix("US$").removeprefix("$").removeprefix("USD").strip()
    if value.startswith("-"):
        negative, value = not negative, value[1:].strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", value):
        value = value.replace(",", "")
    if not _AMOUNT_RE.match(value):
        raise BadValue(f"{text!r} is not an amount of money")
    number = float(value)
    return -number if negative else number


def parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    value = str(text).strip().replace(",", "")
    if value in ("", "None", "null", "NULL", "nan", "NaN"):
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadValue(f"{text!r} is not a whole number") from None
    if number != int(number):
        raise BadValue(f"{text!r} is not a whole number")
    return int(number)


_ISO = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?$")


def parse_date(text: str | None) -> str | None:
    """An ISO date string (day, month or year precision) from what real files hold.

    ISO ('2017-12-22', '2017-12-22 00:00:00', '2017/12/22'), US spreadsheet style ('12/22/17', '12/22/2017': these
    files are American, so month first), bare years ('2019'), month names ('September 12, 2019', 'Sept. 2019'), and
    partial dates with zeros ('1856-00-00', LittleSis) kept at the precision given.

    Two-digit years (a spreadsheet re-save turns 2032-09-30 into 9/30/32) take the century that puts them within
    70 years before and 30 years after today, not Excel's fixed 1930 pivot, which made a contract ending in 2032 end
    in 1932. A date that still lands before its start, or far ahead, is the importer's warning to give.
    """
    if text is None or text == "":
        return None
    if type(text) is str:
        known = _year_first.get(text)
        if known is not None:
            return known
    value = str(text).strip()
    if not value:
        return None
    # year first: read without today's date (only two-digit years need it), so the reading can be kept
    if value[:4].isdigit() and type(text) is str:
        reading = _parse_date(value, text)
        if len(_year_first) >= YEAR_FIRST_KEPT:
            _year_first.clear()
        _year_first[text] = reading
        return reading
    return _parse_date(value, text)


def _parse_date(value: str, text: Any) -> str:
    """:func:`parse_date` of a stripped, non-empty ``value``; ``text`` as given, for the messages."""
    match = _ISO.match(value)
    if match:
        year, month, day = match.groups()
        month = None if month in (None, "0", "00") else int(month)
        day = None if day in (None, "0", "00") or month is None else int(day)
        return _checked(value, int(year), month, day)
    match = _US.match(value)
    if match:
        month, day, year = (int(g) if i < 2 else g for i, g in enumerate(match.groups()))
        if len(year) == 2:
            year = _two_digit_year(int(year))
        if month > 12:
            raise BadValue(f"{text!r}: month {month} > 12; dates here are read month/day/year")
        return _checked(value, int(year), month, day)
    match = _WORDY.match(value.replace(",", " ").replace(".", " "))
    if match:
        month_name, day, year = match.group("month"), match.group("day"), match.group("year")
        month = _MONTHS.get(month_name.lower()[:3])
        if month:
            return _checked(value, int(year), month, int(day) if day else None)
    raise BadValue(f"{text!r} is not a date")


# The year-first readings parse_date has made, by the text as given: a file's dates repeat (a few thousand days),
# and a dict lookup is a fraction of an lru_cache's. Errors are not kept: a bad date is read, and reported, every
# time. Bounded, so memory stays flat whatever the file holds.
_year_first: dict[str, str] = {}
YEAR_FIRST_KEPT = 16_384


def _two_digit_year(yy: int) -> int:
    this_year = _dt.date.today().year
    year = (this_year // 100) * 100 + yy
    if year > this_year + 30:
        year -= 100
    elif year <= this_year - 70:
        year += 100
    return year


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
# "September 12, 2019", "Sept. 2019", "Jan 5 2020"
_WORDY = re.compile(r"^(?P<month>[A-Za-z]{3,9})\s+(?:(?P<day>\d{1,2})\s+)?(?P<year>\d{4})$")


def _checked(text: str, year: int, month: int | None, day: int | None) -> str:
    if not 1000 <= year <= 2999:
        raise BadValue(f"{text!r}: year {year} is out of range")
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise BadValue(f"{text!r}: month {month} is not 1-12")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        raise BadValue(f"{text!r} is not a day of that month") from None


def parse_pylist(text: str | None) -> list[Any]:
    """A Python-style list literal as pandas writes it into CSV ("['a', 'b']", "[(1.0, 2.0)]"); 'None' and '' -> [].

    Read with :func:`ast.literal_eval`, which evaluates literals only, never code.
    """
    if text is None:
        return []
    value = str(text).strip()
    if value in ("", "None", "nan", "NaN", "[]"):
        return []
    if not value.startswith(("[", "(")):
        # a bare value, as spreadsheets leave it; several values a spreadsheet joined with line breaks are split,
        # else one cell holding two URLs reads as one broken URL and the row was dropped
        return [line.strip() for line in value.splitlines() if line.strip()]
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise BadValue(f"{_clip(value)!r} is not a list like ['a', 'b']") from None
    if not isinstance(parsed, (list, tuple)):
        raise BadValue(f"{_clip(value)!r} is not a list like ['a', 'b']")
    return list(parsed)


def parse_bool(text: str | None) -> bool | None:
    value = str(text).strip().lower() if text is not None else ""
    if value in ("", "none", "null", "nan"):
        return None
    if value in ("true", "t", "yes", "y", "1"):
        return True
    if value in ("false", "f", "no", "n", "0"):
        return False
    raise BadValue(f"{text!r} is not true/false")


def clean_text(text: Any) -> str | None:
    if text is None or text == "":  # the commonest value of a download's optional columns
        return None
    value = " ".join(str(text).split())
    return value or None


# What upstream files write for "no value" in a name column: never the name of an agency or a company.
PLACEHOLDERS = frozenset({"na", "n/a", "n.a.", "none", "null", "nil", "unknown", "not known", "not reported",
                          "unspecified", "tbd", "-", "--", "\u2014", "?", "-none-"})


def is_placeholder(text: Any) -> bool:
    return text is not None and " ".join(str(text).split()).casefold() in PLACEHOLDERS


def entity_name(text: Any) -> str | None:
    """A name column's value, or None when it is empty or a placeholder ('n/a', 'Unknown', '-')."""
    value = clean_text(text)
    return None if value is None or is_placeholder(value) else value


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


_HTTP_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


def http_url(text: str | None) -> str | None:
    """The value if it is an http(s) URL the model accepts, else None (links columns hold notes too)."""
    value = (text or "").strip()
    if _HTTP_URL.match(value):
        return value
    return None


# --- bounded memory -----------------------------------------------------------------------------------------------


class RecentSet:
    """The last ``size`` keys seen: "already emitted this?" without a set that grows with the file.

    A key that fell out is emitted again, which costs one idempotent upsert, never a wrong record.
    """

    def __init__(self, size: int = 50_000) -> None:
        from collections import OrderedDict

        self._keys: OrderedDict[Any, None] = OrderedDict()
        self._size = size

    def add(self, key: Any) -> bool:
        """Remember ``key``; True if it was not among the recent keys."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._keys)


# --- ids --------------------------------------------------------------------------------------------------------------


# slug() and short_hash() live in statetech.graph.ids (exports need them too) and are imported above.
