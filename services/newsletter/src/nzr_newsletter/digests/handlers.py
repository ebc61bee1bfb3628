"""Event handlers of digests: published events and funding deadlines become digest items."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import (
    EventCancelled,
    EventPublished,
    EventUpdated,
)
from nzr_common.contracts.funding import FundingDeadlineApproaching
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.digests import rules, service


async def remember_event(
    deps: Deps, session: AsyncSession, envelope: Envelope[EventPublished] | Envelope[EventUpdated]
) -> None:
    event = envelope.data
    district = deps.region.districts.get(event.district) if event.district else None
    await service.record_item(
        session,
        item_id=f"event:{event.event_id}",
        kind="event",
        title=event.title,
        happens_on=event.starts_at,
        district=event.district,
        topics=event.topics,
        place=rules.place_of(event.venue_name, event.venue_address, district.name if district else None),
        link=event.url or f"{deps.settings.events_public_url.rstrip('/')}/api/v1/events/{event.event_id}.ics",
    )


async def forget_event(deps: Deps, session: AsyncSession, envelope: Envelope[EventCancelled]) -> None:
    await service.forget_item(session, f"event:{envelope.data.event_id}")


async def remember_deadline(
    deps: Deps, session: AsyncSession, envelope: Envelope[FundingDeadlineApproaching]
) -> None:
    event = envelope.data
    await service.record_item(
        session,
        item_id=f"funding:{event.programme_id}",
        kind="funding",
        title=event.name,
        happens_on=datetime.combine(event.deadline, time(23, 59), tzinfo=UTC),
        district=None,
        topics=[],
        place=None,
        link=event.url
        or f"{deps.settings.funding_public_url.rstrip('/')}/api/v1/funding/programs/{event.programme_id}",
    )
