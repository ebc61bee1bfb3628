"""The actor read model matching uses, from the own region's actor events."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved, ActorUpdated
from nzr_common.contracts.base import Envelope
from nzr_common.messaging import EventHandlers
from nzr_funding.bootstrap import Deps
from nzr_funding.matching import service


async def _keep(session: AsyncSession, actor: ActorRegistered | ActorUpdated, version: int) -> None:
    await service.apply_actor(
        session=session,
        actor_id=actor.actor_id,
        kind=actor.kind,
        district=actor.district,
        topics=list(actor.topics),
        public_profile=actor.public_profile,
        version=version,
        legal_form=actor.legal_form,
    )


async def actor_registered(deps: Deps, session: AsyncSession, envelope: Envelope[ActorRegistered]) -> None:
    await _keep(session, envelope.data, 1)


async def actor_updated(deps: Deps, session: AsyncSession, envelope: Envelope[ActorUpdated]) -> None:
    await _keep(session, envelope.data, envelope.data.version)


async def actor_removed(deps: Deps, session: AsyncSession, envelope: Envelope[ActorRemoved]) -> None:
    await service.remove_actor(session=session, actor_id=envelope.data.actor_id)


def register(handlers: EventHandlers[Deps]) -> None:
    """Route the actor events of the own region."""
    handlers.on(ActorRegistered)(actor_registered)
    handlers.on(ActorUpdated)(actor_updated)
    handlers.on(ActorRemoved)(actor_removed)
