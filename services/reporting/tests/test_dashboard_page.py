"""The dashboard as state staff use it: in one headless Chromium session at 390 px width (no
console errors, axe-core WCAG 2.1 AA without violations, no horizontal scrolling, the map's 13
districts carrying the chosen indicator's values, filters kept in the URL, drill-down from region
to district), plus English, a GeoJSON boundary file and bad filters over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn

from nzr_common.regions import load_districts
from nzr_common.testing.waiting import eventually
from nzr_reporting.dashboard.service import german_number

from .browser import CHROMIUM, Browser
from .conftest import Reporting, start_reporting
from .events import DRESDEN, LEIPZIG, actor, gathering_completed

BOUNDARIES = Path(__file__).parent / "fixtures" / "kreise-ausschnitt.geojson"


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian: apt-get install -y chromium)")
async def test_dashboard_in_chromium_at_390_px_is_accessible_filterable_and_drills_down(reporting: Reporting):
    await reporting.publish(
        actor(district=LEIPZIG),
        actor(district=DRESDEN),
        actor(district=DRESDEN),
        gathering_completed(district=DRESDEN, participants=7),
    )
    await reporting.settled()
    report = await reporting.get("/indicators")
    server = uvicorn.Server(
        uvicorn.Config(reporting.running.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0.01, result=server.started))
        port = server.servers[0].sockets[0].getsockname()[1]
        seen = await asyncio.to_thread(browse, f"http://127.0.0.1:{port}/api/v1/reports/dashboard")
    finally:
        server.should_exit = True
        await task

    assert seen["console"] == [], seen["console"]
    for page, violations in seen["axe"].items():
        assert violations == [], f"{page}: {json.dumps(violations, indent=1)}"
    for page, width in seen["scroll_width"].items():
        assert width <= 390, f"{page} scrolls sideways: {width} px"
    for indicator in report["indicators"]:
        assert german_number(indicator["values"][0]["value"]) in seen["text"]
    # The map: every Saxon district once, coloured and labelled with the actors' count.
    assert sorted(seen["map"]) == sorted(load_districts())
    assert seen["map"][DRESDEN] == {"value": "2", "label": "Dresden: 2 Anzahl"}
    assert seen["map"][LEIPZIG]["value"] == "1" and seen["map"]["14626000"]["value"] == "0"
    assert len({area["fill"] for area in seen["fills"]}) >= 2
    # Filters travel in the URL and survive the drill-down to a district.
    chosen = parse_qs(urlsplit(seen["after_submit"]).query)
    assert chosen["theme"] == ["Veranstaltungen"] and chosen["indicator"] == ["participants_total"]
    drilled = parse_qs(urlsplit(seen["after_drill_down"]).query)
    assert drilled["district"] == [DRESDEN] and drilled["theme"] == ["Veranstaltungen"]
    assert drilled["indicator"] == ["participants_total"] and drilled["from"] == chosen["from"]
    assert seen["district_selected"] == DRESDEN
    assert seen["district_heading"].endswith("Dresden")
    assert seen["participants_in_district"] == "7"
    # Every chart: integer ticks for counts, source and date below it, a table view.
    assert seen["charts"] >= 2 and seen["captions_with_source"] == seen["charts"]
    assert seen["chart_tables"] == seen["charts"]


def browse(url: str) -> dict[str, Any]:
    """Everything the test checks, gathered in one browser session."""
    seen: dict[str, Any] = {"axe": {}, "scroll_width": {}}
    with Browser(width=390, height=844) as browser:
        browser.open(url)
        seen["axe"]["start"] = browser.axe_violations()
        seen["scroll_width"]["start"] = browser.evaluate("document.documentElement.scrollWidth")
        seen["text"] = browser.evaluate("document.body.innerText")
        seen["map"] = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('svg[data-map] a[data-district]')].map(a =>"
            " [a.dataset.district, {value: a.dataset.value.replace(/\\.0$/, ''),"
            " label: a.getAttribute('aria-label')}]))"
        )
        seen["fills"] = browser.evaluate(
            "[...document.querySelectorAll('svg[data-map] rect')].map(r => ({fill: r.getAttribute('fill')}))"
        )
        browser.follow(
            "document.getElementById('f-theme').value = 'Veranstaltungen';"
            "document.getElementById('f-indicator').innerHTML ="
            " '<option value=\"participants_total\" selected>x</option>';"
            "document.querySelector('form.filter').submit()"
        )
        seen["after_submit"] = browser.evaluate("location.href")
        browser.follow(f"document.querySelector('table[data-table=kreise] a[href*=\"{DRESDEN}\"]').click()")
        seen["after_drill_down"] = browser.evaluate("location.href")
        seen["axe"]["district"] = browser.axe_violations()
        seen["scroll_width"]["district"] = browser.evaluate("document.documentElement.scrollWidth")
        seen["district_selected"] = browser.evaluate("document.getElementById('f-district').value")
        seen["district_heading"] = browser.evaluate(
            "document.getElementById('kennzahlen-titel').textContent.trim()"
        )
        seen["participants_in_district"] = browser.evaluate(
            "document.querySelector('td[data-indicator=participants_total]').textContent.trim()"
        )
        seen["charts"] = browser.evaluate("document.querySelectorAll('figure[data-chart] svg').length")
        seen["captions_with_source"] = browser.evaluate(
            "[...document.querySelectorAll('figure[data-chart] figcaption')]"
            ".filter(c => /Quelle: .+Stand: \\d\\d\\.\\d\\d\\.\\d{4}/.test(c.textContent)).length"
        )
        seen["chart_tables"] = browser.evaluate(
            "[...document.querySelectorAll('figure[data-chart] + details table tbody tr')].length > 0"
            " ? document.querySelectorAll('figure[data-chart] + details').length : 0"
        )
        seen["console"] = browser.console_errors
    return seen


async def test_dashboard_speaks_english_draws_boundaries_and_names_bad_filters(
    nats_url: str, databases: Any, nats_js: Any
):
    async with start_reporting(nats_url, databases, nats_js, dashboard_boundaries=BOUNDARIES) as service:
        await service.publish(actor(district=DRESDEN), actor(district=LEIPZIG))
        await service.settled()
        page = (await service.client.get("/api/v1/reports/dashboard")).text
        # The boundary file has three districts: their outlines are drawn, keyed by AGS or RS.
        drawn = page.split('data-map="grenzen"')[1].split("</svg>")[0]
        areas = dict(re.findall(r'data-district="(\d+)"\s+data-value="([^"]*)"', drawn))
        assert sorted(areas) == sorted([DRESDEN, LEIPZIG, "14511000"]) and areas[DRESDEN] == "1.0"
        outlines = re.findall(r'<path d="(M[^"]+)"', drawn)
        assert len(outlines) == 3 and sum(outline.count("M") for outline in outlines) == 4  # Leipzig: 2 rings
        assert "GeoBasis-DE" in page and "Dresden (Wasserfläche)" not in page
        english = await service.client.get(
            "/api/v1/reports/dashboard", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
        )
        assert english.headers["content-language"] == "en" and '<html lang="en">' in english.text
        assert "Actors in the network" in english.text and "Source:" in english.text
        bad = await service.client.get(
            "/api/v1/reports/dashboard",
            params={"district": "99999000", "theme": "Wetter", "from": "2026-13", "indicator": "x"},
        )
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        named = {p["name"] for p in bad.json()["invalid_params"]}
        assert {"district", "theme", "indicator"} <= named, bad.json()
        for params, field in (({"from": "2026-13"}, "from"), ({"to": "2999-01"}, "to")):
            answer = await service.client.get("/api/v1/reports/dashboard", params=params)
            assert answer.status_code == 422 and answer.json()["invalid_params"][0]["name"] == field
