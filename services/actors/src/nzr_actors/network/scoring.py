"""Suggestions of actors that have never cooperated, scored with numpy (pure: no I/O).

Suggestion score of a pair that has never cooperated (each part in [0, 1]):

    score = 0.40 · topics      Jaccard overlap of the two actors' topics
          + 0.15 · sector      1 when the sectors differ (complementary), else 0
          + 0.25 · resources   share of the two directions (A→B, B→A) in which one offers a
                               resource kind the other needs
          + 0.20 · link        Adamic-Adar index over the current graph, squashed as aa / (1 + aa)

A pair is a *surprising match* when the sectors differ and the actors share at least one topic.
Only pairs with a shared topic, a resource match or a common partner are suggested; pairs that
cooperate now or did before are not. Ranking: score (rounded to 6 places) descending, then the
actors' ids.

How: ``build_index`` turns the network into arrays once per network version (topic and
resource sets as bit sets, sector codes, and the Adamic-Adar values and the excluded pairs
as sorted pair codes — only pairs with a common partner have a value, so this stays sparse).
One actor's row is a handful of vector operations over n actors; the whole region is scored in
blocks, keeping the best so far, and only where a pair's score can still reach them (see
``for_region``), so work and memory stay far below n². The few winners are then
described by ``score_pair`` (the reference formula in plain Python), which also gives their
rounded score and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from nzr_actors.network.analysis import Edge, Node, active_pairs

WEIGHTS = {"topics": 0.40, "sector": 0.15, "resources": 0.25, "link": 0.20}
#: Elements of one block of the region-wide scoring (rows × columns): bounds the memory.
BLOCK_ELEMENTS = 1_000_000

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]


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


@dataclass(frozen=True)
class SuggestionIndex:
    """The arrays one network's suggestions are scored from (actors in id order)."""

    nodes: tuple[Node, ...]
    position: dict[str, int]
    #: Topic, offered and needed resource sets as bit sets (n × words of 64 bits).
    topics: Words
    topic_counts: Floats
    sectors: Ints
    offers: Words
    needs: Words
    #: Pairs (both orders, sorted by code ``i·n + j``) with their Adamic-Adar value.
    link_codes: Ints
    link_values: Floats
    #: Pairs (both orders, sorted by code) that cooperate now or cooperated before.
    excluded_codes: Ints


def _bits(values: list[tuple[str, ...] | frozenset[str]], vocabulary: list[str]) -> Words:
    """Each row's members as a bit set over ``vocabulary`` (n × ⌈|vocabulary|/64⌉ words)."""
    column = {v: i for i, v in enumerate(vocabulary)}
    words = np.zeros((len(values), max(1, -(-len(vocabulary) // 64))), dtype=np.uint64)
    for i, row in enumerate(values):
        for v in row:
            words[i, column[v] // 64] |= np.uint64(1 << (column[v] % 64))
    return words


def _common(a: Words, b: Words) -> npt.NDArray[np.uint8]:
    """Members rows of ``a`` and rows of ``b`` have in common (all pairs)."""
    common = np.bitwise_count(a[:, None, 0] & b[None, :, 0])
    for w in range(1, a.shape[1]):
        common += np.bitwise_count(a[:, None, w] & b[None, :, w])
    return common


def _symmetric_codes(i: Ints, j: Ints, n: int) -> tuple[Ints, Ints]:
    """Codes of (i, j) and (j, i), sorted, with the order that sorts them."""
    codes = np.concatenate([i * n + j, j * n + i])
    order = np.argsort(codes, kind="stable")
    return codes[order], order


def _adamic_adar(pairs: list[tuple[int, int]], n: int) -> tuple[Ints, Floats]:
    """Adamic-Adar of every pair with a common partner: Σ 1/log(degree) over common partners."""
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ends = np.array(pairs, dtype=np.int64)
    heads = np.concatenate([ends[:, 0], ends[:, 1]])
    tails = np.concatenate([ends[:, 1], ends[:, 0]])
    order = np.argsort(heads, kind="stable")
    heads, tails = heads[order], tails[order]
    degree = np.bincount(heads, minlength=n)
    starts = np.concatenate([[0], np.cumsum(degree)[:-1]])
    codes, weights = [], []
    for d in np.unique(degree[degree >= 2]):
        hubs = np.flatnonzero(degree == d)
        neighbours = tails[starts[hubs][:, None] + np.arange(d)]
        first, second = np.triu_indices(int(d), 1)
        a, b = neighbours[:, first].ravel(), neighbours[:, second].ravel()
        codes.append(np.minimum(a, b) * n + np.maximum(a, b))
        weights.append(np.full(a.size, 1.0 / np.log(d)))
    if not codes:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    unique, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate(weights))
    symmetric, order = _symmetric_codes(unique // n, unique % n, n)
    return symmetric, np.concatenate([values, values])[order]


def build_index(nodes: list[Node], edges: list[Edge], *, on: date) -> SuggestionIndex:
    """The arrays of the network of ``nodes`` with the cooperations active on ``on``."""
    ordered = tuple(sorted(nodes, key=lambda node: node.id))
    position = {node.id: i for i, node in enumerate(ordered)}
    n = len(ordered)
    members = set(position)
    current = sorted((position[a], position[b]) for a, b in active_pairs(edges, on=on, members=members))
    ever = sorted((position[a], position[b]) for a, b in active_pairs(edges, on=None, members=members))
    link_codes, link_values = _adamic_adar(current, n)
    past = np.array(ever, dtype=np.int64).reshape(-1, 2)
    excluded, _ = _symmetric_codes(past[:, 0], past[:, 1], n)
    sector_codes = {s: i for i, s in enumerate(sorted({node.sector for node in ordered}))}
    topics = _bits([node.topics for node in ordered], sorted({t for node in ordered for t in node.topics}))
    kinds = sorted({k for node in ordered for k in node.offers | node.needs})
    return SuggestionIndex(
        nodes=ordered,
        position=position,
        topics=topics,
        topic_counts=np.bitwise_count(topics).sum(axis=1, dtype=np.float64),
        sectors=np.array([sector_codes[node.sector] for node in ordered], dtype=np.int64),
        offers=_bits([node.offers for node in ordered], kinds),
        needs=_bits([node.needs for node in ordered], kinds),
        link_codes=link_codes,
        link_values=link_values,
        excluded_codes=excluded,
    )


def _lookup(codes: Ints, values: Floats | None, wanted: Ints) -> Floats:
    """Values of the pair codes ``wanted`` in a sparse pair-code array (absent: 0; no values: 1)."""
    found = np.zeros(wanted.shape)
    if codes.size == 0:
        return found
    at = np.minimum(np.searchsorted(codes, wanted), codes.size - 1)
    hit = codes[at] == wanted
    found[hit] = 1.0 if values is None else values[at[hit]]
    return found


def _scatter(codes: Ints, values: Floats | None, rows: Ints, columns: Ints, n: int) -> Floats:
    """The dense block rows × columns of a sparse pair-code array (absent: 0; no values: 1);
    one pass over the sparse pairs, not a search per block element."""
    block = np.zeros((rows.size, columns.size))
    if codes.size == 0:
        return block
    row_at = np.full(n, -1, dtype=np.int64)
    row_at[rows] = np.arange(rows.size)
    column_at = np.full(n, -1, dtype=np.int64)
    column_at[columns] = np.arange(columns.size)
    low, high = np.searchsorted(codes, [int(rows.min()) * n, (int(rows.max()) + 1) * n])
    inside = codes[low:high]
    i, j = row_at[inside // n], column_at[inside % n]
    keep = (i >= 0) & (j >= 0)
    block[i[keep], j[keep]] = 1.0 if values is None else values[low:high][keep]
    return block


def _scores(
    index: SuggestionIndex, rows: Ints, columns: Ints, *, surprising_only: bool
) -> tuple[Floats, Bools]:
    """Scores of the pairs rows × columns and which of them are candidates (the documented formula)."""
    n = len(index.nodes)
    shared = _common(index.topics[rows], index.topics[columns]).astype(np.float64)
    union = index.topic_counts[rows, None] + index.topic_counts[None, columns] - shared
    topics = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    differ = index.sectors[rows, None] != index.sectors[None, columns]
    directions = (_common(index.offers[rows], index.needs[columns]) > 0).astype(np.float64) + (
        _common(index.needs[rows], index.offers[columns]) > 0
    )
    link = _scatter(index.link_codes, index.link_values, rows, columns, n)
    score = 0.4 * topics + 0.15 * differ + 0.25 * (directions / 2) + 0.2 * (link / (1.0 + link))
    candidate = (shared > 0) | (directions > 0) | (link > 0)
    if surprising_only:
        candidate &= (shared > 0) & differ
    candidate &= rows[:, None] != columns[None, :]
    candidate &= _scatter(index.excluded_codes, None, rows, columns, n) == 0
    return score, candidate


def _best(keys: Floats, limit: int) -> Ints:
    """Flat positions of the ``limit`` best keys (ties: lowest position first), unordered."""
    flat = keys.ravel()
    valid = np.flatnonzero(flat >= 0)
    if valid.size <= limit:
        return valid
    threshold = np.partition(flat[valid], valid.size - limit)[valid.size - limit]
    above = valid[flat[valid] > threshold]
    ties = valid[flat[valid] == threshold][: limit - above.size]
    return np.concatenate([above, ties])


def _describe(index: SuggestionIndex, pairs: list[tuple[int, int]]) -> list[Suggestion]:
    n = len(index.nodes)
    codes = np.array([i * n + j for i, j in pairs], dtype=np.int64)
    links = _lookup(index.link_codes, index.link_values, codes)
    return [
        score_pair(index.nodes[i], index.nodes[j], float(aa)) for (i, j), aa in zip(pairs, links, strict=True)
    ]


def for_actor(
    index: SuggestionIndex, actor_id: str, *, limit: int, surprising_only: bool = False
) -> list[Suggestion]:
    """The best partners of one actor (a KeyError when the actor is not in the index)."""
    i = index.position[actor_id]
    score, candidate = _scores(
        index, np.array([i]), np.arange(len(index.nodes)), surprising_only=surprising_only
    )
    keys = np.where(candidate, np.round(score, 6), -1.0)[0]
    chosen = _best(keys, limit)
    chosen = chosen[np.lexsort((chosen, -keys[chosen]))]
    return _describe(index, [(i, int(j)) for j in chosen])


def _pair_scores(
    index: SuggestionIndex, first: Ints, second: Ints, *, surprising_only: bool
) -> tuple[Floats, Bools]:
    """Keys (rounded scores; −1: no candidate) of the listed pairs (the documented formula)."""
    shared = np.bitwise_count(index.topics[first] & index.topics[second]).sum(axis=1, dtype=np.float64)
    union = index.topic_counts[first] + index.topic_counts[second] - shared
    topics = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    differ = index.sectors[first] != index.sectors[second]
    gives = (index.offers[first] & index.needs[second]).any(axis=1)
    takes = (index.needs[first] & index.offers[second]).any(axis=1)
    directions = gives.astype(np.float64) + takes
    n = len(index.nodes)
    codes = first * n + second
    link = _lookup(index.link_codes, index.link_values, codes)
    score = 0.4 * topics + 0.15 * differ + 0.25 * (directions / 2) + 0.2 * (link / (1.0 + link))
    candidate = (shared > 0) | (directions > 0) | (link > 0)
    if surprising_only:
        candidate &= (shared > 0) & differ
    candidate &= (first != second) & (_lookup(index.excluded_codes, None, codes) == 0)
    return np.where(candidate, np.round(score, 6), -1.0), link > 0


class _Best:
    """The best pairs seen so far (key, first < second), kept to ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.keys = np.zeros(0)
        self.first = np.zeros(0, dtype=np.int64)
        self.second = np.zeros(0, dtype=np.int64)

    def add(self, keys: Floats, a: Ints, b: Ints) -> None:
        """Offer pairs (each unordered pair at most once over all calls)."""
        chosen = np.flatnonzero(keys >= 0)
        if chosen.size > self.limit:  # keep every tie of the limit-th key: ids decide among them
            threshold = np.partition(keys[chosen], chosen.size - self.limit)[chosen.size - self.limit]
            chosen = chosen[keys[chosen] >= threshold]
        self.keys = np.concatenate([self.keys, keys[chosen]])
        self.first = np.concatenate([self.first, np.minimum(a[chosen], b[chosen])])
        self.second = np.concatenate([self.second, np.maximum(a[chosen], b[chosen])])
        order = np.lexsort((self.second, self.first, -self.keys))[: self.limit]
        self.keys, self.first, self.second = self.keys[order], self.first[order], self.second[order]

    def threshold(self) -> float:
        """The key a pair must reach to enter (−1 while fewer than ``limit`` are known)."""
        return float(self.keys[-1]) if self.keys.size >= self.limit else -1.0


#: Above this many groups (topic set × sector) the region is scored in plain blocks instead.
MAX_GROUPS = 2000


def for_region(index: SuggestionIndex, *, limit: int, surprising_only: bool = False) -> list[Suggestion]:
    """The best pairs of the whole network, each pair once (first actor: the lower id).

    Exact, and far below n² work: first the pairs with a common partner (the sparse link
    part) are scored; then actors are grouped by topic set and sector, and pairs of groups are
    scored in the order of the best score a pair of them could reach without a common partner —
    0.4·Jaccard(topic sets) + 0.15·(sectors differ) + 0.25 — until that bound is below the
    ``limit``-th best key found so far.
    """
    n = len(index.nodes)
    if n < 2:
        return []
    best = _Best(limit)
    if index.link_codes.size:
        first, second = index.link_codes // n, index.link_codes % n
        keep = first < second
        first, second = first[keep], second[keep]
        keys, _ = _pair_scores(index, first, second, surprising_only=surprising_only)
        best.add(keys, first, second)
    profiles = np.concatenate([index.topics, index.sectors.astype(np.uint64)[:, None]], axis=1)
    patterns, group_of = np.unique(profiles, axis=0, return_inverse=True)
    if len(patterns) > MAX_GROUPS:
        _blocks(best, index, surprising_only=surprising_only)
    else:
        _grouped(best, index, patterns, group_of.ravel(), surprising_only=surprising_only)
    return _describe(index, [(int(a), int(b)) for a, b in zip(best.first, best.second, strict=True)])


def _grouped(
    best: _Best, index: SuggestionIndex, patterns: Words, group_of: Ints, *, surprising_only: bool
) -> None:
    """Score the pairs without a common partner, group pair by group pair, best bound first."""
    order = np.argsort(group_of, kind="stable")
    starts = np.searchsorted(group_of[order], np.arange(len(patterns) + 1))
    topics, sectors = patterns[:, :-1], patterns[:, -1]
    shared = _common(topics, topics).astype(np.float64)
    sizes = np.bitwise_count(topics).sum(axis=1, dtype=np.float64)
    union = sizes[:, None] + sizes[None, :] - shared
    jaccard = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    differ = sectors[:, None] != sectors[None, :]
    bound = 0.4 * jaccard + 0.15 * differ + 0.25
    if surprising_only:
        bound = np.where((shared > 0) & differ, bound, -1.0)
    g, h = np.triu_indices(len(patterns))
    ranked = np.argsort(-bound[g, h], kind="stable")
    g, h, bounds = g[ranked], h[ranked], bound[g, h][ranked]
    sizes_of = np.diff(starts)
    counts = sizes_of[g] * sizes_of[h]
    ends = np.cumsum(counts)
    at = 0
    while at < g.size and bounds[at] > 0 and bounds[at] + 1e-6 >= best.threshold():
        # the next group pairs, up to about BLOCK_ELEMENTS pairs of actors, whose bound reaches
        reach = int(np.searchsorted(-bounds, -(best.threshold() - 1e-6), side="right"))
        done = ends[at - 1] if at else 0
        stop = min(reach, max(at + 1, int(np.searchsorted(ends, done + BLOCK_ELEMENTS, side="right"))))
        chunk = slice(at, stop)
        a, b = _pairs_of_groups(order, starts, g[chunk], h[chunk], counts[chunk])
        keys, linked = _pair_scores(index, a, b, surprising_only=surprising_only)
        keys[linked] = -1.0  # scored with the link part already
        best.add(keys, a, b)
        at = stop


def _pairs_of_groups(order: Ints, starts: Ints, g: Ints, h: Ints, counts: Ints) -> tuple[Ints, Ints]:
    """Every pair of actors of each group pair (g, h) (within one group: each pair once)."""
    total = int(counts.sum())
    which = np.repeat(np.arange(g.size), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    width = (starts[h + 1] - starts[h])[which]
    a = order[starts[g][which] + k // width]
    b = order[starts[h][which] + k % width]
    keep = (g[which] != h[which]) | (a < b)
    return a[keep], b[keep]


def _blocks(best: _Best, index: SuggestionIndex, *, surprising_only: bool) -> None:
    """Score every pair without a common partner in blocks of rows (many distinct profiles)."""
    n = len(index.nodes)
    height = max(1, BLOCK_ELEMENTS // n)
    for start in range(0, n - 1, height):
        rows = np.arange(start, min(n, start + height))
        columns = np.arange(start, n)
        score, candidate = _scores(index, rows, columns, surprising_only=surprising_only)
        candidate &= rows[:, None] < columns[None, :]
        linked = _scatter(index.link_codes, None, rows, columns, n) > 0
        keys = np.where(candidate & ~linked, np.round(score, 6), -1.0).ravel()
        best.add(keys, np.repeat(rows, columns.size), np.tile(columns, rows.size))
