"""Every region's goals side by side (state mode): from their GoalDefined and
MeasureStatusChanged events, with progress in each goal's direction."""

import dataclasses
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_reporting.goals import rules as goal_rules
from nzr_reporting.goals.models import GoalFact, MeasureFact
from nzr_reporting.goals.schemas import GoalsOverview, RegionGoal, RegionGoals
from nzr_reporting.indicators import rules
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import BY_ID
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.indicators.workbook import Workbook
from nzr_reporting.state import service as state


async def goals_of_regions(*, session: AsyncSession, scope: Scope, as_of: date) -> GoalsOverview:
    """Every region's goals side by side (from their GoalDefined and MeasureStatusChanged
    events): current value against target, on track or not, measures by status, freshness."""
    regions = scope.regions
    goals = (
        await session.scalars(
            select(GoalFact)
            .where(
                GoalFact.region.in_(regions),
                GoalFact.defined_at <= _end_of(as_of),
                GoalFact.deleted.is_(False),
            )
            .order_by(GoalFact.region, GoalFact.level.desc(), GoalFact.defined_at)
        )
    ).all()
    measures: dict[tuple[str, str], dict[str, int]] = {}
    for region, goal_id, status, count in await session.execute(
        select(MeasureFact.region, MeasureFact.goal_id, MeasureFact.status, func.count())
        .where(MeasureFact.region.in_(regions))
        .group_by(MeasureFact.region, MeasureFact.goal_id, MeasureFact.status)
    ):
        measures.setdefault((region, goal_id), {})[status] = count
    measured = [g for g in goals if g.indicator_id in BY_ID and g.target_value is not None and g.target_date]
    # The value of each measuring indicator per region, today and on each day a goal was defined.
    days = sorted({as_of} | {min(g.defined_at.date(), as_of) for g in measured})
    #: (indicator, day, district or None for the whole region) → value per region
    values: dict[tuple[str, date, str | None], dict[str, float | None]] = {}
    seen = set(await state.last_events(session, regions))
    for day in days:
        workbook = Workbook(session, scope, districts=False)
        for indicator_id in sorted({g.indicator_id for g in measured if g.indicator_id}):
            (totals,) = await workbook.figures(BY_ID[indicator_id], [day])
            values[(indicator_id, day, None)] = {
                r: (totals[r].value if r in totals else 0.0) if r in seen else None for r in regions
            }
    # A district goal is measured in its district, within its own region only.
    for goal in measured:
        if goal.district is None or goal.indicator_id is None or goal.region not in seen:
            continue
        own = dataclasses.replace(scope, regions=[goal.region], cache=None)
        for day in {min(goal.defined_at.date(), as_of), as_of}:
            values[(goal.indicator_id, day, goal.district)] = {
                goal.region: await indicators.current_value(
                    session=session,
                    scope=own,
                    indicator_id=goal.indicator_id,
                    as_of=day,
                    district=goal.district,
                )
            }
    freshness = {f.region: f for f in await state.freshness(session=session, scope=scope)}
    by_region: dict[str, list[RegionGoal]] = {region: [] for region in regions}
    for goal in goals:
        by_region[goal.region].append(_region_goal(goal, values, measures, as_of))
    overview = [
        RegionGoals(
            region=region,
            goals=items,
            measurable=sum(1 for g in items if g.on_track is not None),
            on_track=sum(1 for g in items if g.on_track),
            on_track_rank=None,
            freshness=freshness[region],
        )
        for region, items in by_region.items()
    ]
    ranks = rules.rank({r.region: r.on_track / r.measurable if r.measurable else None for r in overview})
    for region_goals in overview:
        region_goals.on_track_rank = ranks.get(region_goals.region) if len(overview) > 1 else None
    return GoalsOverview(as_of=as_of, regions=overview)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time(), UTC)


def _region_goal(
    goal: GoalFact,
    values: dict[tuple[str, date, str | None], dict[str, float | None]],
    measures: dict[tuple[str, str], dict[str, int]],
    as_of: date,
) -> RegionGoal:
    item = RegionGoal(
        goal_id=goal.goal_id,
        level=goal.level,
        title=goal.title,
        indicator_id=goal.indicator_id,
        district=goal.district,
        unit=BY_ID[goal.indicator_id].unit if goal.indicator_id in BY_ID else None,
        defined_at=goal.defined_at,
        direction=goal.direction,
        baseline_value=None,
        current_value=None,
        target_value=goal.target_value,
        target_date=goal.target_date,
        percent_of_target=None,
        expected_percent=None,
        on_track=None,
        state=None,
        measures=measures.get((goal.region, goal.goal_id), {}),
    )
    if goal.indicator_id not in BY_ID or goal.target_value is None or goal.target_date is None:
        return item
    start = min(goal.defined_at.date(), as_of)
    item.baseline_value = values.get((goal.indicator_id, start, goal.district), {}).get(goal.region)
    if goal.baseline_value is not None:  # announced with its own (dated) baseline
        item.baseline_value, start = goal.baseline_value, goal.baseline_date or start
    item.current_value = values.get((goal.indicator_id, as_of, goal.district), {}).get(goal.region)
    item.direction = goal.direction or goal_rules.derived_direction(item.baseline_value, goal.target_value)  # type: ignore[assignment]  # one of the four
    progress = goal_rules.goal_progress(
        direction=item.direction or "increase",
        baseline=item.baseline_value,
        current=item.current_value,
        target=goal.target_value,
        start=start,
        target_date=goal.target_date,
        today=as_of,
    )
    item.percent_of_target, item.expected_percent = progress.percent, progress.expected_percent
    item.on_track, item.state = progress.on_track, progress.state
    return item
