"""Event handlers of the newsletter service (routing table)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import PersonErased, PersonErasedV2, person_id_for
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import (
    EventCancelled,
    EventPublished,
    EventUpdated,
    RegistrationConfirmed,
    RegistrationLinksRequested,
    RegistrationReceived,
)
from nzr_common.contracts.funding import FundingDeadlineApproaching
from nzr_common.messaging import EventHandlers
from nzr_common.problems import ProblemError
from nzr_newsletter import digests, service, transactional
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.tables import ListRow

log = logging.getLogger(__name__)

NETWORK_LIST_NAME = "Netzwerk-Newsletter"

handlers: EventHandlers[Deps] = EventHandlers(consumer="newsletter")


async def _registration_lists(session: AsyncSession) -> list[str]:
    """The lists a registration's consent means; the network list is created when none is marked."""
    ids = list(await session.scalars(select(ListRow.id).where(ListRow.registration_default.is_(True))))
    if not ids:
        row = ListRow(
            id=str(uuid.uuid4()),
            name=NETWORK_LIST_NAME,
            description="",
            topic=None,
            visibility="public",
            registration_default=True,
            digest=False,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        await session.flush()
        ids = [row.id]
    return ids


@handlers.on(RegistrationConfirmed)
async def start_double_opt_in(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationConfirmed]
) -> None:
    event = envelope.data
    if not event.newsletter_consent:
        return
    if await service.erased_since(session, person_id_for(event.email), event.confirmed_at):
        log.info("registration %s not subscribed: the person was erased after it", event.registration_id)
        return
    try:
        await service.subscribe(
            session=session,
            deps=deps,
            email=event.email,
            name=event.name,
            list_ids=await _registration_lists(session),
            district=None,
            topics=[],
            consent_text_version=event.consent_text_version or "event-registration",
            source="event_registration",
            public_only=False,
        )
    except ProblemError as error:
        log.warning("registration %s not subscribed: %s", event.registration_id, error.detail)


@handlers.on(RegistrationReceived)
async def tell_registrant(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationReceived]
) -> None:
    """What became of the registration, or (for an address registered already) the link of
    the existing one: mailed to the address, never answered to whoever asked."""
    event = envelope.data
    address = transactional.normalised(event.email)
    if address is None:
        log.warning("registration %s: no mail, the address cannot receive one", event.aggregate_id())
        return
    purpose = "already_registered" if event.already_registered else "registration"
    if event.already_registered and await transactional.recently_mailed(
        session, address, (purpose,), seconds=deps.settings.confirm_resend_seconds, now=event.received_at
    ):
        return  # repeated attempts do not flood the owner's mailbox
    await service.mail_owner(
        session,
        deps,
        to=address,
        purpose=purpose,
        message=transactional.registration_received_mail(deps, event),
        since=event.received_at,
    )


@handlers.on(RegistrationLinksRequested)
async def send_registration_links(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationLinksRequested]
) -> None:
    event = envelope.data
    address = transactional.normalised(event.email)
    if address is None or await transactional.recently_mailed(
        session,
        address,
        ("registration_links",),
        seconds=deps.settings.confirm_resend_seconds,
        now=event.requested_at,
    ):
        return
    await service.mail_owner(
        session,
        deps,
        to=address,
        purpose="registration_links",
        message=transactional.registration_links_mail(deps, event),
        since=event.requested_at,
    )


async def erase(
    deps: Deps, session: AsyncSession, *, region: str, person_id: str, erased_at: datetime
) -> None:
    """GDPR Art. 17: the subscriber and their mails go, and so do the region-private events
    we published about them; the erasure is remembered (see ``ErasedPersonRow``)."""
    await service.erase_person(session=session, deps=deps, person_id=person_id, erased_at=erased_at)
    await deps.eraser.erase_person(session, region=region, person_id=person_id)


@handlers.on(PersonErasedV2)
async def erase_person(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]) -> None:
    event = envelope.data
    await erase(deps, session, region=envelope.region, person_id=event.person_id, erased_at=event.erased_at)


@handlers.on(PersonErased)
async def erase_person_v1(deps: Deps, session: AsyncSession, envelope: Envelope[PersonErased]) -> None:
    """Erasures announced before v2 (they carry the address)."""
    event = envelope.data
    person_id = person_id_for(event.email)
    await erase(deps, session, region=envelope.region, person_id=person_id, erased_at=event.erased_at)


async def remember_event(deps: Deps, session: AsyncSession, envelope: Envelope[EventPublished]) -> None:
    event = envelope.data
    await digests.record_item(
        session,
        item_id=f"event:{event.event_id}",
        kind="event",
        title=event.title,
        happens_on=event.starts_at,
        district=event.district,
        topics=event.topics,
    )


handlers.on(EventPublished)(remember_event)
handlers.on(EventUpdated)(remember_event)


@handlers.on(EventCancelled)
async def forget_event(deps: Deps, session: AsyncSession, envelope: Envelope[EventCancelled]) -> None:
    await digests.forget_item(session, f"event:{envelope.data.event_id}")


@handlers.on(FundingDeadlineApproaching, from_region="state")
async def remember_deadline(
    deps: Deps, session: AsyncSession, envelope: Envelope[FundingDeadlineApproaching]
) -> None:
    event = envelope.data
    await digests.record_item(
        session,
        item_id=f"funding:{event.programme_id}",
        kind="funding",
        title=event.name,
        happens_on=datetime.combine(event.deadline, time(23, 59), tzinfo=UTC),
        district=None,
        topics=[],
    )
