"""The statetech data model: node kinds, sources and the allowed relationship triples.

This module is the single allowlist for everything that reaches a label or relationship-type slot in Cypher.
Cypher cannot take labels or types as parameters, so any code that builds such a slot must get the name from
:data:`NODE_KINDS`, :data:`RELATIONSHIP_TYPES` or :data:`SOURCE_LABEL` (see :func:`checked_label`).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from statetech.graph.dates import PartialDate, check_partial_date

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

# Dates are partial ISO dates of the precision the source gives: the one date type is in statetech.graph.dates.


def _coerce_date(value: Any) -> Any:
    # YAML turns an unquoted 2026-01-31 into a datetime.date; we keep dates as ISO strings.
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    return value


def _check_full_day(value: str) -> str:
    """Curation dates (``added`` / ``updated``) are bookkeeping we control, so they are always a full ISO day:
    "what did we know on 2026-11-28" needs a day, not a month."""
    check_partial_date(value)
    if len(value) != 10:
        raise ValueError(f"{value!r} is not a full day; write YYYY-MM-DD")
    return value


RecordDay = Annotated[str, AfterValidator(_check_full_day)]

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

    @field_validator("*", mode="after")
    @classmethod
    def _fits_the_store(cls, value: Any) -> Any:
        """Neo4j integers are 64-bit (a bigger one fails deep in the driver) and the embedded store would keep it
        as text; infinities and NaN are not figures anyone can publish. Refuse both here, where the file:line is."""
        if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{value} is too large for the graph store (integers must lie between {INT64_MIN} and "
                             f"{INT64_MAX})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return value


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


DATE_FIELDS = frozenset({"start_date", "end_date", "published", "accessed", "as_of", "added", "updated"})


class Source(StrictModel):
    """A public document that supports one or more records."""

    id: str = Field(pattern=rf"^source:{_SLUG}$")
    url: HttpUrlStr
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    # The document's own date. Curated sources must give it (loaders/curated.py); an imported source has it only
    # when its URL or its data does, else it is unknown: never the file's date, 1970-01-01 or the event's date.
    published: PartialDate | None = None
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
    # When the record entered the dataset and when it last changed (curation history, not the event's date), so
    # "what did we know on date X" and "what is new since X" can be asked of the graph.
    added: RecordDay | None = None
    updated: RecordDay | None = None
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
        # Derived properties (statetech.graph.vocabulary.SEARCH_TEXT) are written with the record's own.
        return with_derived(_properties(self))


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
# The allowlist (labels, relationship types, triples) lives in the vocabulary module, which needs no pydantic; the
# names are re-exported here, and the record classes must match it.
from statetech.graph.vocabulary import (  # noqa: E402
    _TRIPLE_SET,
    ALLOWED_TRIPLES,
    ENTITY_LABEL,
    KIND_BY_PREFIX,
    NODE_KIND_NAMES,
    RELATIONSHIP_DESCRIPTIONS,
    RELATIONSHIP_PROPERTIES,
    RELATIONSHIP_TYPES,
    SEARCH_TEXT,
    SOURCE_LABEL,
    allowed_targets,
    checked_label,
    checked_rel_type,
    is_allowed,
    kind_of_id,
    search_text,
    with_derived,
)

if tuple(NODE_KINDS) != NODE_KIND_NAMES or KIND_BY_PREFIX != {c.PREFIX: c.KIND for c in NODE_CLASSES}:
    raise RuntimeError("graph/vocabulary.py and the node classes of graph/model.py disagree on the node kinds")


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
    added: RecordDay | None = None
    updated: RecordDay | None = None
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


class RecordSet(BaseModel):
    """A validated batch of sources, nodes and relationships, ready to write."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sources: list[Source] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sources) + len(self.nodes) + len(self.relationships)
