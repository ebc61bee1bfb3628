"""Deadline rules without I/O: deadlines as data, their state on a day, the watch's announcements."""

from datetime import date

import pytest

from nzr_common.regions import load_districts
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.deadlines.rules import Deadline, DeadlineKind, DeadlineState

NAMES = {ags: d.name for ags, d in load_districts().items()}
DAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (
            "laufend (Antragszeitraum laut Programmseite bis 31.12.2027)",
            "rolling",
            {"until": date(2027, 12, 31)},
        ),
        ("laufend ohne Frist (Projektabschluss bis 31.12. des Förderjahres)", "rolling", {"until": None}),
        (
            "jährlich 30.06. (Projektbeginn ab 01.01. Folgejahr) und 30.11. "
            "(Projektbeginn ab 01.05. Folgejahr)",
            "recurring",
            {"yearly": ((6, 30), (11, 30))},
        ),
        (
            "mehrere Stichtage pro Jahr (2023: 27.02., 19.06., 23.10.)",
            "recurring",
            {"yearly": ((2, 27), (6, 19), (10, 23))},
        ),
        ("Skizzenfenster je Aufruf; zuletzt belegt: 31.10.2024", "fixed", {"dates": (date(2024, 10, 31),)}),
        ("je Förderaufruf (unregelmäßig, Bekanntmachung im Bundesanzeiger/bei der BLE)", "unknown", {}),
        (None, "unknown", {}),
    ],
)
def test_seed_deadline_text_becomes_structured_data(text, kind, expected):
    deadline = deadline_rules.parse_deadline_text(text)
    assert deadline.kind.value == kind
    for name, value in expected.items():
        assert getattr(deadline, name) == value
    assert deadline.text == text


@pytest.mark.parametrize("text", ["Frist 31.02.2027", "jährlich 30.02."])
def test_impossible_dates_in_deadline_text_are_refused(text):
    with pytest.raises(deadline_rules.DeadlineError):
        deadline_rules.parse_deadline_text(text)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "weekly"}, "deadline.kind"),
        ({"kind": "recurring"}, "deadline.yearly"),
        ({"kind": "recurring", "yearly": ["3/31"]}, "deadline.yearly[0]"),
        ({"kind": "recurring", "yearly": ["02-30"]}, "deadline.yearly[0]"),
        ({"kind": "fixed", "dates": []}, "deadline.dates"),
        ({"kind": "fixed", "dates": ["2027-13-01"]}, "deadline.dates[0]"),
        ({"kind": "rolling", "until": "morgen"}, "deadline.until"),
        ({"kind": "fixed", "dates": ["2027-01-01"], "opens": "2027-06-01"}, "deadline.opens"),
    ],
)
def test_malformed_structured_deadline_names_the_field(data, field):
    with pytest.raises(deadline_rules.DeadlineError) as raised:
        deadline_rules.deadline_from_data(data)
    assert raised.value.field == field


def test_structured_deadline_round_trips_through_its_data():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((3, 31), (9, 30)), until=date(2028, 12, 31), text="x")
    assert deadline_rules.deadline_from_data(deadline.to_data()) == deadline


def test_rolling_deadline_is_open_until_its_end_and_closed_after():
    deadline = Deadline(DeadlineKind.ROLLING, until=date(2026, 12, 31))
    expected = deadline_rules.DeadlineStatus(DeadlineState.OPEN, date(2026, 12, 31), 40)
    assert deadline_rules.deadline_status(deadline, DAY) == expected
    assert deadline_rules.deadline_status(deadline, date(2027, 1, 1)).state is DeadlineState.CLOSED


def test_recurring_deadline_moves_to_next_year_after_the_day():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((3, 31),))
    assert deadline_rules.deadline_status(deadline, date(2026, 3, 31)).next_deadline == date(2026, 3, 31)
    assert deadline_rules.deadline_status(deadline, date(2026, 4, 1)).next_deadline == date(2027, 3, 31)


def test_recurring_29_february_falls_on_28th_in_common_years():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((2, 29),))
    assert deadline_rules.next_deadline(deadline, date(2027, 1, 1)) == date(2027, 2, 28)
    assert deadline_rules.next_deadline(deadline, date(2028, 1, 1)) == date(2028, 2, 29)


def test_fixed_deadline_is_upcoming_before_its_window_opens_and_closed_after_the_last_date():
    deadline = Deadline(DeadlineKind.FIXED, dates=(date(2027, 3, 1),), opens=date(2027, 1, 15))
    assert deadline_rules.deadline_status(deadline, DAY).state is DeadlineState.UPCOMING
    assert deadline_rules.deadline_status(deadline, date(2027, 2, 1)).state is DeadlineState.OPEN
    assert deadline_rules.deadline_status(deadline, date(2027, 3, 2)).state is DeadlineState.CLOSED


def test_unknown_deadline_has_unknown_state():
    assert deadline_rules.deadline_status(Deadline(DeadlineKind.UNKNOWN), DAY).state is DeadlineState.UNKNOWN


def test_deadline_watch_announces_at_30_and_again_at_7_days():
    deadline = Deadline(DeadlineKind.FIXED, dates=(date(2026, 12, 21),))
    assert deadline_rules.due_announcements(deadline, DAY) == [(date(2026, 12, 21), 30, 30)]
    assert deadline_rules.due_announcements(deadline, date(2026, 11, 20)) == []
    assert deadline_rules.due_announcements(deadline, date(2026, 12, 16)) == [(date(2026, 12, 21), 7, 5)]


def test_open_ended_rolling_programmes_are_never_announced():
    assert deadline_rules.due_announcements(Deadline(DeadlineKind.ROLLING), DAY) == []
