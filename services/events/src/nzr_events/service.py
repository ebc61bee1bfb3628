"""Service functions of the events service: each state change and its events in one transaction.

Registrations, cancellations, capacity changes and check-ins of one event lock the event row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE), so
the seat counters on the row never overbook.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import IntegrationEvent
from nzr_common.contracts.events import (
    AgreementRecorded,
    AgreementStatusChanged,
    AttendanceRecorded,
    EventCancelled,
    EventCompleted,
    EventPublished,
    EventUpdated,
    MailLanguage,
    RecommendationRecorded,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationForMail,
    RegistrationLinksRequested,
    RegistrationReceived,
)
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam, ProblemError
from nzr_events import domain
from nzr_events.calendar import CalendarEntry, build_calendar
from nzr_events.schemas import (
    AgreementCreate,
    AgreementRead,
    CancellationResult,
    EventCreate,
    EventPage,
    EventRead,
    EventUpdate,
    PersonRegistrationRecord,
    PersonRegistrationsExport,
    ProgressCreate,
    ProgressRead,
    RecommendationCreate,
    RecommendationRead,
    RegistrationCreate,
    RegistrationRead,
    SeriesCreate,
    SeriesRead,
    SessionCreate,
    SessionRead,
)
from nzr_events.settings import EventsSettings
from nzr_events.tables import (
    AgreementRow,
    EventRow,
    ProgressReportRow,
    RecommendationRow,
    RegistrationRow,
    SeriesRow,
    SessionRow,
)

PUBLIC_STATUSES = ("published", "cancelled", "completed")
ERASED_NAME = "[gelöscht]"


# ---------------------------------------------------------------- reading and mapping


def _seats_left(capacity: int | None, confirmed: int) -> int | None:
    return None if capacity is None else max(capacity - confirmed, 0)


_LISTED_COLUMNS = [
    getattr(EventRow, name)
    for name in (
        "id",
        "status",
        "series_id",
        "format",
        "title",
        "description",
        "starts_at",
        "ends_at",
        "venue_name",
        "venue_address",
        "district",
        "online_url",
        "topics",
        "organiser_actor_ids",
        "capacity",
        "registration_opens_at",
        "registration_closes_at",
        "fee_note",
        "accessibility",
        "confirmed_count",
        "waiting_count",
        "version",
    )
]


def _event_read(row: EventRow) -> EventRead:
    return EventRead(
        id=row.id,
        status=row.status,
        series_id=row.series_id,
        format=row.format,  # type: ignore[arg-type]
        title=row.title,
        description=row.description,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        venue_name=row.venue_name,
        venue_address=row.venue_address,
        district=row.district,
        online_url=row.online_url,
        topics=row.topics,
        organiser_actor_ids=row.organiser_actor_ids,
        capacity=row.capacity,
        registration_opens_at=row.registration_opens_at,
        registration_closes_at=row.registration_closes_at,
        fee_note=row.fee_note,
        accessibility=row.accessibility,
        confirmed_count=row.confirmed_count,
        waiting_count=row.waiting_count,
        seats_left=_seats_left(row.capacity, row.confirmed_count),
        version=row.version,
    )


def _session_read(row: SessionRow) -> SessionRead:
    return SessionRead(
        id=row.id,
        event_id=row.event_id,
        title=row.title,
        kind=row.kind,  # type: ignore[arg-type]
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        room=row.room,
        capacity=row.capacity,
        speakers=row.speakers,
        confirmed_count=row.confirmed_count,
        seats_left=_seats_left(row.capacity, row.confirmed_count),
    )


def _registration_read(row: RegistrationRow, waiting_position: int | None = None) -> RegistrationRead:
    return RegistrationRead(
        id=row.id,
        event_id=row.event_id,
        status=row.status,
        waiting_position=waiting_position,  # type: ignore[arg-type]
        name=row.name,
        email=row.email,
        actor_id=row.actor_id,
        session_ids=row.session_ids,
        accessibility_needs=row.accessibility_needs,
        newsletter_consent=row.newsletter_consent,
        registered_at=row.registered_at,
        checked_in_at=row.checked_in_at,
    )


def _agreement_read(row: AgreementRow, progress: Sequence[ProgressReportRow] = ()) -> AgreementRead:
    return AgreementRead(
        id=row.id,
        event_id=row.event_id,
        text=row.text,
        party_actor_ids=row.party_actor_ids,
        responsible_actor_id=row.responsible_actor_id,
        due_date=row.due_date,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,  # type: ignore[arg-type]
        progress=[
            ProgressRead(id=p.id, reported_at=p.reported_at, moved=p.moved, blocks=p.blocks, status=p.status)
            for p in progress
        ],  # type: ignore[arg-type]
    )


def _invalid(title: str, problems: list[domain.Violation]) -> ProblemError:
    return ProblemError(
        422,
        title,
        "; ".join(f"{p.name}: {p.reason}" for p in problems),
        invalid_params=[InvalidParam(name=p.name, reason=p.reason) for p in problems],
    )


def _not_found(what: str, ident: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"No {what} {ident}.")


def _facts(row: EventRow) -> dict:  # type: ignore[type-arg]
    return dict(
        event_id=row.id,
        title=row.title,
        format=row.format,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        district=row.district,
        topics=row.topics,
        organiser_actor_ids=row.organiser_actor_ids,
        capacity=row.capacity,
    )


def _topic_tags(topics: list[str]) -> str:
    return "|" + "".join(f"{t.strip().lower()}|" for t in topics)


async def _lock_event(session: AsyncSession, event_id: str) -> EventRow:
    row = await session.scalar(
        select(EventRow)
        .where(EventRow.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise _not_found("event", event_id)
    return row


async def _event_sessions(session: AsyncSession, event_id: str) -> dict[str, SessionRow]:
    rows = await session.scalars(
        select(SessionRow).where(SessionRow.event_id == event_id).execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def _check_region_district(district: str | None, region_districts: set[str]) -> list[domain.Violation]:
    if district and region_districts and district not in region_districts:
        return [domain.Violation("district", f"{district} is not a district of this region")]
    return []


# ---------------------------------------------------------------- events


async def create_event(*, session: AsyncSession, data: EventCreate, region_districts: set[str]) -> EventRead:
    """Store a draft event; nothing is announced before it is published."""
    row = _new_event_row(data, status="draft")
    problems = domain.check_event_times(
        row.starts_at, row.ends_at, row.registration_opens_at, row.registration_closes_at
    )
    problems += _check_region_district(data.district, region_districts)
    if problems:
        raise _invalid("Invalid event", problems)
    async with session.begin():
        session.add(row)
    return _event_read(row)


def _new_event_row(
    data: EventCreate | SeriesCreate,
    *,
    status: str,
    series_id: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> EventRow:
    now = datetime.now(UTC)
    return EventRow(
        id=str(uuid.uuid4()),
        series_id=series_id,
        occurrence_starts_at=starts_at if series_id else None,
        status=status,
        format=data.format,
        title=data.title.strip(),
        description=data.description,
        starts_at=starts_at or domain.to_utc(data.starts_at),
        ends_at=ends_at or domain.to_utc(data.ends_at),
        venue_name=data.venue_name,
        venue_address=data.venue_address,
        district=data.district,
        online_url=data.online_url,
        topics=data.topics,
        topic_tags=_topic_tags(data.topics),
        organiser_actor_ids=data.organiser_actor_ids,
        capacity=data.capacity,
        registration_opens_at=domain.to_utc(data.registration_opens_at)
        if data.registration_opens_at
        else None,
        registration_closes_at=domain.to_utc(data.registration_closes_at)
        if data.registration_closes_at
        else None,
        fee_note=data.fee_note,
        accessibility=data.accessibility,
        confirmed_count=0,
        waiting_count=0,
        attended_count=0,
        next_position=1,
        version=1,
        created_at=now,
        updated_at=now,
    )


async def get_event(*, session: AsyncSession, event_id: str, include_drafts: bool) -> EventRead:
    """One event; drafts only for the region's editors."""
    row = await session.get(EventRow, event_id)
    if row is None or (row.status == "draft" and not include_drafts):
        raise _not_found("event", event_id)
    return _event_read(row)


async def update_event(
    *, session: AsyncSession, outbox: Outbox, event_id: str, data: EventUpdate, region_districts: set[str]
) -> EventRead:
    """Change an event; capacity never below the confirmed count; more seats promote waiting."""
    changes = data.model_dump(exclude_unset=True)
    async with session.begin():
        row = await _lock_event(session, event_id)
        if row.status not in ("draft", "published"):
            raise ProblemError(409, "Conflict", f"A {row.status} event cannot be changed.")
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            if changes.get(name) is not None:
                changes[name] = domain.to_utc(changes[name])
        if (
            "capacity" in changes
            and changes["capacity"] is not None
            and changes["capacity"] < row.confirmed_count
        ):
            raise ProblemError(
                409,
                "Capacity below confirmed registrations",
                f"{row.confirmed_count} registrations are confirmed; capacity cannot be "
                f"{changes['capacity']}.",
                invalid_params=[
                    InvalidParam(name="capacity", reason=f"must be at least {row.confirmed_count}")
                ],
            )
        for name, value in changes.items():
            setattr(row, name, value)
        if "topics" in changes:
            row.topic_tags = _topic_tags(row.topics or [])
        problems = domain.check_event_times(
            row.starts_at, row.ends_at, row.registration_opens_at, row.registration_closes_at
        )
        problems += _check_region_district(row.district, region_districts)
        for item in (await _event_sessions(session, event_id)).values():
            if domain.check_session_times(item.starts_at, item.ends_at, row.starts_at, row.ends_at):
                problems.append(
                    domain.Violation(
                        "starts_at", f"session '{item.title}' would lie outside the event's time"
                    )
                )
        if problems:
            raise _invalid("Invalid event", problems)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        if row.status == "published":
            await outbox.add(session, EventUpdated(**_facts(row)))
            await promote_from_waiting_list(session=session, outbox=outbox, event=row)
    return _event_read(row)


async def publish_event(*, session: AsyncSession, outbox: Outbox, event_id: str) -> EventRead:
    """Make a draft public and announce EventPublished."""
    async with session.begin():
        row = await _lock_event(session, event_id)
        if row.status != "draft":
            raise ProblemError(409, "Conflict", f"Only a draft can be published; this one is {row.status}.")
        row.status = "published"
        row.version += 1
        row.updated_at = datetime.now(UTC)
        await outbox.add(session, EventPublished(**_facts(row)))
    return _event_read(row)


async def cancel_event(*, session: AsyncSession, outbox: Outbox, event_id: str) -> EventRead:
    """Call an event off; calendars then show it as cancelled."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await _lock_event(session, event_id)
        if row.status not in ("draft", "published"):
            raise ProblemError(409, "Conflict", f"A {row.status} event cannot be cancelled.")
        was_public = row.status == "published"
        row.status = "cancelled"
        row.version += 1
        row.updated_at = now
        if was_public:
            await outbox.add(session, EventCancelled(event_id=row.id, cancelled_at=now))
    return _event_read(row)


async def complete_event(*, session: AsyncSession, outbox: Outbox, event_id: str) -> EventRead:
    """Close a held event and announce its participant and attendance counts."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await _lock_event(session, event_id)
        if row.status != "published":
            raise ProblemError(
                409, "Conflict", f"Only a published event can be completed; this one is {row.status}."
            )
        row.status = "completed"
        row.version += 1
        row.updated_at = now
        await outbox.add(
            session,
            AttendanceRecorded(
                event_id=row.id,
                confirmed=row.confirmed_count,
                waiting=row.waiting_count,
                attended=row.attended_count,
            ),
            EventCompleted(
                event_id=row.id,
                format=row.format,
                district=row.district,  # type: ignore[arg-type]
                participants=domain.participants(row.confirmed_count, row.attended_count),
                completed_at=now,
            ),
        )
    return _event_read(row)


def _listing_filters(
    *,
    statuses: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    district: str | None,
    topic: str | None,
    format: str | None,
) -> list:  # type: ignore[type-arg]
    where = [EventRow.status.in_(statuses)]
    if date_from:
        where.append(EventRow.ends_at >= domain.to_utc(datetime.combine(date_from, time.min)))
    if date_to:
        where.append(
            EventRow.starts_at < domain.to_utc(datetime.combine(date_to + timedelta(days=1), time.min))
        )
    if district:
        where.append(EventRow.district == district)
    if topic:
        where.append(EventRow.topic_tags.like(f"%|{topic.strip().lower()}|%"))
    if format:
        where.append(EventRow.format == format)
    return where


async def list_events(
    *,
    session: AsyncSession,
    statuses: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    district: str | None,
    topic: str | None,
    format: str | None,
    limit: int,
    offset: int,
) -> EventPage:
    """Events by start time with filters and pagination."""
    where = _listing_filters(
        statuses=statuses, date_from=date_from, date_to=date_to, district=district, topic=topic, format=format
    )
    # One round trip: the page's columns plus the total as a window count (public lists are hot).
    rows = (
        await session.execute(
            select(*_LISTED_COLUMNS, func.count().over().label("total"))
            .where(*where)
            .order_by(EventRow.starts_at, EventRow.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = await session.scalar(select(func.count()).select_from(EventRow).where(*where)) or 0
    return EventPage(items=[_event_read(r) for r in rows], total=total, limit=limit, offset=offset)


async def calendar_feed(
    *,
    session: AsyncSession,
    region: str,
    event_id: str | None = None,
    series_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    district: str | None = None,
    topic: str | None = None,
    format: str | None = None,
) -> bytes:
    """RFC 5545 calendar of public events; a series appears once with its RRULE and EXDATEs."""
    if event_id:
        where = [EventRow.id == event_id, EventRow.status.in_(PUBLIC_STATUSES)]
    elif series_id:
        where = [EventRow.series_id == series_id, EventRow.status.in_(PUBLIC_STATUSES)]
    else:
        where = _listing_filters(
            statuses=PUBLIC_STATUSES,
            date_from=date_from,
            date_to=date_to,
            district=district,
            topic=topic,
            format=format,
        )
    rows = list(
        await session.scalars(select(EventRow).where(*where).order_by(EventRow.starts_at).limit(5000))
    )
    if event_id and not rows:
        raise _not_found("event", event_id)
    series_ids = {r.series_id for r in rows if r.series_id}
    series = (
        {s.id: s for s in await session.scalars(select(SeriesRow).where(SeriesRow.id.in_(series_ids)))}
        if series_ids and not event_id
        else {}
    )
    entries = [
        CalendarEntry(
            uid=f"{r.id}@{region}.nzr",
            title=r.title,
            description=r.description,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            location=", ".join(p for p in (r.venue_name, r.venue_address) if p) or None,
            url=r.online_url,
            status=r.status,
            sequence=r.version,
            updated_at=r.updated_at,
            categories=r.topics,
            series_id=r.series_id if r.series_id in series else None,
            occurrence_starts_at=r.occurrence_starts_at,
        )
        for r in rows
    ]
    return build_calendar(
        entries,
        series={
            s.id: (
                f"series-{s.id}@{region}.nzr",
                s.rrule,
                s.first_starts_at,
                timedelta(minutes=s.duration_minutes),
                s.exdates,
                s.title,
            )
            for s in series.values()
        },
    )


# ---------------------------------------------------------------- programme


async def add_session(*, session: AsyncSession, event_id: str, data: SessionCreate) -> SessionRead:
    """Add a programme session inside the event's time; overlapping sessions are parallel."""
    starts, ends = domain.to_utc(data.starts_at), domain.to_utc(data.ends_at)
    async with session.begin():
        event = await _lock_event(session, event_id)
        if event.status not in ("draft", "published"):
            raise ProblemError(409, "Conflict", f"The programme of a {event.status} event is closed.")
        problems = domain.check_session_times(starts, ends, event.starts_at, event.ends_at)
        if problems:
            raise _invalid("Invalid session", problems)
        row = SessionRow(
            id=str(uuid.uuid4()),
            event_id=event_id,
            title=data.title.strip(),
            kind=data.kind,
            starts_at=starts,
            ends_at=ends,
            room=data.room,
            capacity=data.capacity,
            speakers=data.speakers,
            confirmed_count=0,
        )
        session.add(row)
    return _session_read(row)


async def list_sessions(*, session: AsyncSession, event_id: str, include_drafts: bool) -> list[SessionRead]:
    """The programme of an event by time."""
    await get_event(session=session, event_id=event_id, include_drafts=include_drafts)
    rows = await session.scalars(
        select(SessionRow)
        .where(SessionRow.event_id == event_id)
        .order_by(SessionRow.starts_at, SessionRow.title)
    )
    return [_session_read(r) for r in rows]


# ---------------------------------------------------------------- registration


ACCEPTED_DETAIL = {
    "de": "Danke! Wir haben Ihre Anmeldung erhalten. Eine E-Mail an die angegebene Adresse sagt "
    "Ihnen, wie es weitergeht, mit Ihrem persönlichen Link zum Ändern oder Abmelden.",
    "en": "Thank you! We have received your registration. An e-mail to the address you gave tells "
    "you what happens next, with your personal link to change or cancel.",
}
LINKS_DETAIL = {
    "de": "Wenn unter dieser Adresse Anmeldungen bestehen, schicken wir die Links dorthin.",
    "en": "If there are registrations under this address, we send the links there.",
}


@dataclass(frozen=True)
class CancellationLinks:
    """Signs the personal link to change or cancel a registration (valid until the event ends)."""

    secret: str
    base_url: str

    def token(self, registration_id: str, event_ends_at: datetime) -> str:
        expires = domain.cancellation_expiry(event_ends_at)
        return domain.sign_cancellation(self.secret, registration_id, expires)

    def url(self, registration_id: str, event_ends_at: datetime) -> str:
        token = self.token(registration_id, event_ends_at)
        return f"{self.base_url.rstrip('/')}/api/v1/registrations/cancel?token={token}"


def cancellation_links(settings: EventsSettings) -> CancellationLinks:
    return CancellationLinks(settings.jwt_secret.get_secret_value(), settings.public_base_url)


@dataclass(frozen=True)
class Applicant:
    """One registration request with the language its mail should be in."""

    data: RegistrationCreate
    language: str = "de"


@dataclass
class Registered:
    registration: RegistrationRead
    event_ends_at: datetime
    already_registered: bool = False


def _for_mail(
    event: EventRow, row: RegistrationRow, waiting_position: int | None, links: CancellationLinks
) -> RegistrationForMail:
    return RegistrationForMail(
        registration_id=row.id,
        event_id=event.id,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue_name=event.venue_name,
        venue_address=event.venue_address,
        online_url=event.online_url,
        status="confirmed" if row.status == "confirmed" else "waiting",
        waiting_position=waiting_position,
        manage_url=links.url(row.id, event.ends_at),
    )


async def _waiting_position(session: AsyncSession, row: RegistrationRow) -> int | None:
    if row.status != "waiting":
        return None
    return await session.scalar(
        select(func.count())
        .select_from(RegistrationRow)
        .where(
            RegistrationRow.event_id == row.event_id,
            RegistrationRow.status == "waiting",
            RegistrationRow.position <= row.position,
        )
    )


async def register_many(
    *,
    session: AsyncSession,
    outbox: Outbox,
    event_id: str,
    requests: Sequence[Applicant],
    consent_text_version: str,
    links: CancellationLinks,
) -> list[Registered | ProblemError]:
    """Registrations for one event in one transaction under the event's row lock, in order:
    confirmed while seats are left, else waiting. A refused request gets its problem and
    writes nothing; the others go ahead. Concurrent registrations are gathered into such
    batches (see ``registration_batches``) so that they share one lock and one commit.

    Every accepted request announces ``RegistrationReceived`` for the mail to its address. An
    address registered already gets no second registration and no refusal either (that would
    tell anybody whether the address is registered): its owner is mailed the existing one."""
    now = datetime.now(UTC)
    results: list[Registered | ProblemError] = []
    async with session.begin():
        event = await _lock_event(session, event_id)
        emails = [domain.normalise_email(str(r.data.email)) for r in requests]
        taken = {
            row.email: row
            for row in await session.scalars(
                select(RegistrationRow).where(
                    RegistrationRow.event_id == event_id,
                    RegistrationRow.email.in_(set(emails)),
                    RegistrationRow.status != "cancelled",
                )
            )
        }
        sessions = (
            await _event_sessions(session, event_id) if any(r.data.session_ids for r in requests) else {}
        )
        announcements: list[IntegrationEvent] = []
        for applicant, email in zip(requests, emails, strict=True):
            data = applicant.data
            try:
                _check_registration_open(event, event_id, now)
                if not data.data_use_consent:
                    raise _invalid(
                        "Consent missing",
                        [
                            domain.Violation(
                                "data_use_consent",
                                "registration needs consent to the use of the data for this event",
                            )
                        ],
                    )
                chosen = _chosen_sessions(data.session_ids, sessions)
                confirmed = domain.has_seat(event.capacity, event.confirmed_count)
                if confirmed:
                    _refuse_full_sessions(chosen, sessions)
            except ProblemError as problem:
                results.append(problem)
                continue
            existing = taken.get(email)
            if existing is not None:
                position = await _waiting_position(session, existing)
                announcements.append(
                    RegistrationReceived(
                        email=email,
                        name=existing.name,
                        language=_mail_language(applicant.language),
                        already_registered=True,
                        registration=_for_mail(event, existing, position, links),
                        received_at=now,
                    )
                )
                results.append(Registered(_registration_read(existing, position), event.ends_at, True))
                continue
            row = RegistrationRow(
                id=str(uuid.uuid4()),
                event_id=event_id,
                position=event.next_position,
                status="waiting",
                name=data.name.strip(),
                email=email,
                actor_id=data.actor_id,
                accessibility_needs=data.accessibility_needs,
                data_use_consent=True,
                newsletter_consent=data.newsletter_consent,
                consent_text_version=data.consent_text_version or consent_text_version,
                session_ids=[s.id for s in chosen],
                registered_at=now,
            )
            taken[email] = row
            event.next_position += 1
            session.add(row)
            position = None
            if confirmed:
                announcements.append(_confirmation(event=event, registration=row, sessions=chosen, now=now))
            else:
                event.waiting_count += 1
                position = event.waiting_count  # the newest registration is last in line
            announcements.append(
                RegistrationReceived(
                    email=email,
                    name=row.name,
                    language=_mail_language(applicant.language),
                    registration=_for_mail(event, row, position, links),
                    received_at=now,
                )
            )
            results.append(Registered(_registration_read(row, position), event.ends_at))
        if announcements:
            await outbox.add(session, *announcements)
        # The unique index catches the same e-mail registered concurrently by another process.
        await session.flush()
    return results


def _mail_language(language: str) -> MailLanguage:
    return "en" if language == "en" else "de"


async def request_links(
    *, session: AsyncSession, outbox: Outbox, email: str, language: str, links: CancellationLinks
) -> None:
    """Send the address's owner the links of their active registrations of upcoming events
    again (by mail, through the outbox); nothing happens for an address without any."""
    address = domain.normalise_email(email)
    now = datetime.now(UTC)
    async with session.begin():
        rows = (
            await session.execute(
                select(RegistrationRow, EventRow)
                .join(EventRow, EventRow.id == RegistrationRow.event_id)
                .where(
                    RegistrationRow.email == address,
                    RegistrationRow.status.in_(("confirmed", "waiting")),
                    EventRow.status == "published",
                    EventRow.ends_at > now,
                )
                .order_by(EventRow.starts_at)
            )
        ).all()
        if not rows:
            return
        registrations = [
            _for_mail(event, row, await _waiting_position(session, row), links) for row, event in rows
        ]
        await outbox.add(
            session,
            RegistrationLinksRequested(
                email=address,
                name=max((row for row, _ in rows), key=lambda r: r.registered_at).name,
                language=_mail_language(language),
                registrations=registrations,
                requested_at=now,
            ),
        )


def _check_registration_open(event: EventRow | None, event_id: str, now: datetime) -> None:
    if event is None or event.status == "draft":
        raise _not_found("event", event_id)
    if event.status != "published":
        raise ProblemError(409, "Registration closed", f"The event is {event.status}.")
    closed = domain.registration_window_problem(
        now,
        opens_at=event.registration_opens_at,
        closes_at=event.registration_closes_at,
        event_starts_at=event.starts_at,
    )
    if closed:
        raise ProblemError(409, "Registration closed", closed)


def _chosen_sessions(session_ids: list[str], sessions: dict[str, SessionRow]) -> list[SessionRow]:
    unknown = [sid for sid in session_ids if sid not in sessions]
    if unknown:
        raise _invalid(
            "Unknown session",
            [domain.Violation("session_ids", f"{sid} is not a session of this event") for sid in unknown],
        )
    chosen = [sessions[sid] for sid in dict.fromkeys(session_ids)]
    clashes = domain.parallel_choices([(s.id, s.starts_at, s.ends_at) for s in chosen])
    if clashes:
        names = {s.id: s.title for s in chosen}
        raise _invalid(
            "One session per slot",
            [
                domain.Violation("session_ids", f"'{names[a]}' and '{names[b]}' run in parallel; choose one")
                for a, b in clashes
            ],
        )
    return chosen


def _refuse_full_sessions(chosen: list[SessionRow], sessions: dict[str, SessionRow]) -> None:
    for item in chosen:
        if domain.has_seat(item.capacity, item.confirmed_count):
            continue
        alternatives = [
            s
            for s in sessions.values()
            if s.id != item.id
            and domain.overlaps(s.starts_at, s.ends_at, item.starts_at, item.ends_at)
            and domain.has_seat(s.capacity, s.confirmed_count)
        ]
        listed = ", ".join(f"'{s.title}'" for s in alternatives) or "none"
        raise ProblemError(
            409,
            "Session full",
            f"The session '{item.title}' is full. Parallel sessions with seats left: {listed}.",
            invalid_params=[InvalidParam(name="session_ids", reason=f"'{item.title}' is full")],
            extra={
                "alternatives": [
                    {"id": s.id, "title": s.title, "seats_left": _seats_left(s.capacity, s.confirmed_count)}
                    for s in alternatives
                ]
            },
        )


def _confirmation(
    *,
    event: EventRow,
    registration: RegistrationRow,
    sessions: list[SessionRow],
    now: datetime,
    promoted: bool = False,
) -> RegistrationConfirmed:
    """Take the seats (caller holds the event lock) and return the event to announce."""
    registration.status = "confirmed"
    registration.confirmed_at = now
    event.confirmed_count += 1
    for item in sessions:
        item.confirmed_count += 1
    return RegistrationConfirmed(
        registration_id=registration.id,
        event_id=event.id,
        name=registration.name,
        email=registration.email,
        actor_id=registration.actor_id,
        newsletter_consent=registration.newsletter_consent,
        consent_text_version=registration.consent_text_version,
        confirmed_at=now,
        promoted_from_waiting_list=promoted,
    )


async def promote_from_waiting_list(*, session: AsyncSession, outbox: Outbox, event: EventRow) -> list[str]:
    """Confirm waiting registrations in order while seats are free (caller holds the event lock).

    A waiting registration whose chosen sessions are full is skipped, not dropped.
    """
    if event.status != "published" or not domain.has_seat(event.capacity, event.confirmed_count):
        return []
    now = datetime.now(UTC)
    sessions = await _event_sessions(session, event.id)
    waiting = await session.scalars(
        select(RegistrationRow)
        .where(RegistrationRow.event_id == event.id, RegistrationRow.status == "waiting")
        .order_by(RegistrationRow.position)
        .execution_options(populate_existing=True)
    )
    promoted, announcements = [], []
    for candidate in waiting:
        if not domain.has_seat(event.capacity, event.confirmed_count):
            break
        chosen = [sessions[sid] for sid in candidate.session_ids if sid in sessions]
        if not all(domain.has_seat(s.capacity, s.confirmed_count) for s in chosen):
            continue
        event.waiting_count -= 1
        announcements.append(
            _confirmation(event=event, registration=candidate, sessions=chosen, now=now, promoted=True)
        )
        promoted.append(candidate.id)
    if announcements:
        await outbox.add(session, *announcements)
    return promoted


async def cancel_registration(
    *, session: AsyncSession, outbox: Outbox, registration_id: str, event_id: str | None = None
) -> CancellationResult:
    """Cancel a registration and promote from the waiting list in the same transaction."""
    now = datetime.now(UTC)
    async with session.begin():
        found = await session.scalar(
            select(RegistrationRow.event_id).where(RegistrationRow.id == registration_id)
        )
        if found is None or (event_id is not None and found != event_id):
            raise _not_found("registration", registration_id)
        event = await _lock_event(session, found)
        row = await session.scalar(
            select(RegistrationRow)
            .where(RegistrationRow.id == registration_id)
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if row.status == "cancelled":
            return CancellationResult(
                registration_id=row.id, status="cancelled", promoted_registration_ids=[]
            )
        if event.status not in ("published", "draft"):
            raise ProblemError(409, "Conflict", f"The event is {event.status}; registrations are closed.")
        if row.status == "confirmed":
            event.confirmed_count -= 1
            sessions = await _event_sessions(session, event.id)
            for sid in row.session_ids:
                if sid in sessions:
                    sessions[sid].confirmed_count -= 1
        else:
            event.waiting_count -= 1
        row.status = "cancelled"
        row.cancelled_at = now
        await outbox.add(
            session,
            RegistrationCancelled(
                registration_id=row.id, event_id=event.id, email=row.email, cancelled_at=now
            ),
        )
        promoted = await promote_from_waiting_list(session=session, outbox=outbox, event=event)
    return CancellationResult(registration_id=row.id, status="cancelled", promoted_registration_ids=promoted)


async def cancel_by_link(
    *, session: AsyncSession, outbox: Outbox, token: str, secret: str
) -> CancellationResult:
    """Cancel through the signed link of the confirmation."""
    try:
        registration_id = domain.read_cancellation(secret, token, datetime.now(UTC))
    except domain.ExpiredLink as error:
        raise ProblemError(410, "Link expired", str(error)) from error
    except domain.InvalidLink as error:
        raise ProblemError(403, "Invalid link", str(error)) from error
    return await cancel_registration(session=session, outbox=outbox, registration_id=registration_id)


async def list_registrations(
    *, session: AsyncSession, event_id: str, status: str | None = None
) -> list[RegistrationRead]:
    """Registrations of an event in order (organisers only: personal data)."""
    await get_event(session=session, event_id=event_id, include_drafts=True)
    where = [RegistrationRow.event_id == event_id]
    if status:
        where.append(RegistrationRow.status == status)
    rows = list(
        await session.scalars(select(RegistrationRow).where(*where).order_by(RegistrationRow.position))
    )
    result, waiting = [], 0
    for row in rows:
        if row.status == "waiting":
            waiting += 1
        result.append(_registration_read(row, waiting if row.status == "waiting" else None))
    return result


async def check_in(
    *, session: AsyncSession, outbox: Outbox, event_id: str, registration_id: str
) -> RegistrationRead:
    """Mark a confirmed registrant as present and announce the attendance counts."""
    async with session.begin():
        event = await _lock_event(session, event_id)
        row = await session.get(RegistrationRow, registration_id)
        if row is None or row.event_id != event_id:
            raise _not_found("registration", registration_id)
        if row.status != "confirmed":
            raise ProblemError(409, "Conflict", f"A {row.status} registration cannot check in.")
        if row.checked_in_at is None:
            row.checked_in_at = datetime.now(UTC)
            event.attended_count += 1
            await outbox.add(
                session,
                AttendanceRecorded(
                    event_id=event.id,
                    confirmed=event.confirmed_count,
                    waiting=event.waiting_count,
                    attended=event.attended_count,
                ),
            )
    return _registration_read(row)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def attendance_csv(*, session: AsyncSession, event_id: str) -> str:
    """Attendance list as CSV (UTF-8, semicolon-separated as German spreadsheets expect)."""
    registrations = await list_registrations(session=session, event_id=event_id)
    titles = {s.id: s.title for s in (await _event_sessions(session, event_id)).values()}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        ["name", "email", "actor_id", "status", "sessions", "accessibility_needs", "checked_in_at"]
    )
    for r in registrations:
        if r.status == "cancelled":
            continue
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    r.name,
                    r.email,
                    r.actor_id,
                    r.status,
                    " | ".join(titles.get(s, s) for s in r.session_ids),
                    r.accessibility_needs,
                    domain.to_berlin(r.checked_in_at).isoformat() if r.checked_in_at else "",
                )
            ]
        )
    return out.getvalue()


async def export_person(*, session: AsyncSession, email: str) -> PersonRegistrationsExport:
    """Every registration of this e-mail address with its event and consents (GDPR Art. 15)."""
    rows = (
        await session.execute(
            select(RegistrationRow, EventRow.title, EventRow.starts_at)
            .join(EventRow, EventRow.id == RegistrationRow.event_id)
            .where(RegistrationRow.email == domain.normalise_email(email))
            .order_by(RegistrationRow.registered_at)
        )
    ).all()
    session_ids = {sid for row, _, _ in rows for sid in row.session_ids}
    titles = dict(
        (
            await session.execute(
                select(SessionRow.id, SessionRow.title).where(SessionRow.id.in_(session_ids))
            )
        ).all()
    )
    records = [
        PersonRegistrationRecord(
            registration_id=row.id,
            event_id=row.event_id,
            event_title=title,
            event_starts_at=starts_at,
            status=row.status,
            name=row.name,
            email=row.email,
            actor_id=row.actor_id,
            session_titles=[titles.get(sid, sid) for sid in row.session_ids],
            accessibility_needs=row.accessibility_needs,
            data_use_consent=row.data_use_consent,
            newsletter_consent=row.newsletter_consent,
            consent_text_version=row.consent_text_version,
            registered_at=row.registered_at,
            confirmed_at=row.confirmed_at,
            cancelled_at=row.cancelled_at,
            checked_in_at=row.checked_in_at,
        )
        for row, title, starts_at in rows
    ]
    return PersonRegistrationsExport(
        person_id=person_id_for(email), email=email, exported_at=datetime.now(UTC), registrations=records
    )


async def erase_person(*, session: AsyncSession, person_id: str) -> int:
    """Anonymise every registration of the person (by the pseudonymous id of their address);
    statuses and counts stay."""
    candidates = await session.execute(
        select(RegistrationRow.id, RegistrationRow.email).where(RegistrationRow.anonymised_at.is_(None))
    )
    ids = [row.id for row in candidates if person_id_for(row.email) == person_id]
    if not ids:
        return 0
    rows = list(await session.scalars(select(RegistrationRow).where(RegistrationRow.id.in_(ids))))
    now = datetime.now(UTC)
    for row in rows:
        row.name = ERASED_NAME
        row.email = f"erased-{row.id}@invalid"
        row.accessibility_needs = None
        row.actor_id = None
        row.anonymised_at = now
    return len(rows)


# ---------------------------------------------------------------- series


async def create_series(
    *, session: AsyncSession, outbox: Outbox, data: SeriesCreate, region_districts: set[str]
) -> SeriesRead:
    """A recurring meeting: one event per occurrence of the RRULE, each with its own registration."""
    first_start, first_end = domain.to_utc(data.starts_at), domain.to_utc(data.ends_at)
    problems = domain.check_event_times(first_start, first_end, None, None)
    problems += _check_region_district(data.district, region_districts)
    if data.registration_opens_at or data.registration_closes_at:
        problems.append(
            domain.Violation(
                "registration_closes_at", "a series' occurrences close registration at their start"
            )
        )
    if problems:
        raise _invalid("Invalid series", problems)
    exdates = {domain.to_utc(d) for d in data.exdates}
    try:
        starts = domain.occurrences(data.rrule, first_start, exdates=exdates, limit=data.count)
    except domain.InvalidRecurrence as error:
        raise ProblemError(
            422,
            "Invalid recurrence rule",
            str(error),
            invalid_params=[InvalidParam(name="rrule", reason=str(error))],
        ) from error
    duration = first_end - first_start
    series = SeriesRow(
        id=str(uuid.uuid4()),
        title=data.title.strip(),
        format=data.format,
        rrule=domain.rrule_without_prefix(data.rrule),
        first_starts_at=first_start,
        duration_minutes=int(duration.total_seconds() // 60),
        exdates=sorted(d.isoformat() for d in exdates),
        created_at=datetime.now(UTC),
    )
    status = "published" if data.publish else "draft"
    rows = [
        _new_event_row(data, status=status, series_id=series.id, starts_at=s, ends_at=s + duration)
        for s in starts
    ]
    async with session.begin():
        session.add(series)
        await session.flush()
        session.add_all(rows)
        if data.publish:
            await outbox.add(session, *(EventPublished(**_facts(r)) for r in rows))
    return _series_read(series, rows)


def _series_read(series: SeriesRow, rows: Sequence[EventRow]) -> SeriesRead:
    return SeriesRead(
        id=series.id,
        title=series.title,
        format=series.format,  # type: ignore[arg-type]
        rrule=series.rrule,
        exdates=[datetime.fromisoformat(d) for d in series.exdates],
        occurrences=[_event_read(r) for r in rows],
    )


async def get_series(*, session: AsyncSession, series_id: str, include_drafts: bool) -> SeriesRead:
    series = await session.get(SeriesRow, series_id)
    if series is None:
        raise _not_found("series", series_id)
    statuses = ("draft", *PUBLIC_STATUSES) if include_drafts else PUBLIC_STATUSES
    rows = list(
        await session.scalars(
            select(EventRow)
            .where(EventRow.series_id == series_id, EventRow.status.in_(statuses))
            .order_by(EventRow.starts_at)
        )
    )
    if not rows and not include_drafts:
        raise _not_found("series", series_id)
    return _series_read(series, rows)


async def add_series_exception(
    *, session: AsyncSession, outbox: Outbox, series_id: str, starts_at: datetime
) -> SeriesRead:
    """One date does not take place: EXDATE in the rule, the occurrence cancelled."""
    moment = domain.to_utc(starts_at)
    async with session.begin():
        series = await session.get(SeriesRow, series_id)
        if series is None:
            raise _not_found("series", series_id)
        occurrence = await session.scalar(
            select(EventRow).where(EventRow.series_id == series_id, EventRow.occurrence_starts_at == moment)
        )
        if occurrence is None:
            raise _invalid(
                "No such occurrence",
                [
                    domain.Violation(
                        "starts_at", f"the series has no occurrence at {domain.to_berlin(moment).isoformat()}"
                    )
                ],
            )
        occurrence = await _lock_event(session, occurrence.id)
        if occurrence.status == "completed":
            raise ProblemError(409, "Conflict", "A completed occurrence cannot be excepted.")
        series.exdates = sorted({*series.exdates, moment.isoformat()})
        if occurrence.status != "cancelled":
            was_public = occurrence.status == "published"
            occurrence.status = "cancelled"
            occurrence.version += 1
            occurrence.updated_at = datetime.now(UTC)
            if was_public:
                await outbox.add(
                    session, EventCancelled(event_id=occurrence.id, cancelled_at=occurrence.updated_at)
                )
    return await get_series(session=session, series_id=series_id, include_drafts=True)


async def publish_series(*, session: AsyncSession, outbox: Outbox, series_id: str) -> SeriesRead:
    """Publish every draft occurrence of a series."""
    async with session.begin():
        if await session.get(SeriesRow, series_id) is None:
            raise _not_found("series", series_id)
        rows = list(
            await session.scalars(
                select(EventRow)
                .where(EventRow.series_id == series_id, EventRow.status == "draft")
                .with_for_update()
            )
        )
        now = datetime.now(UTC)
        for row in rows:
            row.status = "published"
            row.version += 1
            row.updated_at = now
        if rows:
            await outbox.add(session, *(EventPublished(**_facts(r)) for r in rows))
    return await get_series(session=session, series_id=series_id, include_drafts=True)


# ---------------------------------------------------------------- outcomes


async def record_agreement(
    *, session: AsyncSession, outbox: Outbox, event_id: str, data: AgreementCreate
) -> AgreementRead:
    """Record who agreed to do what by when; actors turns the parties into cooperations."""
    now = datetime.now(UTC)
    async with session.begin():
        event = await session.get(EventRow, event_id)
        if event is None:
            raise _not_found("event", event_id)
        if event.status == "draft":
            raise ProblemError(409, "Conflict", "A draft event has no outcomes yet.")
        row = AgreementRow(
            id=str(uuid.uuid4()),
            event_id=event_id,
            text=data.text.strip(),
            party_actor_ids=list(dict.fromkeys(data.party_actor_ids)),
            responsible_actor_id=data.responsible_actor_id,
            due_date=data.due_date,
            status=data.status,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await outbox.add(
            session,
            AgreementRecorded(
                agreement_id=row.id,
                event_id=event_id,
                party_actor_ids=row.party_actor_ids,
                responsible_actor_id=row.responsible_actor_id,
                due_date=row.due_date,
                status=data.status,
            ),
        )
    return _agreement_read(row)


async def report_progress(
    *, session: AsyncSession, outbox: Outbox, agreement_id: str, data: ProgressCreate
) -> AgreementRead:
    """Add a progress report (what moved, what blocks), optionally changing the status."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await session.scalar(
            select(AgreementRow).where(AgreementRow.id == agreement_id).with_for_update()
        )
        if row is None:
            raise _not_found("agreement", agreement_id)
        if not (data.moved or data.blocks or data.status):
            raise _invalid(
                "Empty progress report",
                [domain.Violation("moved", "say what moved, what blocks, or the new status")],
            )
        new_status = data.status or row.status
        session.add(
            ProgressReportRow(
                id=str(uuid.uuid4()),
                agreement_id=row.id,
                reported_at=now,
                moved=data.moved,
                blocks=data.blocks,
                status=new_status,
            )
        )
        if new_status != row.status:
            row.status = new_status
            await outbox.add(
                session,
                AgreementStatusChanged(
                    agreement_id=row.id,
                    status=new_status,  # type: ignore[arg-type]
                    changed_at=now,
                ),
            )
        row.updated_at = now
    return await get_agreement(session=session, agreement_id=agreement_id)


async def get_agreement(*, session: AsyncSession, agreement_id: str) -> AgreementRead:
    row = await session.get(AgreementRow, agreement_id)
    if row is None:
        raise _not_found("agreement", agreement_id)
    progress = await session.scalars(
        select(ProgressReportRow)
        .where(ProgressReportRow.agreement_id == agreement_id)
        .order_by(ProgressReportRow.reported_at)
    )
    return _agreement_read(row, list(progress))


async def list_agreements(
    *,
    session: AsyncSession,
    event_id: str | None,
    status: str | None,
    responsible_actor_id: str | None,
    due_before: date | None,
) -> list[AgreementRead]:
    """Agreements to follow up, by due date."""
    where = []
    if event_id:
        where.append(AgreementRow.event_id == event_id)
    if status:
        where.append(AgreementRow.status == status)
    if responsible_actor_id:
        where.append(AgreementRow.responsible_actor_id == responsible_actor_id)
    if due_before:
        where.append(AgreementRow.due_date <= due_before)
    rows = list(
        await session.scalars(
            select(AgreementRow)
            .where(*where)
            .order_by(AgreementRow.due_date, AgreementRow.created_at)
            .limit(1000)
        )
    )
    progress: dict[str, list[ProgressReportRow]] = {}
    if rows:
        for p in await session.scalars(
            select(ProgressReportRow)
            .where(ProgressReportRow.agreement_id.in_([r.id for r in rows]))
            .order_by(ProgressReportRow.reported_at)
        ):
            progress.setdefault(p.agreement_id, []).append(p)
    return [_agreement_read(r, progress.get(r.id, [])) for r in rows]


async def record_recommendation(
    *, session: AsyncSession, outbox: Outbox, event_id: str, data: RecommendationCreate
) -> RecommendationRead:
    """Record a Handlungsempfehlung of an event."""
    async with session.begin():
        event = await session.get(EventRow, event_id)
        if event is None:
            raise _not_found("event", event_id)
        if event.status == "draft":
            raise ProblemError(409, "Conflict", "A draft event has no outcomes yet.")
        row = RecommendationRow(
            id=str(uuid.uuid4()),
            event_id=event_id,
            text=data.text.strip(),
            addressee=data.addressee,
            topics=data.topics,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        await outbox.add(
            session, RecommendationRecorded(recommendation_id=row.id, event_id=event_id, topics=row.topics)
        )
    return RecommendationRead.model_validate(row, from_attributes=True)


async def list_recommendations(*, session: AsyncSession, event_id: str) -> list[RecommendationRead]:
    rows = await session.scalars(
        select(RecommendationRow)
        .where(RecommendationRow.event_id == event_id)
        .order_by(RecommendationRow.created_at)
    )
    return [RecommendationRead.model_validate(r, from_attributes=True) for r in rows]
