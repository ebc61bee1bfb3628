"""Open-data exports: CSV and JSON per indicator, a DCAT-AP.de catalogue (Turtle, JSON-LD) of
the published datasets, and charts (SVG, PNG). Pure rendering of already computed figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from types import ModuleType

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from nzr_reporting.indicators.catalogue import INDICATORS, IndicatorDefinition
from nzr_reporting.indicators.schemas import IndicatorSeries

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")
EU_FREQUENCY_MONTHLY = URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
EU_LANGUAGE_DEU = URIRef("http://publications.europa.eu/resource/authority/language/DEU")
LICENSE_DL_BY = URIRef("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
SAXONY = URIRef("http://dcat-ap.de/def/politicalGeocoding/stateKey/14")


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


def series_json(series: IndicatorSeries, *, population_source: str | None) -> str:
    document = series.model_dump(mode="json")
    document["population_source"] = population_source
    document["license"] = str(LICENSE_DL_BY)
    return json.dumps(document, ensure_ascii=False, indent=2)


def dcat_catalogue(
    *,
    base_url: str,
    publisher: str,
    region: str,
    modified: date,
    indicators: tuple[IndicatorDefinition, ...] = INDICATORS,
) -> Graph:
    """A DCAT-AP.de catalogue: one dataset per indicator with a CSV and a JSON distribution."""
    base = base_url.rstrip("/") + "/api/v1/reports"
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
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(publisher, lang="de")))
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add(
        (catalogue, DCTERMS.title, Literal(f"Indikatoren Netzwerk Zukunft Regional ({region})", lang="de"))
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
    graph.add((catalogue, DCTERMS.modified, Literal(modified.isoformat(), datatype=XSD.date)))
    graph.add((catalogue, FOAF.homepage, URIRef(f"{base}/dashboard")))
    for indicator in indicators:
        dataset = URIRef(f"{base}/indicators/{indicator.id}")
        graph.add((catalogue, DCAT.dataset, dataset))
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, DCTERMS.identifier, Literal(indicator.id)))
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
        graph.add((dataset, DCTERMS.accrualPeriodicity, EU_FREQUENCY_MONTHLY))
        graph.add((dataset, DCTERMS.modified, Literal(modified.isoformat(), datatype=XSD.date)))
        graph.add((dataset, DCTERMS.spatial, SAXONY))
        graph.add(
            (
                dataset,
                DCATDE.politicalGeocodingLevelURI,
                URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/state"),
            )
        )
        graph.add((dataset, DCATDE.contributorID, URIRef("http://dcat-ap.de/def/contributors/")))
        contact = BNode()
        graph.add((dataset, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Organization))
        graph.add((contact, VCARD.fn, Literal(publisher)))
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
            graph.add((distribution, DCTERMS.license, LICENSE_DL_BY))
            graph.add((distribution, DCATDE.licenseAttributionByText, Literal(publisher)))
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
        if len(series.series) > 1:
            axes.legend(loc="best", fontsize="small")
        axes.tick_params(axis="x", labelrotation=45, labelsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
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
