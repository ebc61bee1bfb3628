"""Open-data exports: CSV and JSON per indicator, a DCAT-AP.de catalogue (Turtle, JSON-LD) of
the published datasets, and charts (SVG, PNG). Pure rendering of already computed figures."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from types import ModuleType

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from nzr_reporting.indicators.catalogue import INDICATORS, IndicatorDefinition
from nzr_reporting.indicators.schemas import IndicatorSeries

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")
EU_FREQUENCY_MONTHLY = URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
EU_LANGUAGE_DEU = URIRef("http://publications.europa.eu/resource/authority/language/DEU")
LICENSE_DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
SAXONY = URIRef("http://dcat-ap.de/def/politicalGeocoding/stateKey/14")
DISTRICT_KEY = "http://dcat-ap.de/def/politicalGeocoding/districtKey/"
LEVEL_STATE = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/state")
LEVEL_DISTRICT = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict")


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


@dataclass(frozen=True)
class CatalogueFacts:
    """What a DCAT-AP.de catalogue says besides its datasets (configurable in the settings)."""

    base_url: str
    publisher: str
    region: str
    contributor_id: str
    contact_email: str
    license: str
    issued: date
    modified: date
    districts: tuple[str, ...]
    period: tuple[date, date]


def district_uri(ags: str) -> URIRef:
    """The official DCAT-AP.de URI of a district (Kreisschlüssel: the first five digits of the AGS)."""
    return URIRef(f"{DISTRICT_KEY}{ags[:5]}")


def dcat_catalogue(facts: CatalogueFacts, indicators: tuple[IndicatorDefinition, ...] = INDICATORS) -> Graph:
    """A DCAT-AP.de catalogue (valid against the official 2.0 and 3.0 shapes): one dataset per
    indicator with a CSV and a JSON distribution."""
    base = facts.base_url.rstrip("/") + "/api/v1/reports"
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("dcatde", DCATDE),
        ("foaf", FOAF),
        ("vcard", VCARD),
    ):
        graph.bind(prefix, namespace)
    catalogue = URIRef(f"{base}/catalogue")
    agent = URIRef(f"{base}/catalogue#publisher")
    contact = URIRef(f"{base}/catalogue#contact")
    period = URIRef(f"{base}/catalogue#period")
    license_uri = URIRef(facts.license)
    issued = Literal(facts.issued.isoformat(), datatype=XSD.date)
    modified = Literal(facts.modified.isoformat(), datatype=XSD.date)
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(facts.publisher, lang="de")))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(facts.publisher)))
    graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{facts.contact_email}")))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    graph.add((period, DCAT.startDate, Literal(facts.period[0].isoformat(), datatype=XSD.date)))
    graph.add((period, DCAT.endDate, Literal(facts.period[1].isoformat(), datatype=XSD.date)))
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add(
        (
            catalogue,
            DCTERMS.title,
            Literal(f"Indikatoren Netzwerk Zukunft Regional ({facts.region})", lang="de"),
        )
    )
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            Literal(
                "Kennzahlen regionaler Nachhaltigkeitsnetzwerke: Akteure, Kooperationen, Veranstaltungen, "
                "Vereinbarungen, Newsletter und Fördermittel.",
                lang="de",
            ),
        )
    )
    graph.add((catalogue, DCTERMS.publisher, agent))
    graph.add((catalogue, DCTERMS.language, EU_LANGUAGE_DEU))
    graph.add((catalogue, DCTERMS.issued, issued))
    graph.add((catalogue, DCTERMS.modified, modified))
    graph.add((catalogue, FOAF.homepage, URIRef(f"{base}/dashboard")))
    graph.add((catalogue, DCTERMS.license, license_uri))
    spatial = [SAXONY, *(district_uri(ags) for ags in facts.districts)]
    for indicator in indicators:
        dataset = URIRef(f"{base}/indicators/{indicator.id}")
        graph.add((catalogue, DCAT.dataset, dataset))
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
        graph.add((dataset, DCTERMS.title, Literal(indicator.label, lang="de")))
        graph.add(
            (
                dataset,
                DCTERMS.description,
                Literal(f"{indicator.definition} Einheit: {indicator.unit}.", lang="de"),
            )
        )
        graph.add((dataset, DCAT.keyword, Literal(indicator.theme, lang="de")))
        graph.add((dataset, DCAT.theme, EU_THEME))
        graph.add((dataset, DCTERMS.publisher, agent))
        graph.add((dataset, DCAT.contactPoint, contact))
        graph.add((dataset, DCTERMS.accrualPeriodicity, EU_FREQUENCY_MONTHLY))
        graph.add((dataset, DCTERMS.issued, issued))
        graph.add((dataset, DCTERMS.modified, modified))
        graph.add((dataset, DCAT.landingPage, URIRef(f"{base}/dashboard?indikator={indicator.id}")))
        graph.add((dataset, DCTERMS.temporal, period))
        for place in spatial:
            graph.add((dataset, DCTERMS.spatial, place))
        graph.add(
            (dataset, DCATDE.politicalGeocodingLevelURI, LEVEL_DISTRICT if facts.districts else LEVEL_STATE)
        )
        graph.add((dataset, DCATDE.contributorID, URIRef(facts.contributor_id)))
        for extension, media_type, file_type in (
            ("csv", "text/csv", "CSV"),
            ("json", "application/json", "JSON"),
        ):
            distribution = URIRef(f"{base}/indicators/{indicator.id}/export.{extension}")
            graph.add((dataset, DCAT.distribution, distribution))
            graph.add((distribution, RDF.type, DCAT.Distribution))
            graph.add((distribution, DCTERMS.title, Literal(f"{indicator.label} ({file_type})", lang="de")))
            graph.add((distribution, DCAT.accessURL, distribution))
            graph.add((distribution, DCAT.downloadURL, distribution))
            graph.add(
                (
                    distribution,
                    DCAT.mediaType,
                    URIRef(f"https://www.iana.org/assignments/media-types/{media_type}"),
                )
            )
            graph.add((distribution, DCTERMS.format, URIRef(EU_FILE_TYPE + file_type)))
            graph.add((distribution, DCTERMS.license, license_uri))
            graph.add((distribution, DCTERMS.issued, issued))
            graph.add((distribution, DCTERMS.modified, modified))
            graph.add((distribution, DCATDE.licenseAttributionByText, Literal(facts.publisher)))
    return graph


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
