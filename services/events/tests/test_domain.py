"""Pure rules: time zones, recurrence, slots and signed links (no I/O)."""

from datetime import UTC, datetime, timedelta

import pytest

from nzr_events import domain


def test_naive_times_are_berlin_wall_clock_and_respect_daylight_saving():
    summer = domain.to_utc(datetime(2026, 10, 24, 18, 0))
    winter = domain.to_utc(datetime(2026, 10, 26, 18, 0))
    assert summer == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert winter == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_fortnightly_tuesday_circle_stays_at_six_pm_local_across_the_clock_change():
    first = domain.to_utc(datetime(2026, 10, 13, 18, 0))
    starts = domain.occurrences("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", first, limit=3)
    assert [domain.to_berlin(s).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2026-10-13 18:00",
        "2026-10-27 18:00",
        "2026-11-10 18:00",
    ]
    assert starts[0].hour == 16 and starts[1].hour == 17


def test_excepted_dates_are_left_out_of_the_series():
    first = domain.to_utc(datetime(2026, 10, 13, 18, 0))
    skipped = domain.to_utc(datetime(2026, 10, 27, 18, 0))
    starts = domain.occurrences("RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=3", first, exdates={skipped})
    assert skipped not in starts and len(starts) == 2


@pytest.mark.parametrize(
    "rule", ["FREQ=SOMETIMES", "BYDAY=TU", "", "FREQ=WEEKLY;COUNT=0", "FREQ=WEEKLY\nDTSTART:20260101T000000"]
)
def test_invalid_recurrence_rules_are_rejected(rule):
    with pytest.raises(domain.InvalidRecurrence):
        domain.occurrences(rule, datetime(2026, 10, 13, 16, 0, tzinfo=UTC))


def test_sessions_at_overlapping_times_are_parallel_choices():
    nine = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    chosen = [
        ("a", nine, nine + timedelta(hours=1)),
        ("b", nine + timedelta(minutes=30), nine + timedelta(hours=2)),
        ("c", nine + timedelta(hours=2), nine + timedelta(hours=3)),
    ]
    assert domain.parallel_choices(chosen) == [("a", "b")]


def test_cancellation_link_is_bound_to_secret_purpose_and_expiry():
    now = datetime.now(UTC)
    token = domain.sign_cancellation("secret", "reg-1", now + timedelta(days=1))
    assert domain.read_cancellation("secret", token, now) == "reg-1"
    with pytest.raises(domain.InvalidLink):
        domain.read_cancellation("other secret", token, now)
    with pytest.raises(domain.InvalidLink):
        domain.read_cancellation("secret", token[:-2] + "xx", now)
    with pytest.raises(domain.ExpiredLink):
        domain.read_cancellation("secret", token, now + timedelta(days=2))


def test_registration_window_closes_at_the_start_unless_set_otherwise():
    start = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    assert (
        domain.registration_window_problem(
            start - timedelta(minutes=1), opens_at=None, closes_at=None, event_starts_at=start
        )
        is None
    )
    assert "closed" in domain.registration_window_problem(
        start, opens_at=None, closes_at=None, event_starts_at=start
    )
    assert "opens" in domain.registration_window_problem(
        start - timedelta(days=9), opens_at=start - timedelta(days=7), closes_at=None, event_starts_at=start
    )
