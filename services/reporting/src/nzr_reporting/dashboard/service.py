"""The dashboard page for state staff and regional coordinators: filters (region, district,
period, theme) kept in the URL, drill-down from region to district, a map of the districts
coloured by the chosen indicator, charts with their source and a table each, goals' progress
and data freshness (German, English by ``Accept-Language``; no script)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Invalid
from nzr_common.regions import DISTRICTS_SOURCE
from nzr_reporting.dashboard import charts, maps, texts
from nzr_reporting.dashboard.rules import (
    NO_DATA_COLOUR,
    THEMES,
    Filters,
    check_filters,
    colour_classes,
    colour_of,
    indicators_of_theme,
    is_count,
    month_end,
    text_colour,
)
from nzr_reporting.goals import service as goals
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import IndicatorDefinition
from nzr_reporting.indicators.schemas import IndicatorReport, IndicatorSeries
from nzr_reporting.indicators.scope import Scope

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

#: A key figure's cell: the value and the region's rank (None outside a comparison).
Cell = tuple[float | None, int | None]


@cache
def _environment() -> Environment:
    """The page's template, built with the first dashboard: Jinja2 is not loaded before (issue #20)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("nzr_reporting", "templates"), autoescape=select_autoescape(["html"])
    )


def german_number(value: float | None) -> str:
    """1234.5 → '1.234,5'; no value → '–' (never a misleading zero)."""
    return texts.format_number(value, "de")


@dataclass(frozen=True)
class Page:
    """Who asks and how the service is set up (everything the page needs besides the data)."""

    filters: Filters
    language: str
    state: bool
    own_region: str
    all_regions: list[str]
    publisher: str
    boundaries: Path | None = None
    boundaries_attribution: str = ""


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    value: float | None
    text: str
    colour: str
    text_colour: str
    href: str
    selected: bool
    shape: maps.Shape


def _period(filters: Filters, today: date) -> tuple[list[date], date]:
    months = indicators.month_range(filters.from_month, filters.to_month, today=today)
    if months[-1].replace(day=1) > today.replace(day=1):
        raise Invalid("Invalid dashboard filter", [("to", "lies in the future")])
    return months, min(today, month_end(months[-1]))


def _district_codes(scope: Scope) -> list[str]:
    return list(scope.own_region_districts if scope.own_region_districts is not None else scope.districts)


def _district_values(report: IndicatorReport, indicator_id: str, codes: list[str]) -> dict[str, float | None]:
    """The indicator's value per district over the regions in view (0 where a region with data
    has none in a district; None where no region has data yet)."""
    indicator = next(i for i in report.indicators if i.id == indicator_id)
    known = [v for v in indicator.values if v.value is not None]
    merged: dict[str, float] = {}
    for value in known:
        for code, figure in value.by_district.items():
            merged[code] = merged.get(code, 0.0) + figure
    return {code: merged.get(code, 0.0) if known else None for code in codes}


@dataclass(frozen=True)
class Chart:
    """A chart with its caption and the table of its numbers (header, then one row per item)."""

    svg: Markup
    caption: str
    header: list[str]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class View:
    """What every section of one page shares: the reader's language and filters, the districts."""

    language: str
    filters: Filters
    codes: list[str]
    names: dict[str, str]

    @property
    def words(self) -> dict[str, str]:
        return texts.words(self.language)

    def number(self, value: float | None) -> str:
        return texts.format_number(value, self.language)

    def label(self, definition: IndicatorDefinition) -> str:
        return texts.indicator_label(definition.id, definition.label, self.language)

    def unit(self, definition: IndicatorDefinition) -> str:
        return texts.unit_label(definition.unit, self.language)


def _figures(view: View, report: IndicatorReport) -> list[tuple[IndicatorDefinition, str, str, list[Cell]]]:
    """The key figures of the theme: per region, or the chosen district's value."""
    by_id = {i.id: i for i in report.indicators}
    district = view.filters.district
    rows = []
    for definition in indicators_of_theme(view.filters.theme):
        cells: list[Cell] = []
        for value in by_id[definition.id].values:
            if district is None:
                cells.append((value.value, value.rank))
            elif definition.by_district and value.value is not None:
                cells.append((value.by_district.get(district, 0.0), None))
            else:
                cells.append((None, None))
        rows.append((definition, view.label(definition), view.unit(definition), cells))
    return rows


def _district_map(
    view: View, definition: IndicatorDefinition, values: dict[str, float | None], boundaries: Path | None
) -> tuple[maps.DistrictMap, list[MapArea], list[tuple[str, str]]]:
    """The map's areas coloured by value, and the legend (colour, range)."""
    classes = colour_classes([v for v in values.values() if v is not None], integer=is_count(definition))
    legend = [
        (
            c.colour,
            view.number(c.lower)
            if c.lower == c.upper
            else f"{view.number(c.lower)} – {view.number(c.upper)}",
        )
        for c in classes
    ]
    legend.append((NO_DATA_COLOUR, view.words["no_data"]))
    layout = maps.tile_map(view.codes, view.names)
    if boundaries is not None:
        try:
            layout = maps.boundary_map(boundaries, view.codes)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
            # A broken boundary file must not take the page down: the tile grid stands in.
            log.warning("dashboard boundary file %s unusable, showing the tile map: %s", boundaries, error)
    areas = []
    for shape in layout.shapes:
        value = values.get(shape.code)
        colour = colour_of(value, classes)
        areas.append(
            MapArea(
                code=shape.code,
                name=view.names.get(shape.code, shape.code),
                value=value,
                text=view.number(value),
                colour=colour,
                text_colour=text_colour(colour),
                href=view.filters.query(district=shape.code),
                selected=shape.code == view.filters.district,
                shape=shape,
            )
        )
    return layout, areas, legend


def _district_chart(view: View, definition: IndicatorDefinition, values: dict[str, float | None]) -> Chart:
    caption = view.words["chart_districts"].format(indicator=view.label(definition))
    unit = view.unit(definition)
    return Chart(
        svg=charts.bar_chart(
            labels=tuple(view.names[c] for c in view.codes),
            values=tuple(values[c] for c in view.codes),
            title=caption,
            unit=unit,
            integer=is_count(definition),
            language=view.language,
            chart_id="chart-kreise",
        ),
        caption=caption,
        header=[view.words["district"], f"{view.label(definition)} ({unit})"],
        rows=[(view.names[c], view.number(values[c])) for c in view.codes],
    )


def _series_chart(view: View, definition: IndicatorDefinition, series: IndicatorSeries) -> Chart | None:
    """Monthly values per region, or of the chosen district (None: nothing to draw)."""
    district = view.filters.district
    lines: list[tuple[str, list[float | None]]] = []
    for region_series in series.series:
        if district is None:
            lines.append((region_series.region, [p.value for p in region_series.points]))
        elif definition.by_district:
            lines.append(
                (
                    f"{region_series.region} – {view.names[district]}",
                    [
                        None if p.value is None else p.by_district.get(district, 0.0)
                        for p in region_series.points
                    ],
                )
            )
    if not lines:
        return None
    months = [p.month for p in series.series[0].points]
    caption = view.words["chart_series"].format(indicator=view.label(definition))
    unit = view.unit(definition)
    return Chart(
        svg=charts.line_chart(
            months=tuple(months),
            lines=tuple((name, tuple(values)) for name, values in lines),
            title=caption,
            unit=unit,
            x_label=view.words["month"],
            integer=is_count(definition),
            language=view.language,
            chart_id="chart-verlauf",
        ),
        caption=caption,
        header=[view.words["month"], *(f"{name} ({unit})" for name, _ in lines)],
        rows=[(month, *(view.number(values[i]) for _, values in lines)) for i, month in enumerate(months)],
    )


async def render_dashboard(*, session: AsyncSession, scope: Scope, page: Page) -> str:
    """The whole page as HTML for the filters (422 naming the field for a bad one)."""
    language, filters = page.language, page.filters
    codes = _district_codes(scope)
    names = {code: scope.districts[code].name for code in codes if code in scope.districts}
    ordered = sorted((c for c in codes if c in names), key=lambda c: names[c].removeprefix("Landkreis "))
    view = View(language=language, filters=filters, codes=ordered, names=names)
    words = view.words
    chosen = check_filters(filters, regions=page.all_regions, districts=names)
    months, as_of = _period(filters, datetime.now(UTC).date())
    report = await indicators.indicator_report(session=session, scope=scope, as_of=as_of)
    area_map: tuple[maps.DistrictMap, list[MapArea]] | None = None
    legend: list[tuple[str, str]] = []
    district_rows: list[tuple[str, str, float | None, str]] = []
    chart_list: list[Chart] = []
    if chosen is not None:
        if chosen.by_district:
            values = _district_values(report, chosen.id, view.codes)
            layout, areas, legend = _district_map(view, chosen, values, page.boundaries)
            area_map = (layout, areas)
            district_rows = [(c, names[c], values[c], filters.query(district=c)) for c in view.codes]
            chart_list.append(_district_chart(view, chosen, values))
        series = await indicators.indicator_series(
            session=session, scope=scope, indicator_id=chosen.id, months=months
        )
        series_chart = _series_chart(view, chosen, series)
        if series_chart is not None:
            chart_list.insert(0, series_chart)

    progress = []
    if not page.state:
        for goal in await goals.list_goals(session=session, region=page.own_region):
            if goal.indicator_id and goal.target_value is not None and goal.target_date:
                progress.append(
                    await goals.goal_progress(
                        session=session, scope=scope, region=page.own_region, goal_id=goal.id, as_of=as_of
                    )
                )
    goals_overview = (
        await goals.goals_of_regions(session=session, scope=scope, as_of=as_of) if page.state else None
    )
    title = words["title_state"] if page.state else words["title_region"].format(region=page.own_region)
    template = _environment().get_template("dashboard.html")
    return template.render(
        w=words,
        language=language,
        title=title,
        filters=filters,
        state=page.state,
        all_regions=page.all_regions,
        regions=scope.regions,
        district_names=names,
        themes=[(t, texts.theme_label(t, language)) for t in THEMES],
        indicator_choices=[(d.id, view.label(d)) for d in indicators_of_theme(filters.theme)],
        chosen=chosen,
        chosen_label=view.label(chosen) if chosen else "",
        chosen_unit=view.unit(chosen) if chosen else "",
        as_of=as_of,
        as_of_text=texts.format_date(as_of, language),
        first_month=f"{months[0]:%Y-%m}",
        last_month=f"{months[-1]:%Y-%m}",
        figures=_figures(view, report),
        area_map=area_map,
        legend=legend,
        district_rows=district_rows,
        charts=chart_list,
        source=words["source_text"].format(publisher=page.publisher),
        population_source=DISTRICTS_SOURCE if chosen and chosen.id == "actor_density_per_10k" else None,
        boundaries_attribution=page.boundaries_attribution if page.boundaries else None,
        number=view.number,
        freshness=report.freshness_states,
        freshness_labels=texts.FRESHNESS[language],
        goal_labels=texts.GOAL_STATES[language],
        progress=progress,
        goals_overview=goals_overview,
        format_date=lambda day: texts.format_date(day, language),
    )
