"""Use cases of cancelling a registration: by the organiser, or by the person through their
signed link; the waiting list moves up in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.events import RegistrationCancelled
from nzr_common.errors import Conflict, Forbidden, NotFound
from nzr_common.outbox import Outbox
from nzr_events.locking import event_sessions, lock_event
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notice
from nzr_events.registrations.rules import InvalidLink, read_cancellation
from nzr_events.registrations.schemas import CancellationResult
from nzr_events.registrations.waiting_list import promote_from_waiting_list


async def cancel_registration(
    *,
    session: AsyncSession,
    outbox: Outbox,
    links: RegistrationLinks,
    registration_id: str,
    event_id: str | None = None,
) -> CancellationResult:
    """Cancel a registration (its owner gets a ``cancelled`` notice) and promote from the
    waiting list in the same transaction."""
    now = datetime.now(UTC)
    async with session.begin():
        found = await session.scalar(
            select(RegistrationRow.event_id).where(RegistrationRow.id == registration_id)
        )
        if found is None or (event_id is not None and found != event_id):
            raise NotFound("registration", registration_id)
        event = await lock_event(session, found)
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
            raise Conflict(f"The event is {event.status}; registrations are closed.")
        sessions = await event_sessions(session, event.id)
        if row.status == "confirmed":
            event.confirmed_count -= 1
            for sid in row.session_ids:
                if sid in sessions:
                    sessions[sid].confirmed_count -= 1
        else:
            event.waiting_count -= 1
        row.status = "cancelled"
        row.cancelled_at = now
        told = (
            []
            if row.anonymised_at
            else [notice(kind="cancelled", event=event, row=row, links=links, sessions=sessions, now=now)]
        )
        await outbox.add(
            session,
            RegistrationCancelled(
                registration_id=row.id, event_id=event.id, email=row.email, cancelled_at=now
            ),
            *told,
        )
        promoted = await promote_from_waiting_list(session=session, outbox=outbox, event=event, links=links)
    return CancellationResult(registration_id=row.id, status="cancelled", promoted_registration_ids=promoted)


async def cancel_by_link(
    *, session: AsyncSession, outbox: Outbox, links: RegistrationLinks, token: str
) -> CancellationResult:
    """Cancel through the signed link of the confirmation (an expired one raises ``ExpiredLink``)."""
    try:
        registration_id = read_cancellation(links.secret, token, datetime.now(UTC))
    except InvalidLink as error:
        raise Forbidden(str(error), title="Invalid link") from error
    return await cancel_registration(
        session=session, outbox=outbox, links=links, registration_id=registration_id
    )
