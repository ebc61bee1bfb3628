"""The regions in view and how fresh their data is, the event types skipped unknown, and the
region's heartbeat (a background loop)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.reporting import RegionHeartbeat
from nzr_common.errors import DomainError, NotFound
from nzr_reporting.bootstrap import Deps
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.state.models import RegionFreshness, SkippedEventType
from nzr_reporting.state.rules import freshness_state
from nzr_reporting.state.schemas import FreshnessRead

log = logging.getLogger(__name__)


class OutsideRegion(NotFound):
    """A region service asked about another region (404)."""

    def __init__(self, own_region: str) -> None:
        DomainError.__init__(self, f"This service reports only region {own_region}.")
        self.what, self.ident = "region", own_region


async def skipped_event_types(session: AsyncSession) -> dict[str, int]:
    """How many events of each unknown type were skipped (persistent, rebuilt with the projections)."""
    rows = await session.execute(
        select(SkippedEventType.event_type, SkippedEventType.skipped).order_by(SkippedEventType.event_type)
    )
    return dict(rows.all())


async def last_events(session: AsyncSession, regions: list[str] | None = None) -> dict[str, datetime]:
    query = select(RegionFreshness.region, RegionFreshness.last_event_at)
    if regions is not None:
        query = query.where(RegionFreshness.region.in_(regions))
    return dict((await session.execute(query)).all())


async def regions_in_view(
    session: AsyncSession, *, mode: str, own_region: str, known: list[str], requested: list[str] | None
) -> list[str]:
    """The regions a request covers: the own one (region mode), or the requested/known/seen ones."""
    if mode == "region":
        if requested and requested != [own_region]:
            raise OutsideRegion(own_region)
        return [own_region]
    if requested:
        return sorted(set(requested))
    return sorted(set(known) | set(await last_events(session)))


def _freshness(
    regions: list[str], last: dict[str, datetime], stale_after: timedelta, now: datetime
) -> list[FreshnessRead]:
    reads = []
    for region in regions:
        at = last.get(region)
        reads.append(
            FreshnessRead(
                region=region,
                last_event_at=at,
                state=freshness_state(at, now, stale_after),
                age_minutes=round((now - at).total_seconds() / 60, 1) if at else None,
            )
        )
    return reads


async def freshness(*, session: AsyncSession, scope: Scope) -> list[FreshnessRead]:
    """Each region's time of its last event and whether it is stale."""
    return _freshness(
        scope.regions, await last_events(session, scope.regions), scope.stale_after, datetime.now(UTC)
    )


async def announce_heartbeats(deps: Deps) -> None:
    """Region mode: every ``heartbeat_seconds`` a RegionHeartbeat through the outbox, so the
    state sees a quiet region as current and a cut-off one as stale."""
    settings = deps.settings
    if settings.mode != "region" or settings.heartbeat_seconds <= 0:
        return
    while True:
        # The first beat after one interval: a region that just started has nothing to tell.
        await asyncio.sleep(settings.heartbeat_seconds)
        try:
            async with deps.sessions() as session, session.begin():
                beat = RegionHeartbeat(
                    region=settings.region, sent_at=deps.clock(), districts=sorted(deps.region.districts)
                )
                await deps.outbox.add(session, beat)
        except Exception:  # the database may be down for a moment; the next beat tries again
            log.warning("could not record a region heartbeat", exc_info=True)
