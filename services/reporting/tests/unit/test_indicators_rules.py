"""The indicators' rules, without I/O."""

from datetime import UTC, date, datetime, timedelta

from nzr_reporting.indicators.rules import (
    Delta,
    density_per_10k,
    figures_at,
    months_between,
    network_density,
    rank,
    snapshot_deltas,
    status_deltas,
    with_districts,
)

JAN, FEB, MAR = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)


def test_stock_counts_everything_dated_up_to_the_day_and_flow_only_the_month():
    deltas = [
        Delta("r", date(2026, 1, 5), 1, "d1"),
        Delta("r", date(2026, 2, 3), 1, "d2"),
        Delta("r", date(2026, 3, 1), -1, "d1"),
    ]
    stock = figures_at(deltas, [JAN, FEB, MAR], "bestand")
    assert [t["r"].value for t in stock] == [1, 2, 1]
    assert stock[2]["r"].by_district == {"d2": 1}
    flow = figures_at(deltas, [JAN, FEB, MAR], "zugang")
    assert [t["r"].value for t in flow] == [1, 1, -1]


def test_months_between_gives_month_ends_across_a_year_boundary():
    assert months_between(date(2025, 12, 15), date(2026, 2, 1)) == [date(2025, 12, 31), JAN, FEB]


def test_density_is_per_10000_inhabitants_by_district_and_region():
    (actors,) = figures_at([Delta("r", JAN, 5, "d1"), Delta("r", JAN, 1, "d2")], [JAN], "bestand")
    density = density_per_10k(actors, {"r": {"d1": 50_000, "d2": 10_000}})
    assert density["r"].by_district == {"d1": 1.0, "d2": 1.0}
    assert density["r"].value == 1.0


def test_status_changes_count_the_same_whatever_order_they_were_stored_in():
    t0 = datetime(2026, 1, 2, tzinfo=UTC)
    changes = [
        ("r", "a1", t0 + timedelta(days=40), "umgesetzt"),
        ("r", "a1", t0 + timedelta(days=10), "in_umsetzung"),
    ]
    items = [("r", "a1", t0, "offen")]
    for ordering in (changes, list(reversed(changes))):
        jan, feb = figures_at(status_deltas(items, ordering), [JAN, FEB], "bestand")
        assert jan["r"].by_key == {"in_umsetzung": 1} and feb["r"].by_key == {"umgesetzt": 1}


def test_level_snapshots_turn_into_changes_per_day():
    deltas = snapshot_deltas(
        [
            ("r", "l1", date(2026, 1, 3), 10),
            ("r", "l1", date(2026, 1, 1), 8),
            ("r", "l2", date(2026, 1, 2), 5),
        ]
    )
    (total,) = figures_at(deltas, [JAN], "bestand")
    assert total["r"].value == 15


def test_equal_values_share_a_rank_and_regions_without_data_have_none():
    assert rank({"a": 3, "b": 5, "c": 3, "d": None}) == {"b": 1, "a": 2, "c": 2, "d": None}
    assert rank({"a": 3, "b": 5}, higher_is_better=False) == {"a": 1, "b": 2}


def test_network_density_per_district_counts_pairs_within_the_district():
    (actors,) = figures_at([Delta("r", JAN, 3, "d1"), Delta("r", JAN, 1, "d2")], [JAN], "bestand")
    (cooperations,) = figures_at([Delta("r", JAN, 2)], [JAN], "bestand")
    (within,) = figures_at([Delta("r", JAN, 1, "d1")], [JAN], "bestand")
    density = network_density(actors, cooperations, within)
    assert density["r"].value == round(2 / 6 * 100, 4)  # 4 actors: 6 possible pairs
    assert density["r"].by_district == {"d1": round(1 / 3 * 100, 4), "d2": 0.0}


def test_items_in_two_districts_keep_the_region_value_and_take_the_district_split():
    (region,) = figures_at([Delta("r", JAN, 1)], [JAN], "bestand")
    (districts,) = figures_at([Delta("r", JAN, 1, "d1"), Delta("r", JAN, 1, "d2")], [JAN], "bestand")
    combined = with_districts(region, districts)
    assert (combined["r"].value, combined["r"].by_district) == (1, {"d1": 1, "d2": 1})


def test_network_density_counts_each_cooperating_pair_once_while_any_of_its_cooperations_runs():
    from nzr_reporting.indicators.rules import pair_deltas

    rows = [
        ("r", "a", "b", date(2026, 1, 1), date(2026, 1, 31), "d1", "d1"),
        ("r", "b", "a", date(2026, 1, 15), date(2026, 2, 10), "d1", "d1"),  # same pair, overlapping
        ("r", "a", "c", date(2026, 2, 1), None, "d1", "d2"),  # across districts
        ("r", "c", "d", None, None, "d2", "d2"),  # a deleted one (placeholder): counts nowhere
    ]
    (actors,) = figures_at([Delta("r", JAN, 3, "d1"), Delta("r", JAN, 1, "d2")], [JAN], "bestand")
    days = [date(2026, 1, 20), date(2026, 2, 10), date(2026, 2, 11)]
    pairs = figures_at(pair_deltas(rows), days, "bestand")
    assert [p["r"].value for p in pairs] == [1, 2, 1]  # 2026-02-10 is the last day of a–b
    density = network_density(actors, pairs[1], pairs[1])
    assert density["r"].value == round(2 / 6 * 100, 4)
    assert density["r"].by_district == {"d1": round(1 / 3 * 100, 4), "d2": 0.0}
