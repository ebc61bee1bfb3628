"""Use case of the calendar: the feed of public events, one event or one series."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import NotFound
from nzr_events.calendar.rules import CalendarEntry, ProgrammeItem, SeriesInfo, build_calendar
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.rules import PUBLIC_STATUSES
from nzr_events.gatherings.service import listing_filters
from nzr_events.programme.models import SessionRow
from nzr_events.series.models import SeriesRow
from nzr_events.series.rules import InvalidRecurrence, occurrences


async def calendar_feed(
    *,
    session: AsyncSession,
    region: str,
    event_id: str | None = None,
    series_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    district: str | None = None,
    topic: str | None = None,
    format: str | None = None,
) -> bytes:
    """RFC 5545 calendar of public events; a series appears once with its RRULE and EXDATEs."""
    if event_id:
        where = [EventRow.id == event_id, EventRow.status.in_(PUBLIC_STATUSES)]
    elif series_id:
        where = [EventRow.series_id == series_id, EventRow.status.in_(PUBLIC_STATUSES)]
    else:
        where = listing_filters(
            statuses=PUBLIC_STATUSES,
            date_from=date_from,
            date_to=date_to,
            district=district,
            topic=topic,
            format=format,
        )
    rows = (
        await session.execute(
            select(*EventRow.__table__.c).where(*where).order_by(EventRow.starts_at).limit(5000)
        )
    ).all()
    if event_id and not rows:
        raise NotFound("event", event_id)
    series_ids = {r.series_id for r in rows if r.series_id}
    series = (
        {
            s.id: s
            for s in await session.execute(select(*SeriesRow.__table__.c).where(SeriesRow.id.in_(series_ids)))
        }
        if series_ids and not event_id
        else {}
    )
    programme: dict[str, list[ProgrammeItem]] = {}
    if rows:
        for item in await session.execute(
            select(
                SessionRow.event_id,
                SessionRow.title,
                SessionRow.starts_at,
                SessionRow.ends_at,
                SessionRow.room,
            ).where(SessionRow.event_id.in_([r.id for r in rows]))
        ):
            programme.setdefault(item.event_id, []).append(
                ProgrammeItem(
                    title=item.title, starts_at=item.starts_at, ends_at=item.ends_at, room=item.room
                )
            )
    entries = [
        CalendarEntry(
            uid=f"{r.id}@{region}.nzr",
            title=r.title,
            description=r.description,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            location=", ".join(p for p in (r.venue_name, r.venue_address) if p) or None,
            url=r.online_url,
            status=r.status,
            sequence=r.sequence,
            updated_at=r.updated_at,
            categories=r.topics,
            series_id=r.series_id if r.series_id in series else None,
            occurrence_starts_at=r.occurrence_starts_at,
            programme=programme.get(r.id, []),
        )
        for r in rows
    ]
    return build_calendar(entries, series=await _series_infos(session, region, list(series.values())))


async def _series_infos(session: AsyncSession, region: str, rows: list[Row[Any]]) -> dict[str, SeriesInfo]:
    """The master VEVENT facts of each series: its rule's dates and the newest version of any
    of its occurrences (so a changed end or a cancelled date reaches subscribed calendars)."""
    if not rows:
        return {}
    versions: dict[str | None, int] = {
        series_id: version
        for series_id, version in await session.execute(
            select(EventRow.series_id, func.max(EventRow.sequence))
            .where(EventRow.series_id.in_([s.id for s in rows]))
            .group_by(EventRow.series_id)
        )
    }
    infos = {}
    for s in rows:
        try:
            starts = frozenset(occurrences(s.rrule, s.first_starts_at))
        except InvalidRecurrence:
            continue  # an occurrence list of its own is better than a rule that cannot be read
        infos[s.id] = SeriesInfo(
            uid=f"series-{s.id}@{region}.nzr",
            rule=s.rrule,
            first_start=s.first_starts_at,
            duration=timedelta(minutes=s.duration_minutes),
            exdates=frozenset(datetime.fromisoformat(d) for d in s.exdates),
            title=s.title,
            starts=starts,
            sequence=versions.get(s.id) or 0,
        )
    return infos
