"""Seats and the waiting list: confirming a registration and moving the list up (the caller
holds the event's row lock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import IntegrationEvent
from nzr_common.contracts.events import RegistrationConfirmed
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import has_seat
from nzr_events.locking import event_sessions
from nzr_events.programme.models import SessionRow
from nzr_events.registrations.consent import consent_on_confirmation, consent_on_receipt
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notice


def confirmation(
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
        newsletter_consent=consent_on_confirmation(
            consent=registration.newsletter_consent,
            timing=registration.newsletter_consent_timing,
            promoted=promoted,
        ),
        consent_text_version=registration.consent_text_version,
        confirmed_at=now,
        promoted_from_waiting_list=promoted,
        district=event.district,
        topics=list(event.topics),
    )


def consent_handed_over_on_receipt(event: EventRow, registration: RegistrationRow) -> dict[str, Any]:
    """The consent fields of RegistrationReceived: filled when the consent goes over at once."""
    if not consent_on_receipt(
        consent=registration.newsletter_consent,
        timing=registration.newsletter_consent_timing,
        waiting=registration.status == "waiting",
    ):
        return {}
    return dict(
        newsletter_consent=True,
        consent_text_version=registration.consent_text_version,
        district=event.district,
        topics=list(event.topics),
    )


async def promote_from_waiting_list(
    *, session: AsyncSession, outbox: Outbox, event: EventRow, links: RegistrationLinks
) -> list[str]:
    """Confirm waiting registrations in order while seats are free (caller holds the event lock),
    each with a ``promoted`` notice to its owner.

    A waiting registration whose chosen sessions are full is skipped, not dropped.
    """
    if event.status != "published" or not has_seat(event.capacity, event.confirmed_count):
        return []
    now = datetime.now(UTC)
    sessions = await event_sessions(session, event.id)
    waiting = await session.scalars(
        select(RegistrationRow)
        .where(RegistrationRow.event_id == event.id, RegistrationRow.status == "waiting")
        .order_by(RegistrationRow.position)
        .execution_options(populate_existing=True)
    )
    promoted: list[str] = []
    announcements: list[IntegrationEvent] = []
    for candidate in waiting:
        if not has_seat(event.capacity, event.confirmed_count):
            break
        chosen = [sessions[sid] for sid in candidate.session_ids if sid in sessions]
        if not all(has_seat(s.capacity, s.confirmed_count) for s in chosen):
            continue
        event.waiting_count -= 1
        announcements.append(
            confirmation(event=event, registration=candidate, sessions=chosen, now=now, promoted=True)
        )
        if candidate.anonymised_at is None:  # an erased person is mailed nothing
            announcements.append(
                notice(kind="promoted", event=event, row=candidate, links=links, sessions=sessions, now=now)
            )
        promoted.append(candidate.id)
    if announcements:
        await outbox.add(session, *announcements)
    return promoted
