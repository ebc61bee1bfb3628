"""Matching rules without I/O: explained criteria, fit, score and ranking."""

from datetime import date

import pytest

from nzr_common.regions import load_districts
from nzr_funding import vocabulary
from nzr_funding.catalogue import rules as catalogue_rules
from nzr_funding.deadlines.rules import Deadline, DeadlineKind
from nzr_funding.matching import rules as matching_rules
from nzr_funding.matching.rules import Fit, Status

NAMES = {ags: d.name for ags, d in load_districts().items()}
DAY = date(2026, 11, 21)


def facts(**changes) -> catalogue_rules.ProgrammeFacts:  # type: ignore[no-untyped-def]
    values = dict(
        id="p",
        name="Programm",
        level="land",
        eligible=frozenset({"verband_vereinigung"}),
        territories=frozenset({"sachsen"}),
        districts=frozenset(),
        districts_exhaustive=True,
        topics=frozenset({"klimaschutz_energie"}),
        areas=frozenset(),
        funding_types=frozenset({"zuschuss"}),
        amount_min=1000.0,
        amount_max=20000.0,
        rate=80.0,
        deadline=Deadline(DeadlineKind.ROLLING),
    )
    values.update(changes)
    return catalogue_rules.ProgrammeFacts(**values)


VEREIN = matching_rules.Profile(
    kind="verein",
    district="14523000",
    topics=frozenset({"klimaschutz_energie"}),
    amount_needed=8000,
    own_share_available=2000,
)


def statuses(match: matching_rules.Match) -> dict[str, Status]:
    return {c.name: c.status for c in match.criteria}


def test_a_programme_meeting_every_criterion_fits():
    match = matching_rules.match_programme(facts(), VEREIN, DAY)
    assert match.fit is Fit.FITS
    assert set(statuses(match).values()) == {Status.MET}


@pytest.mark.parametrize(
    ("changes", "criterion"),
    [
        ({"eligible": frozenset({"kommune"})}, "eligibility"),
        ({"territories": frozenset({"bayern"})}, "region"),
        ({"districts": frozenset({"14625000"})}, "region"),
        ({"amount_max": 5000.0}, "amount"),
        ({"amount_min": 10000.0}, "amount"),
        ({"rate": 50.0}, "own_share"),
        ({"deadline": Deadline(DeadlineKind.FIXED, dates=(date(2026, 11, 25),))}, "deadline"),
        ({"deadline": Deadline(DeadlineKind.FIXED, dates=(date(2025, 1, 1),))}, "deadline"),
    ],
)
def test_a_failed_hard_criterion_excludes_the_programme_and_says_why(changes, criterion):
    match = matching_rules.match_programme(facts(**changes), VEREIN, DAY)
    assert match.fit is Fit.EXCLUDED
    assert statuses(match)[criterion] is Status.NOT_MET
    assert next(c.reason for c in match.criteria if c.name == criterion)


@pytest.mark.parametrize(
    ("changes", "criterion"),
    [
        ({"eligible": frozenset()}, "eligibility"),
        ({"territories": frozenset()}, "region"),
        ({"districts": frozenset({"14625000"}), "districts_exhaustive": False}, "region"),
        ({"amount_min": None, "amount_max": None}, "amount"),
        ({"rate": None}, "own_share"),
        ({"deadline": Deadline(DeadlineKind.UNKNOWN)}, "deadline"),
    ],
)
def test_missing_facts_make_a_criterion_unknown_not_failed(changes, criterion):
    match = matching_rules.match_programme(facts(**changes), VEREIN, DAY)
    assert statuses(match)[criterion] is Status.UNKNOWN
    assert match.fit is Fit.CHECK


def test_topic_mismatch_lowers_the_score_but_does_not_exclude():
    match = matching_rules.match_programme(facts(topics=frozenset({"mobilitaet"})), VEREIN, DAY)
    assert statuses(match)["topic"] is Status.NOT_MET and match.fit is Fit.FITS


def test_actor_topics_are_translated_to_programme_topics():
    assert vocabulary.funding_topics_of(["energie_klimaschutz"]) == {"klimaschutz_energie", "klimaanpassung"}


def test_no_excluded_programme_ranks_above_one_without_a_failed_hard_criterion():
    excellent_but_excluded = facts(
        id="a",
        name="A",
        eligible=frozenset({"kommune"}),
        topics=frozenset({"klimaschutz_energie", "mobilitaet"}),
    )
    weak_but_possible = facts(
        id="b",
        name="B",
        topics=frozenset(),
        eligible=frozenset(),
        territories=frozenset(),
        amount_min=None,
        amount_max=None,
        rate=None,
        deadline=Deadline(DeadlineKind.UNKNOWN),
    )
    ranked = matching_rules.rank_matches(
        matching_rules.match_programme(f, VEREIN, DAY) for f in (excellent_but_excluded, weak_but_possible)
    )
    assert [m.programme_id for m in ranked] == ["b", "a"]
    assert ranked[0].score < ranked[1].score


def test_own_share_follows_from_the_funding_rate():
    # 8,000 € grant at 80 % means a 10,000 € project and 2,000 € own share.
    exact = matching_rules.match_programme(facts(rate=80.0), VEREIN, DAY)
    assert statuses(exact)["own_share"] is Status.MET
    short = matching_rules.Profile(**{**VEREIN.__dict__, "own_share_available": 1999})
    assert (
        statuses(matching_rules.match_programme(facts(rate=80.0), short, DAY))["own_share"] is Status.NOT_MET
    )


def test_matching_a_whole_catalogue_gives_the_same_answers_as_one_by_one():
    catalogue = [
        facts(id="a"),
        facts(id="b", eligible=frozenset({"kommune"})),
        facts(id="c", rate=None),
        facts(id="d", districts=frozenset({"14625000"}), districts_exhaustive=False),
        facts(id="e", deadline=Deadline(DeadlineKind.RECURRING, yearly=((12, 1),))),
    ]
    one_by_one = [matching_rules.match_programme(f, VEREIN, DAY) for f in catalogue]
    assert matching_rules.match_all(catalogue, VEREIN, DAY) == one_by_one


def test_best_matches_are_the_top_of_the_full_ranking_with_counts_per_fit():
    catalogue = [
        facts(id=f"p{i}", name=f"P{i}", rate=[80.0, 50.0, None][i % 3], amount_max=[20000.0, 5000.0][i % 2])
        for i in range(12)
    ]
    ranked = matching_rules.rank_matches(matching_rules.match_all(catalogue, VEREIN, DAY))
    top, counts = matching_rules.best_matches(catalogue, VEREIN, DAY, limit=4)
    assert top == ranked[:4]
    assert counts == {fit: sum(m.fit is fit for m in ranked) for fit in Fit}
    possible, _ = matching_rules.best_matches(catalogue, VEREIN, DAY, limit=20, include_excluded=False)
    assert possible == [m for m in ranked if m.fit is not Fit.EXCLUDED]
