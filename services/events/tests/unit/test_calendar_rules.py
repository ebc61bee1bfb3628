"""Pure rules of the calendar: the RFC 5545 document of events and series (no I/O)."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from nzr_events.calendar.rules import CalendarEntry, ProgrammeItem, SeriesInfo, build_calendar

START = datetime(2026, 10, 13, 16, 0, tzinfo=UTC)  # 18:00 in Berlin


def entry(**changes):
    values = dict(
        uid="e1@test.nzr",
        title="Klimastammtisch",
        description=None,
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        location="Rathaus",
        url=None,
        status="published",
        sequence=3,
        updated_at=START - timedelta(days=1),
    )
    values.update(changes)
    return CalendarEntry(**values)


def events_of(body: bytes):
    return [c for c in Calendar.from_ical(body).walk("VEVENT")]


def test_an_event_keeps_its_uid_sequence_and_berlin_time():
    (event,) = events_of(build_calendar([entry()], series={}))
    assert str(event["uid"]) == "e1@test.nzr"
    assert int(event["sequence"]) == 3
    assert event.decoded("dtstart").hour == 18
    assert str(event["status"]) == "CONFIRMED"


def test_a_cancelled_event_says_so():
    (event,) = events_of(build_calendar([entry(status="cancelled")], series={}))
    assert str(event["status"]) == "CANCELLED"


def test_a_series_appears_once_with_its_rule_and_exdates():
    skipped = START + timedelta(days=14)
    occurrences = [
        entry(
            uid=f"o{i}@test.nzr",
            starts_at=s,
            ends_at=s + timedelta(hours=2),
            series_id="s1",
            occurrence_starts_at=s,
        )
        for i, s in enumerate((START, START + timedelta(days=28)))
    ]
    series = {
        "s1": SeriesInfo(
            uid="series-s1@test.nzr",
            rule="FREQ=WEEKLY;INTERVAL=2;COUNT=3",
            first_start=START,
            duration=timedelta(hours=2),
            exdates=frozenset({skipped}),
            title="Kreis",
            starts=frozenset({START, skipped, START + timedelta(days=28)}),
            sequence=2,
        )
    }
    body = build_calendar(occurrences, series=series)
    masters = [e for e in events_of(body) if "RRULE" in e]
    assert len(masters) == 1
    assert str(masters[0]["uid"]) == "series-s1@test.nzr"
    assert b"EXDATE" in body


def test_a_programme_is_listed_in_the_description_in_berlin_time():
    programme = [
        ProgrammeItem(
            "Workshop Wärmepumpe", START + timedelta(hours=1), START + timedelta(hours=2), "Raum 2"
        ),
        ProgrammeItem("Begrüßung", START, START + timedelta(minutes=30)),
    ]
    (event,) = events_of(
        build_calendar([entry(description="Offenes Treffen", programme=programme)], series={})
    )
    assert str(event["description"]) == (
        "Offenes Treffen\n\nProgramm:\n18:00–18:30 Begrüßung\n19:00–20:00 Workshop Wärmepumpe (Raum 2)"
    )
