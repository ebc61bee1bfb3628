"""HTTP routes of the indicators: reports as of a day, definitions, monthly series."""

from fastapi import APIRouter

from nzr_common.access import PUBLIC
from nzr_common.runtime import SessionDep
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import INDICATORS
from nzr_reporting.indicators.schemas import (
    Indicator,
    IndicatorDefinitionRead,
    IndicatorReport,
    IndicatorSeries,
)
from nzr_reporting.scope import AsOfQuery, BreakdownQuery, FromQuery, ScopeDep, ToQuery, as_of_or_today

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/indicators", response_model=IndicatorReport, operation_id="list_indicators")
async def list_indicators(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> IndicatorReport:
    """Every indicator as of a day for the region (state mode: for every region, role state)."""
    return await indicators.indicator_report(session=session, scope=scope, as_of=as_of_or_today(as_of))


@router.get(
    "/indicators/definitions",
    response_model=list[IndicatorDefinitionRead],
    operation_id="list_indicator_definitions",
    dependencies=[PUBLIC],
)
async def list_indicator_definitions() -> list[IndicatorDefinitionRead]:
    """Id, German label, definition, unit and source events of every indicator: the fixed
    catalogue of the service (about twenty entries), answered whole (not paged)."""
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
        session=session, scope=scope, indicator_id=indicator_id, as_of=as_of_or_today(as_of), breakdown=by
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
    return await indicators.monthly_series(
        session=session, scope=scope, indicator_id=indicator_id, first=first, last=last, breakdown=by
    )
