"""Matching (ad-hoc and for actors from the actors' events), the events the service announces,
the deadline watch, saved-search alerts, and the catalogue reaching a second region."""

import json
from datetime import UTC, datetime, timedelta

import nats
import pytest

from nzr_common.auth import issue_token
from nzr_common.contracts.actors import ActorRegistered, ActorRemoved, ActorUpdated
from nzr_common.contracts.base import Envelope, region_stream_name
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.waiting import eventually

from .conftest import programme, random_token, start_funding

MATCH = "/api/v1/funding/matches"
TODAY = datetime.now(UTC).date()


@pytest.fixture
async def js(nats_url):  # type: ignore[no-untyped-def]
    connection = await nats.connect(nats_url)
    yield connection.jetstream()
    await connection.close()


async def publish(js, region: str, event) -> None:  # type: ignore[no-untyped-def]
    envelope = Envelope.wrap(event, region=region, service="actors")
    await js.publish(envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})


async def stream_events(js, region: str, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every message of ``event_type`` in a region's stream, decoded."""
    subject = f"nzr.{region}.pub.{event_type}"
    found = []
    subscription = await js.subscribe(subject, stream=region_stream_name(region), ordered_consumer=True)
    try:
        while True:
            try:
                message = await subscription.next_msg(timeout=0.3)
            except TimeoutError:
                break
            found.append(json.loads(message.data))
    finally:
        await subscription.unsubscribe()
    return found


async def test_ad_hoc_profile_is_ranked_with_reasons_for_each_criterion(seeded):
    response = await seeded.client.post(
        MATCH,
        json={
            "kind": "verein",
            "district": "14626000",
            "topics": ["grenzueberschreitende_zusammenarbeit"],
            "amount_needed_eur": 10000,
            "own_share_available_eur": 5000,
            "as_of": "2026-11-21",
            "limit": 44,
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert sum(result["counts"].values()) == 44
    seen_excluded = False
    for item in result["items"]:
        seen_excluded = seen_excluded or item["fit"] == "excluded"
        assert not (seen_excluded and item["fit"] != "excluded"), "excluded ranked above a possible one"
        names = [c["name"] for c in item["criteria"]]
        assert names == ["eligibility", "legal_form", "region", "topic", "amount", "own_share", "deadline"]
        assert all(c["status"] in ("met", "not_met", "unknown") and c["reason"] for c in item["criteria"])
    by_id = {item["programme_id"]: item for item in result["items"]}
    neisse = {c["name"]: c["status"] for c in by_id["eu-interreg-pl-sn-kleinprojektefonds"]["criteria"]}
    assert neisse["region"] == "met" and neisse["topic"] == "met"


async def test_a_district_outside_the_funding_area_fails_the_region_criterion(seeded):
    result = (
        await seeded.client.post(
            MATCH, json={"kind": "verein", "district": "14713000", "as_of": "2026-11-21", "limit": 200}
        )
    ).json()
    by_id = {item["programme_id"]: item for item in result["items"]}
    criteria = by_id["eu-interreg-pl-sn-kleinprojektefonds"]["criteria"]
    region = next(c for c in criteria if c["name"] == "region")
    assert region["status"] == "not_met"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "partei"}, "kind"),
        ({"district": "09162000"}, "district"),
        ({"district": "Leipzig"}, "district"),
        ({"topics": ["astrologie"]}, "topics"),
        ({"amount_needed_eur": -5}, "amount_needed_eur"),
    ],
)
async def test_bad_profile_is_named_in_a_422_problem(seeded, body, field):
    response = await seeded.client.post(MATCH, json=body)
    assert response.status_code == 422
    assert field in [p["name"] for p in response.json()["invalid_params"]]


async def test_actor_profile_arrives_through_actor_events_and_is_matched(shared, js):
    funding = shared
    record = programme(eligible=["kommune"], topics=["mobilitaet"])
    await funding.import_json([record])
    await funding.wait_for_revision(record["id"], 1)
    actor_id = random_token("a")
    now = datetime.now(UTC)
    await publish(
        js,
        funding.region,
        ActorRegistered(
            actor_id=actor_id,
            name="Gemeinde Musterdorf",
            kind="kommune",
            sector="verwaltung_politik",
            district="14523000",
            topics=["mobilitaet"],
            registered_at=now,
        ),
    )

    async def matched() -> bool:
        response = await funding.client.post(MATCH, json={"actor_id": actor_id}, headers=funding.editor)
        return response.status_code == 200

    await eventually(matched)
    # Without a public profile the actor is matched only for the region's editors and admins.
    assert (await funding.client.post(MATCH, json={"actor_id": actor_id})).status_code == 404
    result = (
        await funding.client.post(MATCH, json={"actor_id": actor_id, "limit": 200}, headers=funding.editor)
    ).json()
    assert result["kind"] == "kommune" and result["district"] == "14523000"
    item = next(i for i in result["items"] if i["programme_id"] == record["id"])
    assert {c["name"]: c["status"] for c in item["criteria"]}["eligibility"] == "met"

    await publish(
        js,
        funding.region,
        ActorUpdated(
            actor_id=actor_id,
            name="Gemeinde Musterdorf",
            kind="verein",
            sector="zivilgesellschaft",
            district="14523000",
            topics=["bne"],
            public_profile=True,
            updated_at=now,
            version=2,
        ),
    )

    async def updated() -> bool:
        response = await funding.client.post(MATCH, json={"actor_id": actor_id})
        return response.status_code == 200 and response.json()["kind"] == "verein"

    await eventually(updated)
    await publish(js, funding.region, ActorRemoved(actor_id=actor_id, removed_at=now))

    async def removed() -> bool:
        return (await funding.client.post(MATCH, json={"actor_id": actor_id})).status_code == 404

    await eventually(removed)
    announced = await stream_events(js, funding.region, "funding.match_requested.v1")
    assert announced and all("name" not in e["data"] for e in announced)
    assert actor_id in {e["data"]["actor_id"] for e in announced}


async def test_an_initiative_without_legal_form_from_the_actor_events_fails_an_ev_requirement(shared, js):
    funding = shared
    record = programme(legal_forms=["ev"], eligible=["verband_vereinigung"])
    await funding.import_json([record])
    await funding.wait_for_revision(record["id"], 1)
    actor_id = random_token("a")
    registered = ActorRegistered(
        actor_id=actor_id,
        name="Initiative Grünes Dorf",
        kind="initiative",
        legal_form="keine",
        sector="zivilgesellschaft",
        district="14523000",
        topics=["bne"],
        public_profile=True,
        registered_at=datetime.now(UTC),
    )
    await publish(js, funding.region, registered)

    async def legal_form_of_the_actor() -> dict | None:
        response = await funding.client.post(MATCH, json={"actor_id": actor_id, "limit": 200})
        if response.status_code != 200:
            return None
        item = next(i for i in response.json()["items"] if i["programme_id"] == record["id"])
        return next(c for c in item["criteria"] if c["name"] == "legal_form")

    await eventually(legal_form_of_the_actor)
    criterion = await legal_form_of_the_actor()
    assert criterion is not None
    assert criterion["status"] == "not_met" and criterion["status_label"] == "nicht erfüllt"
    assert criterion["reason"] == (
        "keine eigene Rechtsform erfüllt die geforderte Rechtsform nicht (eingetragener Verein (e. V.))"
    )


async def test_catalogue_changes_are_published_under_the_state_token(shared, js):
    funding = shared
    record = programme()
    await funding.import_json([record])
    await funding.wait_for_revision(record["id"], 1)
    events = [
        e
        for e in await stream_events(js, funding.catalogue_region, "funding.program_published.v1")
        if e["data"]["programme_id"] == record["id"]
    ]
    assert len(events) == 1 and events[0]["subject"] == record["id"]
    assert events[0]["data"]["source_url"] == record["source_url"]


async def test_deadline_watch_preview_spends_nothing_and_the_scheduled_run_announces_once(shared, js):
    funding = shared
    soon = TODAY + timedelta(days=20)
    record = programme(deadline={"kind": "fixed", "dates": [soon.isoformat()]})
    await funding.import_json([record])
    await funding.wait_for_revision(record["id"], 1)
    run = "/api/v1/funding/deadline-watch"

    def mine(report: dict) -> list[tuple[int, int, bool]]:
        return [
            (a["threshold_days"], a["days_left"], a["already_announced"])
            for a in report["announced"]
            if a["programme_id"] == record["id"]
        ]

    async def published() -> list[dict]:
        events = await stream_events(js, funding.region, "funding.deadline_approaching.v1")
        return [e for e in events if e["data"]["programme_id"] == record["id"]]

    # Previews of a future day and of today (GET, POST with as_of, POST with dry_run) announce nothing.
    future = (soon - timedelta(days=5)).isoformat()
    preview = (await funding.client.get(run, params={"as_of": future}, headers=funding.admin)).json()
    assert preview["preview"] is True and mine(preview) == [(7, 5, False)]
    posted = (await funding.client.post(run, params={"as_of": future}, headers=funding.admin)).json()
    assert posted["preview"] is True and mine(posted) == [(7, 5, False)]
    dry = (await funding.client.post(run, params={"dry_run": "true"}, headers=funding.admin)).json()
    assert dry["preview"] is True and mine(dry) == [(30, 20, False)]
    assert await published() == []

    # The scheduled run (here started now) announces once, however often it runs.
    first = (await funding.client.post(run, headers=funding.admin)).json()
    assert first["preview"] is False and mine(first) == [(30, 20, False)]
    assert mine((await funding.client.post(run, headers=funding.admin)).json()) == []
    today = (await funding.client.get(run, headers=funding.admin)).json()
    assert mine(today) == [(30, 20, True)]

    async def announced_once() -> bool:
        return len(await published()) == 1

    await eventually(announced_once)
    event = (await published())[0]["data"]
    assert event["deadline"] == soon.isoformat() and event["deadline_certainty"] == "fixed"
    assert (await funding.client.post(run, headers=funding.editor)).status_code == 403
    assert (await funding.client.get(run, headers=funding.editor)).status_code == 403


async def test_saved_search_raises_an_alert_for_a_new_or_changed_matching_programme(shared):
    funding = shared
    saved = await funding.client.post(
        "/api/v1/funding/saved-searches",
        headers=funding.editor,
        json={"name": "Radverkehr", "query": {"q": "Radwege", "level": ["land"]}},
    )
    assert saved.status_code == 201, saved.text
    search_id = saved.json()["id"]
    matching = programme(
        name="Radwege im ländlichen Raum",
        level="land",
        deadline="mehrere Stichtage pro Jahr (2025: 31.03., 30.09.)",
    )
    other = programme(name="Radwege des Bundes", level="bund")
    await funding.import_json([matching, other])
    await funding.wait_for_revision(other["id"], 1)
    await funding.wait_for_revision(matching["id"], 1)
    await funding.import_json([{**matching, "amount_max_eur": 99000}])
    await funding.wait_for_revision(matching["id"], 2)
    alerts = (
        await funding.client.get(f"/api/v1/funding/saved-searches/{search_id}/alerts", headers=funding.editor)
    ).json()["items"]
    assert [(a["programme_id"], a["change"], a["revision"]) for a in alerts] == [
        (matching["id"], "published", 1),
        (matching["id"], "updated", 2),
    ]
    # The deadline is inferred from an earlier round: the alert says so.
    assert {a["deadline_certainty"] for a in alerts} == {"expected"}
    assert alerts[0]["deadline_certainty_label"].startswith("voraussichtlich")
    other_user = {
        "Authorization": "Bearer "
        + issue_token(DEVELOPMENT_SECRET, region=funding.region, roles=["editor"], subject="someone-else")
    }
    stranger = await funding.client.get(
        f"/api/v1/funding/saved-searches/{search_id}/alerts", headers=other_user
    )
    assert stranger.status_code == 404
    assert (
        await funding.client.post(
            "/api/v1/funding/saved-searches",
            json={"name": "x", "query": {"area": ["raumfahrt"]}},
            headers=funding.editor,
        )
    ).status_code == 422


async def test_catalogue_reaches_another_region_which_keeps_its_own_copy(nats_url, databases, token_for):
    catalogue_region = random_token("c")
    async with start_funding(
        nats_url, await databases.new("funding"), token_for, catalogue_region=catalogue_region
    ) as region:
        async with start_funding(
            nats_url,
            await databases.new("funding"),
            token_for,
            catalogue_region=catalogue_region,
            region=catalogue_region,
        ) as hub:
            record = programme()
            assert (await hub.import_json([record])).status_code == 200
            await region.wait_for_revision(record["id"], 1)
            await hub.client.delete(f"/api/v1/funding/programs/{record['id']}", headers=hub.state)
            await region.wait_until_gone(record["id"])
            second = programme()
            await hub.import_json([second])
            await region.wait_for_revision(second["id"], 1)
        # The hub's service is gone; the region still answers from its own read model.
        assert (await region.client.get(f"/api/v1/funding/programs/{second['id']}")).status_code == 200


async def test_periodic_deadline_watch_announces_by_itself_and_stops_with_the_service(
    nats_url, databases, token_for, js
):
    async with start_funding(
        nats_url,
        await databases.new("funding"),
        token_for,
        catalogue_region=random_token("c"),
        deadline_watch_seconds=0.2,
        deadline_watch_first_seconds=0.1,
    ) as funding:
        in_three_days = (TODAY + timedelta(days=3)).strftime("%m-%d")
        record = programme(deadline={"kind": "recurring", "yearly": [in_three_days]})
        await funding.import_json([record])

        async def announced() -> bool:
            events = await stream_events(js, funding.region, "funding.deadline_approaching.v1")
            return any(e["data"]["programme_id"] == record["id"] for e in events)

        await eventually(announced)
        watch = next(t for t in funding.app.state.runtime.tasks if t.get_name() == "deadline watch")
    assert watch.done()
