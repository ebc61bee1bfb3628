"""Projection of a region's heartbeat: its freshness and the districts it covers."""

from typing import Any

from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts import reporting
from nzr_common.contracts.base import Envelope
from nzr_reporting.indicators.upserts import upsert_latest
from nzr_reporting.projections import projection
from nzr_reporting.state.models import RegionCoverage


def _later_coverage(new: Any, old: Any) -> dict[str, Any]:
    later = new.at > old.at
    return {
        "districts": case((later, new.districts), else_=old.districts),
        "at": case((later, new.at), else_=old.at),
    }


@projection(reporting.RegionHeartbeat)
async def region_heartbeat(session: AsyncSession, envelope: Envelope[reporting.RegionHeartbeat]) -> None:
    """A quiet but connected region stays current; a heartbeat naming the region's districts
    (newer ones do) keeps the districts its densities are computed over."""
    event = envelope.data
    if event.districts:
        await upsert_latest(
            session,
            RegionCoverage,
            {"region": envelope.region, "districts": sorted(set(event.districts)), "at": event.sent_at},
            _later_coverage,
            newer="at",
        )
