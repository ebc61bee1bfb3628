"""API schemas of the actors service (separate from the tables)."""

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator, model_validator

from nzr_common.contracts.actors import ActorKind, ResourceKind, Sector
from nzr_common.nul import refuse_nul

CooperationType = Literal["projekt", "veranstaltung", "vereinbarung", "austausch", "ressourcen"]
CooperationOrigin = Literal["manual", "agreement", "event"]
Direction = Literal["offered", "needed"]
ActorSort = Literal["relevance", "name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
MAX_DESCRIPTION = 10_000


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ResourceKind
    direction: Direction = "offered"
    description: str = Field(default="", max_length=1000)
    amount: float | None = Field(default=None, ge=0, description="money in EUR, or a quantity")
    capacity: int | None = Field(default=None, ge=0, description="e.g. seats of a room, staff hours")


class ResourceRead(ResourceIn):
    id: str


class ActorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return refuse_nul(value)  # CSV cells come here unchecked; PostgreSQL cannot store U+0000

    name: str = Field(min_length=2, max_length=300)
    kind: ActorKind
    sector: Sector
    district: str = Field(pattern=r"^\d{8}$", description="AGS code of the district (8 digits)")
    municipality: str | None = Field(default=None, max_length=200)
    topics: list[str] = Field(default_factory=list, max_length=20)
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    resources: list[ResourceIn] = Field(default_factory=list, max_length=50)
    public_profile: bool = Field(default=False, description="consent to a public profile")
    external_id: str | None = Field(
        default=None, max_length=100, description="id in the system the actor was imported from"
    )


class ActorUpdate(BaseModel):
    """Partial update: only the fields sent change (send ``If-Match`` with the ETag you read)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=300)
    kind: ActorKind | None = None
    sector: Sector | None = None
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    municipality: str | None = Field(default=None, max_length=200)
    topics: list[str] | None = Field(default=None, max_length=20)
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    resources: list[ResourceIn] | None = Field(default=None, max_length=50)
    public_profile: bool | None = None

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> "ActorUpdate":
        for name in ("name", "kind", "sector", "district", "topics", "resources", "public_profile"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ActorRead(BaseModel):
    id: str
    name: str
    kind: ActorKind
    sector: Sector
    district: str
    municipality: str | None
    topics: list[str]
    website: str | None
    description: str | None
    resources: list[ResourceRead]
    public_profile: bool
    external_id: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class ActorPage(BaseModel):
    items: list[ActorRead]
    total: int = Field(description="actors matching the search (all pages)")
    page: int | None = Field(description="page number; null when the page was asked for by cursor")
    page_size: int
    next_cursor: str | None = Field(
        default=None, description="opaque cursor of the next page (`?cursor=`); null on the last page"
    )


class DuplicateCandidate(BaseModel):
    id: str
    name: str
    municipality: str | None
    website: str | None
    reason: Literal["similar_name", "same_website"]
    similarity: float


class DuplicateReport(BaseModel):
    candidates: list[DuplicateCandidate]


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: str | None = Field(default=None, max_length=200)
    consent_purpose: str = Field(
        min_length=3, max_length=500, description="what the person agreed to, e.g. 'Kontakt im Netzwerk'"
    )
    consent_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    consent_source: str = Field(
        min_length=2, max_length=200, description="where the consent was given, e.g. 'Anmeldeformular'"
    )


class ContactRead(BaseModel):
    id: str
    person_id: str
    actor_id: str
    name: str
    email: str
    role: str | None
    consent_purpose: str
    consent_at: datetime
    consent_source: str
    created_at: datetime


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class PersonContactRecord(ContactRead):
    actor_name: str


class PersonExport(BaseModel):
    """Everything the actors service holds about one person (GDPR Art. 15)."""

    person_id: str
    email: str
    exported_at: datetime
    contacts: list[PersonContactRecord]


class PersonErasure(BaseModel):
    person_id: str
    erased_contacts: int
    erased_at: datetime


class CooperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_a: str = Field(max_length=36)
    actor_b: str = Field(max_length=36)
    type: CooperationType
    topic: str | None = None
    since: date
    until: date | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    actor_a_region: str | None = Field(
        default=None, max_length=40, description="region of actor_a (this one); required across regions"
    )
    actor_b_region: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z0-9_-]+$",
        description="region of actor_b when not this one (needs a token with the `state` role)",
    )


class CooperationEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: date


class CooperationRead(BaseModel):
    id: str
    actor_a: str
    actor_b: str
    type: CooperationType
    topic: str | None
    description: str | None
    since: date
    until: date | None
    origin: CooperationOrigin
    origin_id: str | None
    actor_b_region: str | None = Field(default=None, description="set when actor_b is of another region")
    cross_sector: bool = Field(description="false when actor_b's sector is unknown here (other region)")
    created_at: datetime


class CooperationPage(BaseModel):
    items: list[CooperationRead]
    total: int
    page: int
    page_size: int


class RankedActor(BaseModel):
    actor_id: str
    name: str
    value: float


class NetworkMetrics(BaseModel):
    actors: int
    cooperations: int = Field(description="pairs cooperating on the reference date")
    density: float
    components: int
    largest_component: int
    component_sizes: list[int]
    isolated_count: int
    isolated: list[RankedActor]
    degree_centrality: list[RankedActor]
    betweenness_centrality: list[RankedActor]
    betweenness_exact: bool = Field(description="false: sampled estimate for large networks")
    cross_sector_share: float
    on: date


class Suggestion(BaseModel):
    actor_id: str
    actor_name: str
    partner_id: str
    partner_name: str
    score: float
    parts: dict[str, float]
    shared_topics: list[str]
    resource_matches: list[str]
    surprising: bool
    reasons: list[str]


class SuggestionList(BaseModel):
    items: list[Suggestion]
    scoring: str


class ImportRowError(BaseModel):
    line: int
    field: str
    reason: str


class ImportReport(BaseModel):
    rows: int
    created: int = Field(description="new actors (on a dry run: that would be created)")
    imported: int = Field(description="the same as `created` (kept for older clients)")
    updated: int = Field(description="known actors the file changed (on a dry run: would change)")
    unchanged: int = Field(description="known actors the file leaves as they are")
    invalid: int
    dry_run: bool
    created_ids: list[str]
    updated_ids: list[str]
    errors: list[ImportRowError]
