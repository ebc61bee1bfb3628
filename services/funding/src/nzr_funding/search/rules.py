"""Search rules: filters, facet values, range checks and text scoring. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nzr_funding.catalogue.rules import ProgrammeFacts
from nzr_funding.deadlines.rules import DeadlineState, cached_deadline_status
from nzr_funding.matching.rules import Profile, Status, region_criterion


@dataclass(frozen=True)
class Entry:
    """One programme as the index holds it (built by ``catalogue.entry_from_row``)."""

    facts: ProgrammeFacts
    name_tokens: tuple[str, ...]
    doc_tokens: tuple[str, ...]
    record: dict[str, Any]


@dataclass(frozen=True)
class SearchFilters:
    """Facet filters (any value within a dimension, all dimensions) and range filters."""

    facets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    open_now: bool = False
    deadline_before: date | None = None
    amount_min: float | None = None
    amount_max: float | None = None
    district: str | None = None  # funds there (or may: the source lists example districts)


FACET_DIMENSIONS = ("funding_type", "area", "territory", "eligible", "level", "topic", "state")


def facet_values(p: ProgrammeFacts, today: date) -> dict[str, frozenset[str]]:
    """The values a programme contributes to each facet."""
    return {
        "funding_type": p.funding_types,
        "area": p.areas,
        "territory": p.territories,
        "eligible": p.eligible,
        "level": frozenset((p.level,)),
        "topic": p.topics,
        "state": frozenset((cached_deadline_status(p.deadline, today).state.value,)),
    }


def passes_ranges(p: ProgrammeFacts, filters: SearchFilters, today: date) -> bool:
    """Open-now, deadline-before, district and amount-range filters (unknown amounts and
    example district lists are not excluded)."""
    if filters.district is not None and not funds_in_district(p, filters.district):
        return False
    if filters.open_now or filters.deadline_before:
        status = cached_deadline_status(p.deadline, today)
        if filters.open_now and status.state is not DeadlineState.OPEN:
            return False
        if filters.deadline_before and not (
            status.next_deadline and status.next_deadline <= filters.deadline_before
        ):
            return False
    if filters.amount_min is not None and p.amount_max is not None and p.amount_max < filters.amount_min:
        return False
    return not (
        filters.amount_max is not None and p.amount_min is not None and p.amount_min > filters.amount_max
    )


def funds_in_district(p: ProgrammeFacts, district: str) -> bool:
    """Whether a programme funds in a district (or may: matching's region rule, not "not met")."""
    return region_criterion(p, Profile(district=district)).status is not Status.NOT_MET


def passes_facets(
    values: Mapping[str, frozenset[str]], filters: SearchFilters, skip: str | None = None
) -> bool:
    return all(
        dimension == skip or values[dimension] & wanted
        for dimension, wanted in filters.facets.items()
        if wanted
    )


def scored_tokens(query: Sequence[str], bonus: Sequence[str] = ()) -> list[str]:
    """The distinct tokens a score adds up, in a fixed order."""
    return sorted(set(query) | set(bonus))


def text_score(
    query: Sequence[str], name_tokens: Sequence[str], doc_tokens: Sequence[str], bonus: Sequence[str] = ()
) -> float:
    """Relevance of a document to stemmed query tokens (and optional ``bonus`` tokens, e.g. the
    whole of a compound asked for by its parts): name hits weigh most, then frequency."""
    if not query:
        return 0.0
    name = set(name_tokens)
    score = 0.0
    length = max(len(doc_tokens), 1)
    for token in scored_tokens(query, bonus):
        count = doc_tokens.count(token)
        score += (3.0 if token in name else 0.0) + count / (count + 1.0) + 2.0 * count / length
    return round(score, 6)


def matches_query(query: Sequence[str], doc_tokens: Iterable[str]) -> bool:
    """Every query token occurs in the document (the same rule as the database's index)."""
    return set(query) <= set(doc_tokens)
