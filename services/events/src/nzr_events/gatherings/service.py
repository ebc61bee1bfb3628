"""Use cases of gatherings: create, change, publish, cancel, complete and list events.

Changes of one event lock the event row (see ``nzr_events.locking``), so the seat counters on
the row never overbook.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.events import (
    AttendanceRecorded,
    EventCancelled,
    EventCompleted,
    EventPublished,
    EventUpdated,
)
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import (
    PLACE_FIELDS,
    TIME_FIELDS,
    Violation,
    check_event_times,
    check_region_district,
    check_reminder,
    noticeable_changes,
    participants,
    seats_left,
    topic_tags,
)
from nzr_events.gatherings.schemas import EventCreate, EventPage, EventRead, EventUpdate
from nzr_events.locking import event_sessions, lock_event
from nzr_events.programme.rules import check_session_times
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notices_to_everyone, thank_you_notices
from nzr_events.registrations.waiting_list import promote_from_waiting_list
from nzr_events.series.schemas import SeriesCreate
from nzr_events.sorting import order_by
from nzr_events.tables import ListedRow
from nzr_events.times import to_utc

LISTED_COLUMNS = [
    getattr(EventRow, name)
    for name in (
        "id",
        "status",
        "series_id",
        "format",
        "title",
        "description",
        "starts_at",
        "ends_at",
        "venue_name",
        "venue_address",
        "district",
        "online_url",
        "topics",
        "organiser_actor_ids",
        "capacity",
        "registration_opens_at",
        "registration_closes_at",
        "fee_note",
        "accessibility",
        "confirmed_count",
        "waiting_count",
        "version",
        "sequence",
        "reminder_days",
    )
]


def event_read(row: EventRow | ListedRow) -> EventRead:
    """The API view of an event (an ORM row, or a listed row of the same columns)."""
    return EventRead(
        id=row.id,
        status=row.status,
        series_id=row.series_id,
        format=row.format,
        title=row.title,
        description=row.description,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        venue_name=row.venue_name,
        venue_address=row.venue_address,
        district=row.district,
        online_url=row.online_url,
        topics=row.topics,
        organiser_actor_ids=row.organiser_actor_ids,
        capacity=row.capacity,
        registration_opens_at=row.registration_opens_at,
        registration_closes_at=row.registration_closes_at,
        fee_note=row.fee_note,
        accessibility=row.accessibility,
        confirmed_count=row.confirmed_count,
        waiting_count=row.waiting_count,
        seats_left=seats_left(row.capacity, row.confirmed_count),
        version=row.version,
        sequence=row.sequence,
        reminder_days=row.reminder_days,
    )


def facts(row: EventRow) -> dict[str, Any]:
    return dict(
        event_id=row.id,
        title=row.title,
        format=row.format,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        district=row.district,
        topics=row.topics,
        organiser_actor_ids=row.organiser_actor_ids,
        capacity=row.capacity,
        venue_name=row.venue_name,
        venue_address=row.venue_address,
    )


async def create_event(*, session: AsyncSession, data: EventCreate, region_districts: set[str]) -> EventRead:
    """Store a draft event; nothing is announced before it is published."""
    row = new_event_row(data, status="draft")
    problems = check_event_times(
        row.starts_at, row.ends_at, row.registration_opens_at, row.registration_closes_at
    )
    problems += check_region_district(data.district, region_districts)
    problems += check_reminder(data.reminder_days)
    if problems:
        raise Invalid("Invalid event", problems)
    async with session.begin():
        session.add(row)
    return event_read(row)


def new_event_row(
    data: EventCreate | SeriesCreate,
    *,
    status: str,
    series_id: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> EventRow:
    now = datetime.now(UTC)
    return EventRow(
        id=str(uuid.uuid4()),
        series_id=series_id,
        occurrence_starts_at=starts_at if series_id else None,
        status=status,
        format=data.format,
        title=data.title.strip(),
        description=data.description,
        starts_at=starts_at or to_utc(data.starts_at),
        ends_at=ends_at or to_utc(data.ends_at),
        venue_name=data.venue_name,
        venue_address=data.venue_address,
        district=data.district,
        online_url=data.online_url,
        topics=data.topics,
        topic_tags=topic_tags(data.topics),
        organiser_actor_ids=data.organiser_actor_ids,
        capacity=data.capacity,
        registration_opens_at=to_utc(data.registration_opens_at) if data.registration_opens_at else None,
        registration_closes_at=to_utc(data.registration_closes_at) if data.registration_closes_at else None,
        fee_note=data.fee_note,
        accessibility=data.accessibility,
        confirmed_count=0,
        waiting_count=0,
        attended_count=0,
        next_position=1,
        version=1,
        sequence=0,
        reminder_days=data.reminder_days if isinstance(data, EventCreate) else 2,
        created_at=now,
        updated_at=now,
    )


async def get_event(*, session: AsyncSession, event_id: str, include_drafts: bool) -> EventRead:
    """One event; drafts only for the region's editors."""
    row = await session.get(EventRow, event_id)
    if row is None or (row.status == "draft" and not include_drafts):
        raise NotFound("event", event_id)
    return event_read(row)


async def update_event(
    *,
    session: AsyncSession,
    outbox: Outbox,
    links: RegistrationLinks,
    event_id: str,
    data: EventUpdate,
    region_districts: set[str],
) -> EventRead:
    """Change an event; capacity never below the confirmed count; more seats promote waiting.
    A new time or place raises the calendar sequence and tells everyone registered or waiting."""
    changes = data.model_dump(exclude_unset=True)
    now = datetime.now(UTC)
    async with session.begin():
        row = await lock_event(session, event_id)
        before = {name: getattr(row, name) for name in (*TIME_FIELDS, *PLACE_FIELDS)}
        if row.status not in ("draft", "published"):
            raise Conflict(f"A {row.status} event cannot be changed.")
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            if changes.get(name) is not None:
                changes[name] = to_utc(changes[name])
        if (
            "capacity" in changes
            and changes["capacity"] is not None
            and changes["capacity"] < row.confirmed_count
        ):
            raise Conflict(
                f"{row.confirmed_count} registrations are confirmed; capacity cannot be "
                f"{changes['capacity']}.",
                title="Capacity below confirmed registrations",
                problems=[("capacity", f"must be at least {row.confirmed_count}")],
            )
        for name, value in changes.items():
            setattr(row, name, value)
        if "topics" in changes:
            row.topic_tags = topic_tags(row.topics or [])
        problems = check_event_times(
            row.starts_at, row.ends_at, row.registration_opens_at, row.registration_closes_at
        )
        problems += check_region_district(row.district, region_districts)
        problems += check_reminder(row.reminder_days)
        sessions = await event_sessions(session, event_id)
        for item in sessions.values():
            if check_session_times(item.starts_at, item.ends_at, row.starts_at, row.ends_at):
                problems.append(
                    Violation("starts_at", f"session '{item.title}' would lie outside the event's time")
                )
        if problems:
            raise Invalid("Invalid event", problems)
        row.version += 1
        row.updated_at = now
        told = noticeable_changes(before, {name: getattr(row, name) for name in before})
        if told:
            row.sequence += 1
        if "time" in told:
            # The reminder belongs to the new date.
            await session.execute(
                update(RegistrationRow)
                .where(RegistrationRow.event_id == row.id)
                .values(reminder_sent_at=None)
            )
        if row.status == "published":
            await outbox.add(session, EventUpdated(**facts(row)))
            if told:
                notices = await notices_to_everyone(
                    session,
                    kind="event_changed",
                    event=row,
                    links=links,
                    sessions=sessions,
                    now=now,
                    changes=told,
                )
                if notices:
                    await outbox.add(session, *notices)
            await promote_from_waiting_list(session=session, outbox=outbox, event=row, links=links)
    return event_read(row)


async def publish_event(*, session: AsyncSession, outbox: Outbox, event_id: str) -> EventRead:
    """Make a draft public and announce EventPublished."""
    async with session.begin():
        row = await lock_event(session, event_id)
        if row.status != "draft":
            raise Conflict(f"Only a draft can be published; this one is {row.status}.")
        row.status = "published"
        row.version += 1
        row.updated_at = datetime.now(UTC)
        await outbox.add(session, EventPublished(**facts(row)))
    return event_read(row)


async def cancel_event(
    *, session: AsyncSession, outbox: Outbox, links: RegistrationLinks, event_id: str
) -> EventRead:
    """Call an event off; calendars then show it as cancelled, and everyone registered or
    waiting is told."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await lock_event(session, event_id)
        if row.status not in ("draft", "published"):
            raise Conflict(f"A {row.status} event cannot be cancelled.")
        was_public = row.status == "published"
        row.status = "cancelled"
        row.version += 1
        row.sequence += 1
        row.updated_at = now
        if was_public:
            notices = await notices_to_everyone(
                session,
                kind="event_cancelled",
                event=row,
                links=links,
                sessions=await event_sessions(session, row.id),
                now=now,
            )
            await outbox.add(session, EventCancelled(event_id=row.id, cancelled_at=now), *notices)
    return event_read(row)


async def complete_event(
    *, session: AsyncSession, outbox: Outbox, links: RegistrationLinks, event_id: str
) -> EventRead:
    """Close a held event and announce its participant and attendance counts; its participants
    get a thank-you with the event's agreements, recommendations and a feedback link."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await lock_event(session, event_id)
        if row.status != "published":
            raise Conflict(f"Only a published event can be completed; this one is {row.status}.")
        row.status = "completed"
        row.version += 1
        row.updated_at = now
        await outbox.add(
            session,
            AttendanceRecorded(
                event_id=row.id,
                confirmed=row.confirmed_count,
                waiting=row.waiting_count,
                attended=row.attended_count,
            ),
            EventCompleted(
                event_id=row.id,
                format=row.format,
                district=row.district,
                participants=participants(row.confirmed_count, row.attended_count),
                completed_at=now,
                starts_at=row.starts_at,
                topics=list(row.topics or []),
            ),
            *await thank_you_notices(session, event=row, links=links, now=now),
        )
    return event_read(row)


def listing_filters(
    *,
    statuses: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    district: str | None,
    topic: str | None,
    format: str | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [EventRow.status.in_(statuses)]
    if date_from:
        where.append(EventRow.ends_at >= to_utc(datetime.combine(date_from, time.min)))
    if date_to:
        where.append(EventRow.starts_at < to_utc(datetime.combine(date_to + timedelta(days=1), time.min)))
    if district:
        where.append(EventRow.district == district)
    if topic:
        where.append(EventRow.topic_tags.like(f"%|{topic.strip().lower()}|%"))
    if format:
        where.append(EventRow.format == format)
    return where


#: What the event list sorts by (``EventSort``).
EVENT_SORT_KEYS = {
    "starts_at": EventRow.starts_at,
    "title": func.lower(EventRow.title),
    "created_at": EventRow.created_at,
}


async def list_events(
    *,
    session: AsyncSession,
    statuses: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    district: str | None,
    topic: str | None,
    format: str | None,
    limit: int,
    offset: int,
    sort: str = "starts_at",
) -> EventPage:
    """Events in ``sort`` order (default: by start time) with filters and pagination."""
    where = listing_filters(
        statuses=statuses, date_from=date_from, date_to=date_to, district=district, topic=topic, format=format
    )
    # One round trip: the page's columns plus the total as a window count (public lists are hot).
    rows = (
        await session.execute(
            select(*LISTED_COLUMNS, func.count().over().label("total"))
            .where(*where)
            .order_by(*order_by(sort, EVENT_SORT_KEYS, EventRow.id))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = await session.scalar(select(func.count()).select_from(EventRow).where(*where)) or 0
    return EventPage(items=[event_read(r) for r in rows], total=total, limit=limit, offset=offset)
