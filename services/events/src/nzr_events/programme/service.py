"""Use cases of the programme: add sessions, list them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Conflict, Invalid
from nzr_events.gatherings.rules import seats_left
from nzr_events.gatherings.service import get_event
from nzr_events.locking import lock_event
from nzr_events.programme.models import SessionRow
from nzr_events.programme.rules import check_session_times
from nzr_events.programme.schemas import SessionCreate, SessionRead
from nzr_events.tables import ListedRow
from nzr_events.times import to_utc


def session_read(row: SessionRow | ListedRow) -> SessionRead:
    return SessionRead(
        id=row.id,
        event_id=row.event_id,
        title=row.title,
        kind=row.kind,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        room=row.room,
        capacity=row.capacity,
        speakers=row.speakers,
        confirmed_count=row.confirmed_count,
        seats_left=seats_left(row.capacity, row.confirmed_count),
    )


async def add_session(*, session: AsyncSession, event_id: str, data: SessionCreate) -> SessionRead:
    """Add a programme session inside the event's time; overlapping sessions are parallel."""
    starts, ends = to_utc(data.starts_at), to_utc(data.ends_at)
    async with session.begin():
        event = await lock_event(session, event_id)
        if event.status not in ("draft", "published"):
            raise Conflict(f"The programme of a {event.status} event is closed.")
        problems = check_session_times(starts, ends, event.starts_at, event.ends_at)
        if problems:
            raise Invalid("Invalid session", problems)
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
    return session_read(row)


async def list_sessions(*, session: AsyncSession, event_id: str, include_drafts: bool) -> list[SessionRead]:
    """The programme of an event by time."""
    await get_event(session=session, event_id=event_id, include_drafts=include_drafts)
    rows = await session.execute(
        select(*SessionRow.__table__.c)
        .where(SessionRow.event_id == event_id)
        .order_by(SessionRow.starts_at, SessionRow.title)
    )
    return [session_read(r) for r in rows]
