"""Events announced by the events (gatherings) service."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from nzr_common.contracts import subjects
from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import IntegrationEvent

EventFormat = Literal[
    "kick_off",
    "workshop",
    "netzwerkkonferenz",
    "regionalkonferenz",
    "initiativkreis",
    "jour_fixe",
    "fachtag",
    "sonstige",
]
AgreementStatus = Literal["offen", "in_umsetzung", "umgesetzt", "verworfen"]
MailLanguage = Literal["de", "en"]


class _EventFacts(IntegrationEvent):
    event_id: str
    title: str
    format: EventFormat
    starts_at: datetime
    ends_at: datetime
    district: str | None = None
    topics: list[str] = []
    organiser_actor_ids: list[str] = []
    capacity: int | None = None
    # Where it takes place and where people read about it (digests list them; None in events
    # published before these fields existed).
    venue_name: str | None = None
    venue_address: str | None = None
    url: str | None = None

    def aggregate_id(self) -> str:
        return self.event_id


class EventPublished(_EventFacts):
    subject = subjects.EVENT_PUBLISHED


class EventUpdated(_EventFacts):
    subject = subjects.EVENT_UPDATED


class EventCancelled(IntegrationEvent):
    subject = subjects.EVENT_CANCELLED
    event_id: str
    cancelled_at: datetime

    def aggregate_id(self) -> str:
        return self.event_id


class EventCompleted(IntegrationEvent):
    subject = subjects.EVENT_COMPLETED
    event_id: str
    format: EventFormat
    district: str | None = None
    participants: int
    completed_at: datetime
    # When the event took place: indicators count it in the month of its start, not of the click
    # that completed it (None only in events published before this field existed).
    starts_at: datetime | None = None
    topics: list[str] = []

    def aggregate_id(self) -> str:
        return self.event_id


class AttendanceRecorded(IntegrationEvent):
    """Counts only, never names: confirmed, waiting and attended registrations of an event."""

    subject = subjects.ATTENDANCE_RECORDED
    event_id: str
    confirmed: int
    waiting: int
    attended: int
    # Counts by target group (education for sustainable development): pupils, teachers, adults,
    # multipliers — captured at registration/attendance as numbers, never names.
    by_target_group: dict[Literal["schueler", "lehrkraefte", "erwachsene", "multiplikatoren"], int] = {}

    def aggregate_id(self) -> str:
        return self.event_id


class RegistrationConfirmed(IntegrationEvent):
    """Region-private: carries the registrant's name and e-mail and the mailing-list consent."""

    subject = subjects.REGISTRATION_CONFIRMED
    registration_id: str
    event_id: str
    name: str
    email: str
    actor_id: str | None = None
    newsletter_consent: bool = False
    consent_text_version: str | None = None
    confirmed_at: datetime
    promoted_from_waiting_list: bool = False
    # The event's district and topics, so a subscriber created from the registration gets them as
    # segment data.
    district: str | None = None
    topics: list[str] = []

    def aggregate_id(self) -> str:
        return self.registration_id


class RegistrationCancelled(IntegrationEvent):
    subject = subjects.REGISTRATION_CANCELLED
    registration_id: str
    event_id: str
    email: str
    cancelled_at: datetime

    def aggregate_id(self) -> str:
        return self.registration_id


class SessionForMail(BaseModel):
    """A programme session the registrant chose, as a mail and its ``.ics`` show it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None = None


class RegistrationForMail(BaseModel):
    """One registration as a mail shows it: the event's title, time and place, the state of the
    registration and the personal link to change or cancel it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    registration_id: str
    event_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    venue_name: str | None = None
    venue_address: str | None = None
    online_url: str | None = None
    status: Literal["confirmed", "waiting", "cancelled"]
    waiting_position: int | None = None
    manage_url: str
    # iCalendar facts: one UID per event (per occurrence of a series), SEQUENCE grows with every
    # change of time, place or sessions, so that calendars replace the entry instead of adding one.
    calendar_uid: str | None = None
    sequence: int = 0
    sessions: list[SessionForMail] = []
    region_name: str | None = None


class OutcomeForMail(BaseModel):
    """An agreement or recommendation of a completed event, as the thank-you mail lists it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str
    responsible: str | None = None
    due_date: date | None = None


class RegistrationReceived(IntegrationEvent):
    """Region-private: a registration request arrived for this address; the region's mail
    service tells the address's owner (and only them) what became of it. With
    ``already_registered`` the address had an active registration already: nothing new was
    stored and ``registration`` is the existing one (the HTTP answer to the request is the same
    either way, so that nobody learns from it whether an address is registered)."""

    subject = subjects.REGISTRATION_RECEIVED
    email: str
    name: str
    language: MailLanguage = "de"
    already_registered: bool = False
    registration: RegistrationForMail
    received_at: datetime
    # A mailing-list consent handed over at once: the registrant landed on the waiting list and
    # chose ``newsletter_consent_timing="immediately"``. Otherwise the consent travels with
    # RegistrationConfirmed (also when promoted from the waiting list); it is handed over once.
    newsletter_consent: bool = False
    consent_text_version: str | None = None
    # The event's district and topics: segment data for a subscriber created from the consent.
    district: str | None = None
    topics: list[str] = []

    def aggregate_id(self) -> str:
        return self.registration.registration_id


class RegistrationLinksRequested(IntegrationEvent):
    """Region-private: someone asked for the links of this address's registrations to be sent
    again (published only when the address has active registrations of upcoming events)."""

    subject = subjects.REGISTRATION_LINKS_REQUESTED
    email: str
    name: str
    language: MailLanguage = "de"
    registrations: list[RegistrationForMail]
    requested_at: datetime

    def aggregate_id(self) -> str:
        return person_id_for(self.email)


NoticeKind = Literal[
    "confirmed",  # a registration was confirmed later than received (e.g. by the organiser)
    "promoted",  # from the waiting list to a seat
    "cancelled",  # the registration was cancelled (by the participant or the organiser)
    "event_changed",  # time or place of the event changed (``changes`` says what)
    "session_changed",  # a chosen session's time, room or capacity changed
    "event_cancelled",  # the event was cancelled: to everyone registered or waiting
    "reminder",  # N days before the event (per event, default 2)
    "thank_you",  # after completion: agreements, recommendations, feedback link
]


class ParticipantNotice(IntegrationEvent):
    """Region-private: something happened to one registration that its owner must be told by
    mail. Events decides *that* and *what*; the region's mail service (newsletter) renders and
    sends it (German or English, HTML and plain text, ``.ics`` where the kind has one), never to a
    hard-bounced or erased address. ``notice_id`` is unique per notice (idempotence)."""

    subject = subjects.PARTICIPANT_NOTICE
    notice_id: str
    kind: NoticeKind
    email: str
    name: str
    language: MailLanguage = "de"
    registration: RegistrationForMail
    changes: list[Literal["time", "place", "session", "capacity"]] = []
    agreements: list[OutcomeForMail] = []
    recommendations: list[OutcomeForMail] = []
    feedback_url: str | None = None
    issued_at: datetime

    def aggregate_id(self) -> str:
        return self.registration.registration_id


class AgreementRecorded(IntegrationEvent):
    subject = subjects.AGREEMENT_RECORDED
    agreement_id: str
    event_id: str
    party_actor_ids: list[str]
    responsible_actor_id: str | None = None
    due_date: date | None = None
    status: AgreementStatus = "offen"

    def aggregate_id(self) -> str:
        return self.agreement_id


class AgreementStatusChanged(IntegrationEvent):
    subject = subjects.AGREEMENT_STATUS_CHANGED
    agreement_id: str
    status: AgreementStatus
    changed_at: datetime

    def aggregate_id(self) -> str:
        return self.agreement_id


class RecommendationRecorded(IntegrationEvent):
    subject = subjects.RECOMMENDATION_RECORDED
    recommendation_id: str
    event_id: str
    topics: list[str] = []

    def aggregate_id(self) -> str:
        return self.recommendation_id
