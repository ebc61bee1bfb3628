"""API models of outcomes."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.codes import TopicCode
from nzr_common.contracts.events import AgreementStatus
from nzr_events.gatherings.schemas import BerlinTime


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=10_000)
    party_actor_ids: list[str] = Field(min_length=1, max_length=50)
    responsible_actor_id: str | None = Field(default=None, max_length=36)
    due_date: date | None = None
    status: AgreementStatus = "offen"


class ProgressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moved: str | None = Field(default=None, max_length=5_000, description="What moved")
    blocks: str | None = Field(default=None, max_length=5_000, description="What blocks")
    status: AgreementStatus | None = None


class ProgressRead(BaseModel):
    id: str
    reported_at: BerlinTime
    moved: str | None
    blocks: str | None
    status: AgreementStatus


class AgreementRead(BaseModel):
    id: str
    event_id: str
    text: str
    party_actor_ids: list[str]
    responsible_actor_id: str | None
    due_date: date | None
    status: AgreementStatus
    created_at: BerlinTime
    updated_at: BerlinTime
    progress: list[ProgressRead] = []


class RecommendationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=10_000)
    addressee: str | None = Field(default=None, max_length=300)
    topics: list[TopicCode] = Field(default_factory=list, max_length=20)


class RecommendationRead(BaseModel):
    id: str
    event_id: str
    text: str
    addressee: str | None
    topics: list[str]
    created_at: BerlinTime
