"""Catalogue events from the state's stream projected into this service's read model, so a
region keeps its own searchable copy (the source region is the ``catalogue_region`` setting)."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import Envelope
from nzr_common.contracts.funding import (
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
)
from nzr_common.messaging import EventHandlers
from nzr_funding.bootstrap import Deps
from nzr_funding.catalogue import projection


async def programme_published(
    deps: Deps, session: AsyncSession, envelope: Envelope[FundingProgramPublished]
) -> None:
    await projection.apply_programme(session, envelope)


async def programme_updated(
    deps: Deps, session: AsyncSession, envelope: Envelope[FundingProgramUpdated]
) -> None:
    await projection.apply_programme(session, envelope)


async def programme_withdrawn(
    deps: Deps, session: AsyncSession, envelope: Envelope[FundingProgramWithdrawn]
) -> None:
    await projection.apply_withdrawal(session, envelope)


def register(handlers: EventHandlers[Deps], *, catalogue_region: str) -> None:
    """Route the catalogue events, read from ``catalogue_region``'s stream."""
    handlers.on(FundingProgramPublished, from_region=catalogue_region)(programme_published)
    handlers.on(FundingProgramUpdated, from_region=catalogue_region)(programme_updated)
    handlers.on(FundingProgramWithdrawn, from_region=catalogue_region)(programme_withdrawn)
