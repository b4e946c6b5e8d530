"""The statetech data model: node kinds, sources and the allowed relationship triples.

This module is the single allowlist for everything that reaches a label or relationship-type slot in Cypher.
Cypher cannot take labels or types as parameters, so any code that builds such a slot must get the name from
:data:`NODE_KINDS`, :data:`RELATIONSHIP_TYPES` or :data:`SOURCE_LABEL` (see :func:`checked_label`).
"""

from __future__ import annotations

import calendar
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Confidence = Literal["confirmed", "reported", "alleged"]
CONFIDENCE_LEVELS: tuple[str, ...] = ("confirmed", "reported", "alleged")

# How an importer resolved a reference to a node it did not create from the record itself: an identifier, a name,
# or "imported" (no existing node matched; the endpoint is the node derived from the upstream record's own id).
MatchMethod = Literal[
    "id", "uei", "duns", "cik", "agency_code", "external_id", "name", "alias", "normalised_name", "imported"
]
MATCH_METHODS: tuple[str, ...] = (
    "id", "uei", "duns", "cik", "agency_code", "external_id", "name", "alias", "normalised_name", "imported"
)

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_partial_date(value: str) -> str:
    """Dates are ISO strings of year, year-month or a full day.

    Sources often give only a month ("reported in January 2026"); storing a precise day we do not know would be an
    invented fact, so the model keeps the precision the source gives. ISO strings also sort and compare correctly
    on both stores.
    """
    m = _DATE_RE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD (or YYYY-MM / YYYY when the source gives no day)")
    year, month, day = (int(g) if g else None for g in m.groups())
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"{value!r} has month {month:02d}; months run 01-12")
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"{value!r} is not a day of that month")
    return value


def _coerce_date(value: Any) -> Any:
    # YAML turns an unquoted 2026-01-31 into a datetime.date; we keep dates as ISO strings.
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    return value


PartialDate = Annotated[str, AfterValidator(_check_partial_date)]

_SLUG = r"[a-z0-9][a-z0-9._-]*"


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]


class StrictModel(BaseModel):
    """Unknown fields are errors: a misspelled field in a curated file must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _dates_as_strings(cls, value: Any, info) -> Any:
        if info.field_name in DATE_FIELDS:
            return _coerce_date(value)
        return value


DATE_FIELDS = frozenset({"start_date", "end_date", "published", "accessed", "as_of"})


class Source(StrictModel):
    """A public document that supports one or more records."""

    id: str = Field(pattern=rf"^source:{_SLUG}$")
    url: HttpUrlStr
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    published: PartialDate
    accessed: PartialDate | None = None
    author: str | None = None
    archive_url: HttpUrlStr | None = None
    excerpt: str | None = Field(default=None, max_length=600)

    def properties(self) -> dict[str, Any]:
        return _properties(self)


class Node(StrictModel):
    """Fields every node kind shares: identity, provenance, confidence and time."""

    KIND: ClassVar[str] = ""
    PREFIX: ClassVar[str] = ""

    id: str
    kind: str
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)
    confidence: Confidence
    start_date: PartialDate | None = None
    end_date: PartialDate | None = None
    notes: str | None = None
    # Identifiers from upstream datasets (e.g. "uei:ABC123", "littlesis:13503"): matched before names on import.
    external_ids: list[str] = Field(default_factory=list)
    # Set by importers only (e.g. "usaspending:awards"); curated records leave it empty, and imports never
    # overwrite a node without it.
    imported_from: str | None = None

    @field_validator("id")
    @classmethod
    def _id_has_kind_prefix(cls, value: str) -> str:
        if not re.match(rf"^{cls.PREFIX}:{_SLUG}$", value):
            raise ValueError(
                f"{value!r} is not a {cls.KIND} id; write '{cls.PREFIX}:' then a lowercase slug, e.g. '{cls.PREFIX}:example'"
            )
        return value

    @field_validator("sources")
    @classmethod
    def _sources_are_source_ids(cls, value: list[str]) -> list[str]:
        for sid in value:
            if not sid.startswith("source:"):
                raise ValueError(f"{sid!r} is not a source id; source ids start with 'source:'")
        return value

    def properties(self) -> dict[str, Any]:
        return _properties(self)


class Agency(Node):
    KIND: ClassVar[str] = "Agency"
    PREFIX: ClassVar[str] = "agency"
    kind: Literal["Agency"] = "Agency"
    country: str | None = None
    level: Literal["federal", "state", "local", "national", "international"] | None = None
    website: HttpUrlStr | None = None
    agency_code: str | None = None


class Company(Node):
    KIND: ClassVar[str] = "Company"
    PREFIX: ClassVar[str] = "company"
    kind: Literal["Company"] = "Company"
    country: str | None = None
    website: HttpUrlStr | None = None
    uei: str | None = None
    duns: str | None = None
    cik: str | None = None
    ticker: str | None = None


AwardType = Literal[
    "definitive_contract", "idv", "task_order", "delivery_order", "bpa", "bpa_call", "purchase_order", "ota", "other"
]


class Contract(Node):
    KIND: ClassVar[str] = "Contract"
    PREFIX: ClassVar[str] = "contract"
    kind: Literal["Contract"] = "Contract"
    award_id: str | None = None
    award_type: AwardType | None = None
    # Obligated money has been committed; potential value includes unexercised options. Reports often conflate
    # them, so the model keeps them apart and never derives one from the other.
    obligated_usd: float | None = None
    current_usd: float | None = None
    potential_usd: float | None = None
    status: Literal["active", "completed", "cancelled", "unknown"] | None = None
    description: str | None = None
    naics: str | None = None
    psc: str | None = None


class EmployeeAction(Node):
    KIND: ClassVar[str] = "EmployeeAction"
    PREFIX: ClassVar[str] = "action"
    kind: Literal["EmployeeAction"] = "EmployeeAction"
    action_type: Literal[
        "petition", "open_letter", "walkout", "protest", "resignation", "strike", "sit_in",
        "shareholder_proposal", "other",
    ] | None = None
    participants: int | None = Field(default=None, ge=0)
    description: str | None = None


class Policy(Node):
    KIND: ClassVar[str] = "Policy"
    PREFIX: ClassVar[str] = "policy"
    kind: Literal["Policy"] = "Policy"
    policy_type: Literal[
        "ai_principles", "human_rights_policy", "code_of_conduct", "privacy_impact_assessment", "agency_policy",
        "law", "executive_order", "regulation", "contract_terms", "other",
    ] | None = None
    jurisdiction: str | None = None
    url: HttpUrlStr | None = None
    description: str | None = None


class Person(Node):
    KIND: ClassVar[str] = "Person"
    PREFIX: ClassVar[str] = "person"
    kind: Literal["Person"] = "Person"
    description: str | None = None


class Product(Node):
    KIND: ClassVar[str] = "Product"
    PREFIX: ClassVar[str] = "product"
    kind: Literal["Product"] = "Product"
    category: Literal[
        "cloud", "case_management", "analytics", "biometrics", "facial_recognition", "data_broker",
        "license_plate_reader", "surveillance_tower", "location_data", "social_media_monitoring", "spyware", "other",
    ] | None = None
    description: str | None = None


NODE_CLASSES: tuple[type[Node], ...] = (Agency, Company, Contract, EmployeeAction, Policy, Person, Product)
NODE_KINDS: dict[str, type[Node]] = {cls.KIND: cls for cls in NODE_CLASSES}
KIND_BY_PREFIX: dict[str, str] = {cls.PREFIX: cls.KIND for cls in NODE_CLASSES}
SOURCE_LABEL = "Source"
# Every curated node also carries this label so an id lookup across kinds can use one uniqueness constraint.
ENTITY_LABEL = "Entity"

# (from kind, TYPE, to kind) triples, kept as data so validation, the stores and the docs read one table.
ALLOWED_TRIPLES: tuple[tuple[str, str, str], ...] = (
    ("Agency", "PART_OF", "Agency"),
    ("Agency", "SHARES_DATA_WITH", "Agency"),
    ("Company", "SUBSIDIARY_OF", "Company"),
    ("Agency", "AWARDED", "Contract"),
    ("Contract", "AWARDED_TO", "Company"),
    ("Contract", "SUBCONTRACTED_TO", "Company"),
    ("Contract", "CHILD_OF", "Contract"),
    ("Contract", "FOR_PRODUCT", "Product"),
    ("Company", "PROVIDES", "Product"),
    ("Product", "RUNS_ON", "Product"),
    ("Agency", "USES", "Product"),
    ("EmployeeAction", "TARGETS", "Company"),
    ("EmployeeAction", "TARGETS", "Contract"),
    ("EmployeeAction", "TARGETS", "Agency"),
    ("EmployeeAction", "TARGETS", "Policy"),
    ("EmployeeAction", "TARGETS", "Product"),
    ("EmployeeAction", "ORGANIZED_AT", "Company"),
    ("EmployeeAction", "CITES", "Policy"),
    ("Person", "PARTICIPATED_IN", "EmployeeAction"),
    ("Person", "WORKS_FOR", "Company"),
    ("Person", "WORKS_FOR", "Agency"),
    ("Company", "ISSUED", "Policy"),
    ("Agency", "ISSUED", "Policy"),
    ("Policy", "GOVERNS", "Agency"),
    ("Policy", "GOVERNS", "Company"),
    ("Policy", "GOVERNS", "Product"),
    ("Policy", "GOVERNS", "Contract"),
    ("Company", "RESPONDED_TO", "EmployeeAction"),
    ("Person", "RESPONDED_TO", "EmployeeAction"),
)
RELATIONSHIP_TYPES: tuple[str, ...] = tuple(dict.fromkeys(t for _, t, _ in ALLOWED_TRIPLES))

RELATIONSHIP_DESCRIPTIONS: dict[str, str] = {
    "PART_OF": "a component or sub-agency of",
    "SHARES_DATA_WITH": "shares data with",
    "SUBSIDIARY_OF": "is a subsidiary of",
    "AWARDED": "awarded the contract",
    "AWARDED_TO": "contract awarded to the vendor",
    "SUBCONTRACTED_TO": "work under the contract subcontracted to",
    "CHILD_OF": "task or delivery order under an IDV",
    "FOR_PRODUCT": "contract buys the product or service",
    "PROVIDES": "sells or operates the product",
    "RUNS_ON": "product hosted on another product",
    "USES": "agency uses the product (optional data volume and as-of date)",
    "TARGETS": "employee action aimed at",
    "ORGANIZED_AT": "employee action by workers of",
    "CITES": "employee action invokes the policy",
    "PARTICIPATED_IN": "took part in the employee action",
    "WORKS_FOR": "works or worked for (role, dates)",
    "ISSUED": "issued the policy",
    "GOVERNS": "policy applies to",
    "RESPONDED_TO": "publicly responded to the employee action",
}

# Properties a relationship may carry beyond the common ones, by type.
RELATIONSHIP_PROPERTIES: dict[str, frozenset[str]] = {
    "USES": frozenset({"data_volume_tb", "as_of"}),
    "WORKS_FOR": frozenset({"role"}),
    "PARTICIPATED_IN": frozenset({"role"}),
    "AWARDED_TO": frozenset({"amount_usd"}),
    "SUBCONTRACTED_TO": frozenset({"amount_usd"}),
}


def allowed_targets(from_kind: str, rel_type: str) -> list[str]:
    return [t for f, r, t in ALLOWED_TRIPLES if f == from_kind and r == rel_type]


def is_allowed(from_kind: str, rel_type: str, to_kind: str) -> bool:
    return (from_kind, rel_type, to_kind) in _TRIPLE_SET


_TRIPLE_SET = frozenset(ALLOWED_TRIPLES)


class Relationship(StrictModel):
    """A typed, sourced edge between two nodes."""

    id: str | None = Field(default=None, pattern=rf"^rel:{_SLUG}$")
    from_id: str = Field(alias="from")
    type: str
    to_id: str = Field(alias="to")
    sources: list[str] = Field(min_length=1)
    confidence: Confidence
    start_date: PartialDate | None = None
    end_date: PartialDate | None = None
    notes: str | None = None
    role: str | None = None
    data_volume_tb: float | None = Field(default=None, ge=0)
    as_of: PartialDate | None = None
    amount_usd: float | None = None
    # Import provenance: the dataset, and how each end was resolved against the nodes already in the graph.
    imported_from: str | None = None
    from_match: MatchMethod | None = None
    to_match: MatchMethod | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in RELATIONSHIP_TYPES:
            raise ValueError(f"unknown relationship type {value!r}; use one of {', '.join(RELATIONSHIP_TYPES)}")
        return value

    @field_validator("sources")
    @classmethod
    def _sources_are_source_ids(cls, value: list[str]) -> list[str]:
        return Node._sources_are_source_ids(value)

    def type_specific_fields_misused(self) -> list[str]:
        allowed = RELATIONSHIP_PROPERTIES.get(self.type, frozenset())
        extra = {"role", "data_volume_tb", "as_of", "amount_usd"} - allowed
        return sorted(f for f in extra if getattr(self, f) is not None)

    @property
    def key(self) -> str:
        """Stable id: explicit when given, otherwise derived from the endpoints and type."""
        if self.id:
            return self.id
        return f"rel:{self.from_id}>{self.type}>{self.to_id}"

    def properties(self) -> dict[str, Any]:
        props = _properties(self, exclude={"from_id", "to_id", "id"})
        props["id"] = self.key
        props["from"] = self.from_id
        props["to"] = self.to_id
        return props


def _properties(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """Flatten a record to store properties: no None values (Neo4j drops them anyway) and no empty lists."""
    out: dict[str, Any] = {}
    for name, value in model.model_dump(exclude=exclude or set()).items():
        if value is None or value == []:
            continue
        out[name] = value
    return out


def kind_of_id(node_id: str) -> str | None:
    prefix = node_id.split(":", 1)[0]
    return KIND_BY_PREFIX.get(prefix)


def checked_label(name: str) -> str:
    """Return ``name`` if it is a label of the model, else raise: the guard in front of every label slot."""
    if name in NODE_KINDS or name in (SOURCE_LABEL, ENTITY_LABEL):
        return name
    raise ValueError(f"{name!r} is not a node kind of the model")


def checked_rel_type(name: str) -> str:
    """Return ``name`` if it is a relationship type of the model, else raise."""
    if name in RELATIONSHIP_TYPES:
        return name
    raise ValueError(f"{name!r} is not a relationship type of the model")


class RecordSet(BaseModel):
    """A validated batch of sources, nodes and relationships, ready to write."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sources: list[Source] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sources) + len(self.nodes) + len(self.relationships)
