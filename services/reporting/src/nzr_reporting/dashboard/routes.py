"""HTTP route of the dashboard page."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.dashboard import service as dashboard
from nzr_reporting.scope import AsOfQuery, ScopeDep, as_of_or_today

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


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
        as_of=as_of_or_today(as_of),
        title=title,
        goals_region=None if state else settings.region,
        district_names={code: d.name for code, d in scope.districts.items()},
        regions_goals=state,
    )
    return HTMLResponse(html)
