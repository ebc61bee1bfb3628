"""Indicator service functions: load dated contributions from the projections, let the pure
rules in ``rules.py`` turn them into figures, and map them to the API schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import DomainError, Invalid, NotFound
from nzr_common.regions import DISTRICTS_SOURCE
from nzr_reporting.indicators import rules
from nzr_reporting.indicators.catalogue import BY_ID, INDICATORS, IndicatorDefinition
from nzr_reporting.indicators.models import (
    MonthlyFigure,
    ProjectionVersion,
)
from nzr_reporting.indicators.rules import Figure, Totals
from nzr_reporting.indicators.schemas import (
    Indicator,
    IndicatorDefinitionRead,
    IndicatorReport,
    IndicatorSeries,
    IndicatorValue,
    RegionSeries,
    SeriesPoint,
)
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.indicators.workbook import SummaryWorkbook, Workbook
from nzr_reporting.state.schemas import OverviewCell, OverviewRow, StateOverview
from nzr_reporting.state.service import (
    _freshness,
    last_events,
)

MAX_SERIES_MONTHS = 240


class UnknownIndicator(NotFound):
    """No indicator of this id (404 naming the known ones)."""

    title = "Unknown indicator"

    def __init__(self, indicator_id: str) -> None:
        DomainError.__init__(
            self,
            f"There is no indicator '{indicator_id}'. Known: {', '.join(BY_ID)}.",
            problems=[("indicator_id", "unknown indicator")],
        )
        self.what, self.ident = "indicator", indicator_id


async def first_day_of_data(session: AsyncSession, regions: list[str]) -> date | None:
    """The first month (its first day) any figure of ``regions`` was counted in, if any."""
    return await session.scalar(
        select(func.min(MonthlyFigure.month)).where(MonthlyFigure.region.in_(regions))
    )


async def projection_version(session: AsyncSession) -> int:
    return await session.scalar(select(ProjectionVersion.version)) or 0


def definition_of(indicator_id: str) -> IndicatorDefinition:
    """The indicator's definition, or a 404 problem naming the known ids."""
    definition = BY_ID.get(indicator_id)
    if definition is None:
        raise UnknownIndicator(indicator_id)
    return definition


def check_breakdown(definition: IndicatorDefinition, breakdown: str | None) -> None:
    if breakdown is not None and breakdown not in definition.breakdowns:
        allowed = ", ".join(definition.breakdowns) or "none"
        raise Invalid(
            "Invalid breakdown",
            [("by", f"allowed: {allowed}")],
            detail=f"'{definition.id}' can be broken down by: {allowed}.",
        )


def describe(definition: IndicatorDefinition) -> IndicatorDefinitionRead:
    return IndicatorDefinitionRead(
        id=definition.id,
        label=definition.label,
        definition=definition.definition,
        unit=definition.unit,
        theme=definition.theme,
        kind=definition.kind,
        source_events=list(definition.source_events),
        breakdowns=list(definition.breakdowns),
        by_district=definition.by_district,
    )


def month_range(first: str | None, last: str | None, *, today: date) -> list[date]:
    """Month ends from ``first`` to ``last`` (YYYY-MM; default: the last 12 months); 422 when
    the range is impossible."""

    def parse(value: str, name: str) -> date:
        try:
            return datetime.strptime(value, "%Y-%m").date()
        except ValueError as error:
            raise Invalid(
                "Invalid month",
                [(name, "expected YYYY-MM")],
                detail=f"{name} must look like 2026-01.",
            ) from error

    end = parse(last, "to") if last else today.replace(day=1)
    start = parse(first, "from") if first else (end - timedelta(days=335)).replace(day=1)
    if start > end:
        raise Invalid(
            "Impossible date range",
            [("from", "after 'to'")],
            detail=f"'from' ({start:%Y-%m}) is after 'to' ({end:%Y-%m}).",
        )
    months = rules.months_between(start, end)
    if len(months) > MAX_SERIES_MONTHS:
        raise Invalid(
            "Date range too long",
            [("from", "range too long")],
            detail=f"At most {MAX_SERIES_MONTHS} months per series.",
        )
    return months


def _values(
    definition: IndicatorDefinition, totals: Totals, regions: list[str], seen: set[str], breakdown: str | None
) -> list[IndicatorValue]:
    values = []
    for region in regions:
        figure = totals.get(region)
        if region not in seen:
            values.append(IndicatorValue(region=region, value=None))
            continue
        figure = figure or Figure()
        values.append(
            IndicatorValue(
                region=region,
                value=round(figure.value, 4),
                by_district=figure.by_district if definition.by_district else {},
                breakdown=figure.by_key if breakdown else None,
            )
        )
    ranks = rules.rank({v.region: v.value for v in values}, higher_is_better=definition.higher_is_better)
    for value in values:
        value.rank = ranks.get(value.region) if len(values) > 1 else None
    return values


async def _overall(
    workbook: Workbook, definition: IndicatorDefinition, totals: Totals, as_of: date, seen: set[str]
) -> float | None:
    """The value of several regions together: counts summed, the actor density over their whole
    population; None for one region and for shares (not additive)."""
    regions = [r for r in workbook.scope.regions if r in seen]
    if len(workbook.scope.regions) < 2 or not regions:
        return None
    if definition.id == "actor_density_per_10k":
        (actors,) = await workbook.figures(BY_ID["actors_total"], [as_of])
        return rules.overall_density(actors, await workbook.population(), regions)
    if definition.kind in ("bestand", "zugang"):
        return round(sum(totals[r].value for r in regions if r in totals), 4)
    return None


def _population_source(definition: IndicatorDefinition) -> str | None:
    return DISTRICTS_SOURCE if definition.id == "actor_density_per_10k" else None


async def indicator_as_of(
    *, session: AsyncSession, scope: Scope, indicator_id: str, as_of: date, breakdown: str | None = None
) -> Indicator:
    """One indicator for every region in scope as of a day, optionally broken down."""
    definition = definition_of(indicator_id)
    check_breakdown(definition, breakdown)
    workbook = Workbook(session, scope)
    seen = set(await last_events(session, scope.regions))
    (totals,) = await workbook.figures(definition, [as_of], breakdown)
    return Indicator(
        **describe(definition).model_dump(),
        as_of=as_of,
        breakdown_by=breakdown,
        population_source=_population_source(definition),
        values=_values(definition, totals, scope.regions, seen, breakdown),
        overall=await _overall(workbook, definition, totals, as_of, seen),
    )


async def indicator_report(
    *, session: AsyncSession, scope: Scope, as_of: date, districts: bool = True
) -> IndicatorReport:
    """Every indicator for every region in scope as of a day, with each region's freshness
    (``districts=False``: region values only)."""
    # Region values only (the state overview) are read from the monthly summaries.
    workbook = Workbook(session, scope) if districts else SummaryWorkbook(session, scope)
    last = await last_events(session, scope.regions)
    key = (await projection_version(session), tuple(scope.regions), as_of, districts) if scope.cache else ()
    indicators = scope.cache.get(key) if scope.cache else None
    if indicators is None:
        indicators = await all_indicators(workbook, as_of, set(last))
        if scope.cache:
            scope.cache.put(key, indicators)
    return IndicatorReport(
        as_of=as_of,
        indicators=[i.model_copy(deep=True) for i in indicators],
        freshness={region: last.get(region) for region in scope.regions},
        freshness_states=_freshness(scope.regions, last, scope.stale_after, datetime.now(UTC)),
    )


async def all_indicators(workbook: Workbook, as_of: date, seen: set[str]) -> list[Indicator]:
    """Every indicator as of a day for the workbook's regions (``seen``: regions with events)."""
    indicators = []
    for definition in INDICATORS:
        (totals,) = await workbook.figures(definition, [as_of])
        indicators.append(
            Indicator(
                **describe(definition).model_dump(),
                as_of=as_of,
                population_source=_population_source(definition),
                values=_values(definition, totals, workbook.scope.regions, seen, None),
                overall=await _overall(workbook, definition, totals, as_of, seen),
            )
        )
    return indicators


async def indicator_series(
    *,
    session: AsyncSession,
    scope: Scope,
    indicator_id: str,
    months: list[date],
    breakdown: str | None = None,
) -> IndicatorSeries:
    """Monthly time series (value as of each month's last day) for every region in scope."""
    definition = definition_of(indicator_id)
    check_breakdown(definition, breakdown)
    seen = set(await last_events(session, scope.regions))
    snapshots = await Workbook(session, scope).figures(definition, months, breakdown)
    series = []
    for region in scope.regions:
        points = []
        for month, totals in zip(months, snapshots, strict=True):
            figure = totals.get(region) or Figure()
            known = region in seen
            points.append(
                SeriesPoint(
                    month=f"{month:%Y-%m}",
                    value=round(figure.value, 4) if known else None,
                    by_district=figure.by_district if known and definition.by_district else {},
                    breakdown=figure.by_key if known and breakdown else None,
                )
            )
        series.append(RegionSeries(region=region, points=points))
    return IndicatorSeries(
        **describe(definition).model_dump(),
        from_month=f"{months[0]:%Y-%m}",
        to_month=f"{months[-1]:%Y-%m}",
        breakdown_by=breakdown,
        series=series,
    )


async def state_overview(*, session: AsyncSession, scope: Scope, as_of: date) -> StateOverview:
    """Every region side by side for each indicator, ranked, with each region's freshness."""
    report = await indicator_report(session=session, scope=scope, as_of=as_of, districts=False)
    rows = [
        OverviewRow(
            indicator_id=i.id,
            label=i.label,
            unit=i.unit,
            cells=[OverviewCell(region=v.region, value=v.value, rank=v.rank) for v in i.values],
        )
        for i in report.indicators
    ]
    return StateOverview(as_of=as_of, regions=scope.regions, rows=rows, freshness=report.freshness_states)


async def current_value(
    *, session: AsyncSession, scope: Scope, indicator_id: str, as_of: date, district: str | None = None
) -> float | None:
    """The region's (or one district's) value of an indicator as of a day; None without data."""
    indicator = await indicator_as_of(session=session, scope=scope, indicator_id=indicator_id, as_of=as_of)
    value = indicator.values[0]
    if value.value is None:
        return None
    if district is not None:
        return value.by_district.get(district, 0.0)
    return value.value


async def monthly_series(
    *,
    session: AsyncSession,
    scope: Scope,
    indicator_id: str,
    first: str | None,
    last: str | None,
    breakdown: str | None = None,
) -> IndicatorSeries:
    """The indicator's monthly series from ``first`` to ``last`` (YYYY-MM; defaults as ``month_range``)."""
    definition_of(indicator_id)
    today = datetime.now(UTC).date()
    months = month_range(first, last, today=today)
    if last is not None and months[-1].replace(day=1) > today.replace(day=1):
        raise Invalid("Period longer than the data", [("to", "after the current month")])
    data_start = await first_day_of_data(session, scope.regions)
    if first is not None and data_start is not None and months[0].replace(day=1) < data_start.replace(day=1):
        raise Invalid(
            "Period longer than the data",
            [("from", f"the data start in {data_start:%Y-%m}")],
            detail=f"The figures of the regions asked for start in {data_start:%Y-%m}.",
        )
    return await indicator_series(
        session=session, scope=scope, indicator_id=indicator_id, months=months, breakdown=breakdown
    )
