"""The event row lock: registrations, cancellations, capacity changes and check-ins of one event
take it (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by BEGIN
IMMEDIATE), and the rows they change under it are read fresh."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import NotFound
from nzr_events.gatherings.models import EventRow
from nzr_events.programme.models import SessionRow


async def lock_event(session: AsyncSession, event_id: str) -> EventRow:
    row = await session.scalar(
        select(EventRow)
        .where(EventRow.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("event", event_id)
    return row


async def event_sessions(session: AsyncSession, event_id: str) -> dict[str, SessionRow]:
    rows = await session.scalars(
        select(SessionRow).where(SessionRow.event_id == event_id).execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}
