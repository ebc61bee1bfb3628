"""Event handlers of the funding service (routing table).

The catalogue arrives from the state's stream (``from_region=catalogue_region``), so a region
keeps its own searchable copy; the actor read model comes from the own region's stream.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved, ActorUpdated
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.funding import (
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
)
from nzr_common.messaging import EventHandlers
from nzr_funding import service


def build_handlers(*, catalogue_region: str) -> EventHandlers:
    """The routing table (the catalogue's source region is a setting)."""
    handlers = EventHandlers(consumer="funding")

    @handlers.on(FundingProgramPublished, from_region=catalogue_region)
    async def programme_published(session: AsyncSession, envelope: Envelope) -> None:  # type: ignore[type-arg]
        await service.apply_programme(session, envelope)

    @handlers.on(FundingProgramUpdated, from_region=catalogue_region)
    async def programme_updated(session: AsyncSession, envelope: Envelope) -> None:  # type: ignore[type-arg]
        await service.apply_programme(session, envelope)

    @handlers.on(FundingProgramWithdrawn, from_region=catalogue_region)
    async def programme_withdrawn(session: AsyncSession, envelope: Envelope) -> None:  # type: ignore[type-arg]
        await service.apply_withdrawal(session, envelope)

    @handlers.on(ActorRegistered)
    async def actor_registered(session: AsyncSession, envelope: Envelope[ActorRegistered]) -> None:
        actor = envelope.data
        await service.apply_actor(
            session,
            actor_id=actor.actor_id,
            kind=actor.kind,
            district=actor.district,
            topics=list(actor.topics),
            public_profile=actor.public_profile,
            version=1,
        )

    @handlers.on(ActorUpdated)
    async def actor_updated(session: AsyncSession, envelope: Envelope[ActorUpdated]) -> None:
        actor = envelope.data
        await service.apply_actor(
            session,
            actor_id=actor.actor_id,
            kind=actor.kind,
            district=actor.district,
            topics=list(actor.topics),
            public_profile=actor.public_profile,
            version=actor.version,
        )

    @handlers.on(ActorRemoved)
    async def actor_removed(session: AsyncSession, envelope: Envelope[ActorRemoved]) -> None:
        await service.remove_actor(session, envelope.data.actor_id)

    return handlers
