"""The reminder N days before an event (per event, ``reminder_days``, default 2): a background
loop announces one ``reminder`` notice per confirmed registration, recorded on the registration
in the same transaction, so a restart (or a second process) never sends it twice."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.outbox import Outbox
from nzr_events.bootstrap import Deps
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import reminder_due
from nzr_events.locking import event_sessions, lock_event
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notice

log = logging.getLogger(__name__)

#: ``reminder_days`` is at most this, so later events need no look.
LONGEST_LEAD = timedelta(days=365)


async def send_due_reminders(
    *, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, links: RegistrationLinks, now: datetime
) -> int:
    """Announce every reminder that is due now and not yet sent; returns how many."""
    async with sessions() as session:
        upcoming = (
            await session.execute(
                select(EventRow.id, EventRow.starts_at, EventRow.reminder_days).where(
                    EventRow.status == "published",
                    EventRow.reminder_days.is_not(None),
                    EventRow.starts_at > now,
                    EventRow.starts_at <= now + LONGEST_LEAD,
                )
            )
        ).all()
    due = [
        event_id
        for event_id, starts_at, days in upcoming
        if days is not None and starts_at - timedelta(days=days) <= now
    ]
    sent = 0
    for event_id in due:
        async with sessions() as session:
            sent += await _remind(session, outbox=outbox, links=links, event_id=event_id, now=now)
    return sent


async def _remind(
    session: AsyncSession, *, outbox: Outbox, links: RegistrationLinks, event_id: str, now: datetime
) -> int:
    """The reminders of one event, under its lock (read fresh, so none is sent twice)."""
    async with session.begin():
        event = await lock_event(session, event_id)
        if event.status != "published":
            return 0
        candidates = await session.scalars(
            select(RegistrationRow)
            .where(
                RegistrationRow.event_id == event_id,
                RegistrationRow.status == "confirmed",
                RegistrationRow.reminder_sent_at.is_(None),
                RegistrationRow.anonymised_at.is_(None),
            )
            .order_by(RegistrationRow.position)
            .execution_options(populate_existing=True)
        )
        rows = [
            row
            for row in candidates
            if reminder_due(
                now,
                starts_at=event.starts_at,
                reminder_days=event.reminder_days,
                registered_at=row.registered_at,
            )
        ]
        if not rows:
            return 0
        sessions = await event_sessions(session, event_id)
        # One statement for all of them (the rows were read under the lock just now).
        await session.execute(
            update(RegistrationRow)
            .where(RegistrationRow.id.in_([row.id for row in rows]))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        await outbox.add(
            session,
            *(
                notice(kind="reminder", event=event, row=row, links=links, sessions=sessions, now=now)
                for row in rows
            ),
        )
    return len(rows)


async def send_reminders_periodically(deps: Deps) -> None:
    """Look for due reminders every ``reminder_check_seconds`` until cancelled."""
    settings = deps.settings
    await asyncio.sleep(settings.reminder_first_check_seconds)
    while True:
        try:
            sent = await send_due_reminders(
                sessions=deps.sessions, outbox=deps.outbox, links=deps.links, now=deps.clock()
            )
            if sent:
                log.info("announced %d event reminders", sent)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reminder round failed; trying again next round")
        await asyncio.sleep(settings.reminder_check_seconds)


#: The task's name in the runtime.
send_reminders_periodically.__name__ = "event reminders"
