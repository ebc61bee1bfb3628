"""Network analysis of a region's cooperation graph with networkx (pure: no I/O).

Suggestion score of a pair that has never cooperated (each part in [0, 1]):

    score = 0.40 · topics      Jaccard overlap of the two actors' topics
          + 0.15 · sector      1 when the sectors differ (complementary), else 0
          + 0.25 · resources   share of the two directions (A→B, B→A) in which one offers a
                               resource kind the other needs
          + 0.20 · link        Adamic-Adar index over the current graph, squashed as aa / (1 + aa)

A pair is a *surprising match* when the sectors differ and the actors share at least one topic.
Only pairs with a shared topic, a resource match or a common partner are suggested.

Betweenness centrality is the one measure networkx is too slow for at region size: on a
5,000-actor, 15,000-pair graph even networkx's k-sample approximation takes seconds per 50
sources (measured: ≥ 10 s for k = 50 on the loaded 2-core machine, where igraph needs about 1 s
for 400). It runs in igraph (C), exactly up to ``EXACT_BETWEENNESS_UP_TO`` actors and estimated
from ``BETWEENNESS_SAMPLES`` random source actors above that — the same estimator as networkx's
``k`` (Brandes & Pich), with a fixed seed so equal graphs give equal answers.

``metrics_cached`` remembers the last few results keyed by the graph itself (actors with name
and sector, active pairs), so an unchanged network is not analysed twice.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import combinations

import networkx as nx

WEIGHTS = {"topics": 0.40, "sector": 0.15, "resources": 0.25, "link": 0.20}
EXACT_BETWEENNESS_UP_TO = 2000
BETWEENNESS_SAMPLES = 300


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


@dataclass(frozen=True)
class Edge:
    id: str
    actor_a: str
    actor_b: str
    type: str
    since: date
    until: date | None = None
    topic: str | None = None


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


@dataclass
class Suggestion:
    actor_id: str
    partner_id: str
    score: float
    parts: dict[str, float]
    shared_topics: list[str]
    resource_matches: list[str]
    surprising: bool
    reasons: list[str] = field(default_factory=list)


def build_graph(nodes: list[Node], edges: list[Edge], *, on: date | None = None) -> nx.Graph:
    """Actors as nodes; one edge per cooperating pair active on ``on`` (all edges when None)."""
    graph: nx.Graph[str] = nx.Graph()
    for node in nodes:
        graph.add_node(node.id, node=node, name=node.name, sector=node.sector)
    for edge in edges:
        if on is not None and (edge.since > on or (edge.until is not None and edge.until < on)):
            continue
        if edge.actor_a in graph and edge.actor_b in graph:
            if graph.has_edge(edge.actor_a, edge.actor_b):
                graph.edges[edge.actor_a, edge.actor_b]["cooperations"].append(edge)
            else:
                graph.add_edge(edge.actor_a, edge.actor_b, cooperations=[edge])
    return graph


def lean_graph(actors: Iterable[tuple[str, str, str]], pairs: Iterable[tuple[str, str]]) -> nx.Graph:
    """The graph metrics need: (id, name, sector) per actor, one edge per cooperating pair."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from((actor_id, {"name": name, "sector": sector}) for actor_id, name, sector in actors)
    graph.add_edges_from((a, b) for a, b in pairs if a in graph and b in graph)
    return graph


@lru_cache(maxsize=8)
def metrics_cached(
    actors: frozenset[tuple[str, str, str]], pairs: frozenset[tuple[str, str]], top_n: int
) -> Metrics:
    """``metrics`` of the lean graph, computed once per distinct network (treat as read-only)."""
    return metrics(lean_graph(actors, pairs), top_n=top_n)


def _top(graph: nx.Graph, values: dict[str, float], n: int) -> list[Ranked]:
    ranked = sorted(values.items(), key=lambda item: (-item[1], graph.nodes[item[0]]["name"]))
    return [Ranked(a, graph.nodes[a]["name"], round(v, 6)) for a, v in ranked[:n]]


def metrics(graph: nx.Graph, *, top_n: int = 10) -> Metrics:
    """Density, components, centralities (top N), isolated actors and the cross-sector share.

    Nodes need the attributes ``name`` and ``sector`` (``build_graph`` and ``lean_graph`` set them).
    """
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    sizes = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    betweenness, exact = betweenness_centrality(graph)
    sector = graph.nodes.data("sector")
    cross = sum(1 for a, b in graph.edges if sector[a] != sector[b])
    isolated = sorted(nx.isolates(graph), key=lambda a: graph.nodes[a]["name"])
    return Metrics(
        actors=n,
        cooperations=m,
        density=round(nx.density(graph), 6) if n > 1 else 0.0,
        components=len(sizes),
        largest_component=sizes[0] if sizes else 0,
        component_sizes=sizes[:top_n],
        isolated=[Ranked(a, graph.nodes[a]["name"], 0.0) for a in isolated],
        degree_centrality=_top(graph, nx.degree_centrality(graph) if n > 1 else {}, top_n),
        betweenness_centrality=_top(graph, betweenness, top_n),
        betweenness_exact=exact,
        cross_sector_share=round(cross / m, 6) if m else 0.0,
    )


def betweenness_centrality(graph: nx.Graph) -> tuple[dict[str, float], bool]:
    """Normalised betweenness as networkx defines it, computed by igraph; (values, exact?)."""
    n = graph.number_of_nodes()
    if n < 3:
        return dict.fromkeys(graph.nodes, 0.0), True
    import igraph  # about 35 MB: loaded by the first network request, not by every process

    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    fast = igraph.Graph(n=n, edges=[(index[a], index[b]) for a, b in graph.edges])
    exact = n <= EXACT_BETWEENNESS_UP_TO
    if exact:
        raw = fast.betweenness(directed=False)
    else:
        sources = random.Random(7).sample(range(n), BETWEENNESS_SAMPLES)
        raw = [v * n / BETWEENNESS_SAMPLES for v in fast.betweenness(directed=False, sources=sources)]
    scale = 2 / ((n - 1) * (n - 2))
    return {nodes[i]: raw[i] * scale for i in range(n)}, exact


def _resource_matches(a: Node, b: Node) -> list[str]:
    return [f"{a.name} bietet {k}, {b.name} braucht es" for k in sorted(a.offers & b.needs)] + [
        f"{b.name} bietet {k}, {a.name} braucht es" for k in sorted(b.offers & a.needs)
    ]


def score_pair(a: Node, b: Node, adamic_adar: float) -> Suggestion:
    """The documented score of one pair (see the module docstring)."""
    shared = sorted(set(a.topics) & set(b.topics))
    union = set(a.topics) | set(b.topics)
    directions = int(bool(a.offers & b.needs)) + int(bool(b.offers & a.needs))
    parts = {
        "topics": len(shared) / len(union) if union else 0.0,
        "sector": 1.0 if a.sector != b.sector else 0.0,
        "resources": directions / 2,
        "link": adamic_adar / (1.0 + adamic_adar),
    }
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    reasons = []
    if shared:
        reasons.append(f"gemeinsame Themen: {', '.join(shared)}")
    if parts["sector"]:
        reasons.append(f"verschiedene Sektoren: {a.sector} / {b.sector}")
    if adamic_adar:
        reasons.append("gemeinsame Kooperationspartner")
    matches = _resource_matches(a, b)
    return Suggestion(
        actor_id=a.id,
        partner_id=b.id,
        score=round(score, 6),
        parts={k: round(v, 6) for k, v in parts.items()},
        shared_topics=shared,
        resource_matches=matches,
        surprising=bool(shared) and a.sector != b.sector,
        reasons=reasons + matches,
    )


def _candidate_pairs(graph: nx.Graph, focus: str | None) -> set[tuple[str, str]]:
    """Pairs worth scoring: sharing a topic, matching a resource, or having a common partner."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    offers: dict[str, list[str]] = defaultdict(list)
    needs: dict[str, list[str]] = defaultdict(list)
    for actor_id, data in graph.nodes(data=True):
        node: Node = data["node"]
        for topic in node.topics:
            by_topic[topic].append(actor_id)
        for kind in node.offers:
            offers[kind].append(actor_id)
        for kind in node.needs:
            needs[kind].append(actor_id)
    pairs: set[tuple[str, str]] = set()

    def add(a: str, b: str) -> None:
        if a != b and not graph.has_edge(a, b):
            pairs.add((a, b) if a < b else (b, a))

    if focus is not None:
        node = graph.nodes[focus]["node"]
        for topic in node.topics:
            for other in by_topic[topic]:
                add(focus, other)
        for kind in node.offers:
            for other in needs[kind]:
                add(focus, other)
        for kind in node.needs:
            for other in offers[kind]:
                add(focus, other)
        for neighbour in graph.neighbors(focus):
            for other in graph.neighbors(neighbour):
                add(focus, other)
        return pairs
    for members in by_topic.values():
        for a, b in combinations(members, 2):
            add(a, b)
    for kind, offering in offers.items():
        for a in offering:
            for b in needs.get(kind, ()):
                add(a, b)
    for hub in graph.nodes:
        for a, b in combinations(list(graph.neighbors(hub)), 2):
            add(a, b)
    return pairs


def suggestions(
    graph: nx.Graph,
    *,
    actor_id: str | None = None,
    past_pairs: set[tuple[str, str]] | None = None,
    limit: int = 20,
    surprising_only: bool = False,
) -> list[Suggestion]:
    """Ranked partners for ``actor_id`` (or pairs across the region) that never cooperated.

    Pairs cooperating now are edges of ``graph``; ``past_pairs`` (stored order) whose
    cooperation has ended are left out as well: they have cooperated.
    """
    pairs = _candidate_pairs(graph, actor_id)
    if past_pairs:
        pairs -= past_pairs
    if not pairs:
        return []
    aa = {(a, b): v for a, b, v in nx.adamic_adar_index(graph, list(pairs))}
    ranked = []
    for a, b in pairs:
        first, second = (a, b) if actor_id is None or a == actor_id else (b, a)
        suggestion = score_pair(graph.nodes[first]["node"], graph.nodes[second]["node"], aa.get((a, b), 0.0))
        if surprising_only and not suggestion.surprising:
            continue
        ranked.append(suggestion)
    ranked.sort(key=lambda s: (-s.score, s.actor_id, s.partner_id))
    return ranked[:limit]


# --- exports ---------------------------------------------------------------------------------


def _export_graph(graph: nx.Graph) -> nx.Graph:
    """A copy with only scalar attributes, which GraphML and GEXF can hold."""
    flat: nx.Graph[str] = nx.Graph()
    for actor_id, data in graph.nodes(data=True):
        node: Node = data["node"]
        flat.add_node(
            actor_id,
            label=node.name,
            kind=node.kind,
            sector=node.sector,
            district=node.district,
            topics=";".join(node.topics),
        )
    for a, b, data in graph.edges(data=True):
        coops: list[Edge] = data["cooperations"]
        flat.add_edge(
            a,
            b,
            weight=len(coops),
            types=";".join(sorted({c.type for c in coops})),
            since=min(c.since for c in coops).isoformat(),
            cross_sector=graph.nodes[a]["node"].sector != graph.nodes[b]["node"].sector,
        )
    return flat


def to_graphml(graph: nx.Graph) -> bytes:
    return "\n".join(nx.generate_graphml(_export_graph(graph))).encode()


def to_gexf(graph: nx.Graph) -> bytes:
    return "\n".join(nx.generate_gexf(_export_graph(graph))).encode()


def to_csv(graph: nx.Graph) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["source", "target", "source_name", "target_name", "types", "since", "cooperations", "cross_sector"]
    )
    flat = _export_graph(graph)
    for a, b, data in sorted(flat.edges(data=True)):
        writer.writerow(
            [
                a,
                b,
                flat.nodes[a]["label"],
                flat.nodes[b]["label"],
                data["types"],
                data["since"],
                data["weight"],
                str(data["cross_sector"]).lower(),
            ]
        )
    return buffer.getvalue().encode()


def to_json(graph: nx.Graph) -> bytes:
    """Node-link JSON (``nodes`` and ``links``) with the scalar attributes."""
    return json.dumps(nx.node_link_data(_export_graph(graph), edges="links"), ensure_ascii=False).encode()
