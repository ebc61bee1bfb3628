"""The dashboard page for state staff and regional coordinators: key indicators side by side,
actor density by district, time series, goals' progress and data freshness (German, no script)."""

from __future__ import annotations

from datetime import date

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.regions import DISTRICTS_SOURCE
from nzr_reporting.exports import service as exports
from nzr_reporting.goals import service as goals
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import INDICATORS
from nzr_reporting.indicators.rules import months_between
from nzr_reporting.indicators.scope import Scope

SERIES_SHOWN = ("actors_total", "cooperations_active", "gatherings_held")
FRESHNESS_LABELS = {"aktuell": "aktuell", "veraltet": "veraltet", "keine_daten": "keine Daten"}
GOAL_LABELS = {
    "erreicht": "erreicht",
    "im_plan": "im Plan",
    "gefaehrdet": "gefährdet",
    "verfehlt": "verfehlt",
    "ohne_daten": "ohne Daten",
}

_environment = Environment(
    loader=PackageLoader("nzr_reporting", "templates"), autoescape=select_autoescape(["html"])
)


def german_number(value: float | None) -> str:
    """1234.5 → '1.234,5'; no value → '–' (never a misleading zero)."""
    if value is None:
        return "–"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


_environment.filters["de"] = german_number


def _inline_svg(svg: bytes) -> Markup:
    text = svg.decode()
    return Markup(text[text.index("<svg") :])


async def render_dashboard(
    *,
    session: AsyncSession,
    scope: Scope,
    as_of: date,
    title: str,
    goals_region: str | None,
    district_names: dict[str, str],
    regions_goals: bool = False,
) -> str:
    """The whole page as HTML (``regions_goals``: every region's goals side by side, state mode)."""
    report = await indicators.indicator_report(session=session, scope=scope, as_of=as_of)
    by_id = {i.id: i for i in report.indicators}
    headline = [i for i in report.indicators if any(d.id == i.id and d.headline for d in INDICATORS)]
    density = by_id["actor_density_per_10k"]
    density_charts = []
    for value in density.values:
        if value.by_district:
            codes = list(value.by_district)
            density_charts.append(
                (
                    value.region,
                    _inline_svg(
                        exports.district_chart(
                            [district_names.get(c, c) for c in codes],
                            [value.by_district[c] for c in codes],
                            title=f"Akteursdichte nach Kreis – {value.region}",
                            unit=density.unit,
                        )
                    ),
                )
            )
    months = months_between(as_of.replace(year=as_of.year - 1, day=1), as_of)
    series_charts = []
    for indicator_id in SERIES_SHOWN:
        series = await indicators.indicator_series(
            session=session, scope=scope, indicator_id=indicator_id, months=months
        )
        series_charts.append((series.label, _inline_svg(exports.chart(series, image_format="svg"))))
    progress = []
    if goals_region is not None:
        for goal in await goals.list_goals(session=session, region=goals_region):
            if goal.indicator_id and goal.target_value is not None and goal.target_date:
                progress.append(
                    await goals.goal_progress(
                        session=session, scope=scope, region=goals_region, goal_id=goal.id, as_of=as_of
                    )
                )
    goals_overview = (
        await goals.goals_of_regions(session=session, scope=scope, as_of=as_of) if regions_goals else None
    )
    return _environment.get_template("dashboard.html").render(
        goals_overview=goals_overview,
        title=title,
        as_of=as_of,
        regions=scope.regions,
        headline=headline,
        report=report,
        density=density,
        density_charts=density_charts,
        series_charts=series_charts,
        progress=progress,
        district_names=district_names,
        freshness=report.freshness_states,
        freshness_labels=FRESHNESS_LABELS,
        goal_labels=GOAL_LABELS,
        population_source=DISTRICTS_SOURCE,
    )
