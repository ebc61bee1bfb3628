"""The vectorised suggestions give exactly what the documented definition gives pair by pair.

The reference below scores every pair in plain Python with ``score_pair`` and takes the
Adamic-Adar index from igraph's ``similarity_inverse_log_weighted`` — computed independently of
the numpy code under test.
"""

import random
from datetime import date, timedelta

import igraph
import pytest

from nzr_actors.network import scoring
from nzr_actors.network.analysis import Edge, Node

TODAY = date(2026, 6, 1)
SECTORS = ["zivilgesellschaft", "wirtschaft", "verwaltung_politik", "bildung_wissenschaft"]
TOPICS = ["bne", "kultur", "mobilitaet", "soziales", "energie_klimaschutz"]
KINDS = ["geld", "raeume", "wissen"]


def random_network(seed: int, size: int, cooperations: int) -> tuple[list[Node], list[Edge]]:
    rng = random.Random(seed)
    nodes = [
        Node(
            id=f"{rng.getrandbits(32):08x}",
            name=f"Akteur {i}",
            kind="verein",
            sector=rng.choice(SECTORS),
            district="14612000",
            topics=tuple(rng.sample(TOPICS, rng.randint(0, 2))),
            offers=frozenset(rng.sample(KINDS, rng.randint(0, 1))),
            needs=frozenset(rng.sample(KINDS, rng.randint(0, 1))),
        )
        for i in range(size)
    ]
    edges = []
    for k in range(cooperations):
        a, b = rng.sample(nodes, 2)
        since = TODAY - timedelta(days=rng.randrange(2000))
        until = since + timedelta(days=rng.randrange(1500)) if rng.random() < 0.3 else None
        edges.append(Edge(str(k), a.id, b.id, "projekt", since, until))
    return nodes, edges


def reference(
    nodes: list[Node], edges: list[Edge], *, actor_id: str | None, limit: int, surprising_only: bool
) -> list[scoring.Suggestion]:
    ordered = sorted(nodes, key=lambda n: n.id)
    position = {n.id: i for i, n in enumerate(ordered)}
    now = {frozenset((e.actor_a, e.actor_b)) for e in edges if e.active_on(TODAY)}
    ever = {frozenset((e.actor_a, e.actor_b)) for e in edges}
    graph = igraph.Graph(n=len(ordered), edges=[tuple(position[x] for x in pair) for pair in now])
    adamic_adar = graph.similarity_inverse_log_weighted(mode="all")
    neighbours = [set(graph.neighbors(i)) for i in range(len(ordered))]
    ranked = []
    for i, a in enumerate(ordered):
        for j, b in enumerate(ordered):
            if i == j or frozenset((a.id, b.id)) in ever:
                continue
            if (actor_id is None and i > j) or (actor_id is not None and a.id != actor_id):
                continue
            common = neighbours[i] & neighbours[j]
            if not (set(a.topics) & set(b.topics) or a.offers & b.needs or b.offers & a.needs or common):
                continue
            suggestion = scoring.score_pair(a, b, adamic_adar[i][j])
            if not surprising_only or suggestion.surprising:
                ranked.append(suggestion)
    ranked.sort(key=lambda s: (-s.score, s.actor_id, s.partner_id))
    return ranked[:limit]


def key(suggestions: list[scoring.Suggestion]) -> list[tuple[str, str, float, dict[str, float]]]:
    return [(s.actor_id, s.partner_id, s.score, s.parts) for s in suggestions]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_actors_suggestions_equal_the_pair_by_pair_definition(seed):
    nodes, edges = random_network(seed, size=70, cooperations=120)
    index = scoring.build_index(nodes, edges, on=TODAY)
    for node in nodes:
        for surprising in (False, True):
            expected = reference(nodes, edges, actor_id=node.id, limit=20, surprising_only=surprising)
            got = scoring.for_actor(index, node.id, limit=20, surprising_only=surprising)
            assert key(got) == key(expected)
    assert scoring.for_actor(index, nodes[0].id, limit=5)[0].reasons


@pytest.mark.parametrize(("seed", "max_groups"), [(4, 2000), (5, 2000), (6, 0)])
def test_region_wide_suggestions_equal_the_pair_by_pair_definition_across_blocks(
    seed, max_groups, monkeypatch
):
    nodes, edges = random_network(seed, size=90, cooperations=200)
    monkeypatch.setattr(scoring, "BLOCK_ELEMENTS", 500)  # many small chunks
    monkeypatch.setattr(scoring, "MAX_GROUPS", max_groups)  # 0: the plain blocks
    index = scoring.build_index(nodes, edges, on=TODAY)
    for limit in (1, 30, 5000):
        for surprising in (False, True):
            expected = reference(nodes, edges, actor_id=None, limit=limit, surprising_only=surprising)
            assert key(scoring.for_region(index, limit=limit, surprising_only=surprising)) == key(expected)


def test_pairs_without_anything_in_common_are_not_suggested():
    nodes = [
        Node("a", "A", "verein", "wirtschaft", "x", ("bne",)),
        Node("b", "B", "verein", "wirtschaft", "x"),
    ]
    index = scoring.build_index(nodes, [], on=TODAY)
    assert scoring.for_actor(index, "a", limit=10) == [] and scoring.for_region(index, limit=10) == []
    assert scoring.for_region(scoring.build_index([], [], on=TODAY), limit=10) == []
