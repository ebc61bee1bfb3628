"""API models of actors: create, partial update, read, search page, duplicate report."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.contracts.actors import ActorKind, LegalForm, ResourceKind, Sector
from nzr_common.nul import refuse_nul
from nzr_common.pagination import NEXT_DESCRIPTION

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
    legal_form: LegalForm | None = Field(default=None, description="Rechtsform (labels: /actors/vocabulary)")
    district: DistrictCode
    municipality: str | None = Field(default=None, max_length=200)
    subdistrict: str | None = Field(
        default=None,
        max_length=120,
        description="Stadtteil/Ortsteil: one of the region's SUBDISTRICTS of the municipality",
    )
    topics: list[TopicCode] = Field(default_factory=list, max_length=20)
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
    legal_form: LegalForm | None = None
    district: DistrictCode | None = None
    municipality: str | None = Field(default=None, max_length=200)
    subdistrict: str | None = Field(default=None, max_length=120)
    topics: list[TopicCode] | None = Field(default=None, max_length=20)
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
    legal_form: LegalForm | None = None
    district: str
    municipality: str | None
    subdistrict: str | None = None
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
    """A page of actors (``nzr_common.pagination``: follow ``next`` or the ``Link`` header). The
    cursor in ``next`` is a keyset position: stable while actors are added or changed."""

    items: list[ActorRead]
    total: int = Field(description="actors matching the search (all pages)")
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
    next_cursor: str | None = Field(
        default=None,
        description="Deprecated, kept for one release: the `cursor` of `next`",
        json_schema_extra={"deprecated": True},
    )


class DuplicateCandidate(BaseModel):
    id: str
    name: str
    municipality: str | None
    website: str | None
    reason: Literal["similar_name", "same_website"]
    similarity: float = Field(description="name similarity in [0, 1] (1.0 for the same website)")
    same_municipality: bool = Field(
        default=True, description="false: a similar name in another municipality of the district"
    )


class DuplicateReport(BaseModel):
    candidates: list[DuplicateCandidate]


class Label(BaseModel):
    code: str
    label: str = Field(description="German label to show")


class ActorVocabulary(BaseModel):
    """The codes actors' fields and filters take, with German labels."""

    kinds: list[Label]
    sectors: list[Label]
    legal_forms: list[Label]
    resource_kinds: list[Label]
    topics: list[Label]
    districts: list[Label] = Field(description="the districts of this region (AGS code, name)")
