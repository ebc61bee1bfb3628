"""Event handlers of the actors service (routing table)."""

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors import persons
from nzr_actors.bootstrap import Deps
from nzr_actors.cooperations import service as cooperations
from nzr_actors.cooperations.agreement_ends import end_agreement_cooperations
from nzr_common.contracts.actors import PersonErasedV2
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import AgreementRecorded, AgreementStatusChanged
from nzr_common.messaging import EventHandlers

handlers: EventHandlers[Deps] = EventHandlers(consumer="actors")

#: The day of a change is the day in the region (Saxony).
BERLIN = ZoneInfo("Europe/Berlin")


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


@handlers.on(AgreementStatusChanged)
async def agreement_status_changed(
    deps: Deps, session: AsyncSession, envelope: Envelope[AgreementStatusChanged]
) -> None:
    """An agreement dropped or done: the cooperations it created end on the day of the change."""
    await end_agreement_cooperations(
        session=session,
        outbox=deps.outbox,
        agreement_id=envelope.data.agreement_id,
        status=envelope.data.status,
        on=envelope.data.changed_at.astimezone(BERLIN).date(),
    )


@handlers.on(PersonErasedV2)
async def person_erased(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]) -> None:
    """Our own erasure announcement: delete what we published about the person."""
    await persons.forget_published_copies(deps, session, envelope)
