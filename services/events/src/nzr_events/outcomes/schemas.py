"""API models of outcomes."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.codes import TopicCode
from nzr_common.contracts.events import AgreementStatus
from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_events.gatherings.schemas import BerlinTime

#: Orders of the agreement list (``nzr_events.sorting``); default ``due_date``.
AgreementSort = Literal[
    "due_date", "-due_date", "created_at", "-created_at", "updated_at", "-updated_at", "status", "-status"
]


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


class AgreementPage(BaseModel):
    """A page of agreements (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[AgreementRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class RecommendationPage(BaseModel):
    """A page of an event's recommendations (``nzr_common.pagination``: follow ``next`` or the
    ``Link`` header)."""

    items: list[RecommendationRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
