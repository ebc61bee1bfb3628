"""The DCAT-AP.de catalogue (Turtle, JSON-LD) of the published indicator datasets, for open-data
portals. Its own module, imported by the catalogue routes when first asked: rdflib is ~7 MB
resident that a reporting process serving no catalogue does not need (issue #20)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from nzr_reporting.indicators.catalogue import INDICATORS, IndicatorDefinition

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")
EU_FREQUENCY_MONTHLY = URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
EU_LANGUAGE_DEU = URIRef("http://publications.europa.eu/resource/authority/language/DEU")
SAXONY = URIRef("http://dcat-ap.de/def/politicalGeocoding/stateKey/14")
DISTRICT_KEY = "http://dcat-ap.de/def/politicalGeocoding/districtKey/"
LEVEL_STATE = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/state")
LEVEL_DISTRICT = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict")


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
