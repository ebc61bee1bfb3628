"""HTTP routes of goals and measures, and of every region's goals side by side."""

from fastapi import APIRouter, Response

from nzr_common.access import PUBLIC
from nzr_common.auth import EditorDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.goals import service as goals
from nzr_reporting.goals.schemas import (
    GoalCreate,
    GoalProgress,
    GoalRead,
    GoalsOverview,
    MeasureCreate,
    MeasureRead,
    MeasureUpdate,
)
from nzr_reporting.scope import AsOfQuery, ScopeDep, as_of_or_today

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/overview/goals", response_model=GoalsOverview, operation_id="get_goals_overview")
async def get_goals_overview(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> GoalsOverview:
    """Every region's goals side by side: current value against target, on track or not,
    measures by status, ranked by the share of goals on track, with data freshness."""
    return await goals.goals_of_regions(session=session, scope=scope, as_of=as_of_or_today(as_of))


@router.post(
    "/goals", status_code=201, response_model=GoalRead, operation_id="define_goal", dependencies=[IDEMPOTENT]
)
async def define_goal(
    body: GoalCreate,
    deps: DepsDep,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    _: EditorDep,
) -> GoalRead:
    """Define a strategic or operative goal (target value, target date, measuring indicator)."""
    goal = await goals.define_goal(
        session=session,
        outbox=deps.outbox,
        scope=scope,
        region=deps.settings.region,
        region_districts=set(deps.region.districts),
        data=body,
    )
    response.headers["Location"] = f"/api/v1/reports/goals/{goal.id}"
    return goal


@router.get("/goals", response_model=list[GoalRead], operation_id="list_goals", dependencies=[PUBLIC])
async def list_goals(deps: DepsDep, session: SessionDep) -> list[GoalRead]:
    """The region's goals, strategic first."""
    return await goals.list_goals(session=session, region=deps.settings.region)


@router.get("/goals/{goal_id}", response_model=GoalRead, operation_id="get_goal", dependencies=[PUBLIC])
async def get_goal(goal_id: str, deps: DepsDep, session: SessionDep) -> GoalRead:
    """One goal."""
    return await goals.get_goal(session=session, region=deps.settings.region, goal_id=goal_id)


@router.get("/goals/{goal_id}/progress", response_model=GoalProgress, operation_id="get_goal_progress")
async def get_goal_progress(
    goal_id: str, deps: DepsDep, session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None
) -> GoalProgress:
    """Current value against target, and whether the goal is on track."""
    return await goals.goal_progress(
        session=session,
        scope=scope,
        region=deps.settings.region,
        goal_id=goal_id,
        as_of=as_of_or_today(as_of),
    )


@router.post(
    "/measures",
    status_code=201,
    response_model=MeasureRead,
    operation_id="plan_measure",
    dependencies=[IDEMPOTENT],
)
async def plan_measure(
    body: MeasureCreate,
    deps: DepsDep,
    response: Response,
    session: SessionDep,
    _: EditorDep,
) -> MeasureRead:
    """Plan a measure of a goal (responsible and involved actors, start, milestones, resources)."""
    measure = await goals.plan_measure(
        session=session, outbox=deps.outbox, region=deps.settings.region, data=body
    )
    response.headers["Location"] = f"/api/v1/reports/measures/{measure.id}"
    return measure


@router.get(
    "/measures", response_model=list[MeasureRead], operation_id="list_measures", dependencies=[PUBLIC]
)
async def list_measures(deps: DepsDep, session: SessionDep, goal_id: str | None = None) -> list[MeasureRead]:
    """The region's measures, optionally of one goal."""
    return await goals.list_measures(session=session, region=deps.settings.region, goal_id=goal_id)


@router.patch("/measures/{measure_id}", response_model=MeasureRead, operation_id="update_measure")
async def update_measure(
    measure_id: str,
    body: MeasureUpdate,
    deps: DepsDep,
    session: SessionDep,
    _: EditorDep,
) -> MeasureRead:
    """Change a measure's status, milestones or end date."""
    return await goals.update_measure(
        session=session, outbox=deps.outbox, region=deps.settings.region, measure_id=measure_id, data=body
    )
