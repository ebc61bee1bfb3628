"""Use cases behind the personal manage link: what the registrant sees of their registration
and changing the chosen sessions (cancelling is ``cancellation.cancel_registration``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Conflict, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import has_seat, seats_left
from nzr_events.locking import event_sessions, lock_event
from nzr_events.programme.models import SessionRow
from nzr_events.programme.rules import time_slots
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import waiting_position
from nzr_events.registrations.service import chosen_sessions
from nzr_events.registrations.waiting_list import promote_from_waiting_list


@dataclass(frozen=True)
class SessionOption:
    id: str
    title: str
    room: str | None
    starts_at: datetime
    ends_at: datetime
    seats_left: int | None
    chosen: bool


@dataclass(frozen=True)
class ManageView:
    """A registration as its manage page shows it."""

    registration_id: str
    language: str
    status: str
    waiting_position: int | None
    event_title: str
    event_status: str
    starts_at: datetime
    ends_at: datetime
    venue_name: str | None
    venue_address: str | None
    online_url: str | None
    chosen: list[SessionOption]
    slots: list[list[SessionOption]]
    changeable: bool


async def manage_view(*, session: AsyncSession, registration_id: str, now: datetime) -> ManageView:
    """What the registrant sees behind their link (reads only)."""
    row = await session.get(RegistrationRow, registration_id)
    event = await session.get(EventRow, row.event_id) if row is not None else None
    if row is None or event is None or row.anonymised_at is not None:
        raise NotFound("registration", registration_id)
    sessions = {
        s.id: s for s in await session.scalars(select(SessionRow).where(SessionRow.event_id == event.id))
    }
    return _view(row, event, sessions, await waiting_position(session, row), now)


def _view(
    row: RegistrationRow,
    event: EventRow,
    sessions: dict[str, SessionRow],
    position: int | None,
    now: datetime,
) -> ManageView:
    options = {
        s.id: SessionOption(
            id=s.id,
            title=s.title,
            room=s.room,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            seats_left=seats_left(s.capacity, s.confirmed_count),
            chosen=s.id in row.session_ids,
        )
        for s in sessions.values()
    }
    slots = time_slots([(s.id, s.starts_at, s.ends_at) for s in sessions.values()])
    return ManageView(
        registration_id=row.id,
        language=row.language,
        status=row.status,
        waiting_position=position,
        event_title=event.title,
        event_status=event.status,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue_name=event.venue_name,
        venue_address=event.venue_address,
        online_url=event.online_url,
        chosen=sorted((o for o in options.values() if o.chosen), key=lambda o: o.starts_at),
        slots=[[options[sid] for sid in slot] for slot in slots],
        changeable=_changeable(row, event, now),
    )


def _changeable(row: RegistrationRow, event: EventRow, now: datetime) -> bool:
    return row.status in ("confirmed", "waiting") and event.status == "published" and now < event.starts_at


async def change_sessions(
    *,
    session: AsyncSession,
    outbox: Outbox,
    links: RegistrationLinks,
    registration_id: str,
    session_ids: list[str],
) -> ManageView:
    """Replace the registration's chosen sessions (one per slot, seats permitting); a freed seat
    in a session may let a waiting registration in."""
    now = datetime.now(UTC)
    async with session.begin():
        event_id = await session.scalar(
            select(RegistrationRow.event_id).where(RegistrationRow.id == registration_id)
        )
        if event_id is None:
            raise NotFound("registration", registration_id)
        event = await lock_event(session, event_id)
        row = await session.scalar(
            select(RegistrationRow)
            .where(RegistrationRow.id == registration_id)
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if not _changeable(row, event, now):
            raise Conflict("This registration can no longer be changed.", title="Registration closed")
        sessions = await event_sessions(session, event_id)
        chosen = chosen_sessions(session_ids, sessions)
        if row.status == "confirmed":
            _move_seats(row, chosen, sessions)
        row.session_ids = [s.id for s in chosen]
        await promote_from_waiting_list(session=session, outbox=outbox, event=event, links=links)
        position = await waiting_position(session, row)
        return _view(row, event, sessions, position, now)


def _move_seats(row: RegistrationRow, chosen: list[SessionRow], sessions: dict[str, SessionRow]) -> None:
    """Give up the seats of dropped sessions and take seats in added ones (refused when full)."""
    before = set(row.session_ids)
    added = [s for s in chosen if s.id not in before]
    full = [s for s in added if not has_seat(s.capacity, s.confirmed_count)]
    if full:
        raise Conflict(
            f"The session '{full[0].title}' is full.",
            title="Session full",
            problems=[("session_ids", f"'{s.title}' is full") for s in full],
        )
    kept = {s.id for s in chosen}
    for sid in before - kept:
        if sid in sessions:
            sessions[sid].confirmed_count -= 1
    for item in added:
        item.confirmed_count += 1
