"""Event handlers of the actors service (routing table)."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors import persons
from nzr_actors.bootstrap import Deps
from nzr_actors.cooperations import service as cooperations
from nzr_common.contracts.actors import PersonErasedV2
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import AgreementRecorded
from nzr_common.messaging import EventHandlers

handlers: EventHandlers[Deps] = EventHandlers(consumer="actors")


@handlers.on(AgreementRecorded)
async def agreement_recorded(
    deps: Deps, session: AsyncSession, envelope: Envelope[AgreementRecorded]
) -> None:
    """An agreement of a gathering: its parties now cooperate (once per agreement and pair)."""
    await cooperations.record_agreement_cooperations(
        session=session,
        outbox=deps.outbox,
        agreement_id=envelope.data.agreement_id,
        party_ids=envelope.data.party_actor_ids,
        since=envelope.time.date(),
    )


@handlers.on(PersonErasedV2)
async def person_erased(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]) -> None:
    """Our own erasure announcement: delete what we published about the person."""
    await persons.forget_published_copies(deps, session, envelope)
