"""HTTP routes of the reporting service."""

from fastapi import APIRouter, Query, Request
from nzr_common.auth import PrincipalDep, Role
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep

from nzr_reporting import indicators
from nzr_reporting.schemas import IndicatorReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/indicators", response_model=IndicatorReport, operation_id="list_indicators")
async def list_indicators(
    request: Request, session: SessionDep, principal: PrincipalDep,
    region: list[str] | None = Query(default=None, description="State mode: regions to compare"),
) -> IndicatorReport:
    """Public indicators of the region (state mode: of every region, for the state role)."""
    settings = request.app.state.runtime.settings
    if settings.mode == "region":
        if region and region != [settings.region]:
            raise ProblemError(404, "Not Found", f"This service reports only region {settings.region}.")
        regions = [settings.region]
    else:
        if region is None and not principal.has(Role.STATE):
            raise ProblemError(403, "Forbidden", "Comparing all regions needs the role state.")
        regions = region
    return await indicators.indicator_report(session=session, regions=regions)
