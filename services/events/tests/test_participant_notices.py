"""Participants are told of every step: the ``ParticipantNotice`` events as a plain NATS client
reads them from the region's stream (promoted, cancelled, event and session changed, event
cancelled, reminder, thank-you), and the bad input that is refused before anything is written."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
from events_testkit import event_body, in_berlin

from nzr_common.contracts import subjects
from nzr_events.registrations.reminders import send_due_reminders


async def notices_on_stream(
    nats_url: str, region: str, registration_ids: set[str], count: int
) -> list[dict[str, Any]]:
    """The ParticipantNotice payloads about these registrations on the stream, oldest first,
    waiting until ``count`` of them arrived (the outbox relay publishes them)."""
    connection = await nats.connect(nats_url)
    try:
        subscription = await connection.jetstream().subscribe(
            subjects.PARTICIPANT_NOTICE.for_region(region), ordered_consumer=True
        )
        found: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + 15
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            try:
                message = await subscription.next_msg(timeout=1)
            except nats.errors.TimeoutError:
                continue
            data = json.loads(message.data)["data"]
            if data["registration"]["registration_id"] in registration_ids:
                found.append(data)
        return found
    finally:
        await connection.close()


def _session(title: str, start_hour: int, **extra: Any) -> dict[str, Any]:
    start = in_berlin(30, hour=start_hour)
    return {
        "title": title,
        "kind": "workshop",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        **extra,
    }


async def _add_session(events: Any, event_id: str, body: dict[str, Any]) -> str:
    made = await events.client.post(f"/api/v1/events/{event_id}/sessions", json=body, headers=events.editor)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_every_step_of_a_registration_reaches_the_stream_as_a_participant_notice(events, nats_url):
    event = await events.published_event(capacity=1, title="Regionalkonferenz Klimaschutz")
    solar = await _add_session(events, event["id"], _session("Workshop Solar", 11, room="Raum A", capacity=5))
    await _add_session(events, event["id"], _session("Workshop Wärme", 11, room="Raum B"))
    first = await events.registered(
        event["id"], name="Anna Berger", email="anna.berger@example.org", session_ids=[solar]
    )
    second_response = await events.client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={
            "name": "Ben Krause",
            "email": "ben.krause@example.org",
            "data_use_consent": True,
            "session_ids": [solar],
        },
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert second_response.status_code == 202
    second = (await events.mailed("ben.krause@example.org"))[-1]
    assert (first["status"], second["status"], second["language"]) == ("confirmed", "waiting", "en")

    moved_room = await events.client.patch(
        f"/api/v1/events/{event['id']}/sessions/{solar}", json={"room": "Saal 2"}, headers=events.editor
    )
    assert moved_room.status_code == 200 and moved_room.json()["room"] == "Saal 2"
    new_place = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"venue_name": "Kulturhaus"}, headers=events.editor
    )
    assert new_place.json()["sequence"] == 2
    cancelled = await events.client.post(
        "/api/v1/registrations/cancel", params={"token": first["cancellation_token"]}
    )
    assert cancelled.json()["promoted_registration_ids"] == [second["id"]]

    reminded = events.running.app.state.deps
    starts = datetime.fromisoformat(event["starts_at"]).astimezone(UTC)
    day_before = starts - timedelta(days=1)
    rounds = [
        await send_due_reminders(
            sessions=reminded.sessions, outbox=reminded.outbox, links=reminded.links, now=day_before
        )
        for _ in range(2)
    ]
    assert rounds == [1, 0]  # the second round (or a restart) finds nothing left to send

    await events.actors_announced(nats_url, "a-1", "a-2")
    agreement = await events.client.post(
        f"/api/v1/events/{event['id']}/agreements",
        headers=events.editor,
        json={
            "text": "Solarkataster für alle Gemeinden",
            "party_actor_ids": ["a-1", "a-2"],
            "due_date": "2027-06-30",
        },
    )
    assert agreement.status_code == 201
    await events.client.post(
        f"/api/v1/events/{event['id']}/recommendations",
        headers=events.editor,
        json={"text": "Energieberatung bündeln", "addressee": "Landkreis"},
    )
    assert (
        await events.client.post(f"/api/v1/events/{event['id']}/complete", headers=events.editor)
    ).status_code == 200

    notices = await notices_on_stream(nats_url, events.region, {first["id"], second["id"]}, count=8)
    told = [(n["kind"], n["registration"]["registration_id"]) for n in notices]
    assert told == [
        ("session_changed", first["id"]),
        ("session_changed", second["id"]),
        ("event_changed", first["id"]),
        ("event_changed", second["id"]),
        ("cancelled", first["id"]),
        ("promoted", second["id"]),
        ("reminder", second["id"]),
        ("thank_you", second["id"]),
    ]
    by_kind = {(n["kind"], n["registration"]["registration_id"]): n for n in notices}
    session_changed = by_kind[("session_changed", first["id"])]
    assert session_changed["changes"] == ["session", "place"]
    assert session_changed["registration"]["sessions"][0]["room"] == "Saal 2"
    assert session_changed["registration"]["sequence"] == 1
    assert by_kind[("event_changed", second["id"])]["changes"] == ["place"]
    assert by_kind[("event_changed", second["id"])]["registration"]["venue_name"] == "Kulturhaus"
    assert by_kind[("event_changed", second["id"])]["registration"]["waiting_position"] == 1
    assert by_kind[("cancelled", first["id"])]["registration"]["status"] == "cancelled"
    assert by_kind[("cancelled", first["id"])]["email"] == "anna.berger@example.org"
    promoted = by_kind[("promoted", second["id"])]
    assert promoted["language"] == "en" and promoted["registration"]["status"] == "confirmed"
    assert promoted["name"] == "Ben Krause" and promoted["email"] == "ben.krause@example.org"
    thanks = by_kind[("thank_you", second["id"])]
    assert [a["text"] for a in thanks["agreements"]] == ["Solarkataster für alle Gemeinden"]
    assert thanks["agreements"][0]["due_date"] == "2027-06-30"
    assert [(r["text"], r["responsible"]) for r in thanks["recommendations"]] == [
        ("Energieberatung bündeln", "Landkreis")
    ]
    assert thanks["feedback_url"].startswith("http://127.0.0.1:8102/api/v1/registrations/feedback?token=")
    for item in notices:
        registration = item["registration"]
        assert registration["calendar_uid"] == f"{event['id']}@{events.region}.nzr"
        assert registration["region_name"] and registration["title"] == "Regionalkonferenz Klimaschutz"
        assert registration["manage_url"].startswith(
            "http://127.0.0.1:8102/api/v1/registrations/manage?token="
        )
        assert [s["title"] for s in registration["sessions"]] == ["Workshop Solar"]
    assert len({n["notice_id"] for n in notices}) == len(notices)
    assert [n["registration"]["sequence"] for n in notices][-1] == 2


async def test_cancelling_an_event_tells_everyone_registered_or_waiting(events, nats_url):
    event = await events.published_event(capacity=1)
    seated = await events.registered(event["id"])
    waiting = await events.registered(event["id"])
    gone = await events.registered(event["id"])
    await events.client.post("/api/v1/registrations/cancel", params={"token": gone["cancellation_token"]})
    cancelled = await events.client.post(f"/api/v1/events/{event['id']}/cancel", headers=events.editor)
    assert cancelled.json()["sequence"] == 1
    notices = await notices_on_stream(
        nats_url, events.region, {seated["id"], waiting["id"], gone["id"]}, count=3
    )
    told = {(n["kind"], n["registration"]["registration_id"]) for n in notices}
    assert told == {
        ("cancelled", gone["id"]),
        ("event_cancelled", seated["id"]),
        ("event_cancelled", waiting["id"]),
    }
    assert all(n["registration"]["sequence"] == 1 for n in notices if n["kind"] == "event_cancelled")


async def test_a_reminder_after_the_start_is_refused_naming_the_field(events):
    refused = await events.client.post(
        "/api/v1/events",
        json={**event_body(), "reminder_days": -1},
        headers=events.editor,
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert [p["name"] for p in refused.json()["invalid_params"]] == ["reminder_days"]
    event = await events.published_event()
    assert event["reminder_days"] == 2
    patched = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"reminder_days": 0}, headers=events.editor
    )
    assert patched.status_code == 422
    assert (await events.client.get(f"/api/v1/events/{event['id']}")).json()["reminder_days"] == 2


async def test_bad_registrations_are_refused_naming_the_field_and_write_nothing(events):
    event = await events.published_event()
    slot_a = await _add_session(events, event["id"], _session("Workshop A", 11))
    slot_b = await _add_session(events, event["id"], _session("Workshop B", 11))
    other = await events.published_event(title="Andere Veranstaltung")
    foreign = await _add_session(events, other["id"], _session("Fremder Workshop", 11))
    cases = {
        "email": {"email": "nicht-eine-adresse"},
        "session_ids": {"session_ids": [foreign]},
        "session_ids ": {"session_ids": [slot_a, slot_b]},
    }
    for field, overrides in cases.items():
        response = await events.register(event["id"], **overrides)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        names = [p["name"].split(".")[-1] for p in response.json()["invalid_params"]]
        assert field.strip() in names, (field, response.json())
    listed = await events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=events.admin)
    assert listed.json()["items"] == []
    assert await events.announced("registration_received") == []


async def test_a_session_change_is_validated_naming_the_field(events):
    event = await events.published_event()
    workshop = await _add_session(events, event["id"], _session("Workshop A", 11, capacity=2))
    for _ in range(2):
        await events.registered(event["id"], session_ids=[workshop])
    start = in_berlin(30, hour=11)
    for body, field in (
        ({"ends_at": (start - timedelta(hours=1)).isoformat()}, "ends_at"),
        (
            {"starts_at": in_berlin(31, hour=11).isoformat(), "ends_at": in_berlin(31, hour=12).isoformat()},
            "starts_at",
        ),
        ({"capacity": 1}, "capacity"),  # two are confirmed
        ({"title": None}, "title"),
    ):
        response = await events.client.patch(
            f"/api/v1/events/{event['id']}/sessions/{workshop}", json=body, headers=events.editor
        )
        assert response.status_code == 422, (body, response.text)
        assert field in [p["name"].split(".")[-1] for p in response.json()["invalid_params"]], response.json()
    missing = await events.client.patch(
        f"/api/v1/events/{event['id']}/sessions/no-such-session", json={"room": "X"}, headers=events.editor
    )
    assert missing.status_code == 404
    assert await events.announced("participant_notice") == []
    [shown] = (await events.client.get(f"/api/v1/events/{event['id']}/sessions")).json()
    assert (shown["capacity"], shown["confirmed_count"], shown["title"]) == (2, 2, "Workshop A")
