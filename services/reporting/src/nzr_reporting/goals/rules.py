"""Pure rules of goals: what makes a goal invalid, how a change is recorded, and progress
against the target in the goal's direction. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from nzr_common.errors import FieldProblem
from nzr_reporting.indicators.catalogue import BY_ID

#: the fields of a goal an editor may change (and the audit trail records)
EDITABLE = (
    "title",
    "description",
    "parent_goal_id",
    "indicator_id",
    "district",
    "direction",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
)


def check_goal(goal: dict[str, Any], *, region_districts: set[str]) -> list[FieldProblem]:
    """What is wrong with a goal (new, or as it would be after a change): unknown indicator or
    district, half a target, a measurable goal without direction, a target date before the
    baseline date. Past dates are allowed (an action plan written last year)."""
    problems: list[FieldProblem] = []
    indicator_id = goal.get("indicator_id")
    if indicator_id is not None and indicator_id not in BY_ID:
        problems.append(("indicator_id", f"unknown indicator '{indicator_id}'"))
    measurable = (indicator_id, goal.get("target_value"), goal.get("target_date"))
    if goal.get("level") == "operativ" and None in measurable:
        for name, value in zip(("indicator_id", "target_value", "target_date"), measurable, strict=True):
            if value is None:
                problems.append((name, "an operative goal needs a measurable target"))
    elif any(v is not None for v in measurable) and None in measurable:
        problems.append(("target_value", "indicator, target value and target date go together"))
    if goal.get("target_value") is not None and goal.get("direction") is None:
        problems.append(("direction", "say whether to increase, decrease, keep at least or keep at most"))
    baseline_date, target_date = goal.get("baseline_date"), goal.get("target_date")
    if baseline_date is not None and target_date is not None and target_date < baseline_date:
        problems.append(("target_date", "lies before the baseline date"))
    district = goal.get("district")
    if district is not None and district not in region_districts:
        problems.append(("district", "not a district of this region"))
    if goal.get("level") == "strategisch" and goal.get("parent_goal_id") is not None:
        problems.append(("parent_goal_id", "a strategic goal has no parent goal"))
    return problems


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(field, old, new) of every editable field that differs, as text for the audit trail."""
    return [
        (name, _text(before.get(name)), _text(after.get(name)))
        for name in EDITABLE
        if before.get(name) != after.get(name)
    ]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if isinstance(value, date) else str(value)


def derived_direction(baseline: float | None, target: float) -> str:
    """The direction of a goal announced before directions were explicit (old events)."""
    return "increase" if target >= (baseline or 0.0) else "decrease"


GoalState = Literal["erreicht", "im_plan", "gefaehrdet", "verfehlt", "ohne_daten"]


@dataclass(frozen=True)
class Progress:
    percent: float | None
    expected_percent: float | None
    on_track: bool
    state: GoalState


def goal_progress(
    *,
    direction: str,
    baseline: float | None,
    current: float | None,
    target: float,
    start: date,
    target_date: date,
    today: date,
) -> Progress:
    """Current value against the target in the goal's direction.

    increase / decrease: the share of the way from the baseline to the target (decrease from
    100 to 60, now 80: 50 %), compared with the share of the time from the baseline date to the
    target date. keep_at_least / keep_at_most: held or not (100 % while held, else how close)."""
    if current is None:
        return Progress(None, None, False, "ohne_daten")
    total_days = max((target_date - start).days, 1)
    elapsed = min(max((today - start).days, 0), total_days)
    expected = round(elapsed / total_days * 100, 2)
    if direction in ("keep_at_least", "keep_at_most"):
        held = current >= target if direction == "keep_at_least" else current <= target
        if held:
            percent = 100.0
        elif direction == "keep_at_least":
            percent = round(current / target * 100, 2) if target else 0.0
        else:
            percent = round(target / current * 100, 2) if current else 0.0
        if today >= target_date:
            return Progress(percent, 100.0, held, "erreicht" if held else "verfehlt")
        return Progress(percent, 100.0, held, "im_plan" if held else "gefaehrdet")
    base = baseline or 0.0
    rising = direction == "increase"
    reached = current >= target if rising else current <= target
    span = (target - base) if rising else (base - target)
    gained = (current - base) if rising else (base - current)
    percent = 100.0 if span <= 0 and reached else round(gained / span * 100, 2) if span else 0.0
    if reached:
        return Progress(percent, expected, True, "erreicht")
    if today > target_date:
        return Progress(percent, expected, False, "verfehlt")
    on_track = percent >= expected
    return Progress(percent, expected, on_track, "im_plan" if on_track else "gefaehrdet")
