"""Pure rules of gatherings: event times, districts, seats, participants, topic tags (no I/O)."""

from datetime import UTC, datetime, timedelta

from nzr_events.gatherings.rules import (
    Violation,
    check_event_times,
    check_region_district,
    has_seat,
    participants,
    seats_left,
    topic_tags,
)

START = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=8)


def test_an_event_ends_after_it_starts():
    assert check_event_times(START, END, None, None) == []
    assert check_event_times(END, START, None, None) == [Violation("ends_at", "must be after starts_at")]


def test_the_registration_window_opens_before_it_closes_and_closes_by_the_end():
    backwards = check_event_times(START, END, START - timedelta(days=1), START - timedelta(days=2))
    assert [v.name for v in backwards] == ["registration_closes_at"]
    late = check_event_times(START, END, None, END + timedelta(minutes=1))
    assert late == [Violation("registration_closes_at", "must not be after the event's end")]


def test_a_violation_is_the_field_and_reason_pair_the_domain_errors_take():
    name, reason = Violation("ends_at", "must be after starts_at")
    assert (name, reason) == ("ends_at", "must be after starts_at")


def test_the_district_must_belong_to_the_region_when_the_region_names_districts():
    assert check_region_district("03241000", {"03241000"}) == []
    assert check_region_district(None, {"03241000"}) == []
    assert check_region_district("09162000", set()) == []
    assert [v.name for v in check_region_district("09162000", {"03241000"})] == ["district"]


def test_seats_without_capacity_are_unlimited():
    assert has_seat(None, 10_000)
    assert seats_left(None, 5) is None


def test_seats_left_never_go_below_zero():
    assert has_seat(3, 2) and not has_seat(3, 3)
    assert seats_left(3, 1) == 2
    assert seats_left(3, 5) == 0


def test_participants_are_those_checked_in_or_else_the_confirmed():
    assert participants(confirmed=20, attended=17) == 17
    assert participants(confirmed=20, attended=0) == 20


def test_topic_tags_are_lower_case_and_delimited_for_like_filters():
    assert topic_tags(["Klima", " Energie "]) == "|klima|energie|"
    assert topic_tags([]) == "|"
