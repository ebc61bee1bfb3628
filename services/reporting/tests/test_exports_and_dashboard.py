"""Open data (CSV, JSON, DCAT-AP.de, charts) and the dashboard page, checked in headless Chromium."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from xml.etree import ElementTree

from rdflib import Graph

from nzr_reporting.dashboard.service import german_number

from .conftest import Reporting
from .events import DRESDEN, LEIPZIG, actor, cooperation, gathering_completed


async def test_indicator_csv_and_json_carry_unit_definition_and_values(reporting: Reporting):
    await reporting.publish(actor(district=DRESDEN), actor(district=LEIPZIG))
    await reporting.settled()
    response = await reporting.client.get("/api/v1/reports/indicators/actors_total/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    latest = [r for r in rows if r["kreis"] == ""][-1]
    assert latest["einheit"] == "Anzahl" and latest["wert"] == "2" and latest["definition"]
    assert {r["kreis"] for r in rows if r["kreis"]} == {DRESDEN, LEIPZIG}
    document = (
        await reporting.client.get("/api/v1/reports/indicators/actor_density_per_10k/export.json")
    ).json()
    assert document["unit"] == "Akteure je 10.000 Einwohner"
    assert "Destatis" in document["population_source"]
    assert document["series"][0]["points"][-1]["value"] > 0


async def test_dcat_catalogue_lists_every_indicator_as_dataset_in_turtle_and_json_ld(reporting: Reporting):
    definitions = await reporting.get("/indicators/definitions")
    turtle = await reporting.client.get("/api/v1/reports/catalogue.ttl")
    assert turtle.headers["content-type"].startswith("text/turtle")
    jsonld = await reporting.client.get("/api/v1/reports/catalogue.jsonld")
    from rdflib.namespace import DCAT, RDF

    for text, fmt in ((turtle.text, "turtle"), (jsonld.text, "json-ld")):
        graph = Graph().parse(data=text, format=fmt)
        assert len(list(graph.subjects(RDF.type, DCAT.Catalog))) == 1
        assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == len(definitions)
        assert len(list(graph.subjects(RDF.type, DCAT.Distribution))) == 2 * len(definitions)
    assert "dcatde:licenseAttributionByText" in turtle.text


async def test_charts_are_served_as_svg_and_png(reporting: Reporting):
    await reporting.publish(actor())
    await reporting.settled()
    svg = await reporting.client.get("/api/v1/reports/indicators/actors_total/chart.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    # a count: whole-number ticks only (one actor used to give 0.96, 0.98, 1.00, …), source and date
    tree = ElementTree.fromstring(svg.content)
    texts = ["".join(t.itertext()).strip() for t in tree.iter("{http://www.w3.org/2000/svg}text")]
    ticks = [t for t in texts if t.replace(".", "").replace("−", "").isdigit()]
    assert ticks and all("." not in t for t in ticks), texts
    assert any(t.startswith("Quelle:") and "Stand:" in t for t in texts), texts
    png = await reporting.client.get("/api/v1/reports/indicators/actors_total/chart.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_numbers_are_written_the_german_way():
    assert german_number(1234.5) == "1.234,5"
    assert german_number(3) == "3"
    assert german_number(None) == "–"


async def test_dashboard_shows_the_figures_the_api_returns(reporting: Reporting):
    await reporting.publish(
        actor(district=DRESDEN),
        actor(district=DRESDEN),
        cooperation("a", "b"),
        gathering_completed(participants=1234),
    )
    await reporting.settled()
    page = (await reporting.client.get("/api/v1/reports/dashboard")).text
    report = await reporting.get("/indicators")
    assert '<html lang="de">' in page and "Datenaktualität" in page and "Akteursdichte" in page
    for indicator in report["indicators"]:
        value = indicator["values"][0]["value"]
        assert f'data-indicator="{indicator["id"]}" data-region="{reporting.region}"' in page
        assert german_number(value) in page
    assert "1.234" in page  # participants, German thousands separator


def test_dashboard_needs_no_script_to_show_its_figures():
    template = Path(__file__).resolve().parents[1] / "src/nzr_reporting/templates/dashboard.html"
    assert "<script" not in template.read_text()
