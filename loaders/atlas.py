"""EFF Atlas of Surveillance CSV (``https://atlasofsurveillance.org/download.csv``, 28 columns, every field quoted).

Each record says a law-enforcement agency uses a surveillance technology, sometimes from a named vendor, with up to
three dated links and "Other Links". It becomes:

* the ``Agency``, resolved by the ORI code at the start of ``NEWAOSNUMBER (ORI9)``, else by its state-qualified
  name "Agency (ST)" (a bare "Springfield Police Department" names a dozen agencies; a curator makes a curated
  agency match by adding that name as an alias, or the ORI to its external ids); new agencies get that name and
  the id ``agency:aos-<state>-<name>``;
* a ``Product`` for the vendor's technology ("Flock Safety Automated License Plate Readers"), or the technology
  alone when no vendor is reported, which the vendor ``PROVIDES``;
* ``Agency -[USES]-> Product`` with its own id per Atlas record (``rel:aos-<AOSNUMBER>``), so two records about the
  same agency and product keep their own links; ``as_of`` is the latest link date, ``notes`` the Atlas summary.

Every record cites the Atlas itself plus each dated link as a Source (publisher from "Link N Source"); undated links
and "Other Links" are kept in the notes, because a Source needs a date. Real downloads sometimes swap a link and its
source name; a URL found in "Link N Source" is used as the link. The Atlas compiles news and public records:
confidence ``reported``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from statetech.graph.errors import Problem
from statetech.graph.model import Agency, Company, Product, Relationship, Source
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
    parse_date,
    short_hash,
    slug,
)
from statetech.loaders.importing import Emitted, Importer, Parsed, RowWarning, date_warnings, register
from statetech.loaders.resolve import Resolver, normalise_name

DATASET = "atlas"
ATLAS_SOURCE = Source(
    id="source:atlas-of-surveillance", url="https://atlasofsurveillance.org/", title="Atlas of Surveillance",
    publisher="Electronic Frontier Foundation", published="2020-07",
)
LINK_COLUMNS = [(f"Link {i}", f"Link {i} Source", f"Link {i} Date") for i in (1, 2, 3)]
SPEC = CsvSpec(
    format_label="Atlas of Surveillance CSV",
    required=("AOSNUMBER", "Agency", "State", "Technology", "Vendor", "Link 1"),
    optional=("NEWAOSNUMBER (ORI9)", "City", "County", "Type of LEA", "Summary", "Type of Juris", "TECH ABV",
              "Link 1 Source", "Link 1 Date", "Link 2", "Link 2 Source", "Link 2 Date", "Link 3", "Link 3 Source",
              "Link 3 Date", "Other Links"),
    ignored=[f"Link {i} {what}" for i in (1, 2, 3) for what in ("Snapshot", "Type")],
)
LEVELS = {"municipal": "local", "county": "local", "university": "local", "school district": "local",
          "tribal": "local", "regional": "local", "state": "state", "federal": "federal"}
CATEGORIES = {
    "automated license plate readers": "license_plate_reader", "face recognition": "facial_recognition",
    "predictive policing": "analytics", "video analytics": "analytics", "real-time crime center": "analytics",
    "social media monitoring": "social_media_monitoring", "cell-site simulator": "location_data",
    "fusion center": "analytics",
}
_URLS = re.compile(r"https?://[^\s,;\"'<>]+")


@register
class AtlasImporter(Importer):
    format = DATASET
    title = "EFF Atlas of Surveillance CSV"
    suffixes = (".csv",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stream: CsvStream | None = None
        self._provides = RecentSet()

    @property
    def empty_rows(self) -> int:
        return self.stream.empty_rows if self.stream else 0

    def header_problems(self) -> list[Problem]:
        self.stream = CsvStream(self.file, SPEC)
        problems = self.stream.header_problems
        keys = {column_key(c) for c in self.stream.header}
        if problems and "contract_award_unique_key" in keys:
            return [Problem(self.file.name, 1, "this is a USAspending download, not an Atlas of Surveillance CSV",
                            hint="use 'statetech import usaspending'")]
        return problems

    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        assert self.stream is not None
        return self.stream.rows(progress, limit)

    def _links(self, row: CsvRow) -> tuple[list[tuple[str, str, str | None]], list[str], list[Problem]]:
        """(url, publisher, date) per link column, loose URLs ("Other Links"), and warnings about link dates."""
        aos = row.get("AOSNUMBER")
        links: list[tuple[str, str, str | None]] = []
        loose: list[str] = []
        problems: list[Problem] = []
        for url_col, source_col, date_col in LINK_COLUMNS:
            url, publisher = row.get(url_col).strip(), clean_text(row.get(source_col)) or ""
            if not http_url(url) and http_url(publisher):
                url, publisher = publisher, url  # columns swapped upstream
            url = http_url(url)
            if not url:
                continue
            try:
                date = parse_date(row.get(date_col))
            except BadValue as exc:
                problems.append(RowWarning(self.file.name, row.line,
                                           f"{exc}; the link is kept, undated, in the notes",
                                           record_id=aos, column=date_col))
                date = None
            problems.extend(date_warnings(self.file.name, row.line, aos, {date_col: date}))
            links.append((url, publisher or (urlsplit(url).hostname or "").removeprefix("www."), date))
        loose.extend(_URLS.findall(row.get("Other Links")))
        return links, loose, problems

    def parse(self, record: CsvRow) -> Parsed:
        if not record.get("AOSNUMBER").strip():
            return Parsed(problems=[Problem(self.file.name, record.line, "record has no AOSNUMBER", column="AOSNUMBER",
                                            hint="every Atlas record has one, e.g. AOS000001")])
        links, loose, warnings = self._links(record)
        if not clean_text(record.get("Agency")):
            return Parsed(skip="record names no agency")
        if not clean_text(record.get("Technology")):
            return Parsed(skip="record names no technology")
        return Parsed((record, links, loose), warnings)

    def convert(self, parsed: tuple[CsvRow, list, list], resolver: Resolver, phase: str) -> Emitted:
        record, links, loose = parsed
        row, file, line = record, self.file.name, record.line
        aos = row.get("AOSNUMBER").strip()
        out = Emitted(sources=[ATLAS_SOURCE])
        undated: list[str] = []
        for url, publisher, date in links:
            if not date:
                undated.append(url)
                continue
            out.sources.append(Source(
                id=f"source:web-{slug(publisher, 40)}-{short_hash(url)}", url=url,
                title=f"Link cited by the Atlas of Surveillance ({aos})", publisher=publisher, published=date))
        sources = [s.id for s in out.sources]
        dates = sorted(d for _, _, d in links if d)

        agency_name = clean_text(row.get("Agency"))
        state = clean_text(row.get("State")) or ""
        ori = (clean_text(row.get("NEWAOSNUMBER (ORI9)")) or "")[:9]
        display = f"{agency_name} ({state})" if state else agency_name
        # Resolved by the state-qualified name: a bare "Springfield Police Department" names a dozen agencies.
        agency = resolver.resolve("Agency", display, [("ori", ori if len(ori) == 9 else None)],
                                  f"agency:aos-{slug(state or 'xx')}-{slug(normalise_name(agency_name, 'Agency'))}",
                                  file=file, line=line)
        if agency.created:
            level = LEVELS.get((row.get("Type of Juris") or "").strip().lower())
            out.nodes.append(Agency(
                id=agency.id, name=display, country="US",
                level=level, external_ids=[f"ori:{ori}"] if len(ori) == 9 else [],
                notes=_place(row), sources=sources, confidence="reported", imported_from=DATASET))

        technology = clean_text(row.get("Technology"))
        vendor_name = entity_name(row.get("Vendor"))  # "Unknown" / "n/a" is no vendor, not a company
        vendor = None
        if vendor_name:
            vendor = resolver.resolve("Company", vendor_name, [], f"company:aos-{slug(normalise_name(vendor_name))}",
                                      file=file, line=line)
            if vendor.created:
                out.nodes.append(Company(id=vendor.id, name=vendor_name, sources=sources, confidence="reported",
                                         imported_from=DATASET))
        product_name = f"{vendor_name} {technology}" if vendor_name else f"{technology} (vendor not reported)"
        maker = normalise_name(vendor_name) if vendor_name else "unknown-vendor"
        product_id = f"product:aos-{slug(maker)}-{slug(technology)}"
        product = resolver.resolve("Product", product_name, [], product_id, file=file, line=line)
        if product.created:
            out.nodes.append(Product(
                id=product.id, name=product_name, category=CATEGORIES.get(technology.lower(), "other"),
                description=f"{technology}, as categorised by the Atlas of Surveillance",
                sources=[ATLAS_SOURCE.id], confidence="reported", imported_from=DATASET))
        if vendor and (vendor.created or product.created) and self._provides.add((vendor.id, product.id)):
            out.relationships.append(Relationship(
                **{"from": vendor.id, "to": product.id}, type="PROVIDES", sources=[ATLAS_SOURCE.id],
                confidence="reported", imported_from=DATASET, from_match=vendor.method, to_match=product.method))
        notes = [clean_text(row.get("Summary")) or ""]
        if undated or loose:
            notes.append("Also (undated): " + " ".join(dict.fromkeys(undated + loose)))
        out.relationships.append(Relationship(
            id=f"rel:aos-{slug(aos)}", **{"from": agency.id, "to": product.id}, type="USES",
            as_of=dates[-1] if dates else None, notes=" ".join(n for n in notes if n) or None,
            sources=sources, confidence="reported", imported_from=DATASET, from_match=agency.method,
            to_match=product.method))
        return out


def _place(row: CsvRow) -> str | None:
    parts = [clean_text(row.get(c)) for c in ("City", "County", "State")]
    kind = clean_text(row.get("Type of LEA"))
    place = ", ".join(p for p in parts if p)
    return "; ".join(p for p in (place and f"Place: {place}", kind and f"Type: {kind}") if p) or None
