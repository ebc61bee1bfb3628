"""API schemas of the actors service (separate from the tables)."""

from datetime import datetime

from nzr_common.contracts.actors import ActorKind, Sector
from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class ActorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=300)
    kind: ActorKind
    sector: Sector
    district: str = Field(pattern=r"^\d{8}$", description="AGS code of the district (8 digits)")
    municipality: str | None = Field(default=None, max_length=200)
    topics: list[str] = Field(default_factory=list, max_length=20)
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=10_000)
    public_profile: bool = False


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
    public_profile: bool
    version: int
    created_at: datetime
    updated_at: datetime
