"""The dashboard's charts as inline SVG, drawn with matplotlib (the project's one charting
library): whole-number ticks for counts, the unit on the axis, numbers written the reader's
way, and ids made unique per chart so several charts can share one page. Drawing a chart costs
far more than computing its figures, so charts are kept by their inputs (LRU): the same
figures are drawn once. matplotlib (about 45 MB resident) is imported with the first chart,
not with the service: an idle reporting process does not carry it."""

from __future__ import annotations

import io
import re
from functools import cache, lru_cache
from types import ModuleType

from markupsafe import Markup, escape

from nzr_reporting.dashboard.texts import format_number

#: Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
LINE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BAR_COLOUR = "#2c7fb8"

_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^")]+)')

CACHED_CHARTS = 256


@cache
def _pyplot() -> ModuleType:
    """matplotlib's pyplot with the Agg backend (no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@lru_cache(maxsize=CACHED_CHARTS)
def line_chart(
    *,
    months: tuple[str, ...],
    lines: tuple[tuple[str, tuple[float | None, ...]], ...],
    title: str,
    unit: str,
    x_label: str,
    integer: bool,
    language: str,
    chart_id: str,
) -> Markup:
    """One line per series (region or district) over the months."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    try:
        for index, (label, values) in enumerate(lines):
            axes.plot(
                list(months),
                [float("nan") if v is None else v for v in values],
                marker="o",
                color=LINE_COLOURS[index % len(LINE_COLOURS)],
                label=label,
            )
        _axes(axes, value_axis=axes.yaxis, title=title, unit=unit, integer=integer, language=language)
        axes.set_xlabel(x_label)
        axes.tick_params(axis="x", labelrotation=45, labelsize=8)
        if len(lines) > 1:
            axes.legend(loc="best", fontsize="small")
        return _svg(figure, chart_id=chart_id, label=title)
    finally:
        plt.close(figure)


@lru_cache(maxsize=CACHED_CHARTS)
def bar_chart(
    *,
    labels: tuple[str, ...],
    values: tuple[float | None, ...],
    title: str,
    unit: str,
    integer: bool,
    language: str,
    chart_id: str,
) -> Markup:
    """Horizontal bars (one per district), the value written at each bar's end."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 0.3 * max(len(labels), 3) + 1.2), dpi=100)
    try:
        numbers = [0.0 if v is None else v for v in values]
        bars = axes.barh(list(labels), numbers, color=BAR_COLOUR)
        axes.bar_label(bars, labels=[format_number(v, language) for v in values], padding=3, fontsize=8)
        axes.invert_yaxis()
        axes.tick_params(axis="y", labelsize=8)
        _axes(axes, value_axis=axes.xaxis, title=title, unit=unit, integer=integer, language=language)
        axes.margins(x=0.12)
        return _svg(figure, chart_id=chart_id, label=title)
    finally:
        plt.close(figure)


def _axes(axes, *, value_axis, title: str, unit: str, integer: bool, language: str) -> None:  # type: ignore[no-untyped-def]  # matplotlib is untyped
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axes.set_title(title, fontsize=11)
    value_axis.set_label_text(unit)
    value_axis.set_major_locator(MaxNLocator(integer=integer, min_n_ticks=2))
    value_axis.set_major_formatter(FuncFormatter(lambda value, _: format_number(value, language)))
    if integer:
        lower, upper = (axes.get_ylim if value_axis is axes.yaxis else axes.get_xlim)()
        limits = axes.set_ylim if value_axis is axes.yaxis else axes.set_xlim
        limits(min(0, lower), max(upper, 1))
    axes.grid(alpha=0.3)


def _svg(figure, *, chart_id: str, label: str) -> Markup:  # type: ignore[no-untyped-def]  # matplotlib is untyped
    figure.tight_layout()
    buffer = io.BytesIO()
    # Text stays text (not glyph outlines): selectable, searchable and smaller.
    with _pyplot().rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode()
    text = text[text.index("<svg") :]
    text = _ID.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', text)
    text = _REFERENCE.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", text)
    opening = f'<svg role="img" aria-label="{escape(label)}" focusable="false"'
    return Markup(text.replace("<svg", opening, 1))
