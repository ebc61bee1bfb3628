"""The goals' rules, without I/O."""

from datetime import date

import pytest

from nzr_reporting.goals.rules import changes, check_goal, goal_progress

START, TARGET_DATE, HALFWAY = date(2026, 1, 1), date(2027, 1, 1), date(2026, 7, 2)


def progress(direction: str, baseline: float, current: float, target: float, today: date = HALFWAY):  # type: ignore[no-untyped-def]
    return goal_progress(
        direction=direction,
        baseline=baseline,
        current=current,
        target=target,
        start=START,
        target_date=TARGET_DATE,
        today=today,
    )


def test_goal_behind_its_timeline_is_at_risk_and_after_its_date_missed():
    behind = progress("increase", 10, 12, 30)
    assert behind.state == "gefaehrdet" and behind.percent == 10 and not behind.on_track
    assert progress("increase", 10, 25, 30).state == "im_plan"
    assert progress("increase", 10, 25, 30, today=date(2027, 2, 1)).state == "verfehlt"


def test_a_decrease_goal_counts_a_decline_as_progress():
    # the example: from 100 down to 60, now 80 = half the way
    half = progress("decrease", 100, 80, 60)
    assert half.percent == 50 and half.state == "im_plan"
    # a rise is no progress for a goal to reduce something
    worse = progress("decrease", 100, 110, 60)
    assert worse.percent == -25 and worse.state == "gefaehrdet"
    assert progress("decrease", 50, 40, 40).state == "erreicht"


@pytest.mark.parametrize(
    ("direction", "current", "held", "percent"),
    [
        ("keep_at_least", 25, True, 100),
        ("keep_at_least", 15, False, 75),
        ("keep_at_most", 18, True, 100),
        ("keep_at_most", 40, False, 50),
    ],
)
def test_keep_goals_are_on_track_while_the_value_holds(direction, current, held, percent):  # type: ignore[no-untyped-def]
    result = progress(direction, 20, current, 20)
    assert (result.on_track, result.percent) == (held, percent)
    assert result.state == ("im_plan" if held else "gefaehrdet")
    after = progress(direction, 20, current, 20, today=TARGET_DATE)
    assert after.state == ("erreicht" if held else "verfehlt")


def _goal(**fields: object) -> dict[str, object]:
    return {"level": "operativ", "title": "Mehr Kooperationen", **fields}


def test_an_operative_goal_needs_indicator_target_value_and_target_date():
    problems = check_goal(_goal(), region_districts=set())
    assert [name for name, _ in problems] == ["indicator_id", "target_value", "target_date"]


def test_a_goal_names_each_field_at_fault():
    goal = _goal(
        indicator_id="nope",
        target_value=10,
        baseline_date=date(2026, 1, 1),
        target_date=date(2025, 12, 31),
        district="14612000",
    )
    problems = dict(check_goal(goal, region_districts={"14511000"}))
    assert problems == {
        "indicator_id": "unknown indicator 'nope'",
        "direction": "say whether to increase, decrease, keep at least or keep at most",
        "target_date": "lies before the baseline date",
        "district": "not a district of this region",
    }


def test_a_measurable_goal_with_past_dates_passes():
    goal = _goal(
        indicator_id="actors_total",
        direction="decrease",
        target_value=50,
        baseline_date=date(2024, 1, 1),
        target_date=date(2025, 6, 30),
        district="14511000",
    )
    assert check_goal(goal, region_districts={"14511000"}) == []


def test_changes_list_old_and_new_of_each_changed_field():
    before = {"title": "Alt", "target_value": 10.0, "target_date": date(2027, 1, 1)}
    after = {"title": "Neu", "target_value": 12.5, "target_date": date(2027, 1, 1)}
    assert changes(before, after) == [("title", "Alt", "Neu"), ("target_value", "10", "12.5")]
