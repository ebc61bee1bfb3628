"""Event handlers of the actors service (routing table)."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors import service
from nzr_actors.tables import messaging
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import AgreementRecorded
from nzr_common.messaging import EventHandlers
from nzr_common.outbox import Outbox

handlers = EventHandlers(consumer="actors")


def _outbox(region: str) -> Outbox:
    # Handlers get (session, envelope) only; the events they announce go to the region the
    # event came from (this service's own region), through the same outbox table.
    return Outbox(messaging, region=region, service="actors")


@handlers.on(AgreementRecorded)
async def agreement_recorded(session: AsyncSession, envelope: Envelope[AgreementRecorded]) -> None:
    """An agreement of a gathering: its parties now cooperate (once per agreement and pair)."""
    await service.record_agreement_cooperations(
        session=session,
        outbox=_outbox(envelope.region),
        agreement_id=envelope.data.agreement_id,
        party_ids=envelope.data.party_actor_ids,
        since=envelope.time.date(),
    )
