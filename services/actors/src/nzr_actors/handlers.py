"""Event handlers of the actors service (routing table)."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors import service
from nzr_actors.tables import messaging
from nzr_common.contracts.actors import PersonErasedV2
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import AgreementRecorded
from nzr_common.erasure import MessagingEraser
from nzr_common.messaging import EventHandlers
from nzr_common.outbox import Outbox


def _outbox(region: str) -> Outbox:
    # Handlers get (session, envelope) only; the events they announce go to the region the
    # event came from (this service's own region), through the same outbox table.
    return Outbox(messaging, region=region, service="actors")


def build_handlers(eraser: MessagingEraser) -> EventHandlers:
    """The routing table, bound to this app's eraser (its NATS connection)."""
    handlers = EventHandlers(consumer="actors")

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

    @handlers.on(PersonErasedV2)
    async def person_erased(session: AsyncSession, envelope: Envelope[PersonErasedV2]) -> None:
        """Our own erasure announcement: delete what we published about the person."""
        await service.erase_published_copies(
            session=session, eraser=eraser, region=envelope.region, person_id=envelope.data.person_id
        )

    return handlers
