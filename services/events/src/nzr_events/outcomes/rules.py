"""Pure rules of outcomes: who may record them, what a progress report must say.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from nzr_events.gatherings.rules import Violation

DRAFT_HAS_NO_OUTCOMES = "A draft event has no outcomes yet."


def outcomes_closed(event_status: str) -> str | None:
    """Why the event takes no outcomes (a draft was not held), or None."""
    return DRAFT_HAS_NO_OUTCOMES if event_status == "draft" else None


def distinct_parties(actor_ids: list[str]) -> list[str]:
    """The parties of an agreement, each once, in the order given."""
    return list(dict.fromkeys(actor_ids))


def empty_progress(moved: str | None, blocks: str | None, status: str | None) -> list[Violation]:
    """A progress report says what moved, what blocks, or the new status."""
    if moved or blocks or status:
        return []
    return [Violation("moved", "say what moved, what blocks, or the new status")]
