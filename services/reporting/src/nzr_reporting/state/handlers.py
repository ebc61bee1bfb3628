"""Projection of a region's heartbeat: only its freshness."""

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts import reporting
from nzr_common.contracts.base import Envelope
from nzr_reporting.projections import projection


@projection(reporting.RegionHeartbeat)
async def region_heartbeat(session: AsyncSession, envelope: Envelope[reporting.RegionHeartbeat]) -> None:
    """Only freshness: a quiet but connected region stays current."""
