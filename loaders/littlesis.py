"""LittleSis entities and relationships: API responses (``{"data": ..., "included": [...]}``) or bulk JSON.

Accepted shapes, in any mix and across several files of one import: an API document whose ``data`` is an entity, a
relationship or a list of them, with ``included`` entities; a JSON array or JSON Lines of API-style items
(``{"type": "entities", "id": ..., "attributes": {...}}``); or flat bulk records (an entity has ``primary_ext``, a
relationship ``entity1_id``/``entity2_id``/``category_id``). ``lists`` items are skipped.

Entities: ``primary_ext`` Person -> Person; organisations -> Agency when their types say Government Body (or
Government Advisory Body), else Company (the model's kind for every non-state organisation). Ids
``<kind>:ls-<id>``, external id ``littlesis:<id>``; resolved against the graph by LittleSis id, then name.

Relationship categories (``entity1`` -> ``entity2``):

==  ====================  =====================================================================================
 1  Position              person -[WORKS_FOR {role: description1}]-> organisation
 3  Membership            person -[WORKS_FOR {role: "member"}]-> organisation; agency -[PART_OF]-> agency
 6  Service/Transaction   between an agency and a company: a Contract the agency AWARDED to the company
10  Ownership             owned company -[SUBSIDIARY_OF]-> owner company (entity1 owns entity2)
11  Hierarchy             child -[PART_OF / SUBSIDIARY_OF]-> parent (entity1 is the child, unless description1
                          says "parent")
==  ====================  =====================================================================================

Education (2), Family (4), Donation (5), Lobbying (7), Social (8), Professional (9), Generic (12) and pairs the
model cannot hold are skipped with their reason. LittleSis is researched by volunteers and staff from cited public
records: confidence ``reported``; each record cites its LittleSis page, dated by ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from statetech.graph.errors import Problem
from statetech.graph.model import Agency, Company, Contract, Person, Relationship, Source, kind_of_id
from statetech.loaders.common import (
    BadValue,
    JsonStream,
    Progress,
    RowProblem,
    clean_text,
    http_url,
    is_placeholder,
    parse_amount,
    parse_date,
    slug,
    sniff_kind,
    wrong_kind_problem,
)
from statetech.loaders.importing import Emitted, Importer, Parsed, build, date_warnings, register
from statetech.loaders.resolve import Match, Resolver

DATASET = "littlesis"
PUBLISHER = "LittleSis (Public Accountability Initiative)"
CATEGORIES = {1: "Position", 2: "Education", 3: "Membership", 4: "Family", 5: "Donation/Grant",
              6: "Service/Transaction", 7: "Lobbying", 8: "Social", 9: "Professional", 10: "Ownership",
              11: "Hierarchy", 12: "Generic"}
GOVERNMENT_TYPES = {"government body", "governmentbody", "government advisory body", "governmentadvisorybody"}
# The attributes LittleSis writes (API v2 and bulk download). The optional ones are those the importer reads: a
# record without one (renamed upstream, or a different export) would silently leave its field empty, so it is reported.
ENTITY_OPTIONAL = ("primary_ext", "types", "aliases", "blurb", "website", "start_date", "end_date", "updated_at")
ENTITY_KEYS = frozenset({"id", "name", "summary", "parent_id", "extensions", *ENTITY_OPTIONAL})
RELATIONSHIP_OPTIONAL = ("description1", "description", "amount", "currency", "goods", "start_date", "end_date",
                         "updated_at")
RELATIONSHIP_KEYS = frozenset({"id", "entity1_id", "entity2_id", "category_id", "description2", "filings", "is_current",
                               "category_attributes", *RELATIONSHIP_OPTIONAL})


@dataclass
class Item:
    """One LittleSis entity or relationship, as plain attributes, with the line of the document it came from."""

    line: int
    kind: str  # "entity", "relationship" or "other"
    id: str
    attributes: dict[str, Any]
    url: str | None = None
    raw_type: str = ""


def _items(value: Any, line: int) -> Iterator[Item]:
    if isinstance(value, dict) and ("data" in value or "included" in value) and "attributes" not in value:
        data = value.get("data")
        for item in (data if isinstance(data, list) else [data] if data is not None else []):
            yield from _items(item, line)
        for item in value.get("included") or []:
            yield from _items(item, line)
        return
    if isinstance(value, list):
        for item in value:
            yield from _items(item, line)
        return
    if not isinstance(value, dict):
        yield Item(line, "invalid", "", {"value": value})
        return
    if "attributes" in value:
        attrs = dict(value.get("attributes") or {})
        item_type = str(value.get("type") or "")
        links = value.get("links") or {}
        url = links.get("self") if isinstance(links, dict) else None
        url = url or value.get("self")
        item_id = str(value.get("id", attrs.get("id", "")))
        kind = {"entities": "entity", "relationships": "relationship"}.get(item_type, "other")
        yield Item(line, kind, item_id, attrs, url, item_type)
        return
    item_id = str(value.get("id", ""))
    if "primary_ext" in value:
        yield Item(line, "entity", item_id, dict(value))
    elif "entity1_id" in value and "entity2_id" in value:
        yield Item(line, "relationship", item_id, dict(value))
    else:
        yield Item(line, "other", item_id, dict(value))


@register
class LittleSisImporter(Importer):
    format = DATASET
    title = "LittleSis API / bulk JSON"
    suffixes = (".json", ".jsonl")
    phases = ("nodes", "relationships")

    def header_problems(self) -> list[Problem]:
        wrong = wrong_kind_problem(self.file, sniff_kind(self.file), "json")
        return [wrong] if wrong else []

    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        count = 0
        for value in JsonStream(self.file).values(progress, None):
            if isinstance(value, RowProblem):
                yield value
                return
            for item in _items(value.value, value.line):
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return

    @property
    def _ids(self) -> dict[str, tuple[str, str]]:
        return self.shared.setdefault("littlesis_ids", {})

    def parse(self, item: Item) -> Parsed:
        name, line = self.file.name, item.line
        if item.kind == "invalid":
            return Parsed(problems=[Problem(name, line, "expected a LittleSis entity or relationship object",
                                            hint="is this a LittleSis API response or bulk JSON file?")])
        if item.kind == "other":
            return Parsed(skip=f"LittleSis {item.raw_type or 'record'} items are not imported")
        if not item.id.strip():
            return Parsed(problems=[Problem(name, line, f"{item.kind} has no id", column="id")])
        attrs = item.attributes
        if item.kind == "entity":
            self._keys.see(line, "a LittleSis entity", attrs, ENTITY_KEYS, ENTITY_OPTIONAL)
        else:
            self._keys.see(line, "a LittleSis relationship", attrs, RELATIONSHIP_KEYS, RELATIONSHIP_OPTIONAL)
        problems = []
        # Dates and the amount are read here, once; convert() takes them from the parsed record.
        dates: dict[str, str | None] = {}
        for key in ("start_date", "end_date", "updated_at"):
            try:
                dates[key] = parse_date(attrs.get(key))
            except BadValue as exc:
                problems.append(Problem(name, line, str(exc), record_id=f"{item.kind} {item.id}", column=key))
        amount = None
        if item.kind == "entity":
            if is_placeholder(attrs.get("name")):
                return Parsed(skip="entity named only by a placeholder ('n/a', 'unknown', '-'): not an entity")
            if not clean_text(attrs.get("name")):
                problems.append(Problem(name, line, "entity has no name", record_id=item.id, column="name"))
        else:
            try:
                amount = parse_amount(None if attrs.get("amount") is None else str(attrs.get("amount")))
            except BadValue as exc:
                problems.append(Problem(name, line, str(exc), record_id=f"relationship {item.id}", column="amount"))
            for key in ("entity1_id", "entity2_id", "category_id"):
                if attrs.get(key) in (None, ""):
                    problems.append(Problem(name, line, f"relationship has no {key}", record_id=item.id, column=key))
        if problems:
            return Parsed(problems=problems)
        if item.kind == "relationship" and _int(attrs.get("category_id")) not in (1, 3, 6, 10, 11):
            category = CATEGORIES.get(_int(attrs.get("category_id")) or 0, f"category {attrs.get('category_id')}")
            return Parsed(skip=f"LittleSis {category} relationships have no statetech equivalent")
        warnings = date_warnings(name, line, f"{item.kind} {item.id}",
                                 {k: dates[k] for k in ("start_date", "end_date")}, "start_date", "end_date")
        return Parsed(_Record(item, dates, amount), warnings)

    def _source(self, item: Item, dates: dict[str, str | None]) -> Source:
        attrs = item.attributes
        if item.kind == "entity":
            url = http_url(item.url) or f"https://littlesis.org/entities/{item.id}"
            title = f"LittleSis: {clean_text(attrs.get('name'))}"
        else:
            url = http_url(item.url) or f"https://littlesis.org/relationships/{item.id}"
            title = f"LittleSis relationship {item.id}: {clean_text(attrs.get('description')) or ''}".rstrip(": ")
        # the record's own date; a relationship's start_date is the event's, and "2009" was made up: else unknown
        published = dates["updated_at"]
        return Source(id=f"source:littlesis-{item.kind}-{slug(item.id)}", url=url, title=title, publisher=PUBLISHER,
                      published=published)

    def convert(self, parsed: _Record, resolver: Resolver, phase: str) -> Emitted:
        item = parsed.item
        if (phase == "nodes") != (item.kind == "entity"):
            return Emitted()
        source = self._source(item, parsed.dates)
        out = Emitted(sources=[source])
        if item.kind == "entity":
            return self._entity(parsed, resolver, out, [source.id])
        return self._relationship(parsed, resolver, out, [source.id])

    def _entity(self, parsed: _Record, resolver: Resolver, out: Emitted, sources: list[str]) -> Emitted:
        item = parsed.item
        attrs = item.attributes
        if item.id in self._ids:
            return Emitted()  # the same entity again (e.g. in a later document's "included")
        name = clean_text(attrs.get("name"))
        types = {str(t).strip().lower() for t in attrs.get("types") or []}
        primary = str(attrs.get("primary_ext") or "").lower()
        kind = "Person" if primary == "person" else "Agency" if types & GOVERNMENT_TYPES else "Company"
        prefix = {"Person": "person", "Agency": "agency", "Company": "company"}[kind]
        match = resolver.resolve(kind, name, [("littlesis", item.id)], f"{prefix}:ls-{slug(item.id)}",
                                 file=self.file.name, line=item.line)
        self._ids[item.id] = (match.id, match.method)
        if not match.created:
            return Emitted()
        aliases = [a for a in (clean_text(x) for x in attrs.get("aliases") or []) if a and a != name]
        description = clean_text(attrs.get("blurb"))
        common = dict(id=match.id, name=name, aliases=aliases, external_ids=[f"littlesis:{item.id}"],
                      sources=sources, confidence="reported", imported_from=DATASET,
                      start_date=parsed.dates["start_date"], end_date=parsed.dates["end_date"])
        website = http_url(attrs.get("website"))
        if kind == "Person":
            node, problems = build(Person, self.file.name, item.line, item.id, description=description, **common)
        elif kind == "Agency":
            node, problems = build(Agency, self.file.name, item.line, item.id, website=website,
                                   notes=description, **common)
        else:
            node, problems = build(Company, self.file.name, item.line, item.id, website=website,
                                   notes=description, **common)
        if node is None:
            return Emitted(skip="entity rejected by the model: " + "; ".join(p.message for p in problems))
        out.nodes.append(node)
        return out

    def _endpoint(self, entity_id: Any, resolver: Resolver) -> Match | None:
        key = str(entity_id)
        if key in self._ids:
            return Match(*self._ids[key])
        node_id = resolver.find_identifier("littlesis", key)
        return Match(node_id, "external_id") if node_id else None

    def _relationship(self, parsed: _Record, resolver: Resolver, out: Emitted, sources: list[str]) -> Emitted:
        item = parsed.item
        attrs = item.attributes
        a = self._endpoint(attrs.get("entity1_id"), resolver)
        b = self._endpoint(attrs.get("entity2_id"), resolver)
        if a is None or b is None:
            return Emitted(skip="relationship refers to an entity that is neither in the files nor in the graph")
        ka, kb = kind_of_id(a.id), kind_of_id(b.id)
        category = _int(attrs.get("category_id"))
        rel_id = f"rel:ls-{slug(item.id)}"
        dates = dict(start_date=parsed.dates["start_date"], end_date=parsed.dates["end_date"])
        description1 = clean_text(attrs.get("description1"))
        common = dict(sources=sources, confidence="reported", imported_from=DATASET, **dates)
        if category in (1, 3) and ka == "Person" and kb in ("Company", "Agency"):
            role = description1 if category == 1 else (description1 or "member")
            out.relationships.append(Relationship(id=rel_id, **{"from": a.id, "to": b.id}, type="WORKS_FOR",
                                                  role=role, from_match=a.method, to_match=b.method, **common))
        elif category == 3 and ka == kb == "Agency":
            out.relationships.append(Relationship(id=rel_id, **{"from": a.id, "to": b.id}, type="PART_OF",
                                                  from_match=a.method, to_match=b.method, **common))
        elif category == 10 and ka == kb == "Company":
            out.relationships.append(Relationship(id=rel_id, **{"from": b.id, "to": a.id}, type="SUBSIDIARY_OF",
                                                  from_match=b.method, to_match=a.method, **common))
        elif category == 11 and ka == kb and ka in ("Company", "Agency"):
            child, parent = (b, a) if description1 and "parent" in description1.lower() else (a, b)
            rel_type = "PART_OF" if ka == "Agency" else "SUBSIDIARY_OF"
            out.relationships.append(Relationship(id=rel_id, **{"from": child.id, "to": parent.id}, type=rel_type,
                                                  from_match=child.method, to_match=parent.method, **common))
        elif category == 6 and {ka, kb} == {"Agency", "Company"}:
            agency, company = (a, b) if ka == "Agency" else (b, a)
            currency = str(attrs.get("currency") or "usd").lower()
            amount = parsed.amount if currency == "usd" else None
            contract_id = f"contract:ls-{slug(item.id)}"
            description = clean_text(attrs.get("description")) or clean_text(attrs.get("goods"))
            contract, problems = build(
                Contract, self.file.name, item.line, item.id, id=contract_id,
                name=description or f"LittleSis transaction {item.id}", award_type="other", obligated_usd=amount,
                description=clean_text(attrs.get("goods")), external_ids=[f"littlesis-relationship:{item.id}"],
                sources=sources, confidence="reported", imported_from=DATASET, **dates)
            if contract is None:
                return Emitted(skip="relationship rejected by the model: " + "; ".join(p.message for p in problems))
            out.nodes.append(contract)
            out.relationships.append(Relationship(id=f"{rel_id}-awarded", **{"from": agency.id, "to": contract_id},
                                                  type="AWARDED", from_match=agency.method, **common))
            out.relationships.append(Relationship(id=f"{rel_id}-awarded-to",
                                                  **{"from": contract_id, "to": company.id}, type="AWARDED_TO",
                                                  amount_usd=amount, to_match=company.method, **common))
        else:
            name = CATEGORIES.get(category or 0, "relationship")
            return Emitted(skip=f"LittleSis {name} between {ka} and {kb} has no statetech equivalent")
        return out


@dataclass
class _Record:
    """One LittleSis item parsed: its dates and amount read once."""

    item: Item
    dates: dict[str, str | None]
    amount: float | None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
