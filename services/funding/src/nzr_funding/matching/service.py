"""Use cases of matching: the actor read model and the explained ranking for a profile."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.funding import (
    FundingMatchRequested,
)
from nzr_common.errors import Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam
from nzr_funding import vocabulary
from nzr_funding.catalogue.taxonomy import district_names
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.matching import rules
from nzr_funding.matching.models import ActorRow
from nzr_funding.matching.schemas import CriterionRead, MatchItem, MatchRequest, MatchResult
from nzr_funding.search.cache import CatalogueCache
from nzr_funding.search.index import CatalogueIndex


async def apply_actor(
    *,
    session: AsyncSession,
    actor_id: str,
    kind: str,
    district: str,
    topics: list[str],
    public_profile: bool,
    version: int,
) -> None:
    """Keep the actor read model (kind, district, topics) for matching; newer versions win."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(
            ActorRow(
                id=actor_id,
                kind=kind,
                district=district,
                topics=topics,
                public_profile=public_profile,
                version=version,
            )
        )
    elif version >= row.version and not row.removed:
        row.kind, row.district, row.topics, row.version = kind, district, topics, version
        row.public_profile = public_profile


async def remove_actor(*, session: AsyncSession, actor_id: str) -> None:
    """Mark an actor removed (a tombstone: a late older update cannot bring it back)."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(ActorRow(id=actor_id, kind="sonstige", district="", topics=[], removed=True))
    else:
        row.removed = True


def _profile_problems(request: MatchRequest) -> list[InvalidParam]:
    problems = []
    if request.kind is not None and request.kind not in vocabulary.KIND_TO_ELIGIBLE:
        problems.append(InvalidParam(name="kind", reason=f"'{request.kind}' is not an actor kind"))
    if request.district is not None and request.district not in district_names():
        problems.append(InvalidParam(name="district", reason=f"'{request.district}' is not a known district"))
    known_topics = set(vocabulary.ACTOR_TOPICS) | set(vocabulary.FUNDING_TOPICS)
    unknown = [t for t in request.topics if t not in known_topics]
    if unknown:
        problems.append(InvalidParam(name="topics", reason=f"unknown topic(s): {', '.join(unknown)}"))
    return problems


def _item(index: CatalogueIndex, match: rules.Match, today: date) -> MatchItem:
    """One ranked programme as shown, with its criteria and deadline state."""
    entry = index.entries[index.positions[match.programme_id]]
    status = deadline_rules.cached_deadline_status(entry.facts.deadline, today)
    return MatchItem(
        programme_id=match.programme_id,
        name=match.name,
        fit=match.fit.value,
        score=match.score,
        criteria=[
            CriterionRead(name=c.name, status=c.status.value, hard=c.hard, reason=c.reason)
            for c in match.criteria
        ],
        url=entry.record["url"],
        deadline_state=status.state.value,
        next_deadline=status.next_deadline,
    )


async def match_programmes(
    *,
    session: AsyncSession,
    catalogue: CatalogueCache,
    outbox: Outbox,
    request: MatchRequest,
    today: date,
    sees_private_actors: bool,
) -> MatchResult:
    """Rank every programme for an actor or ad-hoc profile and explain each criterion.

    An actor without a public profile is only matched for the region's editors and admins."""
    problems = _profile_problems(request)
    if problems:
        raise Invalid("Invalid profile", [(p.name, p.reason) for p in problems])
    kind, district, topics = request.kind, request.district, list(request.topics)
    if request.actor_id is not None:
        actor = await session.get(ActorRow, request.actor_id)
        if actor is None or actor.removed or not (actor.public_profile or sees_private_actors):
            raise NotFound("actor", f"{request.actor_id} in this region")
        kind, district = kind or actor.kind, district or actor.district
        topics = topics or list(actor.topics)
    profile = rules.Profile(
        kind=kind,
        district=district,
        topics=frozenset(vocabulary.funding_topics_of(topics)),
        amount_needed=request.amount_needed_eur,
        own_share_available=request.own_share_available_eur,
        preparation_days=request.preparation_days,
    )
    await catalogue.current(session)
    index = catalogue.index
    key = ("match", profile, today, request.limit, request.include_excluded)
    ranking = catalogue.cached(key) or catalogue.remember(
        key,
        index.best_matches(profile, today, limit=request.limit, include_excluded=request.include_excluded),
    )
    shown, counts = ranking
    items = [_item(index, match, today) for match in shown]
    match_id = str(uuid.uuid4())
    await outbox.add(
        session,
        FundingMatchRequested(
            match_id=match_id,
            actor_id=request.actor_id,
            actor_kind=kind,
            district=district,
            programmes_fully_met=counts[rules.Fit.FITS],
            performed_at=datetime.now(UTC),
        ),
    )
    await session.commit()
    return MatchResult(
        match_id=match_id,
        as_of=today,
        actor_id=request.actor_id,
        kind=kind,
        district=district,
        topics=topics,
        counts={fit.value: counts[fit] for fit in rules.Fit},
        items=items,
    )
