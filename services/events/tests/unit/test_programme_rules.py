"""Pure rules of the programme: sessions inside their event, parallel choices (no I/O)."""

from datetime import UTC, datetime, timedelta

from nzr_events.programme.rules import check_session_times, overlaps, parallel_choices

NINE = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_sessions_at_overlapping_times_are_parallel_choices():
    chosen = [
        ("a", NINE, NINE + HOUR),
        ("b", NINE + timedelta(minutes=30), NINE + 2 * HOUR),
        ("c", NINE + 2 * HOUR, NINE + 3 * HOUR),
    ]
    assert parallel_choices(chosen) == [("a", "b")]


def test_sessions_that_only_touch_do_not_overlap():
    assert not overlaps(NINE, NINE + HOUR, NINE + HOUR, NINE + 2 * HOUR)
    assert overlaps(NINE, NINE + 2 * HOUR, NINE + HOUR, NINE + 3 * HOUR)


def test_a_session_lies_inside_its_event_and_ends_after_it_starts():
    event = (NINE, NINE + 8 * HOUR)
    assert check_session_times(NINE + HOUR, NINE + 2 * HOUR, *event) == []
    backwards = check_session_times(NINE + 2 * HOUR, NINE + HOUR, *event)
    assert [v.name for v in backwards] == ["ends_at"]
    outside = check_session_times(NINE - HOUR, NINE + HOUR, *event)
    assert [v.name for v in outside] == ["starts_at"]
    assert "05.05.2026 11:00" in outside[0].reason  # the event's time, in Berlin
