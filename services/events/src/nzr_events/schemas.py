"""API schemas of the events service (separate from the tables).

Times: naive inputs are wall-clock time in Europe/Berlin; outputs carry the Berlin offset.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, PlainSerializer, field_validator

from nzr_common.contracts.events import AgreementStatus, EventFormat
from nzr_events.domain import to_berlin

BerlinTime = Annotated[datetime, PlainSerializer(lambda d: to_berlin(d).isoformat(), return_type=str)]
EventStatus = Literal["draft", "published", "cancelled", "completed"]
SessionKind = Literal["keynote", "workshop", "brainstorming", "panel", "networking"]
RegistrationStatus = Literal["confirmed", "waiting", "cancelled"]
Ags = Annotated[str, Field(pattern=r"^\d{8}$", description="AGS code of the district (8 digits)")]


class _EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: EventFormat
    title: str = Field(min_length=2, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    starts_at: datetime = Field(description="Naive = Europe/Berlin wall-clock time")
    ends_at: datetime
    venue_name: str | None = Field(default=None, max_length=300)
    venue_address: str | None = Field(default=None, max_length=500)
    district: Ags | None = None
    online_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    topics: list[str] = Field(default_factory=list, max_length=20)
    organiser_actor_ids: list[str] = Field(default_factory=list, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    fee_note: str | None = Field(default=None, max_length=500, description="e.g. 'kostenfrei'")
    accessibility: str | None = Field(default=None, max_length=5_000)


class EventCreate(_EventFields):
    pass


class EventUpdate(BaseModel):
    """Fields to change; left-out fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    format: EventFormat | None = None
    title: str | None = Field(default=None, min_length=2, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue_name: str | None = Field(default=None, max_length=300)
    venue_address: str | None = Field(default=None, max_length=500)
    district: Ags | None = None
    online_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    topics: list[str] | None = Field(default=None, max_length=20)
    organiser_actor_ids: list[str] | None = Field(default=None, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    fee_note: str | None = Field(default=None, max_length=500)
    accessibility: str | None = Field(default=None, max_length=5_000)

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


class EventPage(BaseModel):
    items: list[EventRead]
    total: int
    limit: int
    offset: int


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)
    kind: SessionKind
    starts_at: datetime
    ends_at: datetime
    room: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    speakers: list[str] = Field(default_factory=list, max_length=20)


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


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=300)
    email: EmailStr
    actor_id: str | None = Field(default=None, max_length=36, description="Organisation (actor id)")
    session_ids: list[str] = Field(default_factory=list, max_length=20)
    accessibility_needs: str | None = Field(default=None, max_length=2_000)
    data_use_consent: bool = Field(description="Consent to the use of the data for this event")
    newsletter_consent: bool = Field(
        default=False, description="Join the network mailing list (newsletter still asks for double opt-in)"
    )
    consent_text_version: str | None = Field(default=None, max_length=40)


class RegistrationRead(BaseModel):
    id: str
    event_id: str
    status: RegistrationStatus
    waiting_position: int | None = None
    name: str
    email: str
    actor_id: str | None
    session_ids: list[str]
    accessibility_needs: str | None
    newsletter_consent: bool
    registered_at: BerlinTime
    checked_in_at: BerlinTime | None


class RegistrationAccepted(BaseModel):
    """The answer to a registration, the same whether the address is new or registered already:
    what became of it, with the personal link to change or cancel, goes to the address by mail."""

    event_id: str
    status: Literal["received"] = "received"
    detail: str


class LinksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class LinksRequestAccepted(BaseModel):
    """The same answer whether or not the address has registrations."""

    status: Literal["received"] = "received"
    detail: str


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class PersonRegistrationRecord(BaseModel):
    """One registration of the person, with the consents they gave."""

    registration_id: str
    event_id: str
    event_title: str
    event_starts_at: BerlinTime
    status: RegistrationStatus
    name: str
    email: str
    actor_id: str | None
    session_titles: list[str]
    accessibility_needs: str | None
    data_use_consent: bool
    newsletter_consent: bool
    consent_text_version: str | None
    registered_at: BerlinTime
    confirmed_at: BerlinTime | None
    cancelled_at: BerlinTime | None
    checked_in_at: BerlinTime | None


class PersonRegistrationsExport(BaseModel):
    """Everything the events service holds about one person (GDPR Art. 15)."""

    person_id: str
    email: str
    exported_at: BerlinTime
    registrations: list[PersonRegistrationRecord]


class CancellationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=10, max_length=1000)


class CancellationResult(BaseModel):
    registration_id: str
    status: RegistrationStatus
    promoted_registration_ids: list[str]


class SeriesCreate(_EventFields):
    rrule: str = Field(max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    exdates: list[datetime] = Field(
        default_factory=list, max_length=200, description="Start times of cancelled occurrences"
    )
    count: int = Field(default=26, ge=1, le=104, description="How many occurrences to schedule")
    publish: bool = False


class SeriesRead(BaseModel):
    id: str
    title: str
    format: EventFormat
    rrule: str
    exdates: list[BerlinTime]
    occurrences: list[EventRead]


class SeriesException(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime = Field(description="Start of the occurrence that does not take place")


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
    topics: list[str] = Field(default_factory=list, max_length=20)


class RecommendationRead(BaseModel):
    id: str
    event_id: str
    text: str
    addressee: str | None
    topics: list[str]
    created_at: BerlinTime
