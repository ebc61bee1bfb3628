"""HTTP routes of goals and measures, and of every region's goals side by side."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from nzr_common.access import PUBLIC
from nzr_common.auth import EditorDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import PagingDep, link_header, next_link
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.goals import overview
from nzr_reporting.goals import service as goals
from nzr_reporting.goals.schemas import (
    GoalChangePage,
    GoalChangeSort,
    GoalCreate,
    GoalPage,
    GoalProgress,
    GoalRead,
    GoalSort,
    GoalsOverview,
    GoalUpdate,
    MeasureCreate,
    MeasurePage,
    MeasureRead,
    MeasureSort,
    MeasureUpdate,
)
from nzr_reporting.scope import AsOfQuery, ScopeDep, as_of_or_today

IfMatch = Annotated[str | None, Header(description="ETag of the goal version you read")]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/overview/goals", response_model=GoalsOverview, operation_id="get_goals_overview")
async def get_goals_overview(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> GoalsOverview:
    """Every region's goals side by side: current value against target, on track or not,
    measures by status, ranked by the share of goals on track, with data freshness."""
    return await overview.goals_of_regions(session=session, scope=scope, as_of=as_of_or_today(as_of))


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
    response.headers["ETag"] = goals.etag(goal.version)
    return goal


@router.get("/goals", response_model=GoalPage, operation_id="list_goals", dependencies=[PUBLIC])
async def list_goals(
    request: Request,
    response: Response,
    deps: DepsDep,
    session: SessionDep,
    paging: PagingDep,
    sort: Annotated[GoalSort, Query(description="Ties are broken by id")] = "level",
) -> GoalPage:
    """The region's goals, strategic first unless `sort` says otherwise; paged by `limit` and
    `cursor` (the `next` link, also in the `Link` header)."""
    page = await goals.goal_page(
        session=session, region=deps.settings.region, sort=sort, limit=paging.limit, offset=paging.offset
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


@router.get("/goals/{goal_id}", response_model=GoalRead, operation_id="get_goal", dependencies=[PUBLIC])
async def get_goal(goal_id: str, deps: DepsDep, session: SessionDep, response: Response) -> GoalRead:
    """One goal, with its version as ETag (send it as If-Match to change or delete the goal)."""
    goal = await goals.get_goal(session=session, region=deps.settings.region, goal_id=goal_id)
    response.headers["ETag"] = goals.etag(goal.version)
    return goal


@contextmanager
def _preconditions() -> Iterator[None]:
    """The If-Match outcomes of a change as HTTP: 428 without the header, 412 with a stale one."""
    try:
        yield
    except goals.PreconditionRequired as error:
        raise ProblemError(428, "Precondition Required", str(error)) from error
    except goals.PreconditionFailed as error:
        headers = {"ETag": goals.etag(error.version)}
        raise ProblemError(412, "Precondition Failed", error.detail, headers=headers) from error


@router.patch("/goals/{goal_id}", response_model=GoalRead, operation_id="update_goal")
async def update_goal(
    goal_id: str,
    body: GoalUpdate,
    deps: DepsDep,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    editor: EditorDep,
    if_match: IfMatch = None,
) -> GoalRead:
    """Change a goal (needs If-Match with its ETag; a stale one gets 412). Every changed field
    is kept in the goal's history: who, when, old → new."""
    with _preconditions():
        goal = await goals.update_goal(
            session=session,
            outbox=deps.outbox,
            scope=scope,
            region=deps.settings.region,
            region_districts=set(deps.region.districts),
            goal_id=goal_id,
            data=body,
            if_match=if_match,
            editor=editor.subject or "unbekannt",
        )
    response.headers["ETag"] = goals.etag(goal.version)
    return goal


@router.delete("/goals/{goal_id}", status_code=204, operation_id="delete_goal")
async def delete_goal(
    goal_id: str, deps: DepsDep, session: SessionDep, editor: EditorDep, if_match: IfMatch = None
) -> Response:
    """Delete a goal without operative goals or measures (needs If-Match); its history stays."""
    with _preconditions():
        await goals.delete_goal(
            session=session,
            outbox=deps.outbox,
            region=deps.settings.region,
            goal_id=goal_id,
            if_match=if_match,
            editor=editor.subject or "unbekannt",
        )
    return Response(status_code=204)


@router.get(
    "/goals/{goal_id}/history",
    response_model=GoalChangePage,
    operation_id="get_goal_history",
    dependencies=[PUBLIC],
)
async def get_goal_history(
    goal_id: str,
    request: Request,
    response: Response,
    deps: DepsDep,
    session: SessionDep,
    paging: PagingDep,
    sort: Annotated[GoalChangeSort, Query(description="`at`: oldest change first")] = "at",
) -> GoalChangePage:
    """Who changed which field of the goal when, from what to what (also of a deleted goal);
    paged by `limit` and `cursor` (the `next` link, also in the `Link` header)."""
    page = await goals.goal_history_page(
        session=session,
        region=deps.settings.region,
        goal_id=goal_id,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


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


@router.get("/measures", response_model=MeasurePage, operation_id="list_measures", dependencies=[PUBLIC])
async def list_measures(
    request: Request,
    response: Response,
    deps: DepsDep,
    session: SessionDep,
    paging: PagingDep,
    goal_id: str | None = None,
    sort: Annotated[MeasureSort, Query(description="Ties are broken by id")] = "start",
) -> MeasurePage:
    """The region's measures, optionally of one goal, by start unless `sort` says otherwise;
    paged by `limit` and `cursor` (the `next` link, also in the `Link` header)."""
    page = await goals.measure_page(
        session=session,
        region=deps.settings.region,
        goal_id=goal_id,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


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
