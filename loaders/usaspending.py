"""USAspending contract downloads: Prime Award Summaries (286 columns) and Prime Transactions (297 columns).

Each award becomes a ``Contract`` (``contract:usa-<contract_award_unique_key>``) citing its USAspending permalink,
``AWARDED`` by the awarding sub-agency and ``AWARDED_TO`` the recipient. The sub-agency is ``PART_OF`` the awarding
agency, the recipient ``SUBSIDIARY_OF`` its parent (by UEI), and an order ``CHILD_OF`` its parent IDV. Agencies land
on curated nodes by agency code or name, recipients by UEI, DUNS, alias or normalised name
(:mod:`statetech.loaders.resolve`); new ones are created with ids derived from those codes. Award records are
government records: confidence ``confirmed``.

Money, and why importing an award summary and its transactions never double counts
------------------------------------------------------------------------------------
Both files carry the award's own totals on every row, computed by USAspending over all of the award's transactions:
the summary's ``total_obligated_amount`` (``total_dollars_obligated`` in older downloads) and the transactions'
``total_dollars_obligated``, plus ``current_total_value_of_award`` and ``potential_total_value_of_award`` in both.
The Contract's ``obligated_usd`` / ``current_usd`` / ``potential_usd`` are always those award-level totals, never a
sum of per-transaction ``federal_action_obligation`` values, so:

* the transactions of one award fold onto one Contract node (they are never nodes themselves); in a transactions
  file, the award's values come from its latest transaction row (latest ``action_date``, then highest modification
  number), its start date is the earliest seen and its description is the base transaction's (modification 0);
* importing the summary and the transactions of an award, in either order and any number of times, leaves one
  Contract whose obligated amount is the award total once;
* when both have been imported, the summary wins: it describes the award as a whole, so a later transactions import
  does not overwrite a Contract (or its AWARDED / AWARDED_TO edges) that came from a summary
  (:data:`~statetech.loaders.importing.PRECEDENCE`).

Parent IDVs referenced by an order are created as small reference nodes (``imported_from`` =
``usaspending:reference``) that never overwrite the IDV's own record when that is imported.

Memory: an award summary file streams in constant memory (plus the resolution maps, which grow with distinct
agencies and recipients). A transactions file keeps, between its two passes, one small entry per award (the line of
its latest row, its earliest start, its base description).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from statetech.graph.errors import Problem
from statetech.graph.model import Agency, Company, Contract, Relationship, Source
from statetech.loaders.common import (
    BadValue,
    CsvRow,
    CsvSpec,
    CsvStream,
    Progress,
    RecentSet,
    clean_text,
    column_key,
    entity_name,
    http_url,
    parse_amount,
    parse_date,
    slug,
)
from statetech.loaders.importing import (
    PRECEDENCE,
    Emitted,
    Importer,
    Parsed,
    RecordMaker,
    build,
    date_warnings,
    make_record,
    register,
)
from statetech.loaders.resolve import Match, Resolver, normalise_name

AWARDS = "usaspending:awards"
TRANSACTIONS = "usaspending:transactions"
REFERENCE = "usaspending:reference"
PRECEDENCE.update({AWARDS: 30, TRANSACTIONS: 20, REFERENCE: 10})

PUBLISHER = "USAspending.gov (U.S. Department of the Treasury)"
PERMALINK = "https://www.usaspending.gov/award/{key}/"

from statetech.loaders.usaspending_columns import DOWNLOAD_COLUMNS  # noqa: E402 - beside the specs that use it

_COMMON_OPTIONAL = (
    "awarding_agency_code", "awarding_sub_agency_code", "awarding_office_name", "parent_award_agency_id",
    "parent_award_id_piid", "current_total_value_of_award", "potential_total_value_of_award",
    "period_of_performance_start_date", "period_of_performance_current_end_date", "recipient_uei",
    "recipient_duns", "recipient_parent_uei", "recipient_parent_duns", "recipient_parent_name",
    "recipient_country_code", "award_type_code", "award_type", "idv_type_code", "idv_type",
    "prime_award_base_transaction_description", "product_or_service_code", "product_or_service_code_description",
    "naics_code", "naics_description", "usaspending_permalink", "last_modified_date",
)
_REQUIRED = ("contract_award_unique_key", "award_id_piid", "awarding_agency_name", "awarding_sub_agency_name",
             "recipient_name")
_RENAMES = {
    "contract_award_unique_key": ("generated_unique_award_id", "award_unique_key"),
    "award_id_piid": ("piid",),
    "recipient_uei": ("awardee_or_recipient_uei",),
    "recipient_duns": ("awardee_or_recipient_uniqu", "recipient_duns_number"),
    "recipient_name": ("awardee_or_recipient_legal", "recipient_legal_name"),
    "total_obligated_amount": ("total_dollars_obligated",),
    "usaspending_permalink": ("usaspending_award_permalink",),
}

AWARD_SPEC = CsvSpec(
    format_label="USAspending Contracts Prime Award Summaries download",
    required=_REQUIRED,
    optional=(*_COMMON_OPTIONAL, "award_base_action_date", "award_latest_action_date"),
    renames=_RENAMES,
    one_of=(("total_obligated_amount",),),
    ignored=DOWNLOAD_COLUMNS,
)
TRANSACTION_SPEC = CsvSpec(
    format_label="USAspending Contracts Prime Transactions download",
    required=(*_REQUIRED, "contract_transaction_unique_key", "action_date"),
    optional=(*_COMMON_OPTIONAL, "modification_number", "federal_action_obligation", "transaction_description"),
    renames={k: v for k, v in _RENAMES.items() if k != "total_obligated_amount"},
    one_of=(("total_dollars_obligated",),),
    ignored=DOWNLOAD_COLUMNS,
)

# USAspending award type codes -> the model's award types
AWARD_TYPES = {"A": "bpa_call", "B": "purchase_order", "C": "delivery_order", "D": "definitive_contract"}
IDV_TYPES = {"IDV_E": "bpa", "E": "bpa"}

DESCRIPTIONS_KEPT = 10_000  # NAICS and PSC fields remembered (UsaspendingImporter._described) before starting over

AMOUNT_COLUMNS = ("total_obligated_amount", "total_dollars_obligated", "current_total_value_of_award",
                  "potential_total_value_of_award", "federal_action_obligation")
DATE_COLUMNS = ("period_of_performance_start_date", "period_of_performance_current_end_date", "last_modified_date",
                "award_latest_action_date", "award_base_action_date", "action_date")


class _Text(NamedTuple):
    """The plain-text columns pass 2 reads of a row, as they stand in the file ("" when the file lacks one): all
    the row the spool keeps besides the key, money, dates and link parsed in pass 1 (the other columns are read
    once, in pass 1, or not at all)."""

    award_id_piid: str
    prime_award_base_transaction_description: str
    transaction_description: str
    naics_code: str
    naics_description: str
    product_or_service_code: str
    product_or_service_code_description: str
    awarding_office_name: str
    award_type_code: str
    idv_type_code: str
    awarding_agency_name: str
    awarding_agency_code: str
    awarding_sub_agency_name: str
    awarding_sub_agency_code: str
    recipient_name: str
    recipient_uei: str
    recipient_duns: str
    recipient_country_code: str
    recipient_parent_uei: str
    recipient_parent_name: str
    recipient_parent_duns: str
    parent_award_id_piid: str
    parent_award_agency_id: str


_UNSEEN = object()
_as_text = tuple.__new__  # _as_text(_Text, values): a _Text from a tuple in its field order, without a Python call


@dataclass
class _Award:
    """One row parsed: its award key, money and dates read once, and the plain-text columns pass 2 reads."""

    line: int
    key: str
    text: _Text
    amounts: dict[str, float | None]
    dates: dict[str, str | None]
    link: str = ""  # the permalink as checked (stripped, an http(s) URL), or empty
    row: CsvRow | None = None  # the whole row, in pass 1 only (a transactions file's prepare reads it)


@register
class UsaspendingImporter(Importer):
    """Contracts Prime Award Summaries or Prime Transactions CSV (also inside the downloaded .zip)."""

    format = "usaspending"
    title = "USAspending contract downloads (Prime Award Summaries, Prime Transactions)"
    suffixes = (".csv",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stream: CsvStream | None = None
        self.transactions = False
        # transactions only: award key -> [(action date, modification), line, earliest start, base description]
        self._latest: dict[str, list[Any]] = {}
        self._stubs = RecentSet()
        self._linked = RecentSet()
        # (kind, the row's raw name and codes) -> where they landed: a file names the same few agencies and
        # recipients on thousands of rows, and the resolver would give the same answer each time (its own cache is
        # keyed by the derived id, which costs the cleaning and slugging this skips). Grows with distinct entities.
        self._landed: dict[tuple, Match] = {}
        self._relationship_makers: dict[str, RecordMaker] = {}
        self._read_columns: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._pick_text: Callable[[dict[str, str]], tuple] | None = None
        self._file_name = self.file.name  # asked on every row; InputFile computes it
        # (code, description) -> the NAICS or PSC field, worked out once per pair (bounded: memory stays flat
        # whatever the file holds)
        self._descriptions: dict[tuple[str, str], str | None] = {}

    @property
    def empty_rows(self) -> int:
        return self.stream.empty_rows if self.stream else 0

    def header_problems(self) -> list[Problem]:
        probe = CsvStream(self.file, CsvSpec("USAspending download", required=()))
        if probe.header_problems:
            return probe.header_problems
        keys = {column_key(c) for c in probe.header}
        name = self.file.name
        if "assistance_award_unique_key" in keys or "award_id_fain" in keys:
            return [Problem(name, 1, "this is a USAspending Assistance (grants, loans) download, not Contracts",
                            hint="statetech imports Contracts downloads: Prime Award Summaries or Prime Transactions")]
        if "subaward_number" in keys or "prime_award_unique_key" in keys and "contract_award_unique_key" not in keys:
            return [Problem(name, 1, "this is a USAspending Subawards download, which statetech does not import yet",
                            hint="import the Contracts Prime Award Summaries or Prime Transactions file")]
        if "aosnumber" in keys:
            return [Problem(name, 1, "this looks like an Atlas of Surveillance CSV, not a USAspending download",
                            hint="use 'statetech import atlas'")]
        self.transactions = "contract_transaction_unique_key" in keys
        self.stream = CsvStream(self.file, TRANSACTION_SPEC if self.transactions else AWARD_SPEC)
        return self.stream.header_problems

    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        assert self.stream is not None
        return self.stream.rows(progress, limit)

    # -- pass 1 --------------------------------------------------------------------------------------------------------

    def parse(self, row: CsvRow) -> Parsed:
        problems: list[Problem] = []
        values, line, name = row.values, row.line, self._file_name
        key = values["contract_award_unique_key"].strip()  # a required column: every row has the value
        if not key:
            problems.append(Problem(name, line, "no award key", column="contract_award_unique_key",
                                    hint="every USAspending row has one; was the column emptied in a spreadsheet?"))
        amount_columns, date_columns = self._read_columns or self._find_read_columns()
        amounts = _read_values(values, amount_columns, parse_amount, problems, name, line, key,
                               "write a number such as 1234.56 ($ and thousands commas are fine)")
        dates = _read_values(values, date_columns, parse_date, problems, name, line, key,
                             "write YYYY-MM-DD (MM/DD/YY from spreadsheets is read too)")
        link = row.get("usaspending_permalink").strip()
        if link and not http_url(link):
            problems.append(Problem(name, line, f"{link!r} is not a URL", record_id=key or None,
                                    column="usaspending_permalink"))
        if problems:
            return Parsed(None, problems)
        text = _as_text(_Text, (self._pick_text or self._find_text_columns())(values))
        return Parsed(_Award(line, key, text, amounts, dates, link, row),
                      date_warnings(name, line, key or None, dates, start="period_of_performance_start_date",
                                    end="period_of_performance_current_end_date"))

    # Pass 2 reads back what pass 1 parsed (loaders/importing.py, Spool): a row's key, plain-text columns, amounts,
    # dates and link, as tuples (the amounts and dates in the order of this file's columns: every usable row has all
    # of them).
    spools = True

    def to_spool(self, parsed: _Award) -> tuple:
        # the link, when it is the permalink convert would write without one, is not spooled (a fifth of an entry)
        link = "" if parsed.link == PERMALINK.format(key=parsed.key) else parsed.link
        return (parsed.key, tuple(parsed.text), tuple(parsed.amounts.values()), tuple(parsed.dates.values()), link)

    def from_spool(self, line: int, data: tuple) -> _Award:
        amount_columns, date_columns = self._read_columns or self._find_read_columns()
        key, text, amounts, dates, link = data
        return _Award(line, key, _as_text(_Text, text), dict(zip(amount_columns, amounts)),
                      dict(zip(date_columns, dates)), link)

    def _find_text_columns(self) -> Callable[[dict[str, str]], tuple]:
        """A row's values -> its _Text columns in order, "" for those this file lacks."""
        assert self.stream is not None
        pick = itemgetter(*_Text._fields)
        absent = {c: "" for c in _Text._fields if c not in self.stream.columns}
        self._pick_text = (lambda values: pick({**absent, **values})) if absent else pick
        return self._pick_text

    def _find_read_columns(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The amount and date columns this file has, in the order their problems are reported."""
        assert self.stream is not None
        self._read_columns = (tuple(c for c in AMOUNT_COLUMNS if c in self.stream.columns),
                              tuple(c for c in DATE_COLUMNS if c in self.stream.columns))
        return self._read_columns

    def prepare(self, parsed: _Award) -> None:
        if not self.transactions:
            return
        record = parsed.row
        assert record is not None  # pass 1
        order = (parsed.dates.get("action_date") or "", _modification_order(record.get("modification_number")))
        start = parsed.dates.get("period_of_performance_start_date") or parsed.dates.get("action_date")
        entry = self._latest.get(parsed.key)
        base_description = None
        if record.get("modification_number").strip() in ("0", "00", ""):
            base_description = clean_text(record.get("transaction_description"))
        if entry is None:
            self._latest[parsed.key] = [order, record.line, start, base_description]
            return
        if order >= entry[0]:
            entry[0], entry[1] = order, record.line
        if start and (entry[2] is None or start < entry[2]):
            entry[2] = start
        if base_description and not entry[3]:
            entry[3] = base_description

    # -- pass 2 --------------------------------------------------------------------------------------------------------

    @staticmethod
    def _published(dates: dict[str, str | None]) -> str | None:
        # the award record's own dates (its last change, its latest action); the period of performance is the
        # contract's, not the record's, so without these the record's date is unknown
        return dates.get("last_modified_date") or dates.get("award_latest_action_date") or dates.get("action_date")

    def convert(self, parsed: _Award, resolver: Resolver, phase: str) -> Emitted:
        row, key, file, line = parsed.text, parsed.key, self._file_name, parsed.line
        start_override = description_override = None
        if self.transactions:
            entry = self._latest[key]
            if entry[1] != line:
                return Emitted(skip="transaction folded onto its award (the award's latest row carries it)")
            start_override, description_override = entry[2], entry[3]
        tag = TRANSACTIONS if self.transactions else AWARDS
        rel = self._relationship_makers or self._make_relationship_makers(tag)
        out = Emitted()
        piid = clean_text(row.award_id_piid) or key
        key_slug = slug(key)
        source = make_record(
            Source,
            id=f"source:usa-{key_slug}",
            url=parsed.link or PERMALINK.format(key=key),
            title=f"USAspending award {piid}",
            publisher=PUBLISHER,
            published=self._published(parsed.dates),
        )
        out.sources.append(source)
        sources = [source.id]

        # the award
        obligated = parsed.amounts.get("total_obligated_amount", parsed.amounts.get("total_dollars_obligated"))
        own_description = row.transaction_description if self.transactions else (
            row.prime_award_base_transaction_description)
        description = description_override or clean_text(own_description)
        # an award a curator already recorded (same PIID, punctuation aside) is that node: land on it, add no twin
        curated = resolver.curated_contract(piid)
        contract_id = curated or f"contract:usa-{key_slug}"
        naics = self._described(row.naics_code, row.naics_description)
        psc = self._described(row.product_or_service_code, row.product_or_service_code_description)
        office = clean_text(row.awarding_office_name)
        contract, problems = build(
            Contract, file, line, key,
            id=contract_id, name=f"{piid}: {_clip(description, 80)}" if description else piid,
            award_id=piid, award_type=_award_type(row.award_type_code, row.idv_type_code), obligated_usd=obligated,
            current_usd=parsed.amounts.get("current_total_value_of_award"),
            potential_usd=parsed.amounts.get("potential_total_value_of_award"),
            start_date=start_override or parsed.dates.get("period_of_performance_start_date"),
            end_date=parsed.dates.get("period_of_performance_current_end_date"),
            description=description, naics=naics, psc=psc,
            notes=f"Awarding office: {office}" if office else None,
            external_ids=[f"usaspending:{key}", f"piid:{piid}"],
            sources=sources, confidence="confirmed", imported_from=tag,
        )
        if contract is None:
            return Emitted(skip="award record rejected by the model: " + "; ".join(p.message for p in problems))
        if not curated:  # the curated record stays as the curator wrote it
            out.nodes.append(contract)

        # awarding agency and sub-agency
        top = self._agency(resolver, out, row.awarding_agency_name, row.awarding_agency_code, sources, tag, line)
        sub = self._agency(resolver, out, row.awarding_sub_agency_name, row.awarding_sub_agency_code, sources, tag,
                           line)
        awarding = sub or top
        if sub and top and sub.id != top.id and sub.created:
            out.relationships.append(rel["PART_OF"](from_id=sub.id, to_id=top.id, sources=sources,
                                                    from_match=sub.method, to_match=top.method))
        if awarding:
            out.relationships.append(rel["AWARDED"](from_id=awarding.id, to_id=contract_id, sources=sources,
                                                    from_match=awarding.method, to_match=None))

        # recipient and its parent
        recipient = self._company(resolver, out, row.recipient_name, row.recipient_uei, row.recipient_duns,
                                  row.recipient_country_code, sources, tag, line)
        if recipient:
            out.relationships.append(rel["AWARDED_TO"](from_id=contract_id, to_id=recipient.id, sources=sources,
                                                       from_match=None, to_match=recipient.method,
                                                       amount_usd=obligated))
            parent_uei = row.recipient_parent_uei.strip()
            parent_name = row.recipient_parent_name.strip()
            same = (parent_uei and parent_uei.upper() == row.recipient_uei.strip().upper()) or (
                not parent_uei and normalise_name(parent_name) == normalise_name(row.recipient_name))
            if (parent_uei or parent_name) and not same:
                parent = self._company(resolver, out, parent_name, parent_uei, row.recipient_parent_duns,
                                       None, sources, tag, line)
                if parent and parent.id != recipient.id and self._linked.add((recipient.id, parent.id)):
                    if recipient.created or parent.created:
                        out.relationships.append(rel["SUBSIDIARY_OF"](
                            from_id=recipient.id, to_id=parent.id, sources=sources, from_match=recipient.method,
                            to_match=parent.method))

        # parent IDV of an order
        parent_piid = clean_text(row.parent_award_id_piid)
        if parent_piid:
            parent_key = f"CONT_IDV_{parent_piid}_{clean_text(row.parent_award_agency_id) or '-NONE-'}"
            parent_id = f"contract:usa-{slug(parent_key)}"
            if parent_id != contract_id:
                if self._stubs.add(parent_id):
                    out.nodes.append(make_record(
                        Contract,
                        id=parent_id, name=f"IDV {parent_piid}", award_id=parent_piid, award_type="idv",
                        external_ids=[f"usaspending:{parent_key}", f"piid:{parent_piid}"],
                        notes="Referenced as the parent award of an order; import the IDV's own record for details.",
                        sources=sources, confidence="confirmed", imported_from=REFERENCE))
                out.relationships.append(rel["CHILD_OF"](from_id=contract_id, to_id=parent_id, sources=sources,
                                                         from_match=None, to_match=None))
        return out

    def _described(self, code: str, text: str) -> str | None:
        """:func:`_code_and_text`, remembered: a file names a few thousand NAICS and PSC codes on all its rows."""
        key = (code, text)
        described = self._descriptions.get(key, _UNSEEN)
        if described is _UNSEEN:
            if len(self._descriptions) >= DESCRIPTIONS_KEPT:
                self._descriptions.clear()
            described = self._descriptions[key] = _code_and_text(code, text)
        return described

    def _make_relationship_makers(self, tag: str) -> dict[str, RecordMaker]:
        # the fields every relationship of a type shares in this file, checked once
        self._relationship_makers = {
            rel_type: RecordMaker(Relationship, type=rel_type, confidence="confirmed", imported_from=tag)
            for rel_type in ("PART_OF", "AWARDED", "AWARDED_TO", "SUBSIDIARY_OF", "CHILD_OF")}
        return self._relationship_makers

    def _agency(self, resolver: Resolver, out: Emitted, name: str, code: str, sources, tag, line):
        raw = ("Agency", name, code)
        landed = self._landed.get(raw)
        if landed is not None:
            return landed  # never created now (see below), and never changed by a caller
        name, code = entity_name(name), clean_text(code)
        if not name and not code:
            return None
        derived = f"agency:usa-{slug(code)}" if code else f"agency:usa-{slug(normalise_name(name, 'Agency'))}"
        match = resolver.resolve("Agency", name, [("agency_code", code)], derived, file=self._file_name, line=line)
        if match.created:
            out.nodes.append(make_record(Agency, id=match.id, name=name or f"Agency {code}", agency_code=code,
                                         level="federal", country="US", sources=sources, confidence="confirmed",
                                         imported_from=tag))
        self._landed[raw] = Match(match.id, match.method)
        return match

    def _company(self, resolver: Resolver, out: Emitted, name: str, uei: str, duns: str, country: str | None,
                 sources, tag, line):
        raw = ("Company", name, uei, duns)
        landed = self._landed.get(raw)
        if landed is not None:
            return landed
        name, uei, duns = entity_name(name), clean_text(uei), clean_text(duns)
        if not name and not uei and not duns:
            return None
        if uei:
            derived = f"company:usa-uei-{slug(uei)}"
        elif duns:
            derived = f"company:usa-duns-{slug(duns.zfill(9))}"
        else:
            derived = f"company:usa-name-{slug(normalise_name(name))}"
        match = resolver.resolve("Company", name, [("uei", uei), ("duns", duns)], derived, file=self._file_name,
                                 line=line)
        if match.created:
            out.nodes.append(make_record(Company, id=match.id, name=name or f"Recipient {uei or duns}", uei=uei,
                                         duns=duns.zfill(9) if duns and duns.isdigit() else duns,
                                         country=clean_text(country), sources=sources, confidence="confirmed",
                                         imported_from=tag))
        self._landed[raw] = Match(match.id, match.method)
        return match


def _read_values(values: dict[str, str], columns: tuple[str, ...], parse: Callable[[str], Any],
                 problems: list[Problem], file: str, line: int, key: str, hint: str) -> dict[str, Any]:
    """``columns`` of a row read with ``parse``; a value it refuses becomes a problem naming its column."""
    read: dict[str, Any] = {}
    for column in columns:
        try:
            read[column] = parse(values[column])
        except BadValue as exc:
            problems.append(Problem(file, line, str(exc), record_id=key or None, column=column, hint=hint))
    return read


def _award_type(award_type_code: str, idv_type_code: str) -> str | None:
    code = award_type_code.strip().upper()
    if code in AWARD_TYPES:
        return AWARD_TYPES[code]
    idv = idv_type_code.strip().upper()
    if idv:
        return IDV_TYPES.get(idv, "idv")
    return "other" if code else None


def _modification_order(text: str) -> tuple[int, str]:
    value = (text or "").strip()
    return (int(value), value) if value.isdigit() else (-1 if not value else 0, value)


def _code_and_text(code: str, text: str) -> str | None:
    code, text = clean_text(code), clean_text(text)
    if code and text:
        return f"{code}: {text}"
    return code or text


def _clip(text: str | None, size: int) -> str:
    text = text or ""
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"
