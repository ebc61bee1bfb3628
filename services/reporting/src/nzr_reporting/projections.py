"""Event handlers that build the reporting projections (routing table)."""

from datetime import datetime

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved
from nzr_common.contracts.base import Envelope
from nzr_common.messaging import EventHandlers
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_reporting.tables import ActorFact, RegionFreshness

handlers = EventHandlers(consumer="reporting")


async def _touch_region(session: AsyncSession, region: str, at: datetime) -> None:
    row = await session.get(RegionFreshness, region)
    if row is None:
        session.add(RegionFreshness(region=region, last_event_at=at))
    elif row.last_event_at < at:
        row.last_event_at = at


@handlers.on(ActorRegistered)
async def actor_registered(session: AsyncSession, envelope: Envelope[ActorRegistered]) -> None:
    event = envelope.data
    await session.merge(ActorFact(
        actor_id=event.actor_id, region=envelope.region, district=event.district,
        kind=event.kind, sector=event.sector, registered_at=event.registered_at,
    ))
    await _touch_region(session, envelope.region, envelope.time)


@handlers.on(ActorRemoved)
async def actor_removed(session: AsyncSession, envelope: Envelope[ActorRemoved]) -> None:
    fact = await session.get(ActorFact, envelope.data.actor_id)
    if fact is None:
        raise LookupError(f"actor {envelope.data.actor_id} not registered yet; retry later")
    fact.removed_at = envelope.data.removed_at
    await _touch_region(session, envelope.region, envelope.time)
