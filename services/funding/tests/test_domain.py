"""Pure rules: deadlines as data, coverage, validation, matching and the deadline watch."""

from datetime import date

import pytest

from nzr_common.regions import load_districts
from nzr_funding import vocabulary
from nzr_funding.catalogue import rules as catalogue_rules
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.deadlines.rules import Deadline, DeadlineKind, DeadlineState
from nzr_funding.matching import rules as matching_rules
from nzr_funding.matching.rules import Fit, Status
from nzr_funding.search import rules as search_rules

NAMES = {ags: d.name for ags, d in load_districts().items()}
DAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (
            "laufend (Antragszeitraum laut Programmseite bis 31.12.2027)",
            "rolling",
            {"until": date(2027, 12, 31)},
        ),
        ("laufend ohne Frist (Projektabschluss bis 31.12. des Förderjahres)", "rolling", {"until": None}),
        (
            "jährlich 30.06. (Projektbeginn ab 01.01. Folgejahr) und 30.11. "
            "(Projektbeginn ab 01.05. Folgejahr)",
            "recurring",
            {"yearly": ((6, 30), (11, 30))},
        ),
        (
            "mehrere Stichtage pro Jahr (2023: 27.02., 19.06., 23.10.)",
            "recurring",
            {"yearly": ((2, 27), (6, 19), (10, 23))},
        ),
        ("Skizzenfenster je Aufruf; zuletzt belegt: 31.10.2024", "fixed", {"dates": (date(2024, 10, 31),)}),
        ("je Förderaufruf (unregelmäßig, Bekanntmachung im Bundesanzeiger/bei der BLE)", "unknown", {}),
        (None, "unknown", {}),
    ],
)
def test_seed_deadline_text_becomes_structured_data(text, kind, expected):
    deadline = deadline_rules.parse_deadline_text(text)
    assert deadline.kind.value == kind
    for name, value in expected.items():
        assert getattr(deadline, name) == value
    assert deadline.text == text


@pytest.mark.parametrize("text", ["Frist 31.02.2027", "jährlich 30.02."])
def test_impossible_dates_in_deadline_text_are_refused(text):
    with pytest.raises(deadline_rules.DeadlineError):
        deadline_rules.parse_deadline_text(text)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "weekly"}, "deadline.kind"),
        ({"kind": "recurring"}, "deadline.yearly"),
        ({"kind": "recurring", "yearly": ["3/31"]}, "deadline.yearly[0]"),
        ({"kind": "recurring", "yearly": ["02-30"]}, "deadline.yearly[0]"),
        ({"kind": "fixed", "dates": []}, "deadline.dates"),
        ({"kind": "fixed", "dates": ["2027-13-01"]}, "deadline.dates[0]"),
        ({"kind": "rolling", "until": "morgen"}, "deadline.until"),
        ({"kind": "fixed", "dates": ["2027-01-01"], "opens": "2027-06-01"}, "deadline.opens"),
    ],
)
def test_malformed_structured_deadline_names_the_field(data, field):
    with pytest.raises(deadline_rules.DeadlineError) as raised:
        deadline_rules.deadline_from_data(data)
    assert raised.value.field == field


def test_structured_deadline_round_trips_through_its_data():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((3, 31), (9, 30)), until=date(2028, 12, 31), text="x")
    assert deadline_rules.deadline_from_data(deadline.to_data()) == deadline


def test_rolling_deadline_is_open_until_its_end_and_closed_after():
    deadline = Deadline(DeadlineKind.ROLLING, until=date(2026, 12, 31))
    expected = deadline_rules.DeadlineStatus(DeadlineState.OPEN, date(2026, 12, 31), 40)
    assert deadline_rules.deadline_status(deadline, DAY) == expected
    assert deadline_rules.deadline_status(deadline, date(2027, 1, 1)).state is DeadlineState.CLOSED


def test_recurring_deadline_moves_to_next_year_after_the_day():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((3, 31),))
    assert deadline_rules.deadline_status(deadline, date(2026, 3, 31)).next_deadline == date(2026, 3, 31)
    assert deadline_rules.deadline_status(deadline, date(2026, 4, 1)).next_deadline == date(2027, 3, 31)


def test_recurring_29_february_falls_on_28th_in_common_years():
    deadline = Deadline(DeadlineKind.RECURRING, yearly=((2, 29),))
    assert deadline_rules.next_deadline(deadline, date(2027, 1, 1)) == date(2027, 2, 28)
    assert deadline_rules.next_deadline(deadline, date(2028, 1, 1)) == date(2028, 2, 29)


def test_fixed_deadline_is_upcoming_before_its_window_opens_and_closed_after_the_last_date():
    deadline = Deadline(DeadlineKind.FIXED, dates=(date(2027, 3, 1),), opens=date(2027, 1, 15))
    assert deadline_rules.deadline_status(deadline, DAY).state is DeadlineState.UPCOMING
    assert deadline_rules.deadline_status(deadline, date(2027, 2, 1)).state is DeadlineState.OPEN
    assert deadline_rules.deadline_status(deadline, date(2027, 3, 2)).state is DeadlineState.CLOSED


def test_unknown_deadline_has_unknown_state():
    assert deadline_rules.deadline_status(Deadline(DeadlineKind.UNKNOWN), DAY).state is DeadlineState.UNKNOWN


def test_region_text_with_districts_limits_coverage_to_those_districts():
    coverage = catalogue_rules.derive_coverage(
        "Grenzraum: LK Görlitz und LK Bautzen sowie Unterregion Jelenia Góra", NAMES
    )
    assert coverage == catalogue_rules.Coverage(("sachsen",), ("14625000", "14626000"), True)


def test_landkreis_leipzig_is_not_mistaken_for_the_city():
    coverage = catalogue_rules.derive_coverage("Grenzraum: LK Leipzig", NAMES)
    assert coverage.districts == ("14729000",)


def test_example_districts_are_not_exhaustive():
    coverage = catalogue_rules.derive_coverage(
        "sächsisch-tschechische Euroregionen (z. B. Euroregion Erzgebirge: Erzgebirgskreis, Chemnitz)", NAMES
    )
    assert coverage.districts_exhaustive is False


def test_east_german_programmes_cover_saxony():
    assert (
        "sachsen" in catalogue_rules.derive_coverage("ostdeutsche Bundesländer und Berlin", NAMES).territories
    )


TAXONOMY = {
    "foerderart": frozenset({"zuschuss"}),
    "foerderbereich": frozenset({"mobilitaet"}),
    "foerderberechtigte": frozenset({"kommune"}),
    "foerdergebiet": frozenset({"sachsen"}),
}


def check(**changes):  # type: ignore[no-untyped-def]
    values = dict(
        funding_types=["zuschuss"],
        areas=["mobilitaet"],
        eligible=["kommune"],
        topics=["mobilitaet"],
        territories=["sachsen"],
        districts=[],
        amount_min=None,
        amount_max=None,
        rate=None,
        taxonomy=TAXONOMY,
        known_districts=NAMES,
    )
    values.update(changes)
    return [p.field for p in catalogue_rules.check_programme(**values)]


def test_a_valid_programme_has_no_problems():
    assert check() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"areas": ["raumfahrt"]}, "areas"),
        ({"amount_min": 10, "amount_max": 5}, "amount_min_eur"),
        ({"rate": 0}, "funding_rate_percent"),
        ({"rate": 100.5}, "funding_rate_percent"),
        ({"amount_max": -1}, "amount_max_eur"),
        ({"districts": ["14999000"]}, "districts"),
    ],
)
def test_programme_rules_name_the_field(changes, field):
    assert check(**changes) == [field]


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


def test_deadline_watch_announces_at_30_and_again_at_7_days():
    deadline = Deadline(DeadlineKind.FIXED, dates=(date(2026, 12, 21),))
    assert deadline_rules.due_announcements(deadline, DAY) == [(date(2026, 12, 21), 30, 30)]
    assert deadline_rules.due_announcements(deadline, date(2026, 11, 20)) == []
    assert deadline_rules.due_announcements(deadline, date(2026, 12, 16)) == [(date(2026, 12, 21), 7, 5)]


def test_open_ended_rolling_programmes_are_never_announced():
    assert deadline_rules.due_announcements(Deadline(DeadlineKind.ROLLING), DAY) == []


def test_text_score_prefers_hits_in_the_name():
    in_name = search_rules.text_score(["klimaschutz"], ["klimaschutz"], ["klimaschutz", "verein"])
    in_summary = search_rules.text_score(["klimaschutz"], ["verein"], ["verein", "klimaschutz"])
    assert in_name > in_summary


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
