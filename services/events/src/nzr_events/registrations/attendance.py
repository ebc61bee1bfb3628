"""Use cases around the registrations of one event: the organisers' list, check-in, the
attendance CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.events import (
    AttendanceRecorded,
)
from nzr_common.errors import Conflict, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.service import get_event
from nzr_events.locking import event_sessions, lock_event
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import waiting_positions
from nzr_events.registrations.rules import (
    csv_cell,
)
from nzr_events.registrations.schemas import RegistrationPage, RegistrationRead, TargetGroupCounts
from nzr_events.registrations.service import registration_read
from nzr_events.sorting import order_by
from nzr_events.tables import ListedRow
from nzr_events.times import to_berlin

#: What an event's registrations sort by (``RegistrationSort``). ``registered_at`` is the
#: registration order: ``position`` is drawn from the event's counter under its row lock in the
#: same step that stamps ``registered_at``, so both orders agree and the position is unique.
REGISTRATION_SORT_KEYS: dict[str, SQLColumnExpression[Any]] = {
    "registered_at": RegistrationRow.position,
    "name": func.lower(RegistrationRow.name),
    # confirmed, then the waiting line, then the cancelled ones
    "status": case({"confirmed": 0, "waiting": 1}, value=RegistrationRow.status, else_=2),
}


async def list_registrations(
    *,
    session: AsyncSession,
    event_id: str,
    status: str | None = None,
    sort: str = "registered_at",
    limit: int,
    offset: int,
) -> RegistrationPage:
    """A page of an event's registrations in ``sort`` order (organisers only: personal data)."""
    await get_event(session=session, event_id=event_id, include_drafts=True)
    where = [RegistrationRow.event_id == event_id]
    if status:
        where.append(RegistrationRow.status == status)
    rows = (
        await session.execute(
            select(*RegistrationRow.__table__.c, func.count().over().label("total"))
            .where(*where)
            .order_by(*order_by(sort, REGISTRATION_SORT_KEYS, RegistrationRow.id))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = await session.scalar(select(func.count()).select_from(RegistrationRow).where(*where)) or 0
    places = await waiting_positions(session, event_id) if any(r.status == "waiting" for r in rows) else {}
    return RegistrationPage(items=[registration_read(row, places.get(row.id)) for row in rows], total=total)


async def registrations_of(session: AsyncSession, event_id: str) -> list[ListedRow]:
    """Every registration of an event in registration order (the attendance list)."""
    await get_event(session=session, event_id=event_id, include_drafts=True)
    query = select(*RegistrationRow.__table__.c).where(RegistrationRow.event_id == event_id)
    return list((await session.execute(query.order_by(RegistrationRow.position))).all())


async def check_in(
    *, session: AsyncSession, outbox: Outbox, event_id: str, registration_id: str
) -> RegistrationRead:
    """Mark a confirmed registrant as present and announce the attendance counts."""
    async with session.begin():
        event = await lock_event(session, event_id)
        row = await session.get(RegistrationRow, registration_id)
        if row is None or row.event_id != event_id:
            raise NotFound("registration", registration_id)
        if row.status != "confirmed":
            raise Conflict(f"A {row.status} registration cannot check in.")
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
    return registration_read(row)


async def record_target_groups(
    *, session: AsyncSession, outbox: Outbox, event_id: str, counts: TargetGroupCounts
) -> None:
    """Announce the event's participants by target group (counts only) with its attendance."""
    async with session.begin():
        event = await lock_event(session, event_id)
        await outbox.add(
            session,
            AttendanceRecorded(
                event_id=event.id,
                confirmed=event.confirmed_count,
                waiting=event.waiting_count,
                attended=event.attended_count,
                by_target_group=counts.model_dump(),
            ),
        )


async def attendance_csv(*, session: AsyncSession, event_id: str) -> str:
    """Attendance list as CSV (UTF-8, semicolon-separated as German spreadsheets expect)."""
    registrations = await registrations_of(session, event_id)
    titles = {s.id: s.title for s in (await event_sessions(session, event_id)).values()}
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
                csv_cell(v)
                for v in (
                    r.name,
                    r.email,
                    r.actor_id,
                    r.status,
                    " | ".join(titles.get(s, s) for s in r.session_ids),
                    r.accessibility_needs,
                    to_berlin(r.checked_in_at).isoformat() if r.checked_in_at else "",
                )
            ]
        )
    return out.getvalue()
