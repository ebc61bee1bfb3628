"""Pure rules of goals: what makes a new goal invalid, and progress against the target. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from nzr_common.errors import FieldProblem
from nzr_reporting.goals.schemas import GoalCreate
from nzr_reporting.indicators.catalogue import BY_ID


def check_goal(data: GoalCreate, *, today: date, region_districts: set[str]) -> list[FieldProblem]:
    """What is wrong with a new goal: unknown indicator, target in the past, half a target."""
    problems = []
    if data.indicator_id is not None and data.indicator_id not in BY_ID:
        problems.append(("indicator_id", f"unknown indicator '{data.indicator_id}'"))
    if data.target_date is not None and data.target_date <= today:
        problems.append(("target_date", "the target date must lie in the future"))
    measurable = (data.indicator_id, data.target_value, data.target_date)
    if data.level == "operativ" and None in measurable:
        for name, value in zip(("indicator_id", "target_value", "target_date"), measurable, strict=True):
            if value is None:
                problems.append((name, "an operative goal needs a measurable target"))
    elif any(v is not None for v in measurable) and None in measurable:
        problems.append(("target_value", "indicator, target value and target date go together"))
    if data.district is not None and data.district not in region_districts:
        problems.append(("district", "not a district of this region"))
    if data.level == "strategisch" and data.parent_goal_id is not None:
        problems.append(("parent_goal_id", "a strategic goal has no parent goal"))
    return problems


GoalState = Literal["erreicht", "im_plan", "gefaehrdet", "verfehlt", "ohne_daten"]


@dataclass(frozen=True)
class Progress:
    percent: float | None
    expected_percent: float | None
    on_track: bool
    state: GoalState


def goal_progress(
    *,
    baseline: float | None,
    current: float | None,
    target: float,
    start: date,
    target_date: date,
    today: date,
) -> Progress:
    """Current value against the target: the share of the way from the baseline to the target,
    compared with the share of the time from the goal's start to its target date."""
    if current is None:
        return Progress(None, None, False, "ohne_daten")
    base = baseline or 0.0
    rising = target >= base
    reached = current >= target if rising else current <= target
    span = target - base
    percent = 100.0 if span == 0 else round((current - base) / span * 100, 2)
    total_days = max((target_date - start).days, 1)
    elapsed = min(max((today - start).days, 0), total_days)
    expected = round(elapsed / total_days * 100, 2)
    if reached:
        return Progress(percent, expected, True, "erreicht")
    if today > target_date:
        return Progress(percent, expected, False, "verfehlt")
    on_track = percent >= expected
    return Progress(percent, expected, on_track, "im_plan" if on_track else "gefaehrdet")
