"""Event handlers of subscriptions: a registration with consent starts the double opt-in."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import (
    RegistrationConfirmed,
)
from nzr_common.errors import DomainError
from nzr_newsletter import privacy
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.subscriptions import service

log = logging.getLogger(__name__)


NETWORK_LIST_NAME = "Netzwerk-Newsletter"


async def registration_lists(session: AsyncSession) -> list[str]:
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


async def start_double_opt_in(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationConfirmed]
) -> None:
    """A registration with mailing-list consent (also one promoted from the waiting list, whose
    consent was kept while it waited) starts the double opt-in; the subscriber gets the event's
    district and topics as segment data."""
    event = envelope.data
    if not event.newsletter_consent:
        return
    if await privacy.erased_since(session, person_id_for(event.email), event.confirmed_at):
        log.info("registration %s not subscribed: the person was erased after it", event.registration_id)
        return
    # A district outside the region (an event elsewhere) is no segment here; the consent counts.
    district = event.district if event.district in deps.region.districts else None
    try:
        await service.subscribe(
            session=session,
            deps=deps,
            email=event.email,
            name=event.name,
            list_ids=await registration_lists(session),
            district=district,
            topics=list(event.topics),
            consent_text_version=event.consent_text_version or "event-registration",
            source="event_registration",
            public_only=False,
        )
    except DomainError as error:
        log.warning("registration %s not subscribed: %s", event.registration_id, error.detail)
