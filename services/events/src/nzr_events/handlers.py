"""Event handlers of the events service (routing table)."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import (
    ActorRegistered,
    ActorRemoved,
    ActorUpdated,
    PersonErased,
    PersonErasedV2,
    person_id_for,
)
from nzr_common.contracts.base import Envelope
from nzr_common.messaging import EventHandlers
from nzr_events import privacy
from nzr_events.bootstrap import Deps
from nzr_events.outcomes import handlers as outcomes

handlers: EventHandlers[Deps] = EventHandlers(consumer="events")
handlers.on(ActorRegistered)(outcomes.actor_registered)
handlers.on(ActorUpdated)(outcomes.actor_updated)
handlers.on(ActorRemoved)(outcomes.actor_removed)


async def _erase(deps: Deps, session: AsyncSession, *, region: str, person_id: str) -> None:
    """GDPR Art. 17: the person's registrations lose name and e-mail (counts stay), and the
    registration events we published about them leave the stream."""
    await privacy.erase_person(session=session, person_id=person_id)
    await deps.eraser.erase_person(session, region=region, person_id=person_id)


@handlers.on(PersonErasedV2)
async def anonymise_erased_person(
    deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]
) -> None:
    await _erase(deps, session, region=envelope.region, person_id=envelope.data.person_id)


@handlers.on(PersonErased)
async def anonymise_erased_person_v1(
    deps: Deps, session: AsyncSession, envelope: Envelope[PersonErased]
) -> None:
    """Erasures announced before v2 (they carry the address)."""
    await _erase(deps, session, region=envelope.region, person_id=person_id_for(envelope.data.email))
