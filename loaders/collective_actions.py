"""Collective Actions in Tech (collective-action/tech): worker actions, as ``actions.csv`` or ``actions.json``.

Each action becomes an ``EmployeeAction`` (``action:cat-<id>``) that ``TARGETS`` the companies it names, citing the
press URLs the dataset gives; tags naming an agency already in the graph (``ice``, ``cbp``) add a ``TARGETS`` edge
to that agency, since those tags mark actions against work for the agency. Companies are given as slugs
(``microsoft``, ``whole_foods``) and resolved by id, alias or name; unknown ones become new companies. The dataset
compiles press reports: confidence ``reported``.

The CSV is a pandas export: an unnamed index column, list columns written as Python literals (``['a', 'b']``,
``[(37.4, -122.1)]``, ``None``), booleans as ``True``/``None``. The JSON is a list of the same records with real
lists and ``YYYY/MM/DD`` dates.

The dataset gives no publication date for its source links, so each link's Source is dated by the date in the URL
path when there is one (``/2018/06/19/``), else by the date of the action it reports: such reports appear within
days of the action. Titles are not in the data either; a Source's title names the action it supports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from statetech.graph.errors import Problem
from statetech.graph.model import Company, EmployeeAction, Relationship, Source
from statetech.loaders.common import (
    BadValue,
    CsvSpec,
    CsvStream,
    JsonStream,
    JsonValue,
    Progress,
    clean_text,
    http_url,
    is_placeholder,
    parse_date,
    parse_int,
    parse_pylist,
    short_hash,
    slug,
    sniff_kind,
    wrong_kind_problem,
)
from statetech.loaders.importing import Emitted, Importer, Parsed, date_warnings, register
from statetech.loaders.resolve import Resolver

DATASET = "collective_actions"
DATASET_URL = "https://github.com/collective-action/tech"
COLUMNS = ("id", "date", "sources", "actions", "struggles", "employment_types", "description", "online", "locations",
           "companies", "workers", "tags", "author", "latlngs", "addresses")
SPEC = CsvSpec(
    format_label="Collective Actions in Tech actions.csv",
    required=("id", "date", "sources", "actions", "description", "companies"),
    optional=("struggles", "employment_types", "online", "locations", "workers", "tags", "author"),
    ignored=("latlngs", "addresses"),  # the map's coordinates; the unnamed first column (pandas' index) is skipped
)
ACTION_TYPES = {"open letter": "open_letter", "letter": "open_letter", "petition": "petition", "protest": "protest",
                "walkout": "walkout", "strike": "strike", "sit-in": "sit_in", "sit in": "sit_in",
                "resignation": "resignation", "shareholder proposal": "shareholder_proposal"}
LIST_FIELDS = ("sources", "actions", "struggles", "employment_types", "locations", "companies", "tags", "author")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})(?:[/-](\d{1,2}))?(?:/|-|$)")


def _label(value: str) -> str:
    return value.replace("_", " ").strip().title()


@register
class CollectiveActionsImporter(Importer):
    format = DATASET
    title = "Collective Actions in Tech (actions.csv / actions.json)"
    suffixes = (".csv", ".json")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = "csv"
        self.stream: CsvStream | None = None

    @property
    def empty_rows(self) -> int:
        return self.stream.empty_rows if self.stream else 0

    def header_problems(self) -> list[Problem]:
        self.kind = sniff_kind(self.file)
        if self.kind == "json":
            return []
        wrong = wrong_kind_problem(self.file, self.kind, "csv")
        if wrong:
            return [wrong]
        self.stream = CsvStream(self.file, SPEC)
        return self.stream.header_problems

    def column_notes(self) -> list[Problem]:
        """The CSV header's findings; for JSON, the same for the keys of the first action (every action of the
        published file has the same keys)."""
        if self.kind != "json":
            return super().column_notes()
        first = next(iter(JsonStream(self.file).values(limit=1)), None)
        if not isinstance(first, JsonValue) or not isinstance(first.value, dict):
            return []  # reported, located, when the records are read
        known = {*SPEC.required, *SPEC.optional, *SPEC.ignored}
        notes = [Problem(self.file.name, first.line, f"unknown key {key!r} is not read", column=key,
                         hint="check that the file has the expected layout")
                 for key in first.value if key not in known]
        notes += [Problem(self.file.name, first.line, f"optional key {key!r} is missing: its field stays empty "
                          "(values stored by earlier imports are kept)", column=key,
                          hint="check the download; a renamed key can be renamed back")
                  for key in SPEC.optional if key not in first.value]
        return notes

    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        if self.kind == "json":
            return JsonStream(self.file).values(progress, limit)
        assert self.stream is not None
        return self.stream.rows(progress, limit)

    def _fields(self, record) -> tuple[dict[str, Any] | None, list[Problem]]:
        """One action as plain values, from a CSV row or a JSON object, with located problems."""
        name, line = self.file.name, record.line
        if isinstance(record, JsonValue):
            raw = record.value
            if not isinstance(raw, dict):
                return None, [Problem(name, line, "expected an action object {\"id\": ..., \"date\": ...}",
                                      hint="is this the Collective Actions actions.json?")]
            missing = [k for k in SPEC.required if k not in raw]
            if missing:
                return None, [Problem(name, line, f"action has no {k!r} field", column=k,
                                      hint="is this the Collective Actions actions.json?") for k in missing]
            get = raw.get
        else:
            get = record.values.get
        problems: list[Problem] = []
        action_id = str(get("id") if get("id") is not None else "").strip()
        out: dict[str, Any] = {"id": action_id}
        if not action_id:
            problems.append(Problem(name, line, "action has no id", column="id"))
        for key in LIST_FIELDS:
            value = get(key)
            if isinstance(value, list):
                out[key] = [v for v in value if v not in (None, "")]
                continue
            try:
                out[key] = [v for v in parse_pylist(value) if v not in (None, "")]
            except BadValue as exc:
                problems.append(Problem(name, line, str(exc), record_id=action_id or None, column=key,
                                        hint="lists look like ['a', 'b']"))
        try:
            out["date"] = parse_date(get("date"))
        except BadValue as exc:
            problems.append(Problem(name, line, str(exc), record_id=action_id or None, column="date",
                                    hint="write YYYY-MM-DD"))
        if not problems and not out["date"]:
            problems.append(Problem(name, line, "action has no date", record_id=action_id, column="date"))
        try:
            workers = get("workers")
            out["workers"] = workers if isinstance(workers, int) else parse_int(workers)
        except BadValue as exc:
            problems.append(Problem(name, line, str(exc), record_id=action_id or None, column="workers"))
        if out.get("workers") is not None and out["workers"] < 0:
            problems.append(Problem(name, line, "negative number of workers", record_id=action_id, column="workers"))
        if "companies" in out:  # ['na'] or ['unknown'] names no company
            out["companies"] = [c for c in out["companies"] if not is_placeholder(c)]
        out["description"] = clean_text(get("description"))
        for key in ("sources", "companies", "tags", "actions"):
            if key in out and not all(isinstance(v, str) for v in out[key]):
                problems.append(Problem(name, line, f"{key} must be a list of text values", record_id=action_id,
                                        column=key))
        return (out if not problems else None), problems

    def parse(self, record) -> Parsed:
        fields, problems = self._fields(record)
        if problems:
            return Parsed(problems=problems)
        assert fields is not None
        if not [u for u in fields["sources"] if http_url(u)]:
            return Parsed(skip="action cites no http(s) source")
        if not fields["companies"]:
            return Parsed(skip="action names no company")
        return Parsed((record, fields), date_warnings(self.file.name, record.line, fields["id"],
                                                      {"date": fields["date"]}))

    def convert(self, parsed: tuple[Any, dict[str, Any]], resolver: Resolver, phase: str) -> Emitted:
        record, fields = parsed
        out = Emitted()
        action_id = f"action:cat-{slug(fields['id'])}"
        date = fields["date"]
        for url in fields["sources"]:
            url = http_url(url)
            if not url:
                continue
            source = _source(url, date, fields["id"])
            out.sources.append(source)
        sources = [s.id for s in out.sources]
        companies = [_label(c) for c in fields["companies"]]
        kinds = [a.strip().lower() for a in fields["actions"]]
        action_type = next((ACTION_TYPES[k] for k in kinds if k in ACTION_TYPES), "other" if kinds else None)
        what = " and ".join(k for k in kinds) or "action"
        matches = []
        for company_slug in dict.fromkeys(fields["companies"]):
            name = _label(company_slug)
            match = resolver.resolve("Company", name, [("collective-action-company", company_slug)],
                                     f"company:cat-{slug(company_slug)}", file=self.file.name, line=record.line,
                                     candidate_ids=[f"company:{slug(company_slug)}"])
            if match.created:
                out.nodes.append(Company(id=match.id, name=name,
                                         external_ids=[f"collective-action-company:{company_slug}"],
                                         sources=sources, confidence="reported", imported_from=DATASET))
            matches.append(match)
        # an action a curator already recorded (same company and date, a shared source or title) is that node
        curated = resolver.curated_action(date, [m.id for m in matches], [s.url for s in out.sources],
                                          fields["description"], action_id, file=self.file.name, line=record.line)
        action_id = curated or action_id
        if not curated:
            out.nodes.append(EmployeeAction(
                id=action_id, name=f"{', '.join(companies)} workers: {what} ({date})", action_type=action_type,
                participants=fields["workers"], description=fields["description"], start_date=date,
                external_ids=[f"collective-action:{fields['id']}"],
                notes=_notes(fields), sources=sources, confidence="reported", imported_from=DATASET))
        for match in matches:
            out.relationships.append(Relationship(
                **{"from": action_id, "to": match.id}, type="TARGETS", sources=sources, confidence="reported",
                imported_from=DATASET, to_match=match.method))
        for tag in dict.fromkeys(fields["tags"]):
            agency = resolver.lookup("Agency", str(tag))
            if agency:
                out.relationships.append(Relationship(
                    **{"from": action_id, "to": agency.id}, type="TARGETS", sources=sources, confidence="reported",
                    imported_from=DATASET, to_match=agency.method, notes=f"from the dataset's tag {tag!r}"))
        return out


def _notes(fields: dict[str, Any]) -> str | None:
    parts = []
    for key, label in (("struggles", "struggles"), ("employment_types", "workers"), ("locations", "locations"),
                       ("tags", "tags")):
        values = [str(v) for v in fields.get(key, []) if str(v) != "na"]
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    return "; ".join(parts) or None


def _source(url: str, action_date: str, action_id: str) -> Source:
    host = urlsplit(url).hostname or "web"
    publisher = host.removeprefix("www.")
    match = _URL_DATE.search(urlsplit(url).path)
    published = None  # the page's date when its URL gives it; else unknown, never the action's date
    if match:
        year, month, day = match.groups()
        try:
            published = parse_date(f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else ""))
        except BadValue:
            published = None
    return Source(id=f"source:web-{slug(publisher, 40)}-{short_hash(url)}", url=url,
                  title=f"Report cited by Collective Actions in Tech (action {action_id})", publisher=publisher,
                  published=published)
