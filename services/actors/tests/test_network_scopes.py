"""Below the municipality (Stadtteile from the region's settings), suggestions that follow every
change of the network, and metrics on any date.

Its own actors service: configured with SUBDISTRICTS, polling the network every 0.1 s."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from nzr_actors.app import create_app
from nzr_actors.settings import ActorsSettings
from nzr_common.testing.services import running_service

from .conftest import Actors

LEIPZIG = "14713000"
SUBDISTRICTS = {"Leipzig": ["Connewitz", "Gohlis", "Plagwitz"], "Markkleeberg": ["Gaschwitz"]}


@pytest.fixture(scope="module")
async def city(nats_url, databases, token_for) -> AsyncIterator[Actors]:  # type: ignore[no-untyped-def]
    region = f"r{uuid.uuid4().hex[:8]}"
    settings = ActorsSettings(
        region=region,
        nats_url=nats_url,
        database_url=await databases.new("actors"),
        subdistricts=SUBDISTRICTS,
        network_poll_seconds=0.1,
    )
    async with running_service(create_app, settings, "nzr_actors") as running:
        for _ in range(200):
            if (await running.client.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield Actors(
            running, region, nats_url, token_for("editor", region=region), token_for("admin", region=region)
        )


async def test_an_actor_names_a_stadtteil_of_its_municipality_from_the_settings(city, assert_problem):
    actor = await city.create(district=LEIPZIG, municipality="Leipzig", subdistrict="Gohlis")
    assert actor["subdistrict"] == "Gohlis"
    for fields in (
        {"municipality": "Leipzig", "subdistrict": "Mitte"},
        {"municipality": "Taucha", "subdistrict": "Gohlis"},
    ):
        body = {
            "name": f"Verein {uuid.uuid4().hex[:6]}",
            "kind": "verein",
            "sector": "zivilgesellschaft",
            "district": LEIPZIG,
            **fields,
        }
        assert_problem(
            await city.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=city.editor),
            422,
            "subdistrict",
        )
    read = await city.client.get(f"/api/v1/actors/{actor['id']}", headers=city.editor)
    moved = await city.client.patch(
        f"/api/v1/actors/{actor['id']}",
        json={"subdistrict": "Connewitz"},
        headers={**city.editor, "If-Match": read.headers["etag"]},
    )
    assert moved.status_code == 200 and moved.json()["subdistrict"] == "Connewitz"
    wrong = await city.client.patch(
        f"/api/v1/actors/{actor['id']}",
        json={"subdistrict": "Gaschwitz"},
        headers={**city.editor, "If-Match": moved.headers["etag"]},
    )
    assert_problem(wrong, 422, "subdistrict")


async def test_metrics_suggestions_and_exports_filter_by_stadtteil(city, assert_problem):
    plagwitz = [
        await city.create(
            district=LEIPZIG, municipality="Leipzig", subdistrict="Plagwitz", topics=["bne"], sector=s
        )
        for s in ("zivilgesellschaft", "wirtschaft", "bildung_wissenschaft")
    ]
    elsewhere = await city.create(
        district=LEIPZIG, municipality="Leipzig", subdistrict="Connewitz", topics=["bne"]
    )
    cooperation = {
        "actor_a": plagwitz[0]["id"],
        "actor_b": plagwitz[1]["id"],
        "type": "projekt",
        "since": "2024-01-01",
    }
    assert (
        await city.client.post("/api/v1/cooperations", json=cooperation, headers=city.editor)
    ).status_code == 201
    scope = {"subdistrict": "Plagwitz"}
    metrics = (await city.client.get("/api/v1/network/metrics", params=scope, headers=city.editor)).json()
    assert (metrics["actors"], metrics["cooperations"], metrics["density"]) == (
        3,
        1,
        pytest.approx(1 / 3, abs=1e-6),
    )
    suggested = (
        await city.client.get("/api/v1/network/suggestions", params=scope, headers=city.editor)
    ).json()
    pairs = {frozenset((s["actor_id"], s["partner_id"])) for s in suggested["items"]}
    ids = {a["id"] for a in plagwitz}
    assert pairs and all(pair <= ids for pair in pairs) and elsewhere["id"] not in set().union(*pairs)
    exported = await city.client.get(
        "/api/v1/network/export", params={**scope, "format": "json"}, headers=city.editor
    )
    assert {n["id"] for n in exported.json()["nodes"]} == ids
    for parameter, value in (("subdistrict", "Atlantis"), ("district", "99999999")):
        for path in ("/api/v1/network/metrics", "/api/v1/network/suggestions", "/api/v1/network/export"):
            response = await city.client.get(path, params={parameter: value}, headers=city.editor)
            assert_problem(response, 422, parameter)


async def test_suggestions_follow_every_change_of_the_network(city):
    district = "14729000"  # Landkreis Leipzig: this test's own network
    a = await city.create(district=district, topics=["kultur"], sector="wirtschaft", kind="unternehmen")
    b = await city.create(district=district, topics=["kultur"])
    c = await city.create(district=district, topics=["mobilitaet"])

    async def partners(actor: dict) -> list[str]:
        response = await city.client.get(
            "/api/v1/network/suggestions",
            params={"district": district, "actor_id": actor["id"]},
            headers=city.editor,
        )
        assert response.status_code == 200, response.text
        return [s["partner_id"] for s in response.json()["items"]]

    async def region() -> set[frozenset[str]]:
        response = await city.client.get(
            "/api/v1/network/suggestions", params={"district": district}, headers=city.editor
        )
        return {frozenset((s["actor_id"], s["partner_id"])) for s in response.json()["items"]}

    assert await partners(a) == [b["id"]] and await region() == {frozenset((a["id"], b["id"]))}
    recorded = await city.client.post(
        "/api/v1/cooperations",
        json={"actor_a": a["id"], "actor_b": b["id"], "type": "projekt", "since": "2024-01-01"},
        headers=city.editor,
    )
    assert await partners(a) == [] and await region() == set()
    # c's new topic makes it a match of a (other sector: 0.55) and b (same sector: 0.40)
    read = await city.client.get(f"/api/v1/actors/{c['id']}", headers=city.editor)
    await city.client.patch(
        f"/api/v1/actors/{c['id']}",
        json={"topics": ["kultur"]},
        headers={**city.editor, "If-Match": read.headers["etag"]},
    )
    assert await partners(c) == [a["id"], b["id"]]
    # a cooperation deleted as a mistake: the pair is suggested again
    await city.client.delete(f"/api/v1/cooperations/{recorded.json()['id']}", headers=city.editor)
    assert b["id"] in await partners(a)
    await asyncio.sleep(0.5)  # the background refresh has run: still the same answers
    assert b["id"] in await partners(a) and frozenset((a["id"], b["id"])) in await region()


async def test_metrics_on_any_date_count_the_cooperations_running_that_day(city):
    district = "14730000"  # Nordsachsen: this test's own network
    members = [(await city.create(district=district))["id"] for _ in range(5)]
    periods = [
        (0, 1, "2020-01-01", "2020-12-31"),
        (1, 2, "2020-06-01", None),
        (0, 1, "2022-01-01", None),
        (3, 4, "2021-03-15", "2021-03-15"),
    ]
    for i, j, since, until in periods:
        body = {
            "actor_a": members[i],
            "actor_b": members[j],
            "type": "austausch",
            "since": since,
            "until": until,
        }
        assert (
            await city.client.post("/api/v1/cooperations", json=body, headers=city.editor)
        ).status_code == 201
    day = date(2019, 12, 30)
    while day <= date(2022, 1, 2):
        expected = {
            frozenset((i, j))
            for i, j, since, until in periods
            if date.fromisoformat(since) <= day and (until is None or day <= date.fromisoformat(until))
        }
        got = (
            await city.client.get(
                "/api/v1/network/metrics",
                params={"district": district, "on": day.isoformat()},
                headers=city.editor,
            )
        ).json()
        assert (got["cooperations"], got["density"]) == (len(expected), round(len(expected) / 10, 6)), day
        day += timedelta(days=37) if day.day != 15 else timedelta(days=1)
    for day_text, count in (("2020-12-31", 2), ("2021-01-01", 1), ("2021-03-15", 2), ("2021-03-16", 1)):
        got = (
            await city.client.get(
                "/api/v1/network/metrics", params={"district": district, "on": day_text}, headers=city.editor
            )
        ).json()
        assert got["cooperations"] == count, day_text


async def test_the_worker_reads_and_indexes_a_network_as_the_service_does(city):
    from nzr_actors.network import precompute
    from nzr_actors.network.reads import Scope

    district = "14522000"  # Mittelsachsen: this test's own network
    a = await city.create(
        district=district, topics=["bne", "kultur"], sector="wirtschaft", kind="unternehmen"
    )
    b = await city.create(district=district, topics=["bne"])
    await city.create(district=district, topics=["kultur"])
    answer = await city.client.get(
        "/api/v1/network/suggestions", params={"district": district, "limit": 10}, headers=city.editor
    )
    index, lists = await asyncio.to_thread(
        precompute._read_and_index,
        city.running.app.state.deps.settings.database_url,
        Scope(district),
        date.today(),
        (False,),
    )
    assert {a["id"], b["id"]} <= set(index.position)
    assert [(s.actor_id, s.partner_id, s.score) for s in lists[False][:10]] == [
        (s["actor_id"], s["partner_id"], s["score"]) for s in answer.json()["items"]
    ]
