"""Pure rules behind the participants' mails: reminder timing, what changed, time slots,
feedback input and the purpose-bound feedback link."""

from datetime import UTC, datetime, timedelta

import pytest

from nzr_common.errors import Invalid
from nzr_events.feedback.rules import check_feedback
from nzr_events.gatherings.rules import check_reminder, noticeable_changes, reminder_due
from nzr_events.programme.rules import check_session_capacity, session_changes, time_slots
from nzr_events.registrations.rules import (
    ExpiredLink,
    InvalidLink,
    read_cancellation,
    read_feedback,
    sign_cancellation,
    sign_feedback,
)

START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("days", [0, -1, -30])
def test_a_reminder_at_or_after_the_start_is_refused_naming_the_field(days):
    [problem] = check_reminder(days)
    assert problem.name == "reminder_days"


@pytest.mark.parametrize("days", [None, 1, 2, 14])
def test_reminders_before_the_start_or_none_are_fine(days):
    assert check_reminder(days) == []


def test_the_reminder_is_due_from_its_moment_until_the_start_for_earlier_registrations():
    early = START - timedelta(days=20)
    due = dict(starts_at=START, reminder_days=2, registered_at=early)
    assert not reminder_due(START - timedelta(days=2, seconds=1), **due)
    assert reminder_due(START - timedelta(days=2), **due)
    assert reminder_due(START - timedelta(minutes=1), **due)
    assert not reminder_due(START, **due)
    late = dict(due, registered_at=START - timedelta(days=1))
    assert not reminder_due(START - timedelta(hours=1), **late)
    assert not reminder_due(START - timedelta(hours=1), **dict(due, reminder_days=None))


def test_participants_are_told_of_time_and_place_but_not_of_other_fields():
    before = {"starts_at": START, "ends_at": START, "venue_name": "Rathaus", "venue_address": None}
    assert noticeable_changes(before, dict(before)) == []
    assert noticeable_changes(before, {**before, "venue_name": "Kulturhaus"}) == ["place"]
    assert noticeable_changes(
        before, {**before, "ends_at": START + timedelta(hours=1), "online_url": "x"}
    ) == [
        "time",
        "place",
    ]


def test_session_changes_name_time_room_and_capacity():
    before = {"starts_at": START, "ends_at": START, "room": "A", "capacity": 10}
    assert session_changes(before, dict(before)) == []
    assert session_changes(before, {**before, "room": "B", "capacity": 12}) == ["place", "capacity"]
    assert session_changes(before, {**before, "starts_at": START - timedelta(hours=1)}) == ["time"]
    assert check_session_capacity(3, 4)[0].name == "capacity"
    assert check_session_capacity(4, 4) == check_session_capacity(None, 9) == []


def test_overlapping_sessions_share_a_time_slot():
    hour = timedelta(hours=1)
    slots = time_slots(
        [
            ("keynote", START, START + hour),
            ("b", START + 2 * hour, START + 3 * hour),
            ("a", START + 2 * hour, START + 3 * hour),
            ("long", START + 2.5 * hour, START + 4 * hour),
            ("lunch", START + 4 * hour, START + 5 * hour),
        ]
    )
    assert slots == [["keynote"], ["a", "b", "long"], ["lunch"]]


@pytest.mark.parametrize(
    ("rating", "comment"), [("0", ""), ("6", ""), ("", ""), ("drei", ""), ("4", "x" * 5001)]
)
def test_feedback_needs_a_rating_from_one_to_five_and_a_bounded_text(rating, comment):
    with pytest.raises(Invalid) as refused:
        check_feedback(rating, comment)
    assert refused.value.problems[0][0] in ("rating", "comment")


def test_feedback_text_is_trimmed_and_may_be_empty():
    assert check_feedback("5", "  Danke!  ") == (5, "Danke!")
    assert check_feedback("1", "   ") == (1, None)


def test_a_feedback_link_opens_only_feedback_and_expires():
    now = datetime.now(UTC)
    feedback = sign_feedback("secret", "reg-1", now + timedelta(days=1))
    assert read_feedback("secret", feedback, now) == "reg-1"
    with pytest.raises(InvalidLink):
        read_cancellation("secret", feedback, now)
    with pytest.raises(InvalidLink):
        read_feedback("secret", sign_cancellation("secret", "reg-1", now + timedelta(days=1)), now)
    with pytest.raises(ExpiredLink):
        read_feedback("secret", feedback, now + timedelta(days=2))
