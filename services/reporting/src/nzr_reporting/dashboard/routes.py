"""HTTP route of the dashboard page; its filters are plain query parameters (a GET form), so
every view has a URL that can be bookmarked and shared."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import HTMLResponse

from nzr_common.access import with_policy
from nzr_common.auth import PrincipalDep
from nzr_common.languages import preferred_language
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.dashboard import service as dashboard
from nzr_reporting.dashboard.rules import Filters
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.scope import INDICATORS_ACCESS, scope_of
from nzr_reporting.state import service as state

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Choice = Annotated[str | None, Query(max_length=100)]


@with_policy(INDICATORS_ACCESS)
async def dashboard_scope(
    deps: DepsDep,
    session: SessionDep,
    principal: PrincipalDep,
    region: Annotated[str | None, Query(max_length=100, description="State mode: one region")] = None,
) -> Scope:
    """The scope of the dashboard: one region, or every region (an empty choice of the form)."""
    return await scope_of(deps, session, principal, region=[region] if region else None)


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    operation_id="get_dashboard",
    responses={200: {"content": {"text/html": {}}}},
)
async def get_dashboard(
    deps: DepsDep,
    session: SessionDep,
    scope: Annotated[Scope, Depends(dashboard_scope)],
    region: Choice = None,
    district: Annotated[str | None, Query(max_length=20, description="AGS of a district")] = None,
    from_month: Annotated[str | None, Query(alias="from", max_length=7, description="YYYY-MM")] = None,
    to_month: Annotated[str | None, Query(alias="to", max_length=7, description="YYYY-MM")] = None,
    theme: Choice = None,
    indicator: Choice = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """Dashboard page (German; English by Accept-Language): filters, map, charts, goals, freshness."""
    settings = deps.settings
    filters = Filters(
        region=region or None,
        district=district or None,
        from_month=from_month or None,
        to_month=to_month or None,
        theme=theme or None,
        indicator=indicator or None,
    )
    all_regions = await state.regions_in_view(
        session, mode=settings.mode, own_region=settings.region, known=settings.known_regions, requested=None
    )
    language = preferred_language(accept_language)
    html = await dashboard.render_dashboard(
        session=session,
        scope=scope,
        page=dashboard.Page(
            filters=filters,
            language=language,
            state=settings.mode == "state",
            own_region=settings.region,
            all_regions=all_regions,
            publisher=settings.publisher_name,
            boundaries=settings.dashboard_boundaries,
            boundaries_attribution=settings.dashboard_boundaries_attribution,
        ),
    )
    return HTMLResponse(html, headers={"Content-Language": language, "Vary": "Accept-Language"})
