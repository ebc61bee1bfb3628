"""Projections of every region's goal and measure events (for the state's goals overview)."""

from typing import Any

from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts import reporting
from nzr_common.contracts.base import Envelope
from nzr_reporting.goals.models import GoalFact, MeasureFact
from nzr_reporting.indicators.upserts import upsert
from nzr_reporting.projections import projection


@projection(reporting.GoalDefined)
async def goal_defined(session: AsyncSession, envelope: Envelope[reporting.GoalDefined]) -> None:
    """Every region's goals, so the state shows them side by side."""
    event = envelope.data
    await upsert(
        session,
        GoalFact,
        {
            "region": envelope.region,
            "goal_id": event.goal_id,
            "level": event.level,
            "title": event.title,
            "indicator_id": event.indicator_id,
            "target_value": event.target_value,
            "target_date": event.target_date,
            "defined_at": envelope.time,
            "district": event.district,
            "direction": event.direction,
            "baseline_value": event.baseline_value,
            "baseline_date": event.baseline_date,
            "version": event.version,
            "deleted": event.deleted,
        },
        _newer_version,
    )


_ANNOUNCED = (
    "level",
    "title",
    "indicator_id",
    "target_value",
    "target_date",
    "district",
    "direction",
    "baseline_value",
    "baseline_date",
    "version",
    "deleted",
)


def _newer_version(new: Any, old: Any) -> dict[str, Any]:
    """A goal announced again (changed or deleted) replaces an older announcement, never a
    newer one; ``defined_at`` stays the first announcement's."""
    newer = new.version > old.version
    return {name: case((newer, getattr(new, name)), else_=getattr(old, name)) for name in _ANNOUNCED}


def _later_status(new: Any, old: Any) -> dict[str, Any]:
    later = new.changed_at >= old.changed_at
    return {
        "status": case((later, new.status), else_=old.status),
        "changed_at": case((later, new.changed_at), else_=old.changed_at),
    }


@projection(reporting.MeasureStatusChanged)
async def measure_status_changed(
    session: AsyncSession, envelope: Envelope[reporting.MeasureStatusChanged]
) -> None:
    event = envelope.data
    await upsert(
        session,
        MeasureFact,
        {
            "region": envelope.region,
            "measure_id": event.measure_id,
            "goal_id": event.goal_id,
            "status": event.status,
            "changed_at": event.changed_at,
        },
        _later_status,
    )
