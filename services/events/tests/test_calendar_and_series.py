"""iCalendar feeds (RFC 5545) and recurring meetings (series with RRULE and exceptions)."""

from datetime import datetime, timedelta

from events_testkit import event_body, in_berlin
from icalendar import Calendar

from nzr_events.times import BERLIN


def _vevents(text: str):  # type: ignore[no-untyped-def]
    calendar = Calendar.from_ical(text)
    return calendar, [c for c in calendar.walk("VEVENT")]


async def test_calendar_feed_lists_public_events_with_stable_uids_and_berlin_time_zone(events):
    event = await events.published_event(title="Netzwerkkonferenz", format="netzwerkkonferenz")
    await events.client.post("/api/v1/events", json=event_body(title="Entwurf"), headers=events.editor)
    response = await events.client.get("/api/v1/events.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    calendar, [vevent] = _vevents(response.text)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert "DTSTART;TZID=Europe/Berlin:" in response.text
    assert str(vevent["SUMMARY"]) == "Netzwerkkonferenz"
    assert str(vevent["UID"]) == f"{event['id']}@{events.region}.nzr"
    assert vevent["DTSTART"].dt == datetime.fromisoformat(event["starts_at"])
    assert "\r\n" in response.text

    await events.client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Netzwerkkonferenz 2027"}, headers=events.editor
    )
    await events.client.post(f"/api/v1/events/{event['id']}/cancel", headers=events.editor)
    _, [changed] = _vevents((await events.client.get("/api/v1/events.ics")).text)
    assert str(changed["UID"]) == str(vevent["UID"])
    assert int(changed["SEQUENCE"]) > int(vevent["SEQUENCE"])
    assert str(changed["STATUS"]) == "CANCELLED"


async def test_calendar_feed_takes_the_list_filters_and_single_events_have_their_own_file(events):
    leipzig = await events.published_event(title="Leipzig", district="14713000")
    await events.published_event(title="Chemnitz")
    _, filtered = _vevents(
        (await events.client.get("/api/v1/events.ics", params={"district": "14713000"})).text
    )
    assert [str(v["SUMMARY"]) for v in filtered] == ["Leipzig"]
    single = await events.client.get(f"/api/v1/events/{leipzig['id']}.ics")
    assert single.status_code == 200 and "SUMMARY:Leipzig" in single.text
    assert (await events.client.get("/api/v1/events/nothing.ics")).status_code == 404


def _series_body(**overrides):  # type: ignore[no-untyped-def]
    first = datetime(2027, 3, 16, 18, 0)
    body = event_body(
        format="initiativkreis",
        title="Initiativkreis Energie",
        starts_at=first.isoformat(),
        ends_at=(first + timedelta(hours=2)).isoformat(),
        capacity=12,
    )
    body.update(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", count=4, publish=True)
    body.update(overrides)
    return body


async def test_fortnightly_circle_keeps_six_pm_across_daylight_saving_and_each_date_takes_registrations(
    events,
):
    response = await events.client.post("/api/v1/series", json=_series_body(), headers=events.editor)
    assert response.status_code == 201, response.text
    series = response.json()
    starts = [o["starts_at"] for o in series["occurrences"]]
    assert starts == [
        "2027-03-16T18:00:00+01:00",
        "2027-03-30T18:00:00+02:00",
        "2027-04-13T18:00:00+02:00",
        "2027-04-27T18:00:00+02:00",
    ]
    assert len(await events.announced("event_published")) == 4
    occurrence = series["occurrences"][1]
    assert datetime.fromisoformat(occurrence["starts_at"]) > datetime.now(BERLIN)
    registered = await events.register(occurrence["id"])
    assert registered.status_code == 202
    assert (await events.client.get(f"/api/v1/events/{occurrence['id']}")).json()["confirmed_count"] == 1
    assert (await events.client.get(f"/api/v1/events/{series['occurrences'][2]['id']}")).json()[
        "confirmed_count"
    ] == 0


async def test_a_cancelled_date_of_the_series_becomes_an_exdate_and_a_cancelled_occurrence(events):
    series = (await events.client.post("/api/v1/series", json=_series_body(), headers=events.editor)).json()
    excepted = await events.client.post(
        f"/api/v1/series/{series['id']}/exceptions",
        headers=events.editor,
        json={"starts_at": "2027-03-30T18:00:00"},
    )
    assert excepted.status_code == 200
    assert excepted.json()["exdates"] == ["2027-03-30T18:00:00+02:00"]
    assert [o["status"] for o in excepted.json()["occurrences"]] == [
        "published",
        "cancelled",
        "published",
        "published",
    ]
    assert len(await events.announced("event_cancelled")) == 1
    missing = await events.client.post(
        f"/api/v1/series/{series['id']}/exceptions",
        headers=events.editor,
        json={"starts_at": "2027-03-31T18:00:00"},
    )
    assert missing.status_code == 422

    text = (await events.client.get(f"/api/v1/series/{series['id']}.ics")).text
    _, [master] = _vevents(text)
    assert "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" in text
    assert "EXDATE;TZID=Europe/Berlin:20270330T180000" in text
    assert master["DTSTART"].dt.hour == 18
    feed = (await events.client.get("/api/v1/events.ics")).text
    assert feed.count("BEGIN:VEVENT") == 1 and "RRULE:" in feed


async def test_moved_occurrence_appears_as_an_override_with_recurrence_id(events):
    series = (await events.client.post("/api/v1/series", json=_series_body(), headers=events.editor)).json()
    third = series["occurrences"][2]
    await events.client.patch(
        f"/api/v1/events/{third['id']}",
        headers=events.editor,
        json={"starts_at": "2027-04-13T19:00:00", "ends_at": "2027-04-13T21:00:00"},
    )
    text = (await events.client.get(f"/api/v1/series/{series['id']}.ics")).text
    _, vevents = _vevents(text)
    assert len(vevents) == 2
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20270413T180000" in text
    assert "DTSTART;TZID=Europe/Berlin:20270413T190000" in text


async def test_invalid_recurrence_rules_are_refused_and_nothing_is_written(events):
    for rule in ("FREQ=FORTNIGHTLY", "BYDAY=TU", "FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;UNTIL=20200101T000000"):
        response = await events.client.post(
            "/api/v1/series", json=_series_body(rrule=rule), headers=events.editor
        )
        assert response.status_code == 422, rule
        assert response.headers["content-type"] == "application/problem+json"
    listed = await events.client.get(
        "/api/v1/events", params={"status": ["draft", "published"]}, headers=events.editor
    )
    assert listed.json()["total"] == 0
    assert await events.announced() == []


async def test_draft_series_is_published_in_one_step(events):
    series = (
        await events.client.post(
            "/api/v1/series", json=_series_body(publish=False, count=3), headers=events.editor
        )
    ).json()
    assert {o["status"] for o in series["occurrences"]} == {"draft"}
    assert (await events.client.get(f"/api/v1/series/{series['id']}")).status_code == 404
    published = await events.client.post(f"/api/v1/series/{series['id']}/publish", headers=events.editor)
    assert {o["status"] for o in published.json()["occurrences"]} == {"published"}
    assert (await events.client.get(f"/api/v1/series/{series['id']}")).status_code == 200
    assert in_berlin(1)
