"""Event handlers of the events service (routing table)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import PersonErased
from nzr_common.contracts.base import Envelope
from nzr_common.messaging import EventHandlers
from nzr_events import service

handlers = EventHandlers(consumer="events")


@handlers.on(PersonErased)
async def anonymise_erased_person(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """GDPR Art. 17: the person's registrations lose name and e-mail; counts stay."""
    await service.erase_person(session=session, email=envelope.data.email)
