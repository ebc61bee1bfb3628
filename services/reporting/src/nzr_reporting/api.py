"""HTTP routes of the reporting service: parse, call one service function, map the result."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from rdflib import Graph

from nzr_common.access import PUBLIC, AccessKind, AccessPolicy, with_policy
from nzr_common.auth import EditorDep, PrincipalDep, Role
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.params import QueryDate, QueryMonth
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.regions import DISTRICTS_SOURCE
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import Deps, DepsDep
from nzr_reporting.dashboard import service as dashboard
from nzr_reporting.exports import service as exports
from nzr_reporting.goals import service as goals
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import INDICATORS
from nzr_reporting.indicators.service import Scope
from nzr_reporting.schemas import (
    ConsumerStatus,
    FreshnessRead,
    GoalCreate,
    GoalProgress,
    GoalRead,
    GoalsOverview,
    Indicator,
    IndicatorDefinitionRead,
    IndicatorReport,
    IndicatorSeries,
    MeasureCreate,
    MeasureRead,
    MeasureUpdate,
    ReportingStatus,
    StateOverview,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

RegionsQuery = Annotated[
    list[str] | None,
    Query(alias="region", description="State mode: the regions to compare (default: every known region)"),
]
AsOfQuery = Annotated[QueryDate | None, Query(description="Stichtag (default: today)")]
BreakdownQuery = Annotated[
    str | None, Query(alias="by", description="district, kind, sector, topic, format or status")
]
FromQuery = Annotated[QueryMonth | None, Query(alias="from", description="First month, YYYY-MM")]
ToQuery = Annotated[QueryMonth | None, Query(alias="to", description="Last month, YYYY-MM")]


INDICATORS_ACCESS = AccessPolicy(
    AccessKind.PUBLIC,
    description="anyone: the region's public indicators",
    state_mode=AccessPolicy(AccessKind.ROLES, ("state",), "the state overview of all regions: role state"),
)


@with_policy(INDICATORS_ACCESS)
async def _scope(
    deps: DepsDep, session: SessionDep, principal: PrincipalDep, region: RegionsQuery = None
) -> Scope:
    """Which regions the caller may see: the own one, or (state mode, role state) several."""
    settings = deps.settings
    if settings.mode == "state" and principal.anonymous:
        raise ProblemError(
            401,
            "Unauthorized",
            "The state overview needs a bearer token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if settings.mode == "state" and not principal.has(Role.STATE):
        raise ProblemError(403, "Forbidden", "The state overview of all regions needs the role state.")
    regions = await indicators.regions_in_view(
        session,
        mode=settings.mode,
        own_region=settings.region,
        known=settings.known_regions,
        requested=region,
    )
    return Scope(
        regions=regions,
        districts=deps.districts,
        own_region_districts=deps.region.districts if settings.mode == "region" else None,
        stale_after=timedelta(minutes=settings.stale_after_minutes),
        cache=deps.report_cache,
    )


ScopeDep = Annotated[Scope, Depends(_scope)]


def _as_of(value: date | None) -> date:
    today = datetime.now(UTC).date()
    if value is None:
        return today
    if value > today:
        raise ProblemError(
            422,
            "Impossible date",
            "The reference date (as_of) lies in the future.",
            invalid_params=[InvalidParam(name="as_of", reason="in the future")],
        )
    return value


@router.get("/indicators", response_model=IndicatorReport, operation_id="list_indicators")
async def list_indicators(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> IndicatorReport:
    """Every indicator as of a day for the region (state mode: for every region, role state)."""
    return await indicators.indicator_report(session=session, scope=scope, as_of=_as_of(as_of))


@router.get(
    "/indicators/definitions",
    response_model=list[IndicatorDefinitionRead],
    operation_id="list_indicator_definitions",
    dependencies=[PUBLIC],
)
async def list_indicator_definitions() -> list[IndicatorDefinitionRead]:
    """Id, German label, definition, unit and source events of every indicator."""
    return [indicators.describe(d) for d in INDICATORS]


@router.get("/indicators/{indicator_id}", response_model=Indicator, operation_id="get_indicator")
async def get_indicator(
    indicator_id: str,
    session: SessionDep,
    scope: ScopeDep,
    as_of: AsOfQuery = None,
    by: BreakdownQuery = None,
) -> Indicator:
    """One indicator as of a day, per region and district, optionally broken down."""
    return await indicators.indicator_as_of(
        session=session, scope=scope, indicator_id=indicator_id, as_of=_as_of(as_of), breakdown=by
    )


async def _series(
    indicator_id: str, session: SessionDep, scope: Scope, first: str | None, last: str | None, by: str | None
) -> IndicatorSeries:
    indicators.definition_of(indicator_id)
    months = indicators.month_range(first, last, today=datetime.now(UTC).date())
    return await indicators.indicator_series(
        session=session, scope=scope, indicator_id=indicator_id, months=months, breakdown=by
    )


@router.get(
    "/indicators/{indicator_id}/series", response_model=IndicatorSeries, operation_id="get_indicator_series"
)
async def get_indicator_series(
    indicator_id: str,
    session: SessionDep,
    scope: ScopeDep,
    first: FromQuery = None,
    last: ToQuery = None,
    by: BreakdownQuery = None,
) -> IndicatorSeries:
    """Monthly time series (value as of each month's last day), per region and district."""
    return await _series(indicator_id, session, scope, first, last, by)


@router.get(
    "/indicators/{indicator_id}/export.csv",
    operation_id="export_indicator_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_indicator_csv(
    indicator_id: str, session: SessionDep, scope: ScopeDep, first: FromQuery = None, last: ToQuery = None
) -> Response:
    """The monthly series as CSV with unit and definition (open data)."""
    series = await _series(indicator_id, session, scope, first, last, None)
    return Response(
        exports.series_csv(series),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{indicator_id}.csv"'},
    )


@router.get(
    "/indicators/{indicator_id}/export.json",
    operation_id="export_indicator_json",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_indicator_json(
    indicator_id: str, session: SessionDep, scope: ScopeDep, first: FromQuery = None, last: ToQuery = None
) -> Response:
    """The monthly series as JSON with unit, definition, source events and licence (open data)."""
    series = await _series(indicator_id, session, scope, first, last, None)
    source = DISTRICTS_SOURCE if indicator_id == "actor_density_per_10k" else None
    return Response(exports.series_json(series, population_source=source), media_type="application/json")


@router.get(
    "/indicators/{indicator_id}/chart.{image_format}",
    operation_id="get_indicator_chart",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
async def get_indicator_chart(
    indicator_id: str,
    image_format: str,
    session: SessionDep,
    scope: ScopeDep,
    first: FromQuery = None,
    last: ToQuery = None,
) -> Response:
    """The monthly series as a line chart, SVG or PNG."""
    if image_format not in ("svg", "png"):
        raise ProblemError(404, "Not Found", "Charts are available as .svg and .png.")
    series = await _series(indicator_id, session, scope, first, last, None)
    media_type = "image/svg+xml" if image_format == "svg" else "image/png"
    return Response(exports.chart(series, image_format=image_format), media_type=media_type)


def _catalogue(deps: Deps) -> Graph:
    settings = deps.settings
    return exports.dcat_catalogue(
        base_url=settings.public_base_url,
        publisher=settings.publisher_name,
        region=settings.region,
        modified=datetime.now(UTC).date(),
    )


@router.get(
    "/catalogue.ttl",
    operation_id="get_dcat_catalogue_turtle",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/turtle": {}}}},
)
async def get_dcat_catalogue_turtle(deps: DepsDep) -> Response:
    """DCAT-AP.de catalogue of the published indicator datasets (Turtle) for open-data portals."""
    return Response(_catalogue(deps).serialize(format="turtle"), media_type="text/turtle; charset=utf-8")


@router.get(
    "/catalogue.jsonld",
    operation_id="get_dcat_catalogue_jsonld",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"application/ld+json": {}}}},
)
async def get_dcat_catalogue_jsonld(deps: DepsDep) -> Response:
    """DCAT-AP.de catalogue of the published indicator datasets (JSON-LD)."""
    return Response(_catalogue(deps).serialize(format="json-ld"), media_type="application/ld+json")


@router.get("/overview", response_model=StateOverview, operation_id="get_state_overview")
async def get_state_overview(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> StateOverview:
    """Every region side by side for each indicator, with ranks and data freshness."""
    return await indicators.state_overview(session=session, scope=scope, as_of=_as_of(as_of))


@router.get("/overview/goals", response_model=GoalsOverview, operation_id="get_goals_overview")
async def get_goals_overview(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> GoalsOverview:
    """Every region's goals side by side: current value against target, on track or not,
    measures by status, ranked by the share of goals on track, with data freshness."""
    return await goals.goals_of_regions(session=session, scope=scope, as_of=_as_of(as_of))


@router.get("/freshness", response_model=list[FreshnessRead], operation_id="get_freshness")
async def get_freshness(session: SessionDep, scope: ScopeDep) -> list[FreshnessRead]:
    """Each region's time of its last event; stale regions are marked, never shown as zero."""
    return await indicators.freshness(session=session, scope=scope)


@router.get(
    "/status", response_model=ReportingStatus, operation_id="get_reporting_status", dependencies=[PUBLIC]
)
async def get_reporting_status(deps: DepsDep, session: SessionDep) -> ReportingStatus:
    """What the projections consumed: handled, duplicate and skipped (unknown type) events."""
    skipped = await indicators.skipped_event_types(session)
    consumers = [
        ConsumerStatus(
            consumer=s.durable,
            subject=s.subject,
            handled=s.batch.stats.handled,
            duplicates=s.batch.stats.duplicates,
            ignored_unknown_types=sum(n for t, n in skipped.items() if _consumer_of_type(t) == s.durable),
            dead_lettered=s.batch.stats.dead_lettered,
            retried=s.batch.stats.retried,
        )
        for s in deps.subscriptions()
    ]
    return ReportingStatus(
        mode=deps.settings.mode,
        region=deps.settings.region,
        consumers=consumers,
        ignored_unknown_types=sum(skipped.values()),
        skipped_event_types=skipped,
    )


def _consumer_of_type(event_type: str) -> str:
    """``nzr.<producer>.<name>.v<n>`` → the durable consumer of the producer's shareable events."""
    parts = event_type.split(".")
    return f"reporting__pub_{parts[1]}" if len(parts) > 2 else ""


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    operation_id="get_dashboard",
    responses={200: {"content": {"text/html": {}}}},
)
async def get_dashboard(
    deps: DepsDep, session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None
) -> HTMLResponse:
    """Dashboard page (German): key indicators, density by district, series, goals, freshness."""
    settings = deps.settings
    state = settings.mode == "state"
    title = (
        "Landesübersicht Netzwerk Zukunft Regional"
        if state
        else f"Netzwerk Zukunft Regional – Region {settings.region}"
    )
    html = await dashboard.render_dashboard(
        session=session,
        scope=scope,
        as_of=_as_of(as_of),
        title=title,
        goals_region=None if state else settings.region,
        district_names={code: d.name for code, d in scope.districts.items()},
        regions_goals=state,
    )
    return HTMLResponse(html)


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
        session=session, scope=scope, region=deps.settings.region, goal_id=goal_id, as_of=_as_of(as_of)
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
