"""API models of registrations (and the person's export, GDPR Art. 15)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_events.gatherings.schemas import BerlinTime
from nzr_events.registrations.consent import ConsentTiming

RegistrationStatus = Literal["confirmed", "waiting", "cancelled"]
#: Orders of an event's registrations (``nzr_events.sorting``); default ``registered_at``.
RegistrationSort = Literal["registered_at", "-registered_at", "name", "-name", "status", "-status"]


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
    newsletter_consent_timing: ConsentTiming = Field(
        default="on_confirmation",
        description="When the mailing-list consent is handed over: 'on_confirmation' (bei Bestätigung "
        "des Platzes, also after moving up from the waiting list) or 'immediately' (sofort, even "
        "while on the waiting list)",
    )


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
    newsletter_consent_timing: ConsentTiming = "on_confirmation"
    registered_at: BerlinTime
    checked_in_at: BerlinTime | None


class RegistrationPage(BaseModel):
    """A page of an event's registrations (``nzr_common.pagination``: follow ``next`` or the
    ``Link`` header)."""

    items: list[RegistrationRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


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
    language: str = "de"
    feedback_rating: int | None = None
    feedback_comment: str | None = None


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


class TargetGroupCounts(BaseModel):
    """How many participants of an event belonged to each target group (counts, never names):
    Bildung für nachhaltige Entwicklung reports them."""

    model_config = ConfigDict(extra="forbid")

    schueler: int = Field(0, ge=0, le=100_000, description="Schülerinnen und Schüler")
    lehrkraefte: int = Field(0, ge=0, le=100_000, description="Lehrkräfte")
    erwachsene: int = Field(0, ge=0, le=100_000, description="Erwachsene")
    multiplikatoren: int = Field(0, ge=0, le=100_000, description="Multiplikatorinnen und Multiplikatoren")
