"""Use case of a series' end: moving it (``COUNT`` or ``UNTIL``) after the series was created.

Occurrences the new rule no longer yields are cancelled like a cancelled event (calendars show
them as gone, their registrations are cancelled); dates the new rule adds become occurrences
like the existing ones. Held occurrences cannot be ended away.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import IntegrationEvent
from nzr_common.contracts.events import EventPublished
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.service import facts
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.series.models import SeriesRow
from nzr_events.series.rules import InvalidRecurrence, occurrences, with_end
from nzr_events.series.schemas import SeriesEndUpdate, SeriesRead
from nzr_events.series.service import cancel_occurrence, get_series
from nzr_events.times import to_berlin


async def change_series_end(
    *, session: AsyncSession, outbox: Outbox, links: RegistrationLinks, series_id: str, data: SeriesEndUpdate
) -> SeriesRead:
    """Give the series a new end; occurrences beyond it are cancelled, new ones scheduled."""
    field = "count" if data.count is not None else "until"
    if (data.count is None) == (data.until is None):
        raise Invalid("Series end", [("count", "give count or until (exactly one)")])
    now = datetime.now(UTC)
    async with session.begin():
        series = await session.scalar(select(SeriesRow).where(SeriesRow.id == series_id).with_for_update())
        if series is None:
            raise NotFound("series", series_id)
        excluded = {datetime.fromisoformat(d) for d in series.exdates}
        try:
            rule = with_end(series.rrule, count=data.count, until=data.until)
            starts = occurrences(rule, series.first_starts_at, exdates=excluded)
        except InvalidRecurrence as error:
            raise Invalid("Invalid series end", [(field, str(error))], detail=str(error)) from error
        rows = list(
            await session.scalars(
                select(EventRow)
                .where(EventRow.series_id == series_id)
                .order_by(EventRow.occurrence_starts_at)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        if not rows:
            raise Conflict("The series has no occurrences to take details from.")
        wanted = set(starts)
        dropped = [
            r for r in rows if r.occurrence_starts_at not in wanted and r.occurrence_starts_at not in excluded
        ]
        held = [r for r in dropped if r.status == "completed"]
        if held:
            raise Invalid(
                "Series end before a held occurrence",
                [
                    (field, f"the occurrence of {to_berlin(r.starts_at):%Y-%m-%d %H:%M} was held already")
                    for r in held
                ],
            )
        announcements: list[IntegrationEvent] = []
        for row in dropped:
            announcements += await cancel_occurrence(session, row, now, links)
        have = {r.occurrence_starts_at for r in rows}
        template = next((r for r in reversed(rows) if r.status != "cancelled"), rows[-1])
        version = max(r.version for r in rows) + 1
        # The series' calendar entry takes the newest SEQUENCE of its dates: a new date carries a
        # higher one, so subscribed calendars take the moved end even when nothing was cancelled.
        sequence = max(r.sequence for r in rows) + 1
        duration = timedelta(minutes=series.duration_minutes)
        for start in (s for s in starts if s not in have):
            row = occurrence_like(template, start, start + duration, version=version, now=now)
            row.sequence = sequence
            session.add(row)
            if row.status == "published":
                announcements.append(EventPublished(**facts(row)))
        series.rrule = rule
        if announcements:
            await outbox.add(session, *announcements)
    return await get_series(session=session, series_id=series_id, include_drafts=True)


def occurrence_like(
    template: EventRow, starts_at: datetime, ends_at: datetime, *, version: int, now: datetime
) -> EventRow:
    """A new occurrence with the template occurrence's details (venue, capacity, topics, …)."""
    return EventRow(
        id=str(uuid.uuid4()),
        series_id=template.series_id,
        occurrence_starts_at=starts_at,
        status="draft" if template.status == "draft" else "published",
        format=template.format,
        title=template.title,
        description=template.description,
        starts_at=starts_at,
        ends_at=ends_at,
        venue_name=template.venue_name,
        venue_address=template.venue_address,
        district=template.district,
        online_url=template.online_url,
        topics=list(template.topics),
        topic_tags=template.topic_tags,
        organiser_actor_ids=list(template.organiser_actor_ids),
        capacity=template.capacity,
        registration_opens_at=None,
        registration_closes_at=None,
        fee_note=template.fee_note,
        accessibility=template.accessibility,
        confirmed_count=0,
        waiting_count=0,
        attended_count=0,
        next_position=1,
        version=version,
        created_at=now,
        updated_at=now,
    )
