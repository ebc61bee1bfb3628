"""Event handlers of transactional mails: registration answers and links, mailed to the address."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import (
    ParticipantNotice,
    RegistrationLinksRequested,
    RegistrationReceived,
)
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.transactional import mails, notices, rules, service

log = logging.getLogger(__name__)


async def tell_registrant(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationReceived]
) -> None:
    """What became of the registration, or (for an address registered already) the link of
    the existing one: mailed to the address, never answered to whoever asked."""
    event = envelope.data
    address = rules.normalised(event.email)
    if address is None:
        log.warning("registration %s: no mail, the address cannot receive one", event.aggregate_id())
        return
    purpose = "already_registered" if event.already_registered else "registration"
    if event.already_registered and await service.recently_mailed(
        session, address, (purpose,), seconds=deps.settings.confirm_resend_seconds, now=event.received_at
    ):
        return  # repeated attempts do not flood the owner's mailbox
    service.mail_owner_at_commit(
        session,
        deps,
        to=address,
        purpose=purpose,
        message=mails.registration_received_mail(deps, event),
        since=event.received_at,
        event_id=event.registration.event_id,
    )


async def tell_participant(deps: Deps, session: AsyncSession, envelope: Envelope[ParticipantNotice]) -> None:
    """A step of the registration journey (seat, cancellation, change, reminder, thank-you),
    mailed to the registrant: no newsletter consent needed, never tracked, never to a
    hard-bounced or erased address."""
    event = envelope.data
    address = rules.normalised(event.email)
    if address is None:
        log.warning("notice %s: no mail, the address cannot receive one", event.notice_id)
        return
    if service.notice_pending(session, event.notice_id):
        return  # announced twice in this batch; once before, the row is not written again
    service.mail_owner_at_commit(
        session,
        deps,
        to=address,
        purpose=event.kind,
        message=notices.notice_mail(deps, event),
        since=event.issued_at,
        event_id=event.registration.event_id,
        notice_id=event.notice_id,
    )


async def send_registration_links(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationLinksRequested]
) -> None:
    event = envelope.data
    address = rules.normalised(event.email)
    if address is None or await service.recently_mailed(
        session,
        address,
        ("registration_links",),
        seconds=deps.settings.confirm_resend_seconds,
        now=event.requested_at,
    ):
        return
    service.mail_owner_at_commit(
        session,
        deps,
        to=address,
        purpose="registration_links",
        message=mails.registration_links_mail(deps, event),
        since=event.requested_at,
    )
