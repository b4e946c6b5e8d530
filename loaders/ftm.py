"""FollowTheMoney (FtM) entities: import JSON Lines ``{id, schema, properties}``, and export a subgraph back.

Import
------
Node schemata become nodes: ``PublicBody`` -> Agency, ``Company`` and ``Organization`` -> Company (the model's one
kind for organisations that are not state bodies), ``Person`` -> Person, ``Contract`` -> Contract (its
``authority`` -> ``AWARDED``). Edge schemata become relationships:

=================  ==========================================================================================
``Employment``     employee -[WORKS_FOR {role}]-> employer
``Directorship``   director -[WORKS_FOR {role, default "director"}]-> organization
``Membership``     person -[WORKS_FOR {role, default "member"}]-> organization; agency -[PART_OF]-> agency
``Ownership``      asset company -[SUBSIDIARY_OF]-> owner company
``ContractAward``  contract -[AWARDED_TO {amount_usd}]-> supplier
``Payment``        from an agency to a company: onto its ``contract`` (AWARDED_TO), or as a Contract of its own
=================  ==========================================================================================

Anything else (other schemata, a person owning a company, donations between people and parties) is skipped and
counted with its reason: the model has no place for it. Amounts are kept only in US dollars (``amountUsd``, or
``amount`` with currency USD).

Entities are resolved by their FtM id (``ftm:<id>`` in ``external_ids``, so a re-import or another file that
refers to them lands on the same node), then UEI/DUNS/CIK, then names. An edge may name an entity of another
file of the same import, or one imported as a new node by an earlier import; an entity that an earlier import merged
into a curated node leaves no FtM id on it (imports never rewrite curated nodes), so import such edges together with
their entities. Ids written by :func:`write_ftm`
(``statetech-<kind>-<slug>``) map straight back to the statetech node. The file is read twice after checking:
nodes first, then relationships, because an edge may name an entity that appears later in the file (or in another
file of the same import).

FtM data are compiled from registries, leaks and journalism by third parties: confidence ``reported``. Each record
cites its ``sourceUrl``; entities without one cite the dataset (``--source-url``).

Export
------
The writer for the other direction lives with the other export formats, in :mod:`statetech.graph.ftm_export`
(:func:`write_ftm` and :func:`ftm_id_for` are importable from here as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from statetech.graph.errors import Problem
from statetech.graph.model import (
    Agency,
    Company,
    Contract,
    Person,
    Relationship,
    Source,
    kind_of_id,
)
from statetech.graph.ftm_export import EXPORT_PREFIX, ftm_id_for, write_ftm  # noqa: F401 - public here too
from statetech.loaders.common import (
    BadValue,
    JsonStream,
    JsonValue,
    Progress,
    clean_text,
    entity_name,
    http_url,
    parse_amount,
    parse_date,
    short_hash,
    slug,
    sniff_kind,
    wrong_kind_problem,
)
from statetech.loaders.importing import Emitted, Importer, Parsed, build, date_warnings, register
from statetech.loaders.resolve import Match, Resolver

DATASET = "ftm"
NODE_SCHEMATA = {"PublicBody": "Agency", "Company": "Company", "Organization": "Company", "Person": "Person",
                 "Contract": "Contract"}
EDGE_SCHEMATA = {"Employment": ("employee", "employer"), "Directorship": ("director", "organization"),
                 "Membership": ("member", "organization"), "Ownership": ("owner", "asset"),
                 "ContractAward": ("contract", "supplier"), "Payment": ("payer", "beneficiary")}
DATE_PROPS = ("startDate", "endDate", "date", "contractDate", "incorporationDate", "dissolutionDate", "modifiedAt",
              "retrievedAt", "createdAt")
AMOUNT_PROPS = ("amount", "amountUsd", "amountEur")
EVENT_DATES = ("startDate", "endDate", "date", "contractDate", "incorporationDate", "dissolutionDate")  # not metadata
# The keys of an FtM entity object (followthemoney's and nomenklatura's exports); anything else is a misspelling or a
# different format, and is reported: a misspelled "properties" would otherwise leave the entity silently bare.
ENTITY_KEYS = frozenset({"id", "schema", "properties", "caption", "datasets", "referents", "first_seen", "last_seen",
                         "last_change", "target"})
# Every property the FtM model (3.x) defines for the schemata imported here, their parents included. An entity may
# carry any of them (most are not read); a property outside this set is in no such schema: a misspelling or a rename.
SCHEMA_PROPERTIES = frozenset("""
    address addressEntity alephUrl alias amended amount amountEur amountUsd appearance asset authority beneficiary
    beneficiaryAccount bikCode birthCountry birthDate birthPlace bvdId caemCode cageCode callForTenders cancelled
    capital cikCode citizenship classification coatoCode contract contractDate country cpvCode createdAt criteria
    currency date deathDate decisionReason description director dissolutionDate documentNumber documentType dunsCode
    education email employee employer endDate ethnicity eyeColor fatherName firstName fnsCode fssCode gender giiNumber
    hairColor height ibcRuc icijId idNumber imoNumber incorporationDate indexText innCode ipoCode irsCode isinCode
    jibCode jurisdiction keywords kppCode language lastName legalBasis legalForm leiCode licenseNumber lotNumber
    mainCountry mbsCode member method middleName modifiedAt motherName name nameSuffix namesMentioned nationality notes
    noticeId npiCode numberAwards nutsCode ogrnCode okopfCode okpoCode oksmCode okvedCode opencorporatesUrl
    organization owner ownershipType parent passportNumber payer payerAccount percentage permId pfrNumber phone
    political position previousName procedure procedureNumber program programId programme project proof publisher
    publisherUrl purpose recordId registrationNumber religion retrievedAt ricCode role secondName secretary sector
    sequenceNumber sharesCount sharesCurrency sharesType sharesValue socialSecurityNumber sourceUrl spokenLanguage
    startDate status summary supplier swiftBic taxNumber taxStatus ticker title topics transactionNumber type
    uniqueEntityId vatCode voenCode weakAlias website weight wikidataId wikipediaUrl
""".split())


def _first(props: dict[str, list[Any]], *names: str) -> str | None:
    """The first real value: a placeholder ('n/a', 'unknown', '-') is no value, so never a name or an entity."""
    for name in names:
        for value in props.get(name) or []:
            text = entity_name(value)
            if text:
                return text
    return None


def _all(props: dict[str, list[Any]], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out.extend(t for t in (entity_name(v) for v in props.get(name) or []) if t)
    return list(dict.fromkeys(out))


@register
class FtmImporter(Importer):
    format = DATASET
    title = "FollowTheMoney entities (JSON Lines)"
    suffixes = (".json", ".jsonl", ".ijson", ".ftm", ".ftm.json")
    phases = ("nodes", "relationships")

    def header_problems(self) -> list[Problem]:
        wrong = wrong_kind_problem(self.file, sniff_kind(self.file), "json")
        return [wrong] if wrong else []

    def records(self, progress: Progress, limit: int | None) -> Iterator[Any]:
        return JsonStream(self.file).values(progress, limit)

    @property
    def _ids(self) -> dict[str, tuple[str, str]]:
        """FtM id -> (statetech id, how it was resolved), filled in the nodes phase."""
        return self.shared.setdefault("ftm_ids", {})

    # -- pass 1 --------------------------------------------------------------------------------------------------------

    def parse(self, record: JsonValue) -> Parsed:
        name, line, entity = self.file.name, record.line, record.value
        if isinstance(entity, dict):
            self._keys.see(line, "an FtM entity", entity, ENTITY_KEYS)
        if not isinstance(entity, dict) or not isinstance(entity.get("schema"), str) or "id" not in entity:
            return Parsed(problems=[Problem(
                name, line, "not an FtM entity: expected an object with 'id', 'schema' and 'properties'",
                hint="is this a FollowTheMoney JSON Lines file?")])
        ftm_id, schema = str(entity["id"]), entity["schema"]
        props = entity.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            return Parsed(problems=[Problem(name, line, "'properties' must be an object of lists", record_id=ftm_id)])
        problems = []
        for key, values in props.items():
            if not isinstance(values, list):
                problems.append(Problem(name, line, f"property {key!r} must be a list of values", record_id=ftm_id,
                                        column=key, hint='FtM writes every property as a list: "name": ["ACME"]'))
        if problems:
            return Parsed(problems=problems)
        if schema not in NODE_SCHEMATA and schema not in EDGE_SCHEMATA:
            return Parsed(skip=f"FtM schema {schema} has no statetech equivalent")
        self._keys.see(line, f"the properties of an FtM {schema}", props, SCHEMA_PROPERTIES)
        # Every date and amount is parsed here, once; the first non-empty value of each property is kept for
        # convert(), which reads these instead of parsing the property again.
        dates: dict[str, str | None] = {}
        for key in DATE_PROPS:
            for value in props.get(key) or []:
                try:
                    parsed = parse_date(str(value))
                except BadValue as exc:
                    problems.append(Problem(name, line, str(exc), record_id=ftm_id, column=key))
                    continue
                if key not in dates and clean_text(value):
                    dates[key] = parsed
        amounts: dict[str, float | None] = {}
        for key in AMOUNT_PROPS:
            for value in props.get(key) or []:
                try:
                    parsed_amount = parse_amount(str(value))
                except BadValue as exc:
                    problems.append(Problem(name, line, str(exc), record_id=ftm_id, column=key))
                    continue
                if key not in amounts and clean_text(value):
                    amounts[key] = parsed_amount
        if schema in NODE_SCHEMATA and not _first(props, "name", "title") and any(
                clean_text(v) for k in ("name", "title") for v in props.get(k) or []):
            return Parsed(skip=f"{schema} named only by a placeholder ('n/a', 'unknown', '-'): not an entity")
        if schema in NODE_SCHEMATA and not _first(props, "name", "title"):
            problems.append(Problem(name, line, f"{schema} entity has no name", record_id=ftm_id, column="name"))
        if schema in EDGE_SCHEMATA:
            for role in EDGE_SCHEMATA[schema]:
                if not _first(props, role):
                    problems.append(Problem(name, line, f"{schema} has no {role!r}", record_id=ftm_id, column=role))
        source = self._source(entity, dates) if not problems else None
        if not problems and source is None:
            problems.append(Problem(name, line, "entity has no sourceUrl, and no --source-url was given",
                                    record_id=ftm_id, column="sourceUrl",
                                    hint="pass --source-url with the address the file was downloaded from"))
        if problems:
            return Parsed(problems=problems)
        warnings = date_warnings(name, line, ftm_id, {k: v for k, v in dates.items() if k in EVENT_DATES},
                                 "startDate", "endDate")
        return Parsed(_Entity(record, source, dates, _usd(props, amounts)), warnings)

    # -- pass 2 --------------------------------------------------------------------------------------------------------

    def _source(self, entity: dict[str, Any], dates: dict[str, str | None]) -> Source | None:
        props = entity.get("properties") or {}
        url = next((http_url(str(u)) for u in props.get("sourceUrl") or [] if http_url(str(u))), None)
        if url:
            publisher = _first(props, "publisher") or (urlsplit(url).hostname or "web").removeprefix("www.")
            published = None
            for key in ("modifiedAt", "retrievedAt", "createdAt"):
                if key in dates:
                    published = dates[key]
                    break
            if published is None:
                for key in ("last_change", "first_seen", "last_seen"):
                    if entity.get(key):
                        try:
                            published = parse_date(str(entity[key]))
                            break
                        except BadValue:
                            pass
            if published is None:
                dataset = self._dataset_source(entity)
                published = dataset.published if dataset else None
            caption = _first(props, "name", "title") or entity.get("caption") or entity["schema"]
            return Source(id=f"source:web-{slug(publisher, 40)}-{short_hash(url)}", url=url,
                          title=f"{caption}", publisher=publisher, published=published)
        return self._dataset_source(entity)

    def _dataset_source(self, entity: dict[str, Any]) -> Source | None:
        datasets = entity.get("datasets") or []
        name = str(datasets[0]) if datasets else self.file.path.name
        return self.dataset_source_record(f"FollowTheMoney dataset {name}", f"source:ftm-{slug(name, 60)}")

    def convert(self, parsed: _Entity, resolver: Resolver, phase: str) -> Emitted:
        record, source = parsed.record, parsed.source
        entity = record.value
        schema, ftm_id = entity["schema"], str(entity["id"])
        props = _Props(entity.get("properties") or {}, parsed.dates, parsed.usd)
        out = Emitted(sources=[source])
        sources = [source.id]
        if phase == "nodes":
            if schema not in NODE_SCHEMATA:
                return Emitted()  # an edge: handled in the relationships phase
            return self._node(entity, NODE_SCHEMATA[schema], props, resolver, record.line, out, sources)
        if schema == "Contract":
            contract_id = self._ids.get(ftm_id, (None,))[0]
            for authority in _all(props, "authority"):
                end = self._endpoint(authority, resolver)
                if end and kind_of_id(end.id) == "Agency" and contract_id:
                    out.relationships.append(_rel(end.id, "AWARDED", contract_id, sources, from_match=end.method))
            return out if out.relationships else Emitted()
        if schema not in EDGE_SCHEMATA:
            return Emitted()
        return self._edge(entity, schema, ftm_id, props, resolver, out, sources)

    def _node(self, entity, kind, props, resolver: Resolver, line, out: Emitted, sources) -> Emitted:
        ftm_id = str(entity["id"])
        name = _first(props, "name", "title")
        aliases = [a for a in _all(props, "alias", "previousName") if a != name]
        country = _first(props, "jurisdiction", "country", "mainCountry")
        external = [f"ftm:{ftm_id}"]
        for prop, scheme in (("leiCode", "lei"), ("wikidataId", "wikidata"), ("registrationNumber", "registration"),
                             ("opencorporatesUrl", "opencorporates")):
            external.extend(f"{scheme}:{v}" for v in _all(props, prop))
        if kind == "Contract":
            contract_id = f"contract:ftm-{slug(ftm_id)}"
            if ftm_id.startswith(EXPORT_PREFIX) and kind_of_id(_unexport(ftm_id) or "") == "Contract":
                contract_id = _unexport(ftm_id)
            amount = props.usd
            contract, problems = build(
                Contract, self.file.name, line, ftm_id, id=contract_id, name=name, award_id=_first(props,
                "procedureNumber", "noticeId"), obligated_usd=amount, description=_first(props, "description",
                "summary"), start_date=_date(props, "contractDate", "startDate"), external_ids=external,
                notes=_first(props, "type", "classification"), sources=sources, confidence="reported",
                imported_from=DATASET)
            if contract is None:
                return Emitted(skip="entity rejected by the model: " + "; ".join(p.message for p in problems))
            self._ids[ftm_id] = (contract_id, "imported")
            out.nodes.append(contract)
            return out
        identifiers = [("ftm", ftm_id), ("uei", _first(props, "uniqueEntityId")), ("duns", _first(props, "dunsCode")),
                       ("cik", _first(props, "cikCode"))]
        prefix = {"Agency": "agency", "Company": "company", "Person": "person"}[kind]
        derived = f"{prefix}:ftm-{slug(ftm_id)}"
        exported = _unexport(ftm_id)
        if exported and kind_of_id(exported) == kind:
            if resolver.known(exported):
                match = Match(exported, "id")
            else:
                derived = exported
                match = resolver.resolve(kind, name, identifiers, derived, file=self.file.name, line=line)
        else:
            match = resolver.resolve(kind, name, identifiers, derived, file=self.file.name, line=line)
        self._ids[ftm_id] = (match.id, match.method)
        if not match.created:
            return Emitted()  # landed on an existing node: nothing to write, its edges follow
        common = dict(id=match.id, name=name, aliases=aliases, external_ids=external, sources=sources,
                      confidence="reported", imported_from=DATASET,
                      start_date=_date(props, "incorporationDate", "birthDate") if kind != "Person" else None,
                      end_date=_date(props, "dissolutionDate") if kind != "Person" else None)
        website = next((http_url(w) for w in _all(props, "website") if http_url(w)), None)
        if kind == "Agency":
            node, problems = build(Agency, self.file.name, line, ftm_id, country=country, website=website,
                                   notes=_first(props, "summary", "description"), **common)
        elif kind == "Company":
            node, problems = build(Company, self.file.name, line, ftm_id, country=country, website=website,
                                   uei=_first(props, "uniqueEntityId"), duns=_first(props, "dunsCode"),
                                   cik=_first(props, "cikCode"), ticker=_first(props, "ticker"),
                                   notes=_first(props, "summary", "description"), **common)
        else:
            node, problems = build(Person, self.file.name, line, ftm_id,
                                   description=_first(props, "summary", "description", "position"), **common)
        if node is None:
            return Emitted(skip="entity rejected by the model: " + "; ".join(p.message for p in problems))
        out.nodes.append(node)
        return out

    def _endpoint(self, ftm_id: str, resolver: Resolver) -> Match | None:
        if ftm_id in self._ids:
            return Match(*self._ids[ftm_id])
        node_id = resolver.find_identifier("ftm", ftm_id)
        if node_id:
            return Match(node_id, "imported" if node_id.endswith(f":ftm-{slug(ftm_id)}") else "external_id")
        exported = _unexport(ftm_id)
        if exported and resolver.known(exported):
            return Match(exported, "id")
        return None

    def _edge(self, entity, schema, ftm_id, props, resolver: Resolver, out: Emitted, sources) -> Emitted:
        source_role, target_role = EDGE_SCHEMATA[schema]
        a = self._endpoint(_first(props, source_role) or "", resolver)
        b = self._endpoint(_first(props, target_role) or "", resolver)
        if a is None or b is None:
            return Emitted(skip=f"{schema} refers to an entity that is neither in the files nor in the graph")
        ka, kb = kind_of_id(a.id), kind_of_id(b.id)
        role = _first(props, "role")
        dates = dict(start_date=_date(props, "startDate", "date"), end_date=_date(props, "endDate"))
        rel_id = f"rel:ftm-{slug(ftm_id)}"
        if schema in ("Employment", "Directorship", "Membership") and ka == "Person" and kb in ("Company", "Agency"):
            default = {"Directorship": "director", "Membership": "member"}.get(schema)
            out.relationships.append(_rel(a.id, "WORKS_FOR", b.id, sources, rel_id=rel_id, role=role or default,
                                          from_match=a.method, to_match=b.method, **dates))
        elif schema == "Membership" and ka == kb == "Agency":
            out.relationships.append(_rel(a.id, "PART_OF", b.id, sources, rel_id=rel_id, from_match=a.method,
                                          to_match=b.method, **dates))
        elif schema == "Ownership" and ka == kb == "Company":
            share = _first(props, "percentage")
            out.relationships.append(_rel(b.id, "SUBSIDIARY_OF", a.id, sources, rel_id=rel_id, from_match=b.method,
                                          to_match=a.method, notes=f"{share}% owned" if share else None, **dates))
        elif schema == "ContractAward" and ka == "Contract" and kb == "Company":
            out.relationships.append(_rel(a.id, "AWARDED_TO", b.id, sources, rel_id=rel_id, amount_usd=props.usd,
                                          from_match=a.method, to_match=b.method, **dates))
        elif schema == "Payment" and ka == "Agency" and kb == "Company":
            contract = self._endpoint(_first(props, "contract") or "", resolver)
            amount = props.usd
            if contract and kind_of_id(contract.id) == "Contract":
                out.relationships.append(_rel(contract.id, "AWARDED_TO", b.id, sources, rel_id=rel_id,
                                              amount_usd=amount, to_match=b.method, **dates))
            else:
                contract_id = f"contract:ftm-{slug(ftm_id)}"
                purpose = _first(props, "purpose", "programme", "description", "summary")
                out.nodes.append(Contract(
                    id=contract_id, name=f"Payment: {purpose}" if purpose else f"Payment {ftm_id}", award_type="other",
                    obligated_usd=amount, description=purpose, start_date=dates["start_date"],
                    external_ids=[f"ftm:{ftm_id}"], notes="FtM Payment from an agency to a company",
                    sources=sources, confidence="reported", imported_from=DATASET))
                out.relationships.append(_rel(a.id, "AWARDED", contract_id, sources, rel_id=rel_id + "-awarded",
                                              from_match=a.method))
                out.relationships.append(_rel(contract_id, "AWARDED_TO", b.id, sources, rel_id=rel_id + "-awarded-to",
                                              amount_usd=amount, to_match=b.method))
        else:
            return Emitted(skip=f"{schema} from {ka} to {kb} has no statetech relationship")
        return out


def _rel(from_id: str, rel_type: str, to_id: str, sources: list[str], rel_id: str | None = None,
         **extra: Any) -> Relationship:
    extra = {k: v for k, v in extra.items() if v is not None}
    return Relationship(id=rel_id, **{"from": from_id, "to": to_id}, type=rel_type, sources=sources,
                        confidence="reported", imported_from=DATASET, **extra)


@dataclass
class _Entity:
    """One FtM entity parsed: its source, and its dates and US-dollar amount read once."""

    record: JsonValue
    source: Source
    dates: dict[str, str | None]
    usd: float | None


class _Props(dict):
    """An entity's properties, carrying the dates and amount :meth:`FtmImporter.parse` already read."""

    def __init__(self, props: dict[str, list[Any]], dates: dict[str, str | None], usd: float | None) -> None:
        super().__init__(props)
        self.dates = dates
        self.usd = usd


def _date(props: _Props, *names: str) -> str | None:
    """The first of ``names`` with a value, as parsed once by :meth:`FtmImporter.parse`."""
    for name in names:
        if name in props.dates:
            return props.dates[name]
        if name not in DATE_PROPS:  # not checked in the first pass (e.g. birthDate): read it here
            value = _first(props, name)
            if value:
                return parse_date(value)
    return None


def _usd(props: dict[str, list[Any]], amounts: dict[str, float | None]) -> float | None:
    """US dollars only: ``amountUsd``, else ``amount`` when the currency is USD (amounts parsed in parse())."""
    if "amountUsd" in amounts:
        return amounts["amountUsd"]
    currency = (_first(props, "currency") or "").upper()
    if "amount" in amounts and currency in ("USD", "US$", "$"):
        return amounts["amount"]
    return None


def _unexport(ftm_id: str) -> str | None:
    """'statetech-company-microsoft' -> 'company:microsoft' (ids written by :func:`write_ftm`)."""
    if not ftm_id.startswith(EXPORT_PREFIX):
        return None
    prefix, _, rest = ftm_id[len(EXPORT_PREFIX):].partition("-")
    return f"{prefix}:{rest}" if prefix and rest else None
