"""The network metrics without I/O, cross-checked against plain-Python computations of the
textbook definitions (breadth-first search, shortest-path counting)."""

import itertools
import random
from collections import deque
from datetime import date

import pytest

from nzr_actors.network import analysis
from nzr_actors.network.analysis import Edge


def test_metrics_of_a_small_network():
    result = analysis.metrics(
        [
            ("a", "A", "wirtschaft"),
            ("b", "B", "zivilgesellschaft"),
            ("c", "C", "wirtschaft"),
            ("d", "D", "bildung"),
        ],
        [("a", "b"), ("b", "c"), ("c", "b")],
        top_n=2,
    )
    assert (result.actors, result.cooperations, result.components, result.largest_component) == (4, 2, 2, 3)
    assert result.density == pytest.approx(2 / 6)
    assert [r.actor_id for r in result.isolated] == ["d"]
    assert result.cross_sector_share == 1.0
    assert result.betweenness_centrality[0].actor_id == "b"


def reference_metrics(nodes: list[str], pairs: set[tuple[str, str]]) -> dict:
    """Density, component sizes, degree centrality and betweenness by their definitions."""
    neighbours: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)

    def bfs(source: str) -> tuple[dict[str, int], dict[str, int]]:
        distance, paths, queue = {source: 0}, {source: 1}, deque([source])
        while queue:
            v = queue.popleft()
            for w in neighbours[v]:
                if w not in distance:
                    distance[w], paths[w] = distance[v] + 1, 0
                    queue.append(w)
                if distance[w] == distance[v] + 1:
                    paths[w] += paths[v]
        return distance, paths

    seen: set[str] = set()
    sizes = []
    for n in nodes:
        if n not in seen:
            component = set(bfs(n)[0])
            seen |= component
            sizes.append(len(component))
    walks = {n: bfs(n) for n in nodes}
    betweenness = dict.fromkeys(nodes, 0.0)
    for s, t in itertools.combinations(nodes, 2):
        distance, paths = walks[s]
        if t not in distance:
            continue
        for v in nodes:
            if v in (s, t) or v not in distance or t not in walks[v][0]:
                continue
            if distance[v] + walks[v][0][t] == distance[t]:
                betweenness[v] += paths[v] * walks[v][1][t] / paths[t]
    k = len(nodes)
    return {
        "density": 2 * len(pairs) / (k * (k - 1)),
        "sizes": sorted(sizes, reverse=True),
        "degree": {n: len(neighbours[n]) / (k - 1) for n in nodes},
        "betweenness": {n: v * 2 / ((k - 1) * (k - 2)) for n, v in betweenness.items()},
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_equal_the_textbook_definitions_on_random_networks(seed):
    rng = random.Random(seed)
    nodes = [f"n{i:02d}" for i in range(40)]
    pairs = {tuple(sorted(rng.sample(nodes, 2))) for _ in range(55)}
    expected = reference_metrics(nodes, pairs)  # type: ignore[arg-type]
    result = analysis.metrics([(n, n, "verein") for n in nodes], pairs, top_n=40)  # type: ignore[arg-type]
    assert result.density == pytest.approx(expected["density"], abs=1e-6)
    assert [result.components, *result.component_sizes] == [len(expected["sizes"]), *expected["sizes"]]
    assert {r.actor_id: r.value for r in result.degree_centrality} == pytest.approx(
        expected["degree"], abs=1e-6
    )
    got = {r.actor_id: r.value for r in result.betweenness_centrality}
    assert got == pytest.approx(expected["betweenness"], abs=1e-6)


def test_betweenness_of_large_networks_is_a_seeded_estimate_that_finds_the_bridges():
    # Two dense halves (circulant graphs) joined through a bridge actor: the three of
    # l0–bridge–r0 lie on every path between the halves, far more than any other actor.
    size = analysis.EXACT_BETWEENNESS_UP_TO // 2 + 50
    pairs = {("l0", "bridge"), ("bridge", "r0")}
    for side in ("l", "r"):
        pairs |= {(f"{side}{i}", f"{side}{(i + step) % size}") for i in range(size) for step in (1, 2, 3)}
    actors = [(n, n, "zivilgesellschaft") for n in {x for pair in pairs for x in pair}]

    result = analysis.metrics(actors, pairs, top_n=3)

    assert result.betweenness_exact is False
    assert {r.actor_id for r in result.betweenness_centrality} == {"bridge", "l0", "r0"}
    assert analysis.metrics(actors, pairs, top_n=3).betweenness_centrality == result.betweenness_centrality


def test_an_unchanged_network_is_analysed_once_and_a_changed_one_again():
    actors = frozenset({("a", "A", "wirtschaft"), ("b", "B", "zivilgesellschaft"), ("c", "C", "wirtschaft")})
    pairs = frozenset({("a", "b")})
    first = analysis.metrics_cached(actors, pairs, 5)
    assert analysis.metrics_cached(frozenset(actors), frozenset(pairs), 5) is first
    changed = analysis.metrics_cached(actors, pairs | {("b", "c")}, 5)
    assert changed is not first and (first.cooperations, changed.cooperations) == (1, 2)


def test_a_cooperation_is_active_from_its_first_to_its_last_day():
    edge = Edge("1", "a", "b", "projekt", date(2020, 1, 1), date(2020, 12, 31))
    assert [
        edge.active_on(date(y, m, d))
        for y, m, d in ((2019, 12, 31), (2020, 1, 1), (2020, 12, 31), (2021, 1, 1))
    ] == [
        False,
        True,
        True,
        False,
    ]
    pairs = analysis.active_pairs(
        [edge, Edge("2", "b", "a", "austausch", date(2020, 6, 1))], on=None, members={"a", "b"}
    )
    assert pairs == {("a", "b")}
