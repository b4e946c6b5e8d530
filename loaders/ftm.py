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
:func:`write_ftm` writes one entity per line, schema by node kind (Agency -> PublicBody, Company -> Company, Person
-> Person, Contract -> Contract, Product -> Asset, EmployeeAction -> Event) and relationship type (AWARDED ->
Contract.authority, AWARDED_TO -> ContractAward, WORKS_FOR -> Employment, SUBSIDIARY_OF -> Ownership, PART_OF ->
Membership, PARTICIPATED_IN / TARGETS / ORGANIZED_AT -> Event.involved / organizer, anything else ->
UnknownLink with the type as role). Policies have no FtM schema and are left out. Every entity carries the URLs of
the sources it cites in ``sourceUrl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from statetech.graph.errors import Problem
from statetech.graph.model import (
    RELATIONSHIP_DESCRIPTIONS,
    Agency,
    Company,
    Contract,
    Person,
    Relationship,
    Source,
    kind_of_id,
)
from statetech.graph.subgraph import Subgraph
from statetech.loaders.common import (
    BadValue,
    JsonStream,
    JsonValue,
    Progress,
    clean_text,
    http_url,
    parse_amount,
    parse_date,
    short_hash,
    slug,
    sniff_kind,
    wrong_kind_problem,
)
from statetech.loaders.importing import CheckResult, Emitted, Importer, build, register
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
EXPORT_PREFIX = "statetech-"


def _first(props: dict[str, list[Any]], *names: str) -> str | None:
    for name in names:
        for value in props.get(name) or []:
            text = clean_text(value)
            if text:
                return text
    return None


def _all(props: dict[str, list[Any]], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out.extend(t for t in (clean_text(v) for v in props.get(name) or []) if t)
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

    def check(self, record: JsonValue) -> CheckResult:
        name, line, entity = self.file.name, record.line, record.value
        if not isinstance(entity, dict) or not isinstance(entity.get("schema"), str) or "id" not in entity:
            return [Problem(name, line, "not an FtM entity: expected an object with 'id', 'schema' and 'properties'",
                            hint="is this a FollowTheMoney JSON Lines file?")]
        ftm_id, schema = str(entity["id"]), entity["schema"]
        props = entity.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            return [Problem(name, line, "'properties' must be an object of lists", record_id=ftm_id)]
        problems = []
        for key, values in props.items():
            if not isinstance(values, list):
                problems.append(Problem(name, line, f"property {key!r} must be a list of values", record_id=ftm_id,
                                        column=key, hint='FtM writes every property as a list: "name": ["ACME"]'))
        if problems:
            return problems
        if schema not in NODE_SCHEMATA and schema not in EDGE_SCHEMATA:
            return f"FtM schema {schema} has no statetech equivalent"
        for key in DATE_PROPS:
            for value in props.get(key) or []:
                try:
                    parse_date(str(value))
                except BadValue as exc:
                    problems.append(Problem(name, line, str(exc), record_id=ftm_id, column=key))
        for key in AMOUNT_PROPS:
            for value in props.get(key) or []:
                try:
                    parse_amount(str(value))
                except BadValue as exc:
                    problems.append(Problem(name, line, str(exc), record_id=ftm_id, column=key))
        if schema in NODE_SCHEMATA and not _first(props, "name", "title"):
            problems.append(Problem(name, line, f"{schema} entity has no name", record_id=ftm_id, column="name"))
        if schema in EDGE_SCHEMATA:
            for role in EDGE_SCHEMATA[schema]:
                if not _first(props, role):
                    problems.append(Problem(name, line, f"{schema} has no {role!r}", record_id=ftm_id, column=role))
        if not problems and self._source(entity) is None:
            problems.append(Problem(name, line, "entity has no sourceUrl, and no --source-url was given",
                                    record_id=ftm_id, column="sourceUrl",
                                    hint="pass --source-url with the address the file was downloaded from"))
        return problems or None

    # -- pass 2 --------------------------------------------------------------------------------------------------------

    def _source(self, entity: dict[str, Any]) -> Source | None:
        props = entity.get("properties") or {}
        url = next((http_url(str(u)) for u in props.get("sourceUrl") or [] if http_url(str(u))), None)
        if url:
            publisher = _first(props, "publisher") or (urlsplit(url).hostname or "web").removeprefix("www.")
            published = None
            for key in ("modifiedAt", "retrievedAt", "createdAt"):
                value = _first(props, key)
                if value:
                    published = parse_date(value)
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
            if published is None:
                import datetime as _dt

                published = _dt.date.fromtimestamp(self.file.path.stat().st_mtime).isoformat()
            caption = _first(props, "name", "title") or entity.get("caption") or entity["schema"]
            return Source(id=f"source:web-{slug(publisher, 40)}-{short_hash(url)}", url=url,
                          title=f"{caption}", publisher=publisher, published=published)
        return self._dataset_source(entity)

    def _dataset_source(self, entity: dict[str, Any]) -> Source | None:
        datasets = entity.get("datasets") or []
        name = str(datasets[0]) if datasets else self.file.path.name
        return self.dataset_source_record(f"FollowTheMoney dataset {name}", f"source:ftm-{slug(name, 60)}")

    def convert(self, record: JsonValue, resolver: Resolver, phase: str) -> Emitted:
        entity = record.value
        schema, ftm_id = entity["schema"], str(entity["id"])
        props = entity.get("properties") or {}
        source = self._source(entity)
        assert source is not None
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
            amount = _usd(props)
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
            out.relationships.append(_rel(a.id, "AWARDED_TO", b.id, sources, rel_id=rel_id, amount_usd=_usd(props),
                                          from_match=a.method, to_match=b.method, **dates))
        elif schema == "Payment" and ka == "Agency" and kb == "Company":
            contract = self._endpoint(_first(props, "contract") or "", resolver)
            amount = _usd(props)
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


def _date(props: dict[str, list[Any]], *names: str) -> str | None:
    value = _first(props, *names)
    return parse_date(value) if value else None


def _usd(props: dict[str, list[Any]]) -> float | None:
    value = _first(props, "amountUsd")
    if value:
        return parse_amount(value)
    currency = (_first(props, "currency") or "").upper()
    value = _first(props, "amount")
    if value and currency in ("USD", "US$", "$"):
        return parse_amount(value)
    return None


def _unexport(ftm_id: str) -> str | None:
    """'statetech-company-microsoft' -> 'company:microsoft' (ids written by :func:`write_ftm`)."""
    if not ftm_id.startswith(EXPORT_PREFIX):
        return None
    prefix, _, rest = ftm_id[len(EXPORT_PREFIX):].partition("-")
    return f"{prefix}:{rest}" if prefix and rest else None


# --- export ----------------------------------------------------------------------------------------------------------

EXPORT_SCHEMA = {"Agency": "PublicBody", "Company": "Company", "Person": "Person", "Contract": "Contract",
                 "Product": "Asset", "EmployeeAction": "Event"}


def ftm_id_for(node_id: str, properties: dict[str, Any]) -> str:
    """The FtM id of a node: its original FtM id when it was imported from FtM, else ``statetech-<kind>-<slug>``."""
    for ext in properties.get("external_ids") or []:
        if str(ext).startswith("ftm:"):
            return str(ext)[4:]
    prefix, _, rest = node_id.partition(":")
    return f"{EXPORT_PREFIX}{prefix}-{rest}"


def write_ftm(subgraph: Subgraph, stream: IO[str]) -> None:
    """Write ``subgraph`` as FollowTheMoney entities, one JSON object per line (see the module docstring)."""
    urls = {sid: s.get("url") for sid, s in subgraph.sources.items()}
    ids = {node_id: ftm_id_for(node_id, node.properties) for node_id, node in subgraph.nodes.items()
           if node.kind in EXPORT_SCHEMA}
    entities: dict[str, dict[str, Any]] = {}

    def source_urls(cited: list[str]) -> list[str]:
        return list(dict.fromkeys(u for u in (urls.get(s) for s in cited) if u))

    for node_id, node in subgraph.nodes.items():
        if node_id not in ids:
            continue
        p = node.properties
        props: dict[str, list[str]] = {}

        def put(key: str, *values: Any) -> None:
            texts = [str(v) for v in values if v not in (None, "", [])]
            if texts:
                props.setdefault(key, []).extend(texts)

        if node.kind == "Contract":
            put("title", p.get("name"))
            put("amount", _number(p.get("obligated_usd")))
            if p.get("obligated_usd") is not None:
                put("currency", "USD")
                put("amountUsd", _number(p.get("obligated_usd")))
            put("contractDate", p.get("start_date"))
            put("procedureNumber", p.get("award_id"))
            put("description", p.get("description"))
            put("type", p.get("award_type"))
        elif node.kind == "EmployeeAction":
            put("name", p.get("name"))
            put("date", p.get("start_date"))
            put("summary", p.get("description"))
        else:
            put("name", p.get("name"))
            put("alias", *(p.get("aliases") or []))
            if node.kind in ("Agency", "Company"):
                put("country", p.get("country"))
                put("website", p.get("website"))
            if node.kind == "Company":
                put("uniqueEntityId", p.get("uei"))
                put("dunsCode", p.get("duns"))
                put("cikCode", p.get("cik"))
                put("ticker", p.get("ticker"))
            put("description", p.get("description"))
        put("notes", p.get("notes"))
        put("sourceUrl", *source_urls(node.sources))
        entities[node_id] = {"id": ids[node_id], "schema": EXPORT_SCHEMA[node.kind], "properties": props,
                             "datasets": ["statetech"]}

    edges: list[dict[str, Any]] = []
    for edge in subgraph.edges:
        if edge.source not in ids or edge.target not in ids:
            continue
        a, b = ids[edge.source], ids[edge.target]
        p = edge.properties
        sources = source_urls(edge.sources)
        base = {"id": f"{EXPORT_PREFIX}rel-{slug(edge.id, 120)}", "datasets": ["statetech"]}
        dates = {k: [v] for k, v in (("startDate", p.get("start_date")), ("endDate", p.get("end_date"))) if v}
        common = {**dates, **({"sourceUrl": sources} if sources else {})}
        if edge.type == "AWARDED":
            entities[edge.target]["properties"].setdefault("authority", []).append(a)
        elif edge.type == "AWARDED_TO":
            extra = {"amount": [_number(p["amount_usd"])], "currency": ["USD"],
                     "amountUsd": [_number(p["amount_usd"])]} if p.get("amount_usd") is not None else {}
            edges.append({**base, "schema": "ContractAward",
                          "properties": {"contract": [a], "supplier": [b], **extra, **common}})
        elif edge.type == "WORKS_FOR":
            role = {"role": [p["role"]]} if p.get("role") else {}
            edges.append({**base, "schema": "Employment",
                          "properties": {"employee": [a], "employer": [b], **role, **common}})
        elif edge.type == "SUBSIDIARY_OF":
            edges.append({**base, "schema": "Ownership", "properties": {"owner": [b], "asset": [a], **common}})
        elif edge.type == "PART_OF":
            edges.append({**base, "schema": "Membership",
                          "properties": {"member": [a], "organization": [b], **common}})
        elif edge.type in ("PARTICIPATED_IN", "TARGETS", "ORGANIZED_AT") and (
                subgraph.nodes[edge.source].kind == "EmployeeAction" or edge.type == "PARTICIPATED_IN"):
            event, other = (edge.target, a) if edge.type == "PARTICIPATED_IN" else (edge.source, b)
            key = "organizer" if edge.type == "ORGANIZED_AT" else "involved"
            entities[event]["properties"].setdefault(key, []).append(other)
        else:
            role = RELATIONSHIP_DESCRIPTIONS.get(edge.type, edge.type)
            edges.append({**base, "schema": "UnknownLink",
                          "properties": {"subject": [a], "object": [b], "role": [f"{edge.type}: {role}"], **common}})
    for entity in entities.values():
        stream.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
    for entity in edges:
        stream.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")


def _number(value: Any) -> str | None:
    if value is None:
        return None
    number = float(value)
    return str(int(number)) if number == int(number) else repr(number)
