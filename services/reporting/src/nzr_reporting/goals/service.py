"""Service functions for goals and measures (the structure of municipal action plans):
state change and its events in one transaction, progress from the indicators."""

import dataclasses
import uuid
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_reporting.goals import rules as goal_rules
from nzr_reporting.goals.models import GoalFact, GoalRow, MeasureFact, MeasureRow
from nzr_reporting.goals.schemas import (
    GoalCreate,
    GoalProgress,
    GoalRead,
    GoalsOverview,
    MeasureCreate,
    MeasureRead,
    MeasureUpdate,
    RegionGoal,
    RegionGoals,
)
from nzr_reporting.indicators import rules
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import BY_ID
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.indicators.workbook import Workbook
from nzr_reporting.state import service as state


def _goal(row: GoalRow) -> GoalRead:
    return GoalRead.model_validate(row, from_attributes=True)


def _measure(row: MeasureRow) -> MeasureRead:
    return MeasureRead.model_validate(row, from_attributes=True)


async def define_goal(
    *,
    session: AsyncSession,
    outbox: Outbox,
    scope: Scope,
    region: str,
    region_districts: set[str],
    data: GoalCreate,
) -> GoalRead:
    """Store a goal with the indicator's current value as its baseline; announce GoalDefined."""
    now = datetime.now(UTC)
    problems = goal_rules.check_goal(data, today=now.date(), region_districts=region_districts)
    if not problems and data.parent_goal_id is not None:
        parent = await session.get(GoalRow, data.parent_goal_id)
        if parent is None or parent.region != region or parent.level != "strategisch":
            problems.append(("parent_goal_id", "no strategic goal with this id"))
    if problems:
        raise Invalid("Invalid goal", problems)
    baseline = None
    if data.indicator_id is not None:
        baseline = await indicators.current_value(
            session=session,
            scope=scope,
            indicator_id=data.indicator_id,
            as_of=now.date(),
            district=data.district,
        )
    row = GoalRow(
        id=str(uuid.uuid4()), region=region, baseline_value=baseline, created_at=now, **data.model_dump()
    )
    session.add(row)
    await outbox.add(
        session,
        GoalDefined(
            goal_id=row.id,
            level=row.level,
            title=row.title,
            indicator_id=row.indicator_id,
            target_value=row.target_value,
            target_date=row.target_date,
            district=row.district,
        ),
    )
    await session.commit()
    return _goal(row)


async def list_goals(*, session: AsyncSession, region: str) -> list[GoalRead]:
    rows = await session.scalars(
        select(GoalRow).where(GoalRow.region == region).order_by(GoalRow.level.desc(), GoalRow.created_at)
    )
    return [_goal(row) for row in rows]


async def _load_goal(session: AsyncSession, region: str, goal_id: str) -> GoalRow:
    row = await session.get(GoalRow, goal_id)
    if row is None or row.region != region:
        raise NotFound("goal", goal_id)
    return row


async def get_goal(*, session: AsyncSession, region: str, goal_id: str) -> GoalRead:
    return _goal(await _load_goal(session, region, goal_id))


async def goal_progress(
    *, session: AsyncSession, scope: Scope, region: str, goal_id: str, as_of: date
) -> GoalProgress:
    """Current value against target and whether the goal is on track."""
    goal = await _load_goal(session, region, goal_id)
    if goal.indicator_id is None or goal.target_value is None or goal.target_date is None:
        raise Conflict(
            "This goal has no indicator, target value and target date to measure.",
            title="Goal without target",
        )
    current = await indicators.current_value(
        session=session, scope=scope, indicator_id=goal.indicator_id, as_of=as_of, district=goal.district
    )
    progress = goal_rules.goal_progress(
        baseline=goal.baseline_value,
        current=current,
        target=goal.target_value,
        start=goal.created_at.date(),
        target_date=goal.target_date,
        today=as_of,
    )
    statuses = Counter(await session.scalars(select(MeasureRow.status).where(MeasureRow.goal_id == goal.id)))
    return GoalProgress(
        goal_id=goal.id,
        title=goal.title,
        indicator_id=goal.indicator_id,
        unit=BY_ID[goal.indicator_id].unit,
        as_of=as_of,
        baseline_value=goal.baseline_value,
        current_value=current,
        target_value=goal.target_value,
        target_date=goal.target_date,
        percent_of_target=progress.percent,
        expected_percent=progress.expected_percent,
        on_track=progress.on_track,
        state=progress.state,
        measures=dict(statuses),
    )


async def plan_measure(
    *, session: AsyncSession, outbox: Outbox, region: str, data: MeasureCreate
) -> MeasureRead:
    """Store a measure of a goal and announce its status."""
    problems = []
    goal = await session.get(GoalRow, data.goal_id)
    if goal is None or goal.region != region:
        problems.append(("goal_id", "no goal with this id in the region"))
    if data.start and data.end and data.end < data.start:
        problems.append(("end", "the end lies before the start"))
    if problems:
        raise Invalid("Invalid measure", problems)
    now = datetime.now(UTC)
    values = data.model_dump()
    values["milestones"] = [m.model_dump(mode="json") for m in data.milestones]
    row = MeasureRow(id=str(uuid.uuid4()), region=region, updated_at=now, **values)
    session.add(row)
    await outbox.add(
        session,
        MeasureStatusChanged(measure_id=row.id, goal_id=row.goal_id, status=row.status, changed_at=now),
    )
    await session.commit()
    return _measure(row)


async def list_measures(*, session: AsyncSession, region: str, goal_id: str | None) -> list[MeasureRead]:
    query = select(MeasureRow).where(MeasureRow.region == region).order_by(MeasureRow.start)
    if goal_id is not None:
        query = query.where(MeasureRow.goal_id == goal_id)
    return [_measure(row) for row in await session.scalars(query)]


async def update_measure(
    *, session: AsyncSession, outbox: Outbox, region: str, measure_id: str, data: MeasureUpdate
) -> MeasureRead:
    """Change a measure's status, milestones or end; a status change is announced."""
    row = await session.get(MeasureRow, measure_id)
    if row is None or row.region != region:
        raise NotFound("measure", measure_id)
    now = datetime.now(UTC)
    if data.end is not None and row.start is not None and data.end < row.start:
        raise Invalid("Invalid measure", [("end", "the end lies before the start")])
    if data.milestones is not None:
        row.milestones = [m.model_dump(mode="json") for m in data.milestones]
    if data.end is not None:
        row.end = data.end
    if data.status is not None and data.status != row.status:
        row.status = data.status
        await outbox.add(
            session,
            MeasureStatusChanged(measure_id=row.id, goal_id=row.goal_id, status=row.status, changed_at=now),
        )
    row.updated_at = now
    await session.commit()
    return _measure(row)


async def goals_of_regions(*, session: AsyncSession, scope: Scope, as_of: date) -> GoalsOverview:
    """Every region's goals side by side (from their GoalDefined and MeasureStatusChanged
    events): current value against target, on track or not, measures by status, freshness."""
    regions = scope.regions
    goals = (
        await session.scalars(
            select(GoalFact)
            .where(GoalFact.region.in_(regions), GoalFact.defined_at <= _end_of(as_of))
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
    item.current_value = values.get((goal.indicator_id, as_of, goal.district), {}).get(goal.region)
    progress = goal_rules.goal_progress(
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
