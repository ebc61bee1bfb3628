"""API models of gatherings.

Times: naive inputs are wall-clock time in Europe/Berlin; outputs carry the Berlin offset.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.contracts.events import EventFormat
from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_common.params import PlausibleDateTime
from nzr_events.times import to_berlin

BerlinTime = Annotated[datetime, PlainSerializer(lambda d: to_berlin(d).isoformat(), return_type=str)]


EventStatus = Literal["draft", "published", "cancelled", "completed"]
#: Orders of the event list (``nzr_events.sorting``); default ``starts_at``.
EventSort = Literal["starts_at", "-starts_at", "title", "-title", "created_at", "-created_at"]


#: AGS code of a known district (unknown codes: 422 naming the field).
Ags = DistrictCode


class _EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: EventFormat
    title: str = Field(min_length=2, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    starts_at: PlausibleDateTime = Field(description="Naive = Europe/Berlin wall-clock time")
    ends_at: PlausibleDateTime
    venue_name: str | None = Field(default=None, max_length=300)
    venue_address: str | None = Field(default=None, max_length=500)
    district: Ags | None = None
    online_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    topics: list[TopicCode] = Field(default_factory=list, max_length=20)
    organiser_actor_ids: list[str] = Field(default_factory=list, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: PlausibleDateTime | None = None
    registration_closes_at: PlausibleDateTime | None = None
    fee_note: str | None = Field(default=None, max_length=500, description="e.g. 'kostenfrei'")
    accessibility: str | None = Field(default=None, max_length=5_000)


class EventCreate(_EventFields):
    reminder_days: int | None = Field(
        default=2, le=365, description="Reminder mail this many days before the start (null: none)"
    )


class EventUpdate(BaseModel):
    """Fields to change; left-out fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    format: EventFormat | None = None
    title: str | None = Field(default=None, min_length=2, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    starts_at: PlausibleDateTime | None = None
    ends_at: PlausibleDateTime | None = None
    venue_name: str | None = Field(default=None, max_length=300)
    venue_address: str | None = Field(default=None, max_length=500)
    district: Ags | None = None
    online_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    topics: list[TopicCode] | None = Field(default=None, max_length=20)
    organiser_actor_ids: list[str] | None = Field(default=None, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: PlausibleDateTime | None = None
    registration_closes_at: PlausibleDateTime | None = None
    fee_note: str | None = Field(default=None, max_length=500)
    accessibility: str | None = Field(default=None, max_length=5_000)
    reminder_days: int | None = Field(default=None, le=365, description="null: no reminder")

    @field_validator(
        "format", "title", "starts_at", "ends_at", "topics", "organiser_actor_ids", mode="before"
    )
    @classmethod
    def _required_not_null(cls, value: object) -> object:
        """These may be left out, but ``null`` would blank a field every event has."""
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class EventRead(BaseModel):
    id: str
    status: EventStatus
    series_id: str | None
    format: EventFormat
    title: str
    description: str | None
    starts_at: BerlinTime
    ends_at: BerlinTime
    venue_name: str | None
    venue_address: str | None
    district: str | None
    online_url: str | None
    topics: list[str]
    organiser_actor_ids: list[str]
    capacity: int | None
    registration_opens_at: BerlinTime | None
    registration_closes_at: BerlinTime | None
    fee_note: str | None
    accessibility: str | None
    confirmed_count: int
    waiting_count: int
    seats_left: int | None
    version: int
    sequence: int = 0
    reminder_days: int | None = None


class EventPage(BaseModel):
    """A page of events (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[EventRead]
    total: int
    limit: int
    offset: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
