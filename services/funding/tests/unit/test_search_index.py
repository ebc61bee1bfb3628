"""The in-memory catalogue index gives exactly the answers of the one-programme rules.

``CatalogueIndex`` ranks by bitsets and arrays; the reference here applies ``domain``'s rules
programme by programme (``match_programme`` / ``best_matches``, ``matches_query``,
``passes_ranges``, ``facet_values``, ``text_score``) to random catalogues and queries.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nzr_funding import vocabulary
from nzr_funding.catalogue.rules import ProgrammeFacts
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.deadlines.rules import Deadline, DeadlineKind
from nzr_funding.matching import rules as matching_rules
from nzr_funding.matching.rules import Fit, Status
from nzr_funding.search import rules as search_rules
from nzr_funding.search.index import CatalogueIndex, Entry
from nzr_funding.search.rules import SearchFilters

DAY = date(2026, 11, 21)
WORDS = ["klimaschutz", "verein", "energi", "radverkehr", "jugend", "kultur", "dorf", "wasser"]
DEADLINES = [
    Deadline(DeadlineKind.UNKNOWN),
    Deadline(DeadlineKind.ROLLING),
    Deadline(DeadlineKind.ROLLING, until=date(2026, 11, 30)),
    Deadline(DeadlineKind.ROLLING, until=date(2025, 1, 1)),
    Deadline(DeadlineKind.RECURRING, yearly=((3, 31),)),
    Deadline(DeadlineKind.RECURRING, yearly=((11, 25), (5, 1))),
    Deadline(DeadlineKind.FIXED, dates=(date(2027, 2, 15),)),
    Deadline(DeadlineKind.FIXED, dates=(date(2026, 1, 15),)),
    Deadline(DeadlineKind.FIXED, dates=(date(2027, 6, 1),), opens=date(2027, 1, 1)),
]
ELIGIBLE = ["verband_vereinigung", "kommune", "unternehmen", "privatperson", "bildungseinrichtung"]
TERRITORIES = ["bundesweit", "sachsen", "brandenburg"]
DISTRICTS = ["14626000", "14625000", "14713000"]
TOPICS = ["klimaschutz_energie", "mobilitaet", "europa_jugend", "klimaanpassung"]
AREAS = ["energieeffizienz_erneuerbare_energien", "kultur_medien", "klimaanpassung"]
AMOUNTS = [None, 500.0, 1000.0, 5000.0, 20000.0, 100000.0]


def subset(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=len(values))


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    count = draw(st.integers(min_value=0, max_value=25))
    result = []
    for i in range(count):
        low, high = draw(st.sampled_from(AMOUNTS)), draw(st.sampled_from(AMOUNTS))
        if low is not None and high is not None and low > high:
            low, high = high, low
        territories = draw(subset(TERRITORIES))
        facts = ProgrammeFacts(
            id=f"p{i:03d}",
            name=draw(st.sampled_from(["Alpha", "Beta", "Gamma"])),  # ties broken by id
            level=draw(st.sampled_from(vocabulary.LEVELS)),
            eligible=draw(subset(ELIGIBLE)),
            territories=territories,
            districts=draw(subset(DISTRICTS)) if "sachsen" in territories else frozenset(),
            districts_exhaustive=draw(st.booleans()),
            topics=draw(subset(TOPICS)),
            areas=draw(subset(AREAS)),
            funding_types=draw(subset(["zuschuss", "darlehen"])),
            amount_min=low,
            amount_max=high,
            rate=draw(st.sampled_from([None, 50.0, 80.0, 90.0, 100.0])),
            deadline=draw(st.sampled_from(DEADLINES)),
        )
        name_tokens = tuple(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
        doc_tokens = name_tokens + tuple(draw(st.lists(st.sampled_from(WORDS), max_size=8)))
        result.append(Entry(facts, name_tokens, doc_tokens, {"id": facts.id}))
    return result


profiles = st.builds(
    matching_rules.Profile,
    kind=st.sampled_from([None, *vocabulary.KIND_TO_ELIGIBLE]),
    district=st.sampled_from([None, *DISTRICTS]),
    topics=subset(TOPICS + AREAS),
    amount_needed=st.sampled_from([None, 800.0, 5000.0, 20000.0, 250000.0]),
    own_share_available=st.sampled_from([None, 0.0, 1000.0, 5000.0]),
    preparation_days=st.sampled_from([0, 14, 60]),
)

search_filters = st.builds(
    SearchFilters,
    facets=st.fixed_dictionaries(
        {
            "funding_type": subset(["zuschuss", "darlehen"]),
            "area": subset(AREAS),
            "territory": subset(TERRITORIES),
            "eligible": subset(ELIGIBLE),
            "level": subset(list(vocabulary.LEVELS)),
            "topic": subset(TOPICS),
            "state": subset(["open", "upcoming", "closed", "unknown"]),
        }
    ),
    open_now=st.booleans(),
    deadline_before=st.sampled_from([None, date(2026, 12, 31), date(2027, 3, 31)]),
    amount_min=st.sampled_from([None, 0.0, 1000.0, 30000.0]),
    amount_max=st.sampled_from([None, 600.0, 5000.0, 200000.0]),
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    entries(),
    st.lists(profiles, min_size=1, max_size=3),
    st.integers(min_value=1, max_value=12),
    st.booleans(),
)
def test_index_matching_equals_the_rule_applied_to_every_programme(catalogue, profiles_, limit, include):
    facts = [e.facts for e in catalogue]
    index = CatalogueIndex(catalogue)  # one index for several profiles: judgements are kept
    for profile in [*profiles_, *profiles_]:
        expected = matching_rules.best_matches(facts, profile, DAY, limit=limit, include_excluded=include)
        assert index.best_matches(profile, DAY, limit=limit, include_excluded=include) == expected


@FAST
@given(entries(), profiles)
def test_index_ranking_keeps_the_matching_guarantee(catalogue, profile):
    ranked, counts = CatalogueIndex(catalogue).best_matches(profile, DAY, limit=len(catalogue) or 1)
    fits = [m.fit for m in ranked]
    # No programme with a failed hard criterion above one without.
    assert fits == sorted(fits, key=lambda f: f is Fit.EXCLUDED)
    assert counts == dict(Counter(fits)) | {f: 0 for f in Fit if f not in fits}
    for match in ranked:
        assert [c.name for c in match.criteria] == [
            "eligibility",
            "legal_form",
            "region",
            "topic",
            "amount",
            "own_share",
            "deadline",
        ]
        assert all(c.status in Status and c.reason for c in match.criteria)
        failed = any(c.hard and c.status is Status.NOT_MET for c in match.criteria)
        assert (match.fit is Fit.EXCLUDED) == failed


def reference_search(
    catalogue: list[Entry], tokens: list[str], filters: SearchFilters, limit: int, offset: int
) -> tuple[int, list[tuple[float, str]], dict[str, list[tuple[str, int]]]]:
    """Search as the rules say it, one programme at a time."""
    candidates = [
        e
        for e in catalogue
        if search_rules.matches_query(tokens, e.doc_tokens)
        and search_rules.passes_ranges(e.facts, filters, DAY)
    ]
    counts: dict[str, Counter[str]] = {d: Counter() for d in search_rules.FACET_DIMENSIONS}
    hits = []
    for entry in candidates:
        values = search_rules.facet_values(entry.facts, DAY)
        for dimension in search_rules.FACET_DIMENSIONS:
            if search_rules.passes_facets(values, filters, skip=dimension):
                counts[dimension].update(values[dimension])
        if search_rules.passes_facets(values, filters):
            hits.append(entry)
    facets = {d: sorted(c.items(), key=lambda vc: (-vc[1], vc[0])) for d, c in counts.items()}
    if tokens:
        scored = [(search_rules.text_score(tokens, e.name_tokens, e.doc_tokens), e) for e in hits]
        scored.sort(key=lambda se: (-se[0], se[1].facts.name, se[1].facts.id))
    else:

        def order(e: Entry) -> tuple:  # type: ignore[type-arg]
            status = deadline_rules.deadline_status(e.facts.deadline, DAY)
            rank = {"open": 0, "upcoming": 1, "unknown": 2, "closed": 3}[status.state.value]
            return (rank, status.next_deadline or date.max, e.facts.name, e.facts.id)

        scored = [(0.0, e) for e in sorted(hits, key=order)]
    page = [(score, e.facts.id) for score, e in scored[offset : offset + limit]]
    return len(hits), page, facets


@FAST
@given(
    entries(),
    st.lists(st.sampled_from([*WORDS, "nirgends"]), max_size=2),
    search_filters,
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=12),
)
def test_index_search_equals_the_rules_applied_to_every_programme(catalogue, tokens, filters, limit, offset):
    index = CatalogueIndex(catalogue)
    total, page, facets = index.search(
        tokens, filters, DAY, stop_words_only=False, limit=limit, offset=offset
    )
    expected = reference_search(catalogue, tokens, filters, limit, offset)
    assert (total, [(score, catalogue[i].facts.id) for score, i in page], facets) == expected


def test_a_query_of_stop_words_only_finds_nothing_but_counts_no_facets():
    catalogue = [
        Entry(
            ProgrammeFacts(
                id="a",
                name="A",
                level="land",
                eligible=frozenset(),
                territories=frozenset(),
                districts=frozenset(),
                districts_exhaustive=True,
                topics=frozenset(),
                areas=frozenset(),
                funding_types=frozenset(),
                amount_min=None,
                amount_max=None,
                rate=None,
                deadline=Deadline(DeadlineKind.UNKNOWN),
            ),
            ("a",),
            ("a",),
            {"id": "a"},
        )
    ]
    everything = CatalogueIndex(catalogue).search(
        [], SearchFilters(), DAY, stop_words_only=False, limit=5, offset=0
    )
    nothing = CatalogueIndex(catalogue).search(
        [], SearchFilters(), DAY, stop_words_only=True, limit=5, offset=0
    )
    assert everything[0] == 1 and everything[2]["level"] == [("land", 1)]
    assert nothing[0] == 0 and nothing[1] == [] and all(not counts for counts in nothing[2].values())
