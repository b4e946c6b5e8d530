"""FollowTheMoney (FtM) export: a subgraph as FtM entities, one JSON object per line.

Schema by node kind (Agency -> PublicBody, Company -> Company, Person -> Person, Contract -> Contract, Product ->
Asset, EmployeeAction -> Event) and relationship type (AWARDED -> Contract.authority, AWARDED_TO -> ContractAward,
WORKS_FOR -> Employment, SUBSIDIARY_OF -> Ownership, PART_OF -> Membership, PARTICIPATED_IN / TARGETS /
ORGANIZED_AT -> Event.involved / organizer, anything else -> UnknownLink with the type as role). Policies have no FtM
schema and are left out. Every entity carries the URLs of the sources it cites in ``sourceUrl``.

Ids: a node imported from FtM keeps its original FtM id; any other is written as ``statetech-<kind>-<slug>``, which
the FtM importer (:mod:`statetech.loaders.ftm`) maps straight back to the statetech node.
"""

from __future__ import annotations

import json
from typing import IO, Any

from statetech.graph.ids import slug
from statetech.graph.subgraph import Subgraph
from statetech.graph.vocabulary import RELATIONSHIP_DESCRIPTIONS

EXPORT_PREFIX = "statetech-"

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
