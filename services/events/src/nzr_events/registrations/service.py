"""Use cases of registrations: register (in batches), send the links again, cancel.

Every change takes the event's row lock (``nzr_events.locking``), so the seat counters never
overbook.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import IntegrationEvent
from nzr_common.contracts.events import RegistrationLinksRequested, RegistrationReceived
from nzr_common.errors import Conflict, DomainError, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import Violation, has_seat, seats_left
from nzr_events.locking import event_sessions, lock_event
from nzr_events.programme.models import SessionRow
from nzr_events.programme.rules import overlaps, parallel_choices
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import for_mail, waiting_position
from nzr_events.registrations.rules import (
    mail_language,
    normalise_email,
    registration_window_problem,
)
from nzr_events.registrations.schemas import RegistrationCreate, RegistrationRead
from nzr_events.registrations.waiting_list import confirmation, consent_handed_over_on_receipt
from nzr_events.tables import ListedRow

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
class Applicant:
    """One registration request with the language its mail should be in."""

    data: RegistrationCreate
    language: str = "de"


@dataclass
class Registered:
    registration: RegistrationRead
    event_ends_at: datetime
    already_registered: bool = False


def registration_read(
    row: RegistrationRow | ListedRow, waiting_position: int | None = None
) -> RegistrationRead:
    return RegistrationRead(
        id=row.id,
        event_id=row.event_id,
        status=row.status,
        waiting_position=waiting_position,
        name=row.name,
        email=row.email,
        actor_id=row.actor_id,
        session_ids=row.session_ids,
        accessibility_needs=row.accessibility_needs,
        newsletter_consent=row.newsletter_consent,
        newsletter_consent_timing=row.newsletter_consent_timing,
        registered_at=row.registered_at,
        checked_in_at=row.checked_in_at,
    )


async def register_many(
    *,
    session: AsyncSession,
    outbox: Outbox,
    event_id: str,
    requests: Sequence[Applicant],
    consent_text_version: str,
    links: RegistrationLinks,
) -> list[Registered | DomainError]:
    """Registrations for one event in one transaction under the event's row lock, in order:
    confirmed while seats are left, else waiting. A refused request gets its problem and
    writes nothing; the others go ahead. Concurrent registrations are gathered into such
    batches (see ``registrations.batches``) so that they share one lock and one commit.

    Every accepted request announces ``RegistrationReceived`` for the mail to its address. An
    address registered already gets no second registration and no refusal either (that would
    tell anybody whether the address is registered): its owner is mailed the existing one."""
    now = datetime.now(UTC)
    results: list[Registered | DomainError] = []
    async with session.begin():
        event = await lock_event(session, event_id)
        emails = [normalise_email(str(r.data.email)) for r in requests]
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
            await event_sessions(session, event_id)
            if any(r.data.session_ids for r in requests) or any(t.session_ids for t in taken.values())
            else {}
        )
        announcements: list[IntegrationEvent] = []
        for applicant, email in zip(requests, emails, strict=True):
            data = applicant.data
            try:
                chosen, confirmed = _admission(event, event_id, data, sessions, now)
            except DomainError as problem:
                results.append(problem)
                continue
            existing = taken.get(email)
            if existing is not None:
                position = await waiting_position(session, existing)
                announcements.append(
                    RegistrationReceived(
                        email=email,
                        name=existing.name,
                        language=mail_language(applicant.language),
                        already_registered=True,
                        registration=for_mail(event, existing, position, links, sessions),
                        received_at=now,
                    )
                )
                results.append(Registered(registration_read(existing, position), event.ends_at, True))
                continue
            row = _new_registration(event, applicant, email, chosen, now, consent_text_version)
            taken[email] = row
            session.add(row)
            position = None
            if confirmed:
                announcements.append(confirmation(event=event, registration=row, sessions=chosen, now=now))
            else:
                event.waiting_count += 1
                position = event.waiting_count  # the newest registration is last in line
            announcements.append(
                RegistrationReceived(
                    email=email,
                    name=row.name,
                    language=mail_language(applicant.language),
                    registration=for_mail(event, row, position, links, sessions),
                    received_at=now,
                    **consent_handed_over_on_receipt(event, row),
                )
            )
            results.append(Registered(registration_read(row, position), event.ends_at))
        if announcements:
            await outbox.add(session, *announcements)
        # The unique index catches the same e-mail registered concurrently by another process.
        await session.flush()
    return results


def _admission(
    event: EventRow, event_id: str, data: RegistrationCreate, sessions: dict[str, SessionRow], now: datetime
) -> tuple[list[SessionRow], bool]:
    """The sessions chosen and whether a seat is left; raises the refusal of the request."""
    _check_registration_open(event, event_id, now)
    if not data.data_use_consent:
        raise Invalid(
            "Consent missing",
            [
                Violation(
                    "data_use_consent",
                    "registration needs consent to the use of the data for this event",
                )
            ],
        )
    chosen = chosen_sessions(data.session_ids, sessions)
    confirmed = has_seat(event.capacity, event.confirmed_count)
    if confirmed:
        _refuse_full_sessions(chosen, sessions)
    return chosen, confirmed


def _new_registration(
    event: EventRow,
    applicant: Applicant,
    email: str,
    chosen: list[SessionRow],
    now: datetime,
    consent_text_version: str,
) -> RegistrationRow:
    """A waiting registration at the end of the line (the caller holds the event lock)."""
    data = applicant.data
    row = RegistrationRow(
        id=str(uuid.uuid4()),
        event_id=event.id,
        position=event.next_position,
        status="waiting",
        name=data.name.strip(),
        email=email,
        actor_id=data.actor_id,
        accessibility_needs=data.accessibility_needs,
        data_use_consent=True,
        newsletter_consent=data.newsletter_consent,
        newsletter_consent_timing=data.newsletter_consent_timing,
        consent_text_version=data.consent_text_version or consent_text_version,
        session_ids=[s.id for s in chosen],
        registered_at=now,
        language=mail_language(applicant.language),
    )
    event.next_position += 1
    return row


async def request_links(
    *, session: AsyncSession, outbox: Outbox, email: str, language: str, links: RegistrationLinks
) -> None:
    """Send the address's owner the links of their active registrations of upcoming events
    again (by mail, through the outbox); nothing happens for an address without any."""
    address = normalise_email(email)
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
        chosen = {sid for row, _ in rows for sid in row.session_ids}
        sessions = (
            {s.id: s for s in await session.scalars(select(SessionRow).where(SessionRow.id.in_(chosen)))}
            if chosen
            else {}
        )
        registrations = [
            for_mail(event, row, await waiting_position(session, row), links, sessions) for row, event in rows
        ]
        await outbox.add(
            session,
            RegistrationLinksRequested(
                email=address,
                name=max((row for row, _ in rows), key=lambda r: r.registered_at).name,
                language=mail_language(language),
                registrations=registrations,
                requested_at=now,
            ),
        )


def _check_registration_open(event: EventRow | None, event_id: str, now: datetime) -> None:
    if event is None or event.status == "draft":
        raise NotFound("event", event_id)
    if event.status != "published":
        raise Conflict(f"The event is {event.status}.", title="Registration closed")
    closed = registration_window_problem(
        now,
        opens_at=event.registration_opens_at,
        closes_at=event.registration_closes_at,
        event_starts_at=event.starts_at,
    )
    if closed:
        raise Conflict(closed, title="Registration closed")


def chosen_sessions(session_ids: list[str], sessions: dict[str, SessionRow]) -> list[SessionRow]:
    """The chosen sessions of the event's programme; refuses unknown ones and two in one slot."""
    unknown = [sid for sid in session_ids if sid not in sessions]
    if unknown:
        raise Invalid(
            "Unknown session",
            [Violation("session_ids", f"{sid} is not a session of this event") for sid in unknown],
        )
    chosen = [sessions[sid] for sid in dict.fromkeys(session_ids)]
    clashes = parallel_choices([(s.id, s.starts_at, s.ends_at) for s in chosen])
    if clashes:
        names = {s.id: s.title for s in chosen}
        raise Invalid(
            "One session per slot",
            [
                Violation("session_ids", f"'{names[a]}' and '{names[b]}' run in parallel; choose one")
                for a, b in clashes
            ],
        )
    return chosen


def _refuse_full_sessions(chosen: list[SessionRow], sessions: dict[str, SessionRow]) -> None:
    for item in chosen:
        if has_seat(item.capacity, item.confirmed_count):
            continue
        alternatives = [
            s
            for s in sessions.values()
            if s.id != item.id
            and overlaps(s.starts_at, s.ends_at, item.starts_at, item.ends_at)
            and has_seat(s.capacity, s.confirmed_count)
        ]
        listed = ", ".join(f"'{s.title}'" for s in alternatives) or "none"
        raise Conflict(
            f"The session '{item.title}' is full. Parallel sessions with seats left: {listed}.",
            title="Session full",
            problems=[("session_ids", f"'{item.title}' is full")],
            extra={
                "alternatives": [
                    {"id": s.id, "title": s.title, "seats_left": seats_left(s.capacity, s.confirmed_count)}
                    for s in alternatives
                ]
            },
        )
