"""Rules about cooperations that need no I/O: pair order, agreement pairs, request checks."""

from __future__ import annotations

from datetime import date

from nzr_actors.actors.rules import InvalidField
from nzr_actors.cooperations.schemas import CooperationCreate


def cooperation_pair(actor_a: str, actor_b: str) -> tuple[str, str]:
    """The pair in storage order (a < b), so each pair has one spelling."""
    return (actor_a, actor_b) if actor_a < actor_b else (actor_b, actor_a)


def agreement_pairs(party_ids: list[str]) -> list[tuple[str, str]]:
    """Every pair of distinct parties of an agreement, in storage order."""
    parties = sorted(set(party_ids))
    return [(a, b) for i, a in enumerate(parties) for b in parties[i + 1 :]]


def cooperation_problems(data: CooperationCreate, *, region_id: str, topics: set[str]) -> list[InvalidField]:
    """What is wrong with a cooperation request before any actor is looked up."""
    partner_region = partner_region_of(data, region_id=region_id)
    problems = []
    if data.actor_a_region not in (None, region_id):
        problems.append(
            InvalidField("actor_a_region", f"actor_a must be an actor of this region ({region_id})")
        )
    elif partner_region is not None and data.actor_a_region is None:
        problems.append(
            InvalidField(
                "actor_a_region", f"name both regions for a cooperation across regions ({region_id})"
            )
        )
    if data.actor_a == data.actor_b:
        problems.append(InvalidField("actor_b", "an actor cannot cooperate with itself"))
    if data.topic is not None and data.topic not in topics:
        problems.append(InvalidField("topic", f"unknown topic: {data.topic}"))
    if data.until is not None and data.until < data.since:
        problems.append(InvalidField("until", "until is before since"))
    return problems


def correction_problems(
    *, since: date, until: date | None, topic: str | None, topics: set[str], changed: set[str]
) -> list[InvalidField]:
    """What is wrong with a cooperation as it would be after a correction."""
    problems = []
    if "topic" in changed and topic is not None and topic not in topics:
        problems.append(InvalidField("topic", f"unknown topic: {topic}"))
    if until is not None and until < since:
        problems.append(InvalidField("until" if "until" in changed else "since", "until is before since"))
    return problems


def periods_overlap(since: date, until: date | None, other_since: date, other_until: date | None) -> bool:
    """Whether two periods (``until`` a last day, None: still running) share a day."""
    return (other_until is None or other_until >= since) and (until is None or other_since <= until)


def partner_region_of(data: CooperationCreate, *, region_id: str) -> str | None:
    """The other region of a cooperation across regions (None when both actors are of this one)."""
    return data.actor_b_region if data.actor_b_region not in (None, region_id) else None


def unknown_actors(
    data: CooperationCreate, *, known: set[str], partner_region: str | None
) -> list[InvalidField]:
    """The actors of the request that should be of this region and are not (``known`` are the
    region's actors among them); across regions, actor_b must not be one of this region's."""
    local = ("actor_a",) if partner_region else ("actor_a", "actor_b")
    missing = [
        InvalidField(f, f"no actor {getattr(data, f)} in this region")
        for f in local
        if getattr(data, f) not in known
    ]
    if partner_region and data.actor_b in known:
        missing.append(InvalidField("actor_b_region", f"actor {data.actor_b} is an actor of this region"))
    return missing
