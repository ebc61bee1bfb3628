"""Event handlers of subscriptions: a registration with consent starts the double opt-in."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import RegistrationConfirmed, RegistrationReceived
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
    await _subscribe_registrant(
        deps,
        session,
        registration_id=event.registration_id,
        email=event.email,
        name=event.name,
        district=event.district,
        topics=event.topics,
        consent_text_version=event.consent_text_version,
        given_at=event.confirmed_at,
    )


async def start_double_opt_in_at_once(
    deps: Deps, session: AsyncSession, envelope: Envelope[RegistrationReceived]
) -> None:
    """A registrant on the waiting list who chose that their consent count at once ("sofort"):
    events hands the consent over with the received registration instead of at confirmation."""
    event = envelope.data
    if not event.newsletter_consent:
        return
    await _subscribe_registrant(
        deps,
        session,
        registration_id=event.registration.registration_id,
        email=event.email,
        name=event.name,
        district=event.district,
        topics=event.topics,
        consent_text_version=event.consent_text_version,
        given_at=event.received_at,
    )


async def _subscribe_registrant(
    deps: Deps,
    session: AsyncSession,
    *,
    registration_id: str,
    email: str,
    name: str,
    district: str | None,
    topics: list[str],
    consent_text_version: str | None,
    given_at: datetime,
) -> None:
    if await privacy.erased_since(session, person_id_for(email), given_at):
        log.info("registration %s not subscribed: the person was erased after it", registration_id)
        return
    # A district outside the region (an event elsewhere) is no segment here; the consent counts.
    segment_district = district if district in deps.region.districts else None
    try:
        await service.subscribe(
            session=session,
            deps=deps,
            email=email,
            name=name,
            list_ids=await registration_lists(session),
            district=segment_district,
            topics=list(topics),
            consent_text_version=consent_text_version or "event-registration",
            source="event_registration",
            public_only=False,
        )
    except DomainError as error:
        log.warning("registration %s not subscribed: %s", registration_id, error.detail)
