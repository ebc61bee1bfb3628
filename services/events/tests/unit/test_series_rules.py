"""Pure rules of series and of Berlin times: recurrence across daylight saving, exceptions (no I/O)."""

from datetime import UTC, datetime

import pytest

from nzr_events.series.rules import InvalidRecurrence, occurrences, rrule_without_prefix
from nzr_events.times import to_berlin, to_utc


def test_naive_times_are_berlin_wall_clock_and_respect_daylight_saving():
    summer = to_utc(datetime(2026, 10, 24, 18, 0))
    winter = to_utc(datetime(2026, 10, 26, 18, 0))
    assert summer == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert winter == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_fortnightly_tuesday_circle_stays_at_six_pm_local_across_the_clock_change():
    first = to_utc(datetime(2026, 10, 13, 18, 0))
    starts = occurrences("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", first, limit=3)
    assert [to_berlin(s).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2026-10-13 18:00",
        "2026-10-27 18:00",
        "2026-11-10 18:00",
    ]
    assert starts[0].hour == 16 and starts[1].hour == 17


def test_excepted_dates_are_left_out_of_the_series():
    first = to_utc(datetime(2026, 10, 13, 18, 0))
    skipped = to_utc(datetime(2026, 10, 27, 18, 0))
    starts = occurrences("RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=3", first, exdates={skipped})
    assert skipped not in starts and len(starts) == 2


@pytest.mark.parametrize(
    "rule", ["FREQ=SOMETIMES", "BYDAY=TU", "", "FREQ=WEEKLY;COUNT=0", "FREQ=WEEKLY\nDTSTART:20260101T000000"]
)
def test_invalid_recurrence_rules_are_rejected(rule):
    with pytest.raises(InvalidRecurrence):
        occurrences(rule, datetime(2026, 10, 13, 16, 0, tzinfo=UTC))


def test_an_open_ended_rule_stops_at_the_limit():
    starts = occurrences("FREQ=DAILY", datetime(2026, 1, 1, 9, 0, tzinfo=UTC), limit=5)
    assert len(starts) == 5


def test_a_rule_that_only_yields_excepted_dates_is_refused():
    first = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidRecurrence, match="no occurrence"):
        occurrences("FREQ=DAILY;COUNT=1", first, exdates={first})


def test_the_stored_rule_has_no_rrule_prefix():
    assert rrule_without_prefix(" rrule:FREQ=WEEKLY ") == "FREQ=WEEKLY"
    assert rrule_without_prefix("FREQ=WEEKLY") == "FREQ=WEEKLY"
