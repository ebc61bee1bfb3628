"""Indicator queries over the projections."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_reporting.schemas import Indicator, IndicatorReport, IndicatorValue
from nzr_reporting.tables import ActorFact, RegionFreshness


async def actors_total(*, session: AsyncSession, regions: list[str] | None) -> Indicator:
    """Number of registered (not removed) actors per region and district."""
    query = (
        select(ActorFact.region, ActorFact.district, func.count())
        .where(ActorFact.removed_at.is_(None))
        .group_by(ActorFact.region, ActorFact.district)
    )
    if regions is not None:
        query = query.where(ActorFact.region.in_(regions))
    values: dict[str, IndicatorValue] = {}
    for region, district, count in (await session.execute(query)).all():
        value = values.setdefault(region, IndicatorValue(region=region, value=0))
        value.value += count
        value.by_district[district] = count
    return Indicator(
        id="actors_total",
        label="Akteure im Netzwerk",
        definition="Anzahl der registrierten, nicht entfernten Akteure (Organisationen).",
        unit="Anzahl",
        source_events=["nzr.actors.actor_registered.v1", "nzr.actors.actor_removed.v1"],
        values=sorted(values.values(), key=lambda v: v.region),
    )


async def indicator_report(*, session: AsyncSession, regions: list[str] | None) -> IndicatorReport:
    freshness_query = select(RegionFreshness.region, RegionFreshness.last_event_at)
    if regions is not None:
        freshness_query = freshness_query.where(RegionFreshness.region.in_(regions))
    freshness: dict[str, datetime | None] = dict((await session.execute(freshness_query)).all())
    for region in regions or []:
        freshness.setdefault(region, None)
    return IndicatorReport(
        as_of=datetime.now(UTC),
        indicators=[await actors_total(session=session, regions=regions)],
        freshness=freshness,
    )
