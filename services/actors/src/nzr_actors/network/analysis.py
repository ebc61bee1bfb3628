"""The cooperation network of a region and its metrics, computed with igraph (pure: no I/O).

igraph is the platform's one graph library: components, degrees and betweenness run in its C
core; the partner suggestions are scored with numpy in ``nzr_actors.network.scoring``; the
exports are written by ``nzr_actors.network.exports``.

Density is the share of possible actor pairs that cooperate: distinct pairs with at least one
cooperation active on the reference date, divided by n·(n−1)/2 (reporting's ``network_density``
indicator uses the same definition).

Betweenness is normalised as 2 / ((n−1)(n−2)) · raw (the usual definition for undirected
graphs). It is exact up to ``EXACT_BETWEENNESS_UP_TO`` actors and estimated from
``BETWEENNESS_SAMPLES`` random source actors above that (the Brandes–Pich estimator), with a
fixed seed over the actors in id order, so equal graphs give equal answers.

``metrics_cached`` remembers the last few results keyed by the graph itself (actors with name
and sector, active pairs), so an unchanged network is not analysed twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

EXACT_BETWEENNESS_UP_TO = 2000
BETWEENNESS_SAMPLES = 300


if TYPE_CHECKING:
    import igraph


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: str
    sector: str
    district: str
    topics: tuple[str, ...] = ()
    offers: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    subdistrict: str | None = None


@dataclass(frozen=True)
class Edge:
    id: str
    actor_a: str
    actor_b: str
    type: str
    since: date
    until: date | None = None
    topic: str | None = None

    def active_on(self, day: date) -> bool:
        """Whether the cooperation runs on ``day`` (``until`` is its last day)."""
        return self.since <= day and (self.until is None or self.until >= day)


@dataclass
class Ranked:
    actor_id: str
    name: str
    value: float


@dataclass
class Metrics:
    actors: int
    cooperations: int
    density: float
    components: int
    largest_component: int
    component_sizes: list[int]
    isolated: list[Ranked]
    degree_centrality: list[Ranked]
    betweenness_centrality: list[Ranked]
    betweenness_exact: bool
    cross_sector_share: float


def active_pairs(edges: Iterable[Edge], *, on: date | None, members: set[str]) -> set[tuple[str, str]]:
    """Distinct pairs (storage order) of ``members`` with a cooperation active on ``on`` (any when None)."""
    return {
        (e.actor_a, e.actor_b) if e.actor_a < e.actor_b else (e.actor_b, e.actor_a)
        for e in edges
        if e.actor_a in members and e.actor_b in members and e.actor_a != e.actor_b
        if on is None or e.active_on(on)
    }


@lru_cache(maxsize=8)
def metrics_cached(
    actors: frozenset[tuple[str, str, str]], pairs: frozenset[tuple[str, str]], top_n: int
) -> Metrics:
    """``metrics`` of the network, computed once per distinct network (treat as read-only)."""
    return metrics(actors, pairs, top_n=top_n)


def _top(names: list[str], ids: list[str], values: list[float], n: int) -> list[Ranked]:
    order = sorted(range(len(values)), key=lambda i: (-values[i], names[i]))
    return [Ranked(ids[i], names[i], round(values[i], 6)) for i in order[:n]]


def metrics(
    actors: Iterable[tuple[str, str, str]], pairs: Iterable[tuple[str, str]], *, top_n: int = 10
) -> Metrics:
    """Density, components, centralities (top N), isolated actors and the cross-sector share.

    ``actors`` are (id, name, sector); ``pairs`` cooperating pairs (pairs naming an actor not in
    ``actors`` are left out, each pair counts once whatever its order).
    """
    members = sorted(set(actors))
    ids = [a[0] for a in members]
    names = [a[1] for a in members]
    sectors = [a[2] for a in members]
    index = {actor_id: i for i, actor_id in enumerate(ids)}
    edges = sorted(
        {
            (min(index[a], index[b]), max(index[a], index[b]))
            for a, b in pairs
            if a in index and b in index and a != b
        }
    )
    n, m = len(ids), len(edges)
    import igraph  # about 35 MB: loaded by the first network request, not by every process

    graph = igraph.Graph(n=n, edges=edges)
    sizes = sorted(graph.connected_components().sizes(), reverse=True) if n else []
    degrees = graph.degree()
    betweenness, exact = betweenness_centrality(graph)
    cross = sum(1 for a, b in edges if sectors[a] != sectors[b])
    isolated = sorted((i for i in range(n) if degrees[i] == 0), key=lambda i: names[i])
    return Metrics(
        actors=n,
        cooperations=m,
        density=round(2 * m / (n * (n - 1)), 6) if n > 1 else 0.0,
        components=len(sizes),
        largest_component=sizes[0] if sizes else 0,
        component_sizes=sizes[:top_n],
        isolated=[Ranked(ids[i], names[i], 0.0) for i in isolated],
        degree_centrality=_top(names, ids, [d / (n - 1) for d in degrees], top_n) if n > 1 else [],
        betweenness_centrality=_top(names, ids, betweenness, top_n),
        betweenness_exact=exact,
        cross_sector_share=round(cross / m, 6) if m else 0.0,
    )


def betweenness_centrality(graph: igraph.Graph) -> tuple[list[float], bool]:
    """Normalised betweenness of every vertex; (values, exact?)."""
    n = graph.vcount()
    if n < 3:
        return [0.0] * n, True
    exact = n <= EXACT_BETWEENNESS_UP_TO
    if exact:
        raw = graph.betweenness(directed=False)
    else:
        sources = random.Random(7).sample(range(n), BETWEENNESS_SAMPLES)
        raw = [v * n / BETWEENNESS_SAMPLES for v in graph.betweenness(directed=False, sources=sources)]
    scale = 2 / ((n - 1) * (n - 2))
    return [v * scale for v in raw], exact
