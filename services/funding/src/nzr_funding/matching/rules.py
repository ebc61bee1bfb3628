"""Eligibility matching with explained criteria and ranking. No I/O."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from nzr_funding.catalogue.rules import ProgrammeFacts
from nzr_funding.deadlines.rules import Certainty, DeadlineKind, DeadlineState, cached_deadline_status
from nzr_funding.i18n import Message, Money, Percent, _
from nzr_funding.vocabulary import HOME_STATE, KIND_LEGAL_FORMS, KIND_TO_ELIGIBLE, legal_form_label


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Fit(StrEnum):
    FITS = "fits"  # every hard criterion met
    CHECK = "check"  # no hard criterion failed, some unknown
    EXCLUDED = "excluded"  # a hard criterion failed


@dataclass(frozen=True)
class Criterion:
    name: str
    status: Status
    hard: bool
    reason: Message


@dataclass(frozen=True)
class Profile:
    """Who looks for money: an actor's profile or an ad-hoc one."""

    kind: str | None = None
    district: str | None = None
    topics: frozenset[str] = frozenset()
    amount_needed: float | None = None
    own_share_available: float | None = None
    preparation_days: int = 14
    legal_form: str | None = None


@dataclass(frozen=True)
class Match:
    programme_id: str
    name: str
    fit: Fit
    score: float
    criteria: tuple[Criterion, ...] = field(default=())


_WEIGHT = {
    "eligibility": 3.0,
    "legal_form": 2.0,
    "region": 3.0,
    "topic": 2.0,
    "amount": 1.0,
    "own_share": 1.0,
    "deadline": 2.0,
}
_CREDIT = {Status.MET: 1.0, Status.UNKNOWN: 0.4, Status.NOT_MET: 0.0}


def eligibility_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if profile.kind is None:
        return Criterion("eligibility", Status.UNKNOWN, True, _("no applicant kind given"))
    if not p.eligible:
        return Criterion("eligibility", Status.UNKNOWN, True, _("the source names no eligible applicants"))
    keys = KIND_TO_ELIGIBLE.get(profile.kind, ())
    hit = sorted(p.eligible.intersection(keys))
    if hit:
        reason = _("{kind} applies as {eligible}", kind=profile.kind, eligible=tuple(hit))
        return Criterion("eligibility", Status.MET, True, reason)
    if not keys:
        reason = _("'{kind}' has no category of eligible applicants", kind=profile.kind)
        return Criterion("eligibility", Status.UNKNOWN, True, reason)
    reason = _(
        "{kind} is not among the eligible applicants ({eligible})", kind=profile.kind, eligible=p.eligible
    )
    return Criterion("eligibility", Status.NOT_MET, True, reason)


def legal_form_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    """The legal forms a programme requires against the applicant's legal form (or, when that
    is not given, the forms its kind can have: a municipality is never an e. V.)."""
    if not p.legal_forms:
        return Criterion("legal_form", Status.MET, True, _("the source names no legal-form requirement"))
    required = tuple(legal_form_label(f) for f in sorted(p.legal_forms))
    form = profile.legal_form
    if form is None:
        possible = KIND_LEGAL_FORMS.get(profile.kind or "", frozenset())
        if possible and not possible & p.legal_forms:
            forms = tuple(legal_form_label(f) for f in sorted(possible))
            reason = _(
                "a {kind} has the legal form {forms}; required: {required}",
                kind=profile.kind,
                forms=forms,
                required=required,
            )
            return Criterion("legal_form", Status.NOT_MET, True, reason)
        return Criterion(
            "legal_form",
            Status.UNKNOWN,
            True,
            _("legal form not given; required: {required}", required=required),
        )
    if form in p.legal_forms:
        reason = _(
            "{form} is a required legal form ({required})", form=legal_form_label(form), required=required
        )
        return Criterion("legal_form", Status.MET, True, reason)
    reason = _(
        "{form} does not meet the required legal form ({required})",
        form=legal_form_label(form),
        required=required,
    )
    return Criterion("legal_form", Status.NOT_MET, True, reason)


def region_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if not p.territories:
        return Criterion("region", Status.UNKNOWN, True, _("the funding area is not known"))
    if "bundesweit" in p.territories:
        return Criterion("region", Status.MET, True, _("funded nationwide"))
    if HOME_STATE not in p.territories:
        reason = _("funded only in {territories}", territories=p.territories)
        return Criterion("region", Status.NOT_MET, True, reason)
    if not p.districts:
        return Criterion("region", Status.MET, True, _("funded throughout Saxony"))
    if profile.district is None:
        return Criterion("region", Status.UNKNOWN, True, _("limited to some districts; no district given"))
    if profile.district in p.districts:
        reason = _("district {district} is in the funding area", district=profile.district)
        return Criterion("region", Status.MET, True, reason)
    if not p.districts_exhaustive:
        reason = _(
            "district {district} is not among the example districts of the source", district=profile.district
        )
        return Criterion("region", Status.UNKNOWN, True, reason)
    reason = _("district {district} is outside the funding area", district=profile.district)
    return Criterion("region", Status.NOT_MET, True, reason)


def topic_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if not profile.topics:
        return Criterion("topic", Status.UNKNOWN, False, _("no topics given"))
    shared = sorted(profile.topics & p.topics) or sorted(profile.topics & p.areas)
    if shared:
        return Criterion("topic", Status.MET, False, _("shared topics: {topics}", topics=tuple(shared)))
    return Criterion("topic", Status.NOT_MET, False, _("no shared topic or area"))


def amount_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    need = profile.amount_needed
    if need is None:
        return Criterion("amount", Status.UNKNOWN, True, _("no amount given"))
    if p.amount_min is None and p.amount_max is None:
        return Criterion("amount", Status.UNKNOWN, True, _("the source names no amounts"))
    if p.amount_min is not None and need < p.amount_min:
        reason = _("{need} is below the minimum {minimum}", need=Money(need), minimum=Money(p.amount_min))
        return Criterion("amount", Status.NOT_MET, True, reason)
    if p.amount_max is not None and need > p.amount_max:
        reason = _("{need} exceeds the maximum {maximum}", need=Money(need), maximum=Money(p.amount_max))
        return Criterion("amount", Status.NOT_MET, True, reason)
    return Criterion(
        "amount", Status.MET, True, _("{need} is within the programme's range", need=Money(need))
    )


def own_share_criterion(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if profile.amount_needed is None or profile.own_share_available is None:
        return Criterion("own_share", Status.UNKNOWN, True, _("amount or own share not given"))
    if p.rate is None:
        return Criterion("own_share", Status.UNKNOWN, True, _("the source names no funding rate"))
    if p.rate >= 100:
        return Criterion("own_share", Status.MET, True, _("full funding, no own share needed"))
    # The grant covers rate% of the total project cost; the rest is the applicant's share.
    total = profile.amount_needed / (p.rate / 100)
    required = total - profile.amount_needed
    if profile.own_share_available + 0.005 >= required:
        reason = _(
            "own share of {required} at {rate} funding is available",
            required=Money(required),
            rate=Percent(p.rate),
        )
        return Criterion("own_share", Status.MET, True, reason)
    reason = _(
        "{rate} funding needs {required} own share, {available} available",
        rate=Percent(p.rate),
        required=Money(required),
        available=Money(profile.own_share_available),
    )
    return Criterion("own_share", Status.NOT_MET, True, reason)


def deadline_criterion(p: ProgrammeFacts, profile: Profile, today: date) -> Criterion:
    """The next deadline against the preparation time; an expected deadline (inferred from
    earlier rounds) is said to be one."""
    status = cached_deadline_status(p.deadline, today)
    if status.state is DeadlineState.UNKNOWN:
        return Criterion("deadline", Status.UNKNOWN, True, _("no deadline known; ask the funder"))
    if status.state is DeadlineState.CLOSED:
        return Criterion("deadline", Status.NOT_MET, True, _("no further deadline"))
    if p.deadline.kind is DeadlineKind.ROLLING:
        if status.days_left is not None and status.days_left < profile.preparation_days:
            reason = _("rolling applications end in {days} days", days=status.days_left)
            return Criterion("deadline", Status.NOT_MET, True, reason)
        if p.deadline.until:
            reason = _("applications accepted continuously until {until}", until=p.deadline.until)
            return Criterion("deadline", Status.MET, True, reason)
        return Criterion("deadline", Status.MET, True, _("applications accepted continuously"))
    assert status.next_deadline is not None and status.days_left is not None
    facts = {"deadline": status.next_deadline, "days": status.days_left}
    expected = p.deadline.certainty is Certainty.EXPECTED
    if status.days_left < profile.preparation_days:
        preparation = profile.preparation_days
        reason = (
            _(
                "expected deadline {deadline} is in {days} days, less than {preparation} days to prepare",
                preparation=preparation,
                **facts,
            )
            if expected
            else _(
                "next deadline {deadline} is in {days} days, less than {preparation} days to prepare",
                preparation=preparation,
                **facts,
            )
        )
        return Criterion("deadline", Status.NOT_MET, True, reason)
    reason = (
        _(
            "expected deadline {deadline} ({days} days), inferred from earlier rounds: check with the funder",
            **facts,
        )
        if expected
        else _("next deadline {deadline} ({days} days)", **facts)
    )
    return Criterion("deadline", Status.MET, True, reason)


def _fit(criteria: Sequence[Criterion]) -> Fit:
    hard = [c.status for c in criteria if c.hard]
    if Status.NOT_MET in hard:
        return Fit.EXCLUDED
    return Fit.CHECK if Status.UNKNOWN in hard else Fit.FITS


def _score(criteria: Sequence[Criterion], shared_topics: int) -> float:
    return round(sum(_WEIGHT[c.name] * _CREDIT[c.status] for c in criteria) + 0.25 * shared_topics, 3)


def match_programme(p: ProgrammeFacts, profile: Profile, today: date) -> Match:
    """Every criterion of one programme for one profile, with its fit and score."""
    criteria = (
        eligibility_criterion(p, profile),
        legal_form_criterion(p, profile),
        region_criterion(p, profile),
        topic_criterion(p, profile),
        amount_criterion(p, profile),
        own_share_criterion(p, profile),
        deadline_criterion(p, profile, today),
    )
    return Match(p.id, p.name, _fit(criteria), _score(criteria, len(profile.topics & p.topics)), criteria)


def match_all(programmes: Iterable[ProgrammeFacts], profile: Profile, today: date) -> list[Match]:
    """``match_programme`` for many programmes, in their order (see ``best_matches``)."""
    return [
        Match(p.id, p.name, fit, score, criteria)
        for p, fit, score, criteria in _judge_all(programmes, profile, today)
    ]


def best_matches(
    programmes: Iterable[ProgrammeFacts],
    profile: Profile,
    today: date,
    *,
    limit: int,
    include_excluded: bool = True,
) -> tuple[list[Match], dict[Fit, int]]:
    """The ``limit`` best matches in rank order and how many programmes have each fit."""
    counts = dict.fromkeys(Fit, 0)
    rows = []
    for p, fit, score, criteria in _judge_all(programmes, profile, today):
        counts[fit] += 1
        if include_excluded or fit is not Fit.EXCLUDED:
            rows.append((fit is Fit.EXCLUDED, -score, _FIT_ORDER[fit], p.name, p.id, fit, criteria))
    top = heapq.nsmallest(limit, rows)  # ids are unique: comparison never reaches fit/criteria
    return [Match(r[4], r[3], r[5], -r[1], r[6]) for r in top], counts


_HARD_CODE = {Status.MET: 0, Status.UNKNOWN: 1, Status.NOT_MET: 2}
_FIT_BY_CODE = (Fit.FITS, Fit.CHECK, Fit.EXCLUDED)


def _judged(criterion: Criterion) -> tuple[Criterion, float, int]:
    """A criterion with its weighted credit and, if hard, how badly it fails (0, 1, 2)."""
    return (
        criterion,
        _WEIGHT[criterion.name] * _CREDIT[criterion.status],
        _HARD_CODE[criterion.status] if criterion.hard else 0,
    )


def _judge_all(
    programmes: Iterable[ProgrammeFacts], profile: Profile, today: date
) -> Iterator[tuple[ProgrammeFacts, Fit, float, tuple[Criterion, ...]]]:
    """(programme, fit, score, criteria) for each programme, as ``match_programme`` gives them.

    Each criterion is judged once per distinct fact object it depends on (keyed by identity:
    callers that intern equal facts, as the catalogue cache does, share the judgement); the
    per-programme work is then a few look-ups and additions."""
    eligibility: dict[Any, tuple[Criterion, float, int]] = {}
    legal_form: dict[Any, tuple[Criterion, float, int]] = {}
    region: dict[Any, tuple[Criterion, float, int]] = {}
    topic: dict[Any, Any] = {}
    amount: dict[Any, tuple[Criterion, float, int]] = {}
    own_share: dict[Any, tuple[Criterion, float, int]] = {}
    deadline: dict[Any, tuple[Criterion, float, int]] = {}
    for p in programmes:
        key = id(p.eligible)
        e = eligibility.get(key)
        if e is None:
            e = eligibility[key] = _judged(eligibility_criterion(p, profile))
        f = legal_form.get(p.legal_forms)
        if f is None:
            f = legal_form[p.legal_forms] = _judged(legal_form_criterion(p, profile))
        coverage = (id(p.territories), id(p.districts), p.districts_exhaustive)
        r = region.get(coverage)
        if r is None:
            r = region[coverage] = _judged(region_criterion(p, profile))
        # Areas only matter when no topic is shared, so most programmes hit the first memo.
        t = topic.get(id(p.topics))
        if t is None:
            shared = len(profile.topics & p.topics)
            t = topic[id(p.topics)] = (
                (*_judged(topic_criterion(p, profile)), shared) if shared or not profile.topics else ()
            )
        if not t:
            areas = ("areas", id(p.areas))
            t = topic.get(areas)
            if t is None:
                t = topic[areas] = (*_judged(topic_criterion(p, profile)), 0)
        amounts = (p.amount_min, p.amount_max)
        a = amount.get(amounts)
        if a is None:
            a = amount[amounts] = _judged(amount_criterion(p, profile))
        o = own_share.get(p.rate)
        if o is None:
            o = own_share[p.rate] = _judged(own_share_criterion(p, profile))
        key = id(p.deadline)
        d = deadline.get(key)
        if d is None:
            d = deadline[key] = _judged(deadline_criterion(p, profile, today))
        score = round(e[1] + f[1] + r[1] + t[1] + a[1] + o[1] + d[1] + 0.25 * t[3], 3)
        fit = _FIT_BY_CODE[max(e[2], f[2], r[2], a[2], o[2], d[2])]
        yield p, fit, score, (e[0], f[0], r[0], t[0], a[0], o[0], d[0])


_FIT_ORDER = {Fit.FITS: 0, Fit.CHECK: 1, Fit.EXCLUDED: 2}


def rank_matches(matches: Iterable[Match]) -> list[Match]:
    """Best first: no programme with a failed hard criterion ranks above one without."""
    return sorted(
        matches, key=lambda m: (m.fit is Fit.EXCLUDED, -m.score, _FIT_ORDER[m.fit], m.name, m.programme_id)
    )
