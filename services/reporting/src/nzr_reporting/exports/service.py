"""Open-data exports: CSV and JSON per indicator and charts (SVG, PNG); the DCAT-AP.de catalogue
is in ``exports.dcat``. Pure rendering of already computed figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from types import ModuleType

from nzr_reporting.indicators.schemas import IndicatorSeries

LICENSE_DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"


def series_csv(series: IndicatorSeries) -> str:
    """One row per region, month and (where known) district; with unit and definition columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indikator", "bezeichnung", "einheit", "region", "monat", "kreis", "wert", "definition"])
    for region_series in series.series:
        for point in region_series.points:
            value = "" if point.value is None else f"{point.value:g}"
            writer.writerow(
                [
                    series.id,
                    series.label,
                    series.unit,
                    region_series.region,
                    point.month,
                    "",
                    value,
                    series.definition,
                ]
            )
            for district, district_value in point.by_district.items():
                writer.writerow(
                    [
                        series.id,
                        series.label,
                        series.unit,
                        region_series.region,
                        point.month,
                        district,
                        f"{district_value:g}",
                        series.definition,
                    ]
                )
    return out.getvalue()


def series_json(
    series: IndicatorSeries, *, population_source: str | None, license: str = LICENSE_DL_BY
) -> str:
    document = series.model_dump(mode="json")
    document["population_source"] = population_source
    document["license"] = license
    return json.dumps(document, ensure_ascii=False, indent=2)


def _pyplot() -> ModuleType:
    """matplotlib (tens of MB) is loaded by the first chart, not by every reporting process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart(series: IndicatorSeries, *, image_format: str) -> bytes:
    """A line chart of the series, one line per region; SVG or PNG."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator  # with pyplot: only the first chart pays the import

    figure, axes = plt.subplots(figsize=(8, 4), dpi=100)
    try:
        for region_series in series.series:
            months = [p.month for p in region_series.points]
            values = [p.value for p in region_series.points]
            axes.plot(
                months,
                [float("nan") if v is None else v for v in values],
                marker="o",
                label=region_series.region,
            )
        axes.set_title(series.label)
        axes.set_ylabel(series.unit)
        axes.set_xlabel("Monat")
        axes.grid(alpha=0.3)
        # Counts (stocks and monthly additions) get whole-number ticks; shares and densities not.
        axes.yaxis.set_major_locator(MaxNLocator(integer=series.kind != "anteil", min_n_ticks=2))
        if len(series.series) > 1:
            axes.legend(loc="best", fontsize="small")
        axes.tick_params(axis="x", labelrotation=45, labelsize=8)
        figure.tight_layout(rect=(0, 0.05, 1, 1))
        figure.text(
            0.01,
            0.01,
            f"Quelle: Netzwerk Zukunft Regional, Monitoring (Ereignisse der Regionen) · "
            f"Stand: {date.today():%d.%m.%Y}",
            fontsize=7,
            color="#444444",
        )
        buffer = io.BytesIO()
        with plt.rc_context({"svg.fonttype": "none"}):  # text stays text: searchable, accessible
            figure.savefig(buffer, format=image_format, metadata=_chart_metadata(image_format))
        return buffer.getvalue()
    finally:
        plt.close(figure)


def district_chart(labels: list[str], values: list[float], *, title: str, unit: str) -> bytes:
    """A horizontal bar chart by district as SVG (the density 'map' of the dashboard)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 0.35 * max(len(labels), 3) + 1), dpi=100)
    try:
        axes.barh(labels, values, color="#2e7d32")
        axes.invert_yaxis()
        axes.set_title(title)
        axes.set_xlabel(unit)
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _chart_metadata(image_format: str) -> dict[str, str | None]:
    return {"Date": None} if image_format == "svg" else {}
