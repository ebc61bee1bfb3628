"""The goals' rules, without I/O."""

from datetime import date

from nzr_reporting.goals.rules import check_goal, goal_progress
from nzr_reporting.goals.schemas import GoalCreate


def test_goal_behind_its_timeline_is_at_risk_and_after_its_date_missed():
    start, target_date = date(2026, 1, 1), date(2027, 1, 1)
    halfway = date(2026, 7, 2)
    behind = goal_progress(
        baseline=10, current=12, target=30, start=start, target_date=target_date, today=halfway
    )
    assert behind.state == "gefaehrdet" and behind.percent == 10 and not behind.on_track
    ahead = goal_progress(
        baseline=10, current=25, target=30, start=start, target_date=target_date, today=halfway
    )
    assert ahead.state == "im_plan" and ahead.on_track
    missed = goal_progress(
        baseline=10, current=25, target=30, start=start, target_date=target_date, today=date(2027, 2, 1)
    )
    assert missed.state == "verfehlt"
    falling = goal_progress(
        baseline=50, current=40, target=40, start=start, target_date=target_date, today=halfway
    )
    assert falling.state == "erreicht"


def _goal(**fields: object) -> GoalCreate:
    return GoalCreate.model_validate({"level": "operativ", "title": "Mehr Kooperationen", **fields})


def test_an_operative_goal_needs_indicator_target_value_and_target_date():
    problems = check_goal(_goal(), today=date(2026, 1, 1), region_districts=set())
    assert [name for name, _ in problems] == ["indicator_id", "target_value", "target_date"]


def test_a_goal_names_each_field_at_fault():
    goal = _goal(
        indicator_id="nope",
        target_value=10,
        target_date="2025-12-31",
        district="14612000",
    )
    problems = dict(check_goal(goal, today=date(2026, 1, 1), region_districts={"14511000"}))
    assert problems == {
        "indicator_id": "unknown indicator 'nope'",
        "target_date": "the target date must lie in the future",
        "district": "not a district of this region",
    }


def test_a_measurable_operative_goal_in_the_region_passes():
    goal = _goal(indicator_id="actors_total", target_value=50, target_date="2027-06-30", district="14511000")
    assert check_goal(goal, today=date(2026, 1, 1), region_districts={"14511000"}) == []
