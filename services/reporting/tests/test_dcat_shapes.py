"""The DCAT-AP.de catalogue against the official SHACL shapes (2.0 and 3.0) with pyshacl, as
served over HTTP in Turtle and JSON-LD; every distribution answers on the public base URL."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH

from nzr_reporting.exports.dcat import VCARD
from nzr_reporting.settings import ReportingSettings

from .conftest import Reporting, start_reporting
from .events import DRESDEN, actor

SHAPES = Path(__file__).parent / "shapes"


@cache
def _load(*paths: Path) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path)
    return graph


def shapes(version: str) -> Graph:
    """The shapes of GovData's validator profile (``dcat-ap-de-imports.ttl`` only names imports)."""
    return _load(*(p for p in sorted((SHAPES / version).glob("*.ttl")) if "imports" not in p.name))


def vocabularies() -> Graph:
    """The vocabularies the shapes import (contributors, licences, EU authority tables, vCard …)."""
    return _load(*sorted((SHAPES / "vocab").iterdir()))


def violations(data: Graph, version: str) -> list[str]:
    _, report, _ = validate(
        data + vocabularies(), shacl_graph=shapes(version), inference="none", advanced=True
    )
    assert isinstance(report, Graph)
    return sorted(
        f"{report.value(result, SH.focusNode)}: {report.value(result, SH.resultMessage)}"
        for result in report.subjects(SH.resultSeverity, SH.Violation)
    )


@pytest.fixture
async def open_data(nats_url: str, databases: Any, nats_js: Any) -> Any:
    async with start_reporting(
        nats_url,
        databases,
        nats_js,
        public_base_url="http://testserver",
        dcat_contributor_id="http://dcat-ap.de/def/contributors/freistaatSachsen",
        open_data_license="http://dcat-ap.de/def/licenses/cc-by/4.0",
    ) as service:
        yield service


async def test_catalogue_passes_the_official_dcat_ap_de_shapes_and_every_download_answers(
    open_data: Reporting,
) -> None:
    await open_data.publish(actor(district=DRESDEN))
    await open_data.settled()
    downloads: set[str] = set()
    for path, fmt in (("catalogue.ttl", "turtle"), ("catalogue.jsonld", "json-ld")):
        response = await open_data.client.get(f"/api/v1/reports/{path}")
        assert response.status_code == 200
        data = Graph().parse(data=response.text, format=fmt)
        for version in ("v2.0", "v3.0"):
            assert violations(data, version) == [], (path, version)
        datasets = list(data.subjects(RDF.type, DCAT.Dataset))
        assert datasets
        for dataset in datasets:
            assert data.value(dataset, DCTERMS.issued) is not None
            assert data.value(dataset, DCAT.landingPage) is not None
            assert data.value(dataset, DCTERMS.temporal) is not None
            assert URIRef("http://dcat-ap.de/def/politicalGeocoding/districtKey/14612") in set(
                data.objects(dataset, DCTERMS.spatial)
            )
            contact = data.value(dataset, DCAT.contactPoint)
            assert str(data.value(contact, VCARD.hasEmail)).startswith("mailto:")
        assert {str(o) for o in data.objects(None, DCTERMS.license)} == {
            "http://dcat-ap.de/def/licenses/cc-by/4.0"
        }
        downloads |= {str(url) for url in data.objects(None, DCAT.downloadURL)}
    assert downloads
    for url in sorted(downloads):
        assert url.startswith("http://testserver/api/v1/reports/")
        assert (await open_data.client.get(url)).status_code == 200, url


def test_a_catalogue_without_contact_e_mail_or_contributor_fails_the_shapes() -> None:
    """The validation is not vacuous: the shapes catch what the old catalogue lacked."""
    data = Graph()
    dataset = URIRef("http://example.org/d")
    data.add((dataset, RDF.type, DCAT.Dataset))
    data.add((dataset, DCTERMS.title, Literal("Akteure", lang="de")))
    for version in ("v2.0", "v3.0"):
        assert violations(data, version)


def test_public_base_url_follows_the_port() -> None:
    assert ReportingSettings(port=8205).public_base_url == "http://127.0.0.1:8205"
    assert (
        ReportingSettings(public_base_url="https://daten.example").public_base_url == "https://daten.example"
    )
