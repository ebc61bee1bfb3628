"""Use cases of deadlines: the scheduled run announcing approaching deadlines once per
programme, deadline and threshold, and the preview of any day that announces nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.contracts.funding import (
    FundingDeadlineApproaching,
)
from nzr_common.languages import DEFAULT_LANGUAGE
from nzr_common.outbox import Outbox
from nzr_funding.deadlines import rules
from nzr_funding.deadlines.models import DeadlineAnnouncementRow
from nzr_funding.deadlines.schemas import Announcement
from nzr_funding.i18n import certainty_label
from nzr_funding.search.cache import CatalogueCache, Entry


def _due(
    entries: Iterable[Entry], today: date, thresholds: Sequence[int]
) -> list[tuple[Entry, date, int, int]]:
    """(programme, deadline, threshold, days left) of every announcement due on ``today``."""
    return [
        (entry, *announcement)
        for entry in entries
        for announcement in rules.due_announcements(entry.facts.deadline, today, thresholds)
    ]


async def _announced_before(session: AsyncSession, programme_ids: list[str]) -> set[tuple[str, date, int]]:
    rows = await session.scalars(
        select(DeadlineAnnouncementRow).where(DeadlineAnnouncementRow.programme_id.in_(programme_ids))
    )
    return {(r.programme_id, r.deadline, r.threshold_days) for r in rows.all()}


def _announcement(
    entry: Entry, deadline: date, threshold: int, days_left: int, language: str, *, already: bool = False
) -> Announcement:
    certainty = entry.facts.deadline.certainty
    return Announcement(
        programme_id=entry.facts.id,
        deadline=deadline,
        threshold_days=threshold,
        days_left=days_left,
        certainty=certainty.value,
        certainty_label=certainty_label(certainty, language),
        already_announced=already,
    )


async def preview_deadlines(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    today: date,
    thresholds: Sequence[int] = rules.DEFAULT_THRESHOLDS,
    language: str = DEFAULT_LANGUAGE,
) -> list[Announcement]:
    """What the deadline watch would announce on ``today`` (any day, past or future), each
    marked if the scheduled run announced it already. Writes and announces nothing."""
    async with sessions() as session:
        entries = await catalogue.current(session)
        due = _due(entries.values(), today, thresholds)
        done = await _announced_before(session, [entry.facts.id for entry, *_ in due]) if due else set()
    return [
        _announcement(
            entry,
            deadline,
            threshold,
            days_left,
            language,
            already=(entry.facts.id, deadline, threshold) in done,
        )
        for entry, deadline, threshold, days_left in due
    ]


async def watch_deadlines(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    outbox: Outbox,
    today: date,
    thresholds: Sequence[int] = rules.DEFAULT_THRESHOLDS,
    language: str = DEFAULT_LANGUAGE,
) -> list[Announcement]:
    """The scheduled run: announce FundingDeadlineApproaching for today, once per programme,
    deadline and threshold (the record of what was announced and the events are written in one
    transaction; a second run the same day finds them and announces nothing)."""
    async with sessions() as session:
        entries = await catalogue.current(session)
    due = _due(entries.values(), today, thresholds)
    if not due:
        return []
    announced: list[Announcement] = []
    async with sessions() as session, session.begin():
        done = await _announced_before(session, [entry.facts.id for entry, *_ in due])
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
                    programme_id=entry.facts.id,
                    name=entry.facts.name,
                    deadline=deadline,
                    days_left=days_left,
                    deadline_certainty=entry.facts.deadline.certainty.value,
                )
            )
            announced.append(_announcement(entry, deadline, threshold, days_left, language))
        if events:
            await outbox.add(session, *events)
    return announced
