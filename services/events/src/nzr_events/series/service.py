"""Use cases of series: create, read, except a date, publish; the end lives in ``ending``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import IntegrationEvent
from nzr_common.contracts.events import EventCancelled, EventPublished, RegistrationCancelled
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import PUBLIC_STATUSES, Violation, check_event_times, check_region_district
from nzr_events.gatherings.service import event_read, facts, new_event_row
from nzr_events.locking import event_sessions, lock_event
from nzr_events.programme.models import SessionRow
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notices_to_everyone
from nzr_events.series.models import SeriesRow
from nzr_events.series.rules import InvalidRecurrence, describe_end, ending_rule, occurrences
from nzr_events.series.schemas import SeriesCreate, SeriesRead
from nzr_events.times import to_berlin, to_utc


async def create_series(
    *, session: AsyncSession, outbox: Outbox, data: SeriesCreate, region_districts: set[str]
) -> SeriesRead:
    """A recurring meeting: one event per occurrence of the RRULE, each with its own registration."""
    first_start, first_end = to_utc(data.starts_at), to_utc(data.ends_at)
    problems = check_event_times(first_start, first_end, None, None)
    problems += check_region_district(data.district, region_districts)
    if data.registration_opens_at or data.registration_closes_at:
        problems.append(
            Violation("registration_closes_at", "a series' occurrences close registration at their start")
        )
    if problems:
        raise Invalid("Invalid series", problems)
    exdates = {to_utc(d) for d in data.exdates}
    try:
        rule = ending_rule(data.rrule, first_start)
        starts = occurrences(rule, first_start, exdates=exdates)
    except InvalidRecurrence as error:
        raise Invalid("Invalid recurrence rule", [("rrule", str(error))], detail=str(error)) from error
    duration = first_end - first_start
    series = SeriesRow(
        id=str(uuid.uuid4()),
        title=data.title.strip(),
        format=data.format,
        rrule=rule,
        first_starts_at=first_start,
        duration_minutes=int(duration.total_seconds() // 60),
        exdates=sorted(d.isoformat() for d in exdates),
        created_at=datetime.now(UTC),
    )
    status = "published" if data.publish else "draft"
    rows = [
        new_event_row(data, status=status, series_id=series.id, starts_at=s, ends_at=s + duration)
        for s in starts
    ]
    async with session.begin():
        session.add(series)
        await session.flush()
        session.add_all(rows)
        if data.publish:
            await outbox.add(session, *(EventPublished(**facts(r)) for r in rows))
    return series_read(series, rows)


def series_read(series: SeriesRow, rows: Sequence[EventRow]) -> SeriesRead:
    count, until = describe_end(series.rrule)
    return SeriesRead(
        id=series.id,
        title=series.title,
        format=series.format,
        rrule=series.rrule,
        count=count,
        until=until,
        exdates=[datetime.fromisoformat(d) for d in series.exdates],
        occurrences=[event_read(r) for r in rows],
    )


async def get_series(*, session: AsyncSession, series_id: str, include_drafts: bool) -> SeriesRead:
    series = await session.get(SeriesRow, series_id)
    if series is None:
        raise NotFound("series", series_id)
    statuses = ("draft", *PUBLIC_STATUSES) if include_drafts else PUBLIC_STATUSES
    rows = list(
        await session.scalars(
            select(EventRow)
            .where(EventRow.series_id == series_id, EventRow.status.in_(statuses))
            .order_by(EventRow.starts_at)
        )
    )
    if not rows and not include_drafts:
        raise NotFound("series", series_id)
    return series_read(series, rows)


async def add_series_exception(
    *, session: AsyncSession, outbox: Outbox, links: RegistrationLinks, series_id: str, starts_at: datetime
) -> SeriesRead:
    """One date does not take place: EXDATE in the rule, the occurrence cancelled."""
    moment = to_utc(starts_at)
    async with session.begin():
        series = await session.get(SeriesRow, series_id)
        if series is None:
            raise NotFound("series", series_id)
        occurrence = await session.scalar(
            select(EventRow).where(EventRow.series_id == series_id, EventRow.occurrence_starts_at == moment)
        )
        if occurrence is None:
            raise Invalid(
                "No such occurrence",
                [Violation("starts_at", f"the series has no occurrence at {to_berlin(moment).isoformat()}")],
            )
        occurrence = await lock_event(session, occurrence.id)
        if occurrence.status == "completed":
            raise Conflict("A completed occurrence cannot be excepted.")
        series.exdates = sorted({*series.exdates, moment.isoformat()})
        announcements = await cancel_occurrence(session, occurrence, datetime.now(UTC), links)
        if announcements:
            await outbox.add(session, *announcements)
    return await get_series(session=session, series_id=series_id, include_drafts=True)


async def publish_series(*, session: AsyncSession, outbox: Outbox, series_id: str) -> SeriesRead:
    """Publish every draft occurrence of a series."""
    async with session.begin():
        if await session.get(SeriesRow, series_id) is None:
            raise NotFound("series", series_id)
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
            await outbox.add(session, *(EventPublished(**facts(r)) for r in rows))
    return await get_series(session=session, series_id=series_id, include_drafts=True)


async def cancel_occurrence(
    session: AsyncSession, row: EventRow, now: datetime, links: RegistrationLinks
) -> list[IntegrationEvent]:
    """An occurrence is off: cancelled (its calendar entry becomes an EXDATE), everyone registered
    or waiting told (``event_cancelled``), its registrations cancelled and their seats freed;
    returns what to announce (the caller holds the row lock)."""
    if row.status == "cancelled":
        return []
    was_public = row.status == "published"
    row.status = "cancelled"
    row.version += 1
    row.sequence += 1
    row.updated_at = now
    announcements: list[IntegrationEvent] = []
    if was_public:
        announcements.append(EventCancelled(event_id=row.id, cancelled_at=now))
        announcements += await notices_to_everyone(
            session,
            kind="event_cancelled",
            event=row,
            links=links,
            sessions=await event_sessions(session, row.id),
            now=now,
        )
    active = await session.scalars(
        select(RegistrationRow).where(
            RegistrationRow.event_id == row.id, RegistrationRow.status.in_(("confirmed", "waiting"))
        )
    )
    for registration in active:
        registration.status = "cancelled"
        registration.cancelled_at = now
        announcements.append(
            RegistrationCancelled(
                registration_id=registration.id, event_id=row.id, email=registration.email, cancelled_at=now
            )
        )
    row.confirmed_count = 0
    row.waiting_count = 0
    for item in await session.scalars(select(SessionRow).where(SessionRow.event_id == row.id)):
        item.confirmed_count = 0
    return announcements
