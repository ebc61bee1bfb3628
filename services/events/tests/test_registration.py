"""Registration: capacity, waiting list, promotion, signed cancellation links, concurrency."""

import asyncio
from datetime import UTC, datetime, timedelta

from events_testkit import event_body, in_berlin, registration_body

from nzr_events.registrations.rules import sign_cancellation
from nzr_events.times import BERLIN


async def test_registrations_are_confirmed_until_full_and_then_wait_in_order(events):
    event = await events.published_event(capacity=2)
    answers = [await events.registered(event["id"]) for _ in range(4)]
    assert [a["status"] for a in answers] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert [a["waiting_position"] for a in answers[2:]] == [1, 2]
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert (shown["confirmed_count"], shown["waiting_count"], shown["seats_left"]) == (2, 2, 0)
    confirmed = await events.announced("registration_confirmed")
    assert len(confirmed) == 2
    assert all(".priv." in e["nats_subject"] for e in confirmed)
    received = await events.announced("registration_received")
    assert len(received) == 4 and all(".priv." in e["nats_subject"] for e in received)


async def test_registration_confirmed_carries_email_and_mailing_list_consent_privately(events):
    event = await events.published_event()
    await events.register(event["id"], email="Lena@Example.org", newsletter_consent=True)
    [confirmed] = await events.announced("registration_confirmed")
    assert confirmed["data"]["email"] == "lena@example.org"
    assert confirmed["data"]["newsletter_consent"] is True
    assert confirmed["data"]["consent_text_version"]
    shareable = [e for e in await events.announced() if ".priv." not in e["nats_subject"]]
    assert shareable and not any("lena" in str(e).lower() or "Erika" in str(e) for e in shareable)


async def test_cancellation_link_frees_the_seat_and_promotes_the_first_waiting_in_one_go(events):
    event = await events.published_event(capacity=1)
    first = await events.registered(event["id"])
    second = await events.registered(event["id"])
    third = await events.registered(event["id"])
    assert first["cancellation_url"].endswith(first["cancellation_token"])

    cancelled = await events.client.post(
        "/api/v1/registrations/cancel", params={"token": first["cancellation_token"]}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["promoted_registration_ids"] == [second["id"]]
    registrations = (
        await events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=events.admin)
    ).json()["items"]
    assert {r["id"]: r["status"] for r in registrations} == {
        first["id"]: "cancelled",
        second["id"]: "confirmed",
        third["id"]: "waiting",
    }
    assert [r["waiting_position"] for r in registrations if r["status"] == "waiting"] == [1]
    assert len(await events.announced("registration_cancelled")) == 1
    promoted = (await events.announced("registration_confirmed"))[-1]["data"]
    assert promoted["registration_id"] == second["id"] and promoted["promoted_from_waiting_list"]

    twice = await events.client.post(
        "/api/v1/registrations/cancel", json={"token": first["cancellation_token"]}
    )
    assert twice.status_code == 200 and twice.json()["promoted_registration_ids"] == []


async def test_forged_foreign_and_expired_cancellation_links_are_refused(events):
    event = await events.published_event(capacity=1)
    receipt = await events.registered(event["id"])
    secret = events.running.runtime.settings.jwt_secret.get_secret_value()
    forged = receipt["cancellation_token"][:-3] + "abc"
    foreign = sign_cancellation("another secret", receipt["id"], datetime.now(UTC) + timedelta(days=1))
    expired = sign_cancellation(secret, receipt["id"], datetime.now(UTC) - timedelta(seconds=1))
    for token, status in ((forged, 403), (foreign, 403), (expired, 410), ("not-a-token-at-all", 403)):
        response = await events.client.post("/api/v1/registrations/cancel", params={"token": token})
        assert response.status_code == status, token
        assert response.headers["content-type"] == "application/problem+json"
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert shown["confirmed_count"] == 1
    assert await events.announced("registration_cancelled") == []


async def test_registering_a_known_address_answers_exactly_as_for_a_new_one_and_mails_the_owner(events):
    event = await events.published_event()
    first = await events.registered(event["id"], email="max@example.org", name="Max Mustermann")
    again = await events.register(event["id"], email="MAX@example.org ", name="Jemand Anderes")
    stranger = await events.register(event["id"], email="neu@example.org")
    assert again.status_code == stranger.status_code == 202
    assert again.json() == stranger.json()
    assert again.headers.keys() == stranger.headers.keys() and "location" not in again.headers
    assert (await events.client.get(f"/api/v1/events/{event['id']}")).json()["confirmed_count"] == 2
    told = await events.mailed("max@example.org")
    assert [t["already_registered"] for t in told] == [False, True]
    assert told[1]["id"] == first["id"] and told[1]["status"] == "confirmed"
    [received] = [
        e for e in await events.announced("registration_received") if e["data"]["already_registered"]
    ]
    assert received["data"]["name"] == "Max Mustermann"  # never the stranger's words
    assert received["data"]["registration"]["title"] == event["title"]
    cancelled = await events.client.post(
        "/api/v1/registrations/cancel", params={"token": told[1]["cancellation_token"]}
    )
    assert cancelled.status_code == 200 and cancelled.json()["registration_id"] == first["id"]


async def test_the_answer_and_the_mail_are_english_when_the_request_asks_for_it(events):
    event = await events.published_event()
    english = await events.client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json=registration_body(email="en@example.org"),
        headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"},
    )
    german = await events.register(event["id"], email="de@example.org")
    assert english.json()["detail"].startswith("Thank you") and german.json()["detail"].startswith("Danke")
    assert [t["language"] for t in await events.mailed("en@example.org")] == ["en"]
    assert [t["language"] for t in await events.mailed("de@example.org")] == ["de"]


async def test_links_are_sent_again_to_an_owner_and_nobody_can_tell_a_known_address(events):
    first = await events.published_event()
    second = await events.published_event(title="Zweite Werkstatt")
    await events.registered(first["id"], email="ida@example.org")
    await events.registered(second["id"], email="ida@example.org")
    known = await events.client.post("/api/v1/registrations/links", json={"email": "Ida@example.org"})
    unknown = await events.client.post("/api/v1/registrations/links", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() and known.headers.keys() == unknown.headers.keys()
    [requested] = await events.announced("registration_links_requested")
    assert ".priv." in requested["nats_subject"] and requested["data"]["email"] == "ida@example.org"
    assert {r["title"] for r in requested["data"]["registrations"]} == {first["title"], "Zweite Werkstatt"}
    refused = await events.client.post("/api/v1/registrations/links", json={"email": "kein-mail"})
    assert refused.status_code == 422 and refused.json()["invalid_params"][0]["name"].endswith("email")


async def test_registration_outside_the_window_is_refused(events):
    not_yet = await events.published_event(registration_opens_at=in_berlin(5).isoformat())
    refused = await events.register(not_yet["id"])
    assert refused.status_code == 409 and "opens" in refused.json()["detail"]
    past = datetime.now(BERLIN).replace(tzinfo=None) - timedelta(hours=2)
    started = await events.published_event(
        starts_at=past.isoformat(), ends_at=(past + timedelta(hours=5)).isoformat()
    )
    closed = await events.register(started["id"])
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    assert await events.announced("registration_confirmed") == []


async def test_registration_without_consent_or_for_a_draft_is_refused(events):
    event = await events.published_event()
    assert (await events.register(event["id"], data_use_consent=False)).status_code == 422
    draft = (await events.client.post("/api/v1/events", json=event_body(), headers=events.editor)).json()
    assert (await events.register(draft["id"])).status_code == 404
    assert (await events.register(event["id"], email="not-an-email")).status_code == 422


async def test_capacity_below_the_confirmed_count_is_refused_and_more_seats_promote_waiting(events):
    event = await events.published_event(capacity=2)
    for _ in range(3):
        await events.register(event["id"])
    shrink = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 1}, headers=events.editor
    )
    assert shrink.status_code == 409
    assert shrink.json()["invalid_params"][0]["name"] == "capacity"
    grow = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 3}, headers=events.editor
    )
    assert grow.status_code == 200
    assert (grow.json()["confirmed_count"], grow.json()["waiting_count"]) == (3, 0)


async def test_sixty_concurrent_registrations_fill_twenty_seats_exactly(events):
    event = await events.published_event(capacity=20)
    answers = await asyncio.gather(*(events.register(event["id"]) for _ in range(60)))
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers if a.status_code != 202]
    statuses = [e["data"]["registration"]["status"] for e in await events.announced("registration_received")]
    assert statuses.count("confirmed") == 20 and statuses.count("waiting") == 40
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert (shown["confirmed_count"], shown["waiting_count"]) == (20, 40)
    assert len(await events.announced("registration_confirmed")) == 20
    registrations = (
        await events.client.get(
            f"/api/v1/events/{event['id']}/registrations", params={"limit": 100}, headers=events.admin
        )
    ).json()["items"]
    assert sorted(r["waiting_position"] for r in registrations if r["waiting_position"]) == list(range(1, 41))


async def test_concurrent_cancellations_promote_each_waiting_registration_once(events):
    event = await events.published_event(capacity=5)
    receipts = [await events.registered(event["id"]) for _ in range(10)]
    await asyncio.gather(
        *(
            events.client.post("/api/v1/registrations/cancel", params={"token": r["cancellation_token"]})
            for r in receipts[:5]
        )
    )
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert (shown["confirmed_count"], shown["waiting_count"]) == (5, 0)
    promoted = [
        e for e in await events.announced("registration_confirmed") if e["data"]["promoted_from_waiting_list"]
    ]
    assert sorted(e["data"]["registration_id"] for e in promoted) == sorted(r["id"] for r in receipts[5:])


async def test_attendance_list_is_exported_as_csv_for_organisers_only(events):
    event = await events.published_event()
    receipt = await events.registered(event["id"], name="=HYPERLINK(1)", accessibility_needs="Rollstuhl")
    await events.register(event["id"], name="Jonas Beispiel")
    await events.client.post(
        f"/api/v1/events/{event['id']}/registrations/{receipt['id']}/check-in", headers=events.editor
    )
    assert (await events.client.get(f"/api/v1/events/{event['id']}/attendance.csv")).status_code == 401
    names_and_emails = await events.client.get(
        f"/api/v1/events/{event['id']}/attendance.csv", headers=events.editor
    )
    assert names_and_emails.status_code == 403  # personal data: region admins only
    exported = await events.client.get(f"/api/v1/events/{event['id']}/attendance.csv", headers=events.admin)
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("name;email")
    assert len(lines) == 3
    assert lines[1].startswith("'=HYPERLINK(1)") and "Rollstuhl" in lines[1] and "+0" in lines[1]
    assert "Jonas Beispiel" in lines[2]


async def test_organiser_can_cancel_a_registration_on_someones_behalf(events):
    event = await events.published_event(capacity=1)
    first = await events.registered(event["id"])
    second = await events.registered(event["id"])
    response = await events.client.delete(
        f"/api/v1/events/{event['id']}/registrations/{first['id']}", headers=events.editor
    )
    assert response.json()["promoted_registration_ids"] == [second["id"]]
    body = registration_body()
    assert body["data_use_consent"]


async def test_the_same_email_sent_ten_times_at_once_registers_once(events):
    event = await events.published_event()
    answers = await asyncio.gather(
        *(events.register(event["id"], email="eile@example.org") for _ in range(10))
    )
    assert [a.status_code for a in answers] == [202] * 10
    assert len({a.text for a in answers}) == 1
    assert (await events.client.get(f"/api/v1/events/{event['id']}")).json()["confirmed_count"] == 1
    told = await events.mailed("eile@example.org")
    assert sorted(t["already_registered"] for t in told) == [False] + [True] * 9
    assert len({t["id"] for t in told}) == 1


async def test_two_replicas_taking_registrations_at_once_never_overbook(events):
    from nzr_common.testing.services import running_service
    from nzr_events.app import create_app

    event = await events.published_event(capacity=20)
    settings = events.running.runtime.settings
    async with running_service(create_app, settings, "nzr_events") as replica:
        for app in (events.running.app, replica.app):  # many small batches interleave across replicas
            app.state.deps.registrations.max_batch = 2
        answers = await asyncio.gather(
            *(
                client.post(f"/api/v1/events/{event['id']}/registrations", json=registration_body())
                for _ in range(40)
                for client in (events.client, replica.client)
            )
        )
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers if a.status_code != 202]
    received = await events.announced("registration_received")
    assert [e["data"]["registration"]["status"] for e in received].count("confirmed") == 20
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert (shown["confirmed_count"], shown["waiting_count"]) == (20, 60)
    events.running.app.state.deps.registrations.max_batch = 250


async def test_a_mailing_list_consent_from_the_waiting_list_goes_over_on_promotion_or_at_once_as_chosen(
    events,
):
    event = await events.published_event(
        capacity=1, district="14522000", topics=["energie_klimaschutz", "bne"]
    )
    seat = await events.registered(event["id"])
    later = await events.registered(event["id"], email="later@example.org", newsletter_consent=True)
    now = await events.registered(
        event["id"], email="now@example.org", newsletter_consent=True, newsletter_consent_timing="immediately"
    )
    assert (later["status"], now["status"]) == ("waiting", "waiting")
    received = {e["data"]["email"]: e["data"] for e in await events.announced("registration_received")}
    assert received["later@example.org"]["newsletter_consent"] is False
    handed = received["now@example.org"]
    assert (handed["newsletter_consent"], handed["district"], handed["topics"]) == (
        True,
        "14522000",
        ["energie_klimaschutz", "bne"],
    )
    assert handed["consent_text_version"]

    await events.client.post("/api/v1/registrations/cancel", params={"token": seat["cancellation_token"]})
    await events.client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 2}, headers=events.editor)
    confirmed = {e["data"]["email"]: e["data"] for e in await events.announced("registration_confirmed")}
    promoted = confirmed["later@example.org"]
    assert promoted["promoted_from_waiting_list"] is True
    assert (promoted["newsletter_consent"], promoted["district"], promoted["topics"]) == (
        True,
        "14522000",
        ["energie_klimaschutz", "bne"],
    )
    # handed over once: already with the receipt
    assert confirmed["now@example.org"]["promoted_from_waiting_list"] is True
    assert confirmed["now@example.org"]["newsletter_consent"] is False
    listed = (
        await events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=events.admin)
    ).json()["items"]
    assert {r["email"]: r["newsletter_consent_timing"] for r in listed}["now@example.org"] == "immediately"

    wrong = await events.register(event["id"], newsletter_consent=True, newsletter_consent_timing="sofort")
    assert wrong.status_code == 422
    assert [p["name"] for p in wrong.json()["invalid_params"]] == ["newsletter_consent_timing"]
