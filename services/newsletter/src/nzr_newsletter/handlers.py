"""Event handlers of the newsletter service: the routing table (and the erasure across sub-domains)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import PersonErased, PersonErasedV2, person_id_for
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import (
    EventCancelled,
    EventPublished,
    EventUpdated,
    ParticipantNotice,
    RegistrationConfirmed,
    RegistrationLinksRequested,
    RegistrationReceived,
)
from nzr_common.contracts.funding import FundingDeadlineApproaching
from nzr_common.messaging import EventHandlers
from nzr_newsletter import privacy
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.digests import handlers as digest_handlers
from nzr_newsletter.subscriptions import handlers as subscription_handlers
from nzr_newsletter.transactional import handlers as transactional_handlers
from nzr_newsletter.transactional import service as transactional_service


async def erase(
    deps: Deps, session: AsyncSession, *, region: str, person_id: str, erased_at: datetime
) -> None:
    """GDPR Art. 17: the subscriber and their mails go, and so do the region-private events
    we published about them; the erasure is remembered (see ``ErasedPersonRow``)."""
    await transactional_service.write_pending_mails(session)  # erased with the others
    await privacy.erase_person(session=session, deps=deps, person_id=person_id, erased_at=erased_at)
    await deps.eraser.erase_person(session, region=region, person_id=person_id)


async def erase_person(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]) -> None:
    event = envelope.data
    await erase(deps, session, region=envelope.region, person_id=event.person_id, erased_at=event.erased_at)


async def erase_person_v1(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErased]) -> None:
    """Erasures announced before v2 (they carry the address)."""
    event = envelope.data
    person_id = person_id_for(event.email)
    await erase(deps, session, region=envelope.region, person_id=person_id, erased_at=event.erased_at)


async def registration_received(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationReceived]
) -> None:
    """The registrant hears what became of the request; a consent meant "at once" counts now."""
    await transactional_handlers.tell_registrant(deps, session, envelope)
    await subscription_handlers.start_double_opt_in_at_once(deps, session, envelope)


handlers: EventHandlers[Deps] = EventHandlers(consumer="newsletter")
handlers.on(RegistrationConfirmed)(subscription_handlers.start_double_opt_in)
handlers.on(RegistrationReceived)(registration_received)
handlers.on(ParticipantNotice)(transactional_handlers.tell_participant)
handlers.on(RegistrationLinksRequested)(transactional_handlers.send_registration_links)
handlers.on(PersonErasedV2)(erase_person)
handlers.on(PersonErased)(erase_person_v1)
handlers.on(EventPublished)(digest_handlers.remember_event)
handlers.on(EventUpdated)(digest_handlers.remember_event)
handlers.on(EventCancelled)(digest_handlers.forget_event)
handlers.on(FundingDeadlineApproaching, from_region="state")(digest_handlers.remember_deadline)
