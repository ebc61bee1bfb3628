"""Use cases of deadlines: announcing approaching deadlines once per programme, deadline and
threshold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.contracts.funding import (
    FundingDeadlineApproaching,
)
from nzr_common.outbox import Outbox
from nzr_funding.deadlines import rules
from nzr_funding.deadlines.models import DeadlineAnnouncementRow
from nzr_funding.deadlines.schemas import Announcement
from nzr_funding.search.cache import CatalogueCache


async def watch_deadlines(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    outbox: Outbox,
    today: date,
    thresholds: Sequence[int] = rules.DEFAULT_THRESHOLDS,
) -> list[Announcement]:
    """Announce FundingDeadlineApproaching once per programme, deadline and threshold."""
    async with sessions() as session:
        entries = await catalogue.current(session)
    due = [
        (entry, *announcement)
        for entry in entries.values()
        for announcement in rules.due_announcements(entry.facts.deadline, today, thresholds)
    ]
    if not due:
        return []
    announced: list[Announcement] = []
    async with sessions() as session, session.begin():
        done = {
            (r.programme_id, r.deadline, r.threshold_days)
            for r in (
                await session.scalars(
                    select(DeadlineAnnouncementRow).where(
                        DeadlineAnnouncementRow.programme_id.in_([entry.facts.id for entry, *_ in due])
                    )
                )
            ).all()
        }
        now = datetime.now(UTC)
        events = []
        for entry, deadline, threshold, days_left in due:
            if (entry.facts.id, deadline, threshold) in done:
                continue
            session.add(
                DeadlineAnnouncementRow(
                    programme_id=entry.facts.id, deadline=deadline, threshold_days=threshold, announced_at=now
                )
            )
            events.append(
                FundingDeadlineApproaching(
                    programme_id=entry.facts.id, name=entry.facts.name, deadline=deadline, days_left=days_left
                )
            )
            announced.append(
                Announcement(
                    programme_id=entry.facts.id,
                    deadline=deadline,
                    threshold_days=threshold,
                    days_left=days_left,
                )
            )
        if events:
            await outbox.add(session, *events)
    return announced
