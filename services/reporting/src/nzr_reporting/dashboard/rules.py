"""Pure rules of the dashboard: which filters are valid, the link of a drill-down (filters kept
in the query string), and the colour classes of the map (a colour-blind-safe sequential scale)."""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from nzr_common.errors import Invalid
from nzr_reporting.indicators.catalogue import INDICATORS, IndicatorDefinition

#: ColorBrewer "YlGnBu", 5 classes: sequential, safe for colour-blind readers and in greyscale.
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
NO_DATA_COLOUR = "#e0e0e0"
THEMES: tuple[str, ...] = tuple(dict.fromkeys(d.theme for d in INDICATORS))


@dataclass(frozen=True)
class Filters:
    """What the reader chose; every field travels in the URL query (``None``: not chosen)."""

    region: str | None = None
    district: str | None = None
    from_month: str | None = None
    to_month: str | None = None
    theme: str | None = None
    indicator: str | None = None

    def query(self, **changes: str | None) -> str:
        """The query string of these filters with ``changes`` applied (None drops a field)."""
        chosen = replace(self, **changes)
        pairs = {
            "region": chosen.region,
            "district": chosen.district,
            "from": chosen.from_month,
            "to": chosen.to_month,
            "theme": chosen.theme,
            "indicator": chosen.indicator,
        }
        return "?" + urlencode({k: v for k, v in pairs.items() if v})


def indicators_of_theme(theme: str | None) -> list[IndicatorDefinition]:
    return [d for d in INDICATORS if theme is None or d.theme == theme]


def check_filters(
    filters: Filters, *, regions: list[str], districts: Collection[str]
) -> IndicatorDefinition | None:
    """422 naming every field at fault; returns the indicator for map and charts (the chosen
    one, else the theme's first with values by district, else its first)."""
    problems: list[tuple[str, str]] = []
    if filters.region is not None and filters.region not in regions:
        problems.append(("region", f"unknown region; known: {', '.join(regions)}"))
    if filters.district is not None and filters.district not in districts:
        problems.append(("district", "unknown district (AGS code) for this selection"))
    if filters.theme is not None and filters.theme not in THEMES:
        problems.append(("theme", f"unknown theme; known: {', '.join(THEMES)}"))
    shown = indicators_of_theme(filters.theme if filters.theme in THEMES else None)
    chosen = None
    if filters.indicator is not None:
        chosen = next((d for d in shown if d.id == filters.indicator), None)
        if chosen is None:
            problems.append(("indicator", "unknown indicator for the chosen theme"))
    if problems:
        raise Invalid("Invalid dashboard filter", problems)
    return chosen or next((d for d in shown if d.by_district), shown[0] if shown else None)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def is_count(definition: IndicatorDefinition) -> bool:
    """Counts (stocks and monthly additions) get integer axis ticks; shares and densities not."""
    return definition.kind != "anteil"


@dataclass(frozen=True)
class ColourClass:
    lower: float
    upper: float
    colour: str


def colour_classes(values: list[float], *, integer: bool) -> list[ColourClass]:
    """Up to five equal-interval classes from 0 (or the smallest negative value) to the largest
    value. Counts get whole-number bounds that do not overlap (0 – 2, 3 – 5, ...), and one class
    per number when there are five numbers or fewer."""
    if not values:
        return []
    low, high = min(0.0, min(values)), max(values)
    if high <= low:
        return [ColourClass(low, high, PALETTE[0])]
    if integer and high - low + 1 <= len(PALETTE):
        numbers = [low + i for i in range(int(high - low) + 1)]
        palette = _spread(len(numbers))
        return [ColourClass(n, n, palette[i]) for i, n in enumerate(numbers)]
    count = len(PALETTE)
    step = (high - low) / count
    bounds = [low + step * i for i in range(count + 1)]
    if integer:
        bounds = [float(round(b)) for b in bounds]
        return [ColourClass(bounds[i] + (1 if i else 0), bounds[i + 1], PALETTE[i]) for i in range(count)]
    return [ColourClass(bounds[i], bounds[i + 1], PALETTE[i]) for i in range(count)]


def _spread(count: int) -> tuple[str, ...]:
    """``count`` colours from the palette, light to dark, as far apart as possible."""
    if count == 1:
        return (PALETTE[2],)
    last = len(PALETTE) - 1
    return tuple(PALETTE[round(i * last / (count - 1))] for i in range(count))


def colour_of(value: float | None, classes: list[ColourClass]) -> str:
    if value is None or not classes:
        return NO_DATA_COLOUR
    for colour_class in classes:
        if value <= colour_class.upper:
            return colour_class.colour
    return classes[-1].colour


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"
