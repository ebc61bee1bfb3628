"""Use cases of matching: the actor read model and the explained ranking for a profile."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.funding import (
    FundingMatchRequested,
)
from nzr_common.errors import NotFound
from nzr_common.languages import DEFAULT_LANGUAGE
from nzr_common.outbox import Outbox
from nzr_funding import vocabulary
from nzr_funding.catalogue.taxonomy import district_names
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.i18n import Message, _, certainty_label, invalid
from nzr_funding.matching import rules
from nzr_funding.matching.models import ActorRow
from nzr_funding.matching.schemas import CriterionRead, MatchItem, MatchRequest, MatchResult
from nzr_funding.search.cache import CatalogueCache

if TYPE_CHECKING:
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
    legal_form: str | None = None,
) -> None:
    """Keep the actor read model (kind, legal form, district, topics) for matching; newer
    versions win."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(
            ActorRow(
                id=actor_id,
                kind=kind,
                legal_form=legal_form,
                district=district,
                topics=topics,
                public_profile=public_profile,
                version=version,
            )
        )
    elif version >= row.version and not row.removed:
        row.kind, row.district, row.topics, row.version = kind, district, topics, version
        row.public_profile, row.legal_form = public_profile, legal_form


async def remove_actor(*, session: AsyncSession, actor_id: str) -> None:
    """Mark an actor removed (a tombstone: a late older update cannot bring it back)."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(ActorRow(id=actor_id, kind="sonstige", district="", topics=[], removed=True))
    else:
        row.removed = True


def _profile_problems(request: MatchRequest) -> list[tuple[str, Message]]:
    """Every unknown code of a profile, naming its field."""
    problems: list[tuple[str, Message]] = []
    if request.kind is not None and request.kind not in vocabulary.KIND_TO_ELIGIBLE:
        problems.append(("kind", _("'{kind}' is not an actor kind", kind=request.kind)))
    if request.legal_form is not None and request.legal_form not in vocabulary.LEGAL_FORMS:
        forms = tuple(vocabulary.LEGAL_FORMS)
        problems.append(
            ("legal_form", _("'{form}' is not a legal form ({forms})", form=request.legal_form, forms=forms))
        )
    if request.district is not None and request.district not in district_names():
        problems.append(("district", _("'{district}' is not a known district", district=request.district)))
    known_topics = set(vocabulary.ACTOR_TOPICS) | set(vocabulary.FUNDING_TOPICS)
    unknown = tuple(t for t in request.topics if t not in known_topics)
    if unknown:
        problems.append(("topics", _("unknown topic(s): {topics}", topics=unknown)))
    return problems


_CRITERION_LABELS = {
    "eligibility": _("eligible applicants"),
    "legal_form": _("legal form"),
    "region": _("funding area"),
    "topic": _("topic"),
    "amount": _("amount"),
    "own_share": _("own share"),
    "deadline": _("deadline"),
}
_STATUS_LABELS = {
    rules.Status.MET: _("met"),
    rules.Status.NOT_MET: _("not met"),
    rules.Status.UNKNOWN: _("unknown"),
}
_FIT_LABELS = {
    rules.Fit.FITS: _("fits: every criterion met"),
    rules.Fit.CHECK: _("to check: some criteria unknown"),
    rules.Fit.EXCLUDED: _("excluded: a criterion not met"),
}


def _item(index: CatalogueIndex, match: rules.Match, today: date, language: str) -> MatchItem:
    """One ranked programme as shown, with its criteria and deadline state, in a language."""
    entry = index.entries[index.positions[match.programme_id]]
    deadline = entry.facts.deadline
    status = deadline_rules.cached_deadline_status(deadline, today)
    return MatchItem(
        programme_id=match.programme_id,
        name=match.name,
        fit=match.fit.value,
        fit_label=_FIT_LABELS[match.fit].render(language),
        score=match.score,
        criteria=[
            CriterionRead(
                name=c.name,
                label=_CRITERION_LABELS[c.name].render(language),
                status=c.status.value,
                status_label=_STATUS_LABELS[c.status].render(language),
                hard=c.hard,
                reason=c.reason.render(language),
            )
            for c in match.criteria
        ],
        url=entry.record["url"],
        deadline_state=status.state.value,
        next_deadline=status.next_deadline,
        deadline_certainty=deadline.certainty.value,
        deadline_certainty_label=certainty_label(deadline.certainty, language),
    )


async def match_programmes(
    *,
    session: AsyncSession,
    catalogue: CatalogueCache,
    outbox: Outbox,
    request: MatchRequest,
    today: date,
    sees_private_actors: bool,
    language: str = DEFAULT_LANGUAGE,
) -> MatchResult:
    """Rank every programme for an actor or ad-hoc profile and explain each criterion.

    An actor without a public profile is only matched for the region's editors and admins."""
    problems = _profile_problems(request)
    if problems:
        raise invalid(_("Invalid profile"), problems, language)
    kind, district, topics = request.kind, request.district, list(request.topics)
    legal_form = request.legal_form
    if request.actor_id is not None:
        actor = await session.get(ActorRow, request.actor_id)
        if actor is None or actor.removed or not (actor.public_profile or sees_private_actors):
            raise NotFound("actor", f"{request.actor_id} in this region")
        kind, district = kind or actor.kind, district or actor.district
        legal_form = legal_form or actor.legal_form
        topics = topics or list(actor.topics)
    profile = rules.Profile(
        kind=kind,
        district=district,
        topics=frozenset(vocabulary.funding_topics_of(topics)),
        amount_needed=request.amount_needed_eur,
        own_share_available=request.own_share_available_eur,
        preparation_days=request.preparation_days,
        legal_form=legal_form,
    )
    await catalogue.current(session)
    index = await catalogue.indexed()
    key = ("match", profile, today, request.limit, request.include_excluded)
    ranking = catalogue.cached(key) or catalogue.remember(
        key,
        index.best_matches(profile, today, limit=request.limit, include_excluded=request.include_excluded),
    )
    shown, counts = ranking
    items = [_item(index, match, today, language) for match in shown]
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
        legal_form=legal_form,
        district=district,
        topics=topics,
        counts={fit.value: counts[fit] for fit in rules.Fit},
        items=items,
    )
