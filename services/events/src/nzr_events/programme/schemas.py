"""API models of the programme."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nzr_common.params import PlausibleDateTime
from nzr_events.gatherings.schemas import BerlinTime

SessionKind = Literal["keynote", "workshop", "brainstorming", "panel", "networking"]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)
    kind: SessionKind
    starts_at: PlausibleDateTime
    ends_at: PlausibleDateTime
    room: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    speakers: list[str] = Field(default_factory=list, max_length=20)


class SessionUpdate(BaseModel):
    """Fields of a session to change; left-out fields stay as they are. Participants who chose
    the session are told of a new time, room or capacity."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=2, max_length=300)
    starts_at: PlausibleDateTime | None = None
    ends_at: PlausibleDateTime | None = None
    room: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=1, le=100_000)

    @field_validator("title", "starts_at", "ends_at", mode="before")
    @classmethod
    def _required_not_null(cls, value: object) -> object:
        """These may be left out, but every session has them."""
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class SessionRead(BaseModel):
    id: str
    event_id: str
    title: str
    kind: SessionKind
    starts_at: BerlinTime
    ends_at: BerlinTime
    room: str | None
    capacity: int | None
    speakers: list[str]
    confirmed_count: int
    seats_left: int | None
