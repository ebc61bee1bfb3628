"""Use cases of the programme: add sessions, change them (participants are told), list them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.rules import seats_left
from nzr_events.gatherings.service import get_event
from nzr_events.locking import event_sessions, lock_event
from nzr_events.programme.models import SessionRow
from nzr_events.programme.rules import check_session_capacity, check_session_times, session_changes
from nzr_events.programme.schemas import SessionCreate, SessionRead, SessionUpdate
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.notices import notices_to_everyone
from nzr_events.registrations.waiting_list import promote_from_waiting_list
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


async def update_session(
    *,
    session: AsyncSession,
    outbox: Outbox,
    links: RegistrationLinks,
    event_id: str,
    session_id: str,
    data: SessionUpdate,
) -> SessionRead:
    """Change a session's title, time, room or capacity. A new time, room or capacity raises the
    event's calendar sequence and tells everyone who chose the session; more seats promote."""
    changes = data.model_dump(exclude_unset=True)
    for name in ("starts_at", "ends_at"):
        if changes.get(name) is not None:
            changes[name] = to_utc(changes[name])
    now = datetime.now(UTC)
    async with session.begin():
        event = await lock_event(session, event_id)
        sessions = await event_sessions(session, event_id)
        row = sessions.get(session_id)
        if row is None:
            raise NotFound("session", session_id)
        if event.status not in ("draft", "published"):
            raise Conflict(f"The programme of a {event.status} event is closed.")
        fields = ("starts_at", "ends_at", "room", "capacity")
        before = {name: getattr(row, name) for name in fields}
        for name, value in changes.items():
            setattr(row, name, value.strip() if name == "title" else value)
        problems = check_session_times(row.starts_at, row.ends_at, event.starts_at, event.ends_at)
        problems += check_session_capacity(row.capacity, row.confirmed_count)
        if problems:
            raise Invalid("Invalid session", problems)
        told = session_changes(before, {name: getattr(row, name) for name in fields})
        if told:
            event.sequence += 1
            event.version += 1
            event.updated_at = now
        if told and event.status == "published":
            notices = await notices_to_everyone(
                session,
                kind="session_changed",
                event=event,
                links=links,
                sessions=sessions,
                now=now,
                changes=["session", *told],
                only_session_id=row.id,
            )
            if notices:
                await outbox.add(session, *notices)
            await promote_from_waiting_list(session=session, outbox=outbox, event=event, links=links)
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
