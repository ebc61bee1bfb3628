"""Handlers of outcomes: the region's actors as the stream announces them, so an agreement
names only actors that exist (``known_actors``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved, ActorUpdated
from nzr_common.contracts.base import Envelope
from nzr_events.bootstrap import Deps
from nzr_events.outcomes.models import KnownActorRow


async def _seen(session: AsyncSession, actor_id: str, *, removed: bool, at: datetime) -> None:
    row = await session.get(KnownActorRow, actor_id)
    if row is None:
        session.add(KnownActorRow(actor_id=actor_id, removed=removed, seen_at=at))
    elif at >= row.seen_at:
        row.removed, row.seen_at = removed, at


async def actor_registered(deps: Deps, session: AsyncSession, envelope: Envelope[ActorRegistered]) -> None:
    """A new actor of the region may be a party of agreements."""
    await _seen(session, envelope.data.actor_id, removed=False, at=envelope.time)


async def actor_updated(deps: Deps, session: AsyncSession, envelope: Envelope[ActorUpdated]) -> None:
    """An update proves the actor exists (also when its registration came before our time)."""
    await _seen(session, envelope.data.actor_id, removed=False, at=envelope.time)


async def actor_removed(deps: Deps, session: AsyncSession, envelope: Envelope[ActorRemoved]) -> None:
    """A removed actor is no party of new agreements (old agreements keep their ids)."""
    await _seen(session, envelope.data.actor_id, removed=True, at=envelope.time)
