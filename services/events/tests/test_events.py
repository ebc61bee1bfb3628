"""Events: drafts, publishing, updates, cancellation, completion and the public list."""

from datetime import timedelta

import pytest
from events_testkit import event_body, in_berlin


async def test_draft_is_hidden_from_the_public_until_it_is_published_and_announced(events):
    created = await events.client.post("/api/v1/events", json=event_body(), headers=events.editor)
    assert created.status_code == 201
    event_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert (await events.client.get(f"/api/v1/events/{event_id}")).status_code == 404
    assert await events.announced() == []

    published = await events.client.post(f"/api/v1/events/{event_id}/publish", headers=events.editor)
    assert published.json()["status"] == "published"
    public = await events.client.get(f"/api/v1/events/{event_id}")
    assert public.status_code == 200 and public.json()["seats_left"] == 20
    [announcement] = await events.announced("event_published")
    assert announcement["data"]["event_id"] == event_id
    assert ".pub." in announcement["nats_subject"]
    again = await events.client.post(f"/api/v1/events/{event_id}/publish", headers=events.editor)
    assert again.status_code == 409


async def test_anonymous_callers_and_other_regions_cannot_create_events(events, token_for):
    anonymous = await events.client.post("/api/v1/events", json=event_body())
    assert anonymous.status_code == 401
    foreign = await events.client.post(
        "/api/v1/events", json=event_body(), headers=token_for("editor", region="elsewhere")
    )
    assert foreign.status_code == 403
    assert foreign.headers["content-type"] == "application/problem+json"


async def test_event_across_the_end_of_daylight_saving_is_stored_in_utc_and_shown_in_berlin_time(events):
    body = event_body(
        starts_at="2026-10-24T22:00:00",
        ends_at="2026-10-25T04:00:00",
        registration_closes_at="2026-10-24T12:00:00",
    )
    created = (await events.client.post("/api/v1/events", json=body, headers=events.editor)).json()
    assert created["starts_at"] == "2026-10-24T22:00:00+02:00"
    assert created["ends_at"] == "2026-10-25T04:00:00+01:00"
    row_id = created["id"]
    from nzr_events.gatherings.models import EventRow

    async with events.running.runtime.sessions() as session:
        row = await session.get(EventRow, row_id)
    assert row.ends_at - row.starts_at == timedelta(hours=7)
    assert row.starts_at.isoformat() == "2026-10-24T20:00:00+00:00"


async def test_end_before_start_is_refused_and_nothing_is_written(events):
    starts = in_berlin(10)
    response = await events.client.post(
        "/api/v1/events",
        headers=events.editor,
        json=event_body(starts_at=starts.isoformat(), ends_at=(starts - timedelta(hours=1)).isoformat()),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalid_params"][0]["name"] == "ends_at"
    listed = await events.client.get("/api/v1/events", params={"status": "draft"}, headers=events.editor)
    assert listed.json()["total"] == 0


async def test_district_outside_the_region_is_refused(events):
    response = await events.client.post(
        "/api/v1/events", json=event_body(district="09162000"), headers=events.editor
    )
    assert response.status_code == 422


async def test_public_list_filters_by_district_topic_format_and_date_and_pages(events):
    await events.published_event(
        title="Kick-off Leipzig", format="kick_off", district="14713000", topics=["mobilitaet"]
    )
    await events.published_event(title="Werkstatt Chemnitz")
    await events.published_event(
        title="Fachtag später",
        format="fachtag",
        starts_at=in_berlin(90).isoformat(),
        ends_at=(in_berlin(90) + timedelta(hours=3)).isoformat(),
    )
    await events.client.post("/api/v1/events", json=event_body(title="Entwurf"), headers=events.editor)

    everything = (await events.client.get("/api/v1/events")).json()
    assert everything["total"] == 3
    by_district = (await events.client.get("/api/v1/events", params={"district": "14713000"})).json()
    assert [e["title"] for e in by_district["items"]] == ["Kick-off Leipzig"]
    by_topic = (await events.client.get("/api/v1/events", params={"topic": "energie_klimaschutz"})).json()
    assert {e["title"] for e in by_topic["items"]} == {"Werkstatt Chemnitz", "Fachtag später"}
    by_format = (await events.client.get("/api/v1/events", params={"format": "fachtag"})).json()
    assert [e["title"] for e in by_format["items"]] == ["Fachtag später"]
    soon = (
        await events.client.get(
            "/api/v1/events",
            params={"from": in_berlin(0).date().isoformat(), "to": in_berlin(60).date().isoformat()},
        )
    ).json()
    assert soon["total"] == 2
    page = (await events.client.get("/api/v1/events", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["title"] == "Fachtag später"
    drafts = await events.client.get("/api/v1/events", params={"status": "draft"})
    assert drafts.status_code == 403


async def test_update_announces_event_updated_and_cancel_marks_the_event_cancelled(events):
    event = await events.published_event()
    updated = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Neuer Titel"}, headers=events.editor
    )
    assert updated.json()["title"] == "Neuer Titel" and updated.json()["version"] == event["version"] + 1
    assert (await events.announced("event_updated"))[0]["data"]["title"] == "Neuer Titel"
    cancelled = await events.client.post(f"/api/v1/events/{event['id']}/cancel", headers=events.editor)
    assert cancelled.json()["status"] == "cancelled"
    assert len(await events.announced("event_cancelled")) == 1
    refused = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Noch einer"}, headers=events.editor
    )
    assert refused.status_code == 409


@pytest.mark.parametrize("field", ["title", "starts_at", "ends_at", "format", "topics"])
async def test_patching_a_required_field_to_null_is_a_422_naming_it_and_changes_nothing(events, field):
    event = await events.published_event()
    refused = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={field: None}, headers=events.editor
    )
    assert refused.status_code == 422, refused.text
    assert field in [p["name"] for p in refused.json()["invalid_params"]]
    unchanged = (await events.client.get(f"/api/v1/events/{event['id']}", headers=events.editor)).json()
    assert unchanged[field] == event[field] and unchanged["version"] == event["version"]


async def test_patching_an_optional_field_to_null_clears_it(events):
    event = await events.published_event(fee_note="5 Euro")
    cleared = await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"fee_note": None}, headers=events.editor
    )
    assert cleared.status_code == 200 and cleared.json()["fee_note"] is None


async def test_completing_an_event_announces_participants_and_attendance_counts(events):
    event = await events.published_event(capacity=2)
    first = await events.registered(event["id"])
    await events.register(event["id"])
    await events.register(event["id"])
    checked = await events.client.post(
        f"/api/v1/events/{event['id']}/registrations/{first['id']}/check-in", headers=events.editor
    )
    assert checked.status_code == 200 and checked.json()["checked_in_at"]
    completed = await events.client.post(f"/api/v1/events/{event['id']}/complete", headers=events.editor)
    assert completed.json()["status"] == "completed"
    [done] = await events.announced("event_completed")
    assert done["data"]["participants"] == 1
    attendance = (await events.announced("attendance_recorded"))[-1]["data"]
    assert (attendance["confirmed"], attendance["waiting"], attendance["attended"]) == (2, 1, 1)
    assert set(attendance) >= {"confirmed", "waiting", "attended"}
    assert not any("@" in str(v) for v in attendance.values())


async def test_public_list_is_served_from_a_short_cache_that_any_write_clears(events):
    from nzr_events.gatherings.models import EventRow

    event = await events.published_event(title="Vorher")
    first = await events.client.get("/api/v1/events", params={"district": "14511000"})
    async with events.running.runtime.sessions() as session, session.begin():
        (await session.get(EventRow, event["id"])).title = "Direkt geändert"
    cached = await events.client.get("/api/v1/events", params={"district": "14511000"})
    assert cached.content == first.content
    assert cached.headers["x-content-type-options"] == "nosniff"
    as_editor = await events.client.get(
        "/api/v1/events", params={"district": "14511000"}, headers=events.editor
    )
    assert as_editor.json()["items"][0]["title"] == "Direkt geändert"
    await events.client.post(f"/api/v1/events/{event['id']}/cancel", headers=events.editor)
    fresh = await events.client.get("/api/v1/events", params={"district": "14511000"})
    assert fresh.json()["items"] == []
