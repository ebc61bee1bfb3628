"""Bounce rules: what a hard or soft bounce does to the address."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BounceDecision:
    block: bool
    unsubscribe: bool
    reason: str


def decide_bounce(
    *, kind: str, soft_bounces: int, threshold: int, hard_action: str, soft_action: str
) -> BounceDecision:
    """What a bounce does to the subscriber: a hard one at once, soft ones past the threshold."""
    if kind == "hard":
        action, reason = hard_action, "hard bounce"
    elif soft_bounces >= threshold:
        action, reason = soft_action, f"{soft_bounces} soft bounces"
    else:
        return BounceDecision(False, False, "")
    return BounceDecision(action == "block", action == "unsubscribe", reason)
