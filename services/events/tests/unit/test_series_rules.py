"""Pure rules of series and of Berlin times: recurrence across daylight saving, exceptions (no I/O)."""

from datetime import UTC, date, datetime

import pytest

from nzr_events.series.rules import (
    InvalidRecurrence,
    describe_end,
    ending_rule,
    occurrences,
    rrule_without_prefix,
    with_end,
)
from nzr_events.times import to_berlin, to_utc


def test_naive_times_are_berlin_wall_clock_and_respect_daylight_saving():
    summer = to_utc(datetime(2026, 10, 24, 18, 0))
    winter = to_utc(datetime(2026, 10, 26, 18, 0))
    assert summer == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert winter == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_fortnightly_tuesday_circle_stays_at_six_pm_local_across_the_clock_change():
    first = to_utc(datetime(2026, 10, 13, 18, 0))
    starts = occurrences("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=3", first)
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
    "rule",
    [
        "FREQ=SOMETIMES;COUNT=2",
        "BYDAY=TU;COUNT=2",
        "",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY\nDTSTART:20260101T000000",
    ],
)
def test_invalid_recurrence_rules_are_rejected(rule):
    with pytest.raises(InvalidRecurrence):
        occurrences(rule, datetime(2026, 10, 13, 16, 0, tzinfo=UTC))


@pytest.mark.parametrize("rule", ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=TU", "RRULE:FREQ=MONTHLY;INTERVAL=1"])
def test_a_rule_without_end_is_refused(rule):
    with pytest.raises(InvalidRecurrence, match="must end"):
        occurrences(rule, datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


def test_a_rule_with_count_and_until_is_refused():
    with pytest.raises(InvalidRecurrence, match="not both"):
        ending_rule("FREQ=DAILY;COUNT=3;UNTIL=20270101", datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


def test_an_until_before_the_start_is_refused():
    with pytest.raises(InvalidRecurrence, match="before the series' start"):
        ending_rule("FREQ=WEEKLY;UNTIL=20261231", to_utc(datetime(2027, 1, 5, 18, 0)))


def test_an_until_date_counts_the_whole_berlin_day_and_is_stored_in_utc():
    first = to_utc(datetime(2027, 1, 5, 18, 0))
    rule = ending_rule("RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270126", first)
    assert rule == "FREQ=WEEKLY;UNTIL=20270126T225959Z;BYDAY=TU"
    starts = occurrences(rule, first)
    assert [to_berlin(s).day for s in starts] == [5, 12, 19, 26]
    assert describe_end(rule) == (None, to_berlin(datetime(2027, 1, 26, 22, 59, 59, tzinfo=UTC)))


def test_a_floating_until_is_berlin_wall_clock_time():
    first = to_utc(datetime(2027, 7, 6, 18, 0))
    assert ending_rule("FREQ=WEEKLY;UNTIL=20270720T180000", first).endswith("UNTIL=20270720T160000Z")


def test_the_end_of_a_rule_can_be_moved_between_count_and_until():
    rule = "FREQ=MONTHLY;BYDAY=2WE;COUNT=10"
    assert with_end(rule, count=4) == "FREQ=MONTHLY;COUNT=4;BYDAY=2WE"
    assert with_end(rule, until=date(2027, 6, 30)) == "FREQ=MONTHLY;UNTIL=20270630T215959Z;BYDAY=2WE"
    assert describe_end(with_end(rule, count=4)) == (4, None)


def test_a_rule_with_too_many_occurrences_is_refused():
    with pytest.raises(InvalidRecurrence, match="more than 104"):
        occurrences("FREQ=DAILY;COUNT=105", datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    assert len(occurrences("FREQ=DAILY;COUNT=104", datetime(2026, 1, 1, 9, 0, tzinfo=UTC))) == 104


def test_a_rule_that_only_yields_excepted_dates_is_refused():
    first = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidRecurrence, match="no occurrence"):
        occurrences("FREQ=DAILY;COUNT=1", first, exdates={first})


def test_the_stored_rule_has_no_rrule_prefix():
    assert rrule_without_prefix(" rrule:FREQ=WEEKLY ") == "FREQ=WEEKLY"
    assert rrule_without_prefix("FREQ=WEEKLY") == "FREQ=WEEKLY"
