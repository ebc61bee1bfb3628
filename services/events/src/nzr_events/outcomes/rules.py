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


def unknown_parties(
    party_actor_ids: list[str], responsible_actor_id: str | None, *, known: set[str]
) -> list[Violation]:
    """Parties and the responsible must be actors of the region (as announced by actors)."""
    problems = [
        Violation("party_actor_ids", f"{actor_id} is not an actor of this region")
        for actor_id in party_actor_ids
        if actor_id not in known
    ]
    if responsible_actor_id is not None and responsible_actor_id not in known:
        problems.append(
            Violation("responsible_actor_id", f"{responsible_actor_id} is not an actor of this region")
        )
    return problems


def unknown_topics(topics: list[str], *, allowed: set[str]) -> list[Violation]:
    """Topics must come from the network's vocabulary (``TOPICS``)."""
    return [Violation("topics", f"unknown topic: {topic}") for topic in topics if topic not in allowed]
