"""iCalendar feeds (RFC 5545) and recurring meetings (series with RRULE and exceptions)."""

from datetime import datetime, timedelta

import recurring_ical_events
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
    body.update(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=4", publish=True)
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
    assert "RRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=2;BYDAY=TU" in text
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
    for rule in (
        "FREQ=FORTNIGHTLY;COUNT=3",
        "BYDAY=TU;COUNT=3",
        "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
        "FREQ=WEEKLY;UNTIL=20200101T000000",
    ):
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
            "/api/v1/series",
            json=_series_body(publish=False, rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=3"),
            headers=events.editor,
        )
    ).json()
    assert {o["status"] for o in series["occurrences"]} == {"draft"}
    assert (await events.client.get(f"/api/v1/series/{series['id']}")).status_code == 404
    published = await events.client.post(f"/api/v1/series/{series['id']}/publish", headers=events.editor)
    assert {o["status"] for o in published.json()["occurrences"]} == {"published"}
    assert (await events.client.get(f"/api/v1/series/{series['id']}")).status_code == 200
    assert in_berlin(1)


def _expanded(text: str) -> list[tuple[str, str]]:
    """What a calendar app shows: every instance of the feed (recurring-ical-events), as
    (Berlin start, status), in order. ``all()`` would never end on an endless rule."""
    instances = recurring_ical_events.of(Calendar.from_ical(text)).all()
    return sorted(
        (v["DTSTART"].dt.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M"), str(v.get("STATUS", "")))
        for v in instances
    )


async def _problem_fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["name"] for e in response.json()["invalid_params"]]


async def test_a_series_without_an_end_or_ending_before_its_start_is_refused_and_nothing_written(events):
    for rule in ("FREQ=MONTHLY;BYDAY=2WE", "FREQ=WEEKLY;UNTIL=20270301", "FREQ=DAILY;COUNT=105"):
        response = await events.client.post(
            "/api/v1/series", json=_series_body(rrule=rule), headers=events.editor
        )
        assert await _problem_fields(response) == ["rrule"], rule
    missing = await events.client.post(
        "/api/v1/series", json=_series_body(rrule="FREQ=WEEKLY"), headers=events.editor
    )
    assert "COUNT" in missing.json()["invalid_params"][0]["reason"]
    listed = await events.client.get(
        "/api/v1/events", params={"status": ["draft", "published"]}, headers=events.editor
    )
    assert listed.json()["total"] == 0 and await events.announced() == []


async def test_the_feed_expands_to_exactly_the_dates_of_the_series_with_cancelled_ones_left_out(events):
    body = _series_body(rrule="FREQ=MONTHLY;BYDAY=2WE;COUNT=10", title="Initiativkreis Energiewende")
    body.update(starts_at="2027-01-13T18:00:00", ends_at="2027-01-13T20:00:00")
    series = (await events.client.post("/api/v1/series", json=body, headers=events.editor)).json()
    assert (series["count"], series["until"], len(series["occurrences"])) == (10, None, 10)
    # One date excepted through the series, one occurrence cancelled as an event.
    await events.client.post(
        f"/api/v1/series/{series['id']}/exceptions",
        headers=events.editor,
        json={"starts_at": "2027-03-10T18:00:00"},
    )
    may = next(o for o in series["occurrences"] if o["starts_at"].startswith("2027-05-12"))
    assert (
        await events.client.post(f"/api/v1/events/{may['id']}/cancel", headers=events.editor)
    ).status_code == 200

    expected = [
        (f"2027-{month:02d}-{day:02d} 18:00", "CONFIRMED")
        for month, day in ((1, 13), (2, 10), (4, 14), (6, 9), (7, 14), (8, 11), (9, 8), (10, 13))
    ]
    for path in ("/api/v1/events.ics", f"/api/v1/series/{series['id']}.ics"):
        text = (await events.client.get(path)).text
        assert _expanded(text) == expected, path
        assert "EXDATE;TZID=Europe/Berlin:20270310T180000,20270512T180000" in text
    single = (await events.client.get(f"/api/v1/events/{series['occurrences'][0]['id']}.ics")).text
    assert _expanded(single) == [("2027-01-13 18:00", "CONFIRMED")]


async def test_moving_the_end_earlier_cancels_later_dates_and_their_registrations(events):
    series = (
        await events.client.post(
            "/api/v1/series",
            json=_series_body(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6"),
            headers=events.editor,
        )
    ).json()
    last = series["occurrences"][-1]
    registration = await events.registered(last["id"])
    before = (await events.client.get("/api/v1/events.ics")).text
    changed = await events.client.patch(
        f"/api/v1/series/{series['id']}", headers=events.editor, json={"until": "2027-04-13"}
    )
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert shown["count"] is None and shown["until"] == "2027-04-13T23:59:59+02:00"
    assert shown["rrule"] == "FREQ=WEEKLY;UNTIL=20270413T215959Z;INTERVAL=2;BYDAY=TU"
    assert [o["status"] for o in shown["occurrences"]] == ["published"] * 3 + ["cancelled"] * 3
    assert len(await events.announced("event_cancelled")) == 3
    cancelled = await events.announced("registration_cancelled")
    assert [c["data"]["registration_id"] for c in cancelled] == [registration["id"]]
    # the registrant of a dropped date is told, with a calendar cancellation (higher SEQUENCE)
    [told] = [
        n["data"]
        for n in await events.announced("participant_notice")
        if n["data"]["kind"] == "event_cancelled"
    ]
    assert told["registration"]["registration_id"] == registration["id"]
    assert told["registration"]["sequence"] >= 1
    listed = (
        await events.client.get(f"/api/v1/events/{last['id']}/registrations", headers=events.admin)
    ).json()["items"]
    assert [r["status"] for r in listed] == ["cancelled"]

    text = (await events.client.get("/api/v1/events.ics")).text
    assert _expanded(text) == [
        ("2027-03-16 18:00", "CONFIRMED"),
        ("2027-03-30 18:00", "CONFIRMED"),
        ("2027-04-13 18:00", "CONFIRMED"),
    ]
    (master,) = Calendar.from_ical(text).walk("VEVENT")
    (old_master,) = Calendar.from_ical(before).walk("VEVENT")
    assert int(master["SEQUENCE"]) > int(old_master["SEQUENCE"])  # subscribed calendars take it

    extended = (
        await events.client.patch(f"/api/v1/series/{series['id']}", headers=events.editor, json={"count": 8})
    ).json()
    assert extended["count"] == 8 and len(extended["occurrences"]) == 8
    assert [o["status"] for o in extended["occurrences"]][-2:] == ["published", "published"]
    assert extended["occurrences"][-1]["starts_at"] == "2027-06-22T18:00:00+02:00"
    assert extended["occurrences"][-1]["capacity"] == 12
    assert len(_expanded((await events.client.get("/api/v1/events.ics")).text)) == 5


async def test_a_bad_new_end_is_refused_naming_the_field_and_nothing_changes(events):
    series = (await events.client.post("/api/v1/series", json=_series_body(), headers=events.editor)).json()
    url = f"/api/v1/series/{series['id']}"
    assert await _problem_fields(
        await events.client.patch(url, headers=events.editor, json={"until": "2027-03-01"})
    ) == ["until"]
    assert await _problem_fields(await events.client.patch(url, headers=events.editor, json={})) == ["count"]
    assert await _problem_fields(
        await events.client.patch(url, headers=events.editor, json={"count": 2, "until": "2027-05-01"})
    ) == ["count"]
    assert await _problem_fields(
        await events.client.patch(url, headers=events.editor, json={"count": 0})
    ) == ["count"]
    again = (await events.client.get(url)).json()
    assert (
        again["rrule"] == series["rrule"] and [o["status"] for o in again["occurrences"]] == ["published"] * 4
    )
    assert (
        await events.client.patch("/api/v1/series/nothing", headers=events.editor, json={"count": 2})
    ).status_code == 404


async def test_the_programme_of_an_event_is_in_its_calendar_entry(events):
    event = await events.published_event(title="Regionalkonferenz")
    start = datetime.fromisoformat(event["starts_at"]).replace(tzinfo=None)
    for offset, title, room in (
        (0, "Begrüßung und Keynote", "Saal"),
        (2, "Werkstatt Wärmeplanung", "Raum 2"),
    ):
        added = await events.client.post(
            f"/api/v1/events/{event['id']}/sessions",
            headers=events.editor,
            json={
                "title": title,
                "kind": "workshop",
                "starts_at": (start + timedelta(hours=offset)).isoformat(),
                "ends_at": (start + timedelta(hours=offset + 1)).isoformat(),
                "room": room,
            },
        )
        assert added.status_code == 201, added.text
    (vevent,) = Calendar.from_ical((await events.client.get(f"/api/v1/events/{event['id']}.ics")).text).walk(
        "VEVENT"
    )
    hour = start.hour
    assert str(vevent["DESCRIPTION"]).endswith(
        f"Programm:\n{hour:02d}:00–{hour + 1:02d}:00 Begrüßung und Keynote (Saal)\n"
        f"{hour + 2:02d}:00–{hour + 3:02d}:00 Werkstatt Wärmeplanung (Raum 2)"
    )
