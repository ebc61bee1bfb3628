"""Pure rules of reporting: dated contributions summed into figures as of a day or per month,
ratios, density per 10,000 inhabitants, rankings. No I/O."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class Delta:
    """A dated contribution to a figure: +1 actor registered, −1 removed, +12 participants, …"""

    region: str
    on: date
    amount: float
    district: str | None = None
    key: str | None = None


@dataclass
class Figure:
    """A region's value with its split by district and by the requested breakdown key."""

    value: float = 0.0
    by_district: dict[str, float] = field(default_factory=dict)
    by_key: dict[str, float] = field(default_factory=dict)


Totals = dict[str, Figure]


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(first: date, last: date) -> list[date]:
    """The last day of every month from ``first``'s month to ``last``'s month."""
    months, cursor = [], first.replace(day=1)
    while cursor <= last:
        months.append(month_end(cursor))
        cursor = month_end(cursor) + timedelta(days=1)
    return months


def _snapshot(running: dict[tuple[str, str | None, str | None], float]) -> Totals:
    totals: Totals = {}
    for (region, district, key), amount in running.items():
        figure = totals.setdefault(region, Figure())
        figure.value += amount
        if district is not None:
            figure.by_district[district] = figure.by_district.get(district, 0.0) + amount
        if key is not None:
            figure.by_key[key] = figure.by_key.get(key, 0.0) + amount
    for figure in totals.values():
        figure.by_district = {k: v for k, v in sorted(figure.by_district.items()) if v}
        figure.by_key = {k: v for k, v in sorted(figure.by_key.items()) if v}
    return totals


def cumulative_at(deltas: Iterable[Delta], days: list[date]) -> list[Totals]:
    """For each of ``days`` (ascending), the sum of contributions dated on or before it."""
    ordered = sorted(deltas, key=lambda d: d.on)
    running: dict[tuple[str, str | None, str | None], float] = defaultdict(float)
    snapshots, position = [], 0
    for day in days:
        while position < len(ordered) and ordered[position].on <= day:
            delta = ordered[position]
            running[(delta.region, delta.district, delta.key)] += delta.amount
            position += 1
        snapshots.append(_snapshot(running))
    return snapshots


def _difference(later: Totals, earlier: Totals) -> Totals:
    result: Totals = {}
    for region, figure in later.items():
        before = earlier.get(region, Figure())
        result[region] = Figure(
            value=figure.value - before.value,
            by_district={
                k: v - before.by_district.get(k, 0.0)
                for k, v in figure.by_district.items()
                if v - before.by_district.get(k, 0.0)
            },
            by_key={
                k: v - before.by_key.get(k, 0.0)
                for k, v in figure.by_key.items()
                if v - before.by_key.get(k, 0.0)
            },
        )
    return result


def figures_at(deltas: list[Delta], days: list[date], kind: Literal["bestand", "zugang"]) -> list[Totals]:
    """Stocks as of each day, or (``zugang``) what was added in that day's month up to the day."""
    if kind == "bestand":
        return cumulative_at(deltas, days)
    month_starts = [day.replace(day=1) - timedelta(days=1) for day in days]
    points = sorted(set(days) | set(month_starts))
    by_day = dict(zip(points, cumulative_at(deltas, points), strict=True))
    return [_difference(by_day[day], by_day[start]) for day, start in zip(days, month_starts, strict=True)]


def ratio(numerator: Totals, denominator: Totals, *, scale: float = 100.0) -> Totals:
    """numerator / denominator × scale per region and district; no denominator, no value."""
    result: Totals = {}
    for region, below in denominator.items():
        above = numerator.get(region, Figure())
        figure = Figure(value=round(above.value / below.value * scale, 4) if below.value else 0.0)
        figure.by_district = {
            d: round(above.by_district.get(d, 0.0) / v * scale, 4) for d, v in below.by_district.items() if v
        }
        result[region] = figure
    return result


def density_per_10k(actors: Totals, population: dict[str, dict[str, int]]) -> Totals:
    """Actors per 10,000 inhabitants: by district, and for the region over all its districts."""
    result: Totals = {}
    for region, districts in population.items():
        figure = actors.get(region, Figure())
        inhabitants = sum(districts.values())
        result[region] = Figure(
            value=round(figure.value / inhabitants * 10_000, 4) if inhabitants else 0.0,
            by_district={
                d: round(figure.by_district.get(d, 0.0) / p * 10_000, 4)
                for d, p in sorted(districts.items())
                if p
            },
        )
    return result


def overall_density(actors: Totals, population: dict[str, dict[str, int]], regions: list[str]) -> float:
    """Actors per 10,000 inhabitants of several regions together: their actors over the
    population of every district they cover (a district two regions share counts once)."""
    districts: dict[str, int] = {}
    for region in regions:
        districts.update(population.get(region, {}))
    inhabitants = sum(districts.values())
    total = sum(actors[r].value for r in regions if r in actors)
    return round(total / inhabitants * 10_000, 4) if inhabitants else 0.0


def _density(edges: float, nodes: float) -> float:
    pairs = nodes * (nodes - 1) / 2
    return round(edges / pairs * 100, 4) if pairs > 0 else 0.0


def pair_deltas(
    rows: Iterable[tuple[str, str | None, str | None, date | None, date | None, str | None, str | None]],
) -> list[Delta]:
    """Distinct cooperating pairs over time from (region, actor_a, actor_b, since, until,
    district_a, district_b) of cooperations: +1 when a pair's first running cooperation starts,
    −1 the day after its last one ends (``until`` is a last day; overlapping ones are merged);
    in the district of both partners when they share one."""
    periods: dict[tuple[str, str, str], list[tuple[date, date | None]]] = defaultdict(list)
    districts: dict[tuple[str, str, str], str | None] = {}
    for region, a, b, since, until, district_a, district_b in rows:
        if a is None or b is None or since is None:
            continue  # a placeholder: not (or no longer) recorded
        key = (region, min(a, b), max(a, b))
        periods[key].append((since, until))
        districts[key] = district_a if district_a == district_b else None
    deltas = []
    for key, spans in periods.items():
        merged: list[tuple[date, date | None]] = []
        for since, until in sorted(spans, key=lambda span: span[0]):
            if merged and (merged[-1][1] is None or since <= merged[-1][1] + timedelta(days=1)):
                end = merged[-1][1]
                merged[-1] = (merged[-1][0], None if end is None or until is None else max(end, until))
            else:
                merged.append((since, until))
        for since, until in merged:
            deltas.append(Delta(key[0], since, 1.0, districts[key]))
            if until is not None:
                deltas.append(Delta(key[0], until + timedelta(days=1), -1.0, districts[key]))
    return deltas


def network_density(actors: Totals, cooperations: Totals, within_districts: Totals | None = None) -> Totals:
    """Share of possible actor pairs that cooperate (P / (N(N−1)/2), P: distinct pairs with a
    running cooperation), in percent; per district (with ``within_districts``: pairs whose two
    partners are both in the district) among the district's actors."""
    result: Totals = {}
    for region in set(actors) | set(cooperations):
        nodes = actors.get(region, Figure())
        figure = Figure(value=_density(cooperations.get(region, Figure()).value, nodes.value))
        if within_districts is not None:
            edges = within_districts.get(region, Figure()).by_district
            figure.by_district = {d: _density(edges.get(d, 0.0), n) for d, n in nodes.by_district.items()}
        result[region] = figure
    return result


def with_districts(regions: Totals, districts: Totals) -> Totals:
    """Region values from ``regions`` with the by-district split of ``districts`` (for figures
    whose items may belong to two districts at once, so the districts do not sum to the region)."""
    return {
        region: Figure(
            value=figure.value,
            by_district=districts.get(region, Figure()).by_district,
            by_key=figure.by_key,
        )
        for region, figure in regions.items()
    }


def status_deltas(
    items: Iterable[tuple[str, str, datetime, str | None]],
    changes: Iterable[tuple[str, str, datetime, str | None]],
    districts: dict[tuple[str, str], str | None] | None = None,
) -> list[Delta]:
    """Contributions of items recorded with a status (region, id, at, status) and their later
    changes: +1 to the new status, −1 to the old one, whatever order they were stored in. A
    change dated before the recording counts from the recording on. ``districts`` places an
    item (region, id) in a district."""
    districts = districts or {}
    per_item: dict[tuple[str, str], list[tuple[datetime, str | None]]] = defaultdict(list)
    for region, item, at, status in changes:
        per_item[(region, item)].append((at, status))
    deltas = []
    for region, item, recorded_at, initial in items:
        previous = None
        later = sorted((max(at, recorded_at), status) for at, status in per_item.get((region, item), []))
        district = districts.get((region, item))
        for at, status in [(recorded_at, initial), *later]:
            if status == previous:
                continue
            if previous is not None:
                deltas.append(Delta(region, at.date(), -1, district, previous))
            deltas.append(Delta(region, at.date(), 1, district, status))
            previous = status
    return deltas


def snapshot_deltas(snapshots: Iterable[tuple[str, str, date, float]]) -> list[Delta]:
    """Contributions of level snapshots (region, series id, day, level): the change per day."""
    per_series: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for region, series, day, level in snapshots:
        per_series[(region, series)].append((day, level))
    deltas = []
    for (region, _), levels in per_series.items():
        previous = 0.0
        for day, level in sorted(levels):
            if level != previous:
                deltas.append(Delta(region, day, level - previous))
            previous = level
    return deltas


def rank(values: dict[str, float | None], *, higher_is_better: bool = True) -> dict[str, int | None]:
    """Rank regions (1 = best); equal values share a rank; a region without data has none."""
    known = sorted(
        ((v, r) for r, v in values.items() if v is not None),
        key=lambda item: -item[0] if higher_is_better else item[0],
    )
    ranks: dict[str, int | None] = {r: None for r, v in values.items() if v is None}
    previous, previous_rank = None, 0
    for position, (value, region) in enumerate(known, start=1):
        if value != previous:
            previous, previous_rank = value, position
        ranks[region] = previous_rank
    return ranks
