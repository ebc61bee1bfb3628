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
resource membership matrices, sector codes, and the Adamic-Adar values and the excluded pairs
as sorted pair codes — only pairs with a common partner have a value, so this stays sparse).
One actor's row is a handful of vector operations over n actors; the whole region is scored in
blocks of rows, keeping each block's best, so memory stays bounded. The few winners are then
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
    topics: npt.NDArray[np.float32]
    topic_counts: Floats
    sectors: Ints
    offers: npt.NDArray[np.float32]
    needs: npt.NDArray[np.float32]
    #: Pair codes ``i·n + j`` (both orders, sorted) with their Adamic-Adar value.
    link_codes: Ints
    link_values: Floats
    #: Pair codes (both orders, sorted) of pairs that cooperate now or cooperated before.
    excluded_codes: Ints


def _membership(
    values: list[tuple[str, ...] | frozenset[str]], vocabulary: list[str]
) -> npt.NDArray[np.float32]:
    column = {v: i for i, v in enumerate(vocabulary)}
    matrix = np.zeros((len(values), max(1, len(vocabulary))), dtype=np.float32)
    for i, row in enumerate(values):
        for v in row:
            matrix[i, column[v]] = 1.0
    return matrix


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
    topics = _membership(
        [node.topics for node in ordered], sorted({t for node in ordered for t in node.topics})
    )
    kinds = sorted({k for node in ordered for k in node.offers | node.needs})
    return SuggestionIndex(
        nodes=ordered,
        position=position,
        topics=topics,
        topic_counts=topics.sum(axis=1, dtype=np.float64),
        sectors=np.array([sector_codes[node.sector] for node in ordered], dtype=np.int64),
        offers=_membership([node.offers for node in ordered], kinds),
        needs=_membership([node.needs for node in ordered], kinds),
        link_codes=link_codes,
        link_values=link_values,
        excluded_codes=excluded,
    )


def _lookup(codes: Ints, values: Floats | None, rows: slice, columns: slice, n: int) -> Floats:
    """The dense block rows × columns of a sparse pair-code array (1.0 where no values)."""
    row_start, row_stop = rows.start, rows.stop
    col_start, col_stop = columns.start, columns.stop
    block = np.zeros((row_stop - row_start, col_stop - col_start))
    low, high = np.searchsorted(codes, [row_start * n, row_stop * n])
    inside = codes[low:high]
    i, j = inside // n - row_start, inside % n
    keep = (j >= col_start) & (j < col_stop)
    block[i[keep], j[keep] - col_start] = 1.0 if values is None else values[low:high][keep]
    return block


def _scores(index: SuggestionIndex, rows: slice, columns: slice) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Scores of the block and which of its pairs are candidates (the documented formula)."""
    n = len(index.nodes)
    shared = (index.topics[rows] @ index.topics[columns].T).astype(np.float64)
    union = index.topic_counts[rows, None] + index.topic_counts[None, columns] - shared
    topics = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    sector = (index.sectors[rows, None] != index.sectors[None, columns]).astype(np.float64)
    offers, needs = index.offers, index.needs  # columns: the same resource kinds
    directions = (offers[rows] @ needs[columns].T > 0).astype(np.float64) + (
        needs[rows] @ offers[columns].T > 0
    )
    link = _lookup(index.link_codes, index.link_values, rows, columns, n)
    score = 0.4 * topics + 0.15 * sector + 0.25 * (directions / 2) + 0.2 * (link / (1.0 + link))
    candidate = (shared > 0) | (directions > 0) | (link > 0)
    candidate &= _lookup(index.excluded_codes, None, rows, columns, n) == 0
    return score, candidate


def _surprising(index: SuggestionIndex, rows: slice, columns: slice) -> npt.NDArray[np.bool_]:
    shared = index.topics[rows] @ index.topics[columns].T
    return (shared > 0) & (index.sectors[rows, None] != index.sectors[None, columns])


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
    result = []
    for i, j in pairs:
        code = i * n + j
        at = int(np.searchsorted(index.link_codes, code))
        found = at < index.link_codes.size and index.link_codes[at] == code
        aa = float(index.link_values[at]) if found else 0.0
        result.append(score_pair(index.nodes[i], index.nodes[j], aa))
    return result


def for_actor(
    index: SuggestionIndex, actor_id: str, *, limit: int, surprising_only: bool = False
) -> list[Suggestion]:
    """The best partners of one actor (a KeyError when the actor is not in the index)."""
    i = index.position[actor_id]
    n = len(index.nodes)
    rows, columns = slice(i, i + 1), slice(0, n)
    score, candidate = _scores(index, rows, columns)
    candidate[0, i] = False
    if surprising_only:
        candidate &= _surprising(index, rows, columns)
    keys = np.where(candidate, np.round(score, 6), -1.0)[0]
    chosen = _best(keys, limit)
    chosen = chosen[np.lexsort((chosen, -keys[chosen]))]
    return _describe(index, [(i, int(j)) for j in chosen])


def for_region(index: SuggestionIndex, *, limit: int, surprising_only: bool = False) -> list[Suggestion]:
    """The best pairs of the whole network, each pair once (first actor: the lower id)."""
    n = len(index.nodes)
    height = max(1, BLOCK_ELEMENTS // max(1, n))
    keys_found: list[Floats] = []
    firsts: list[Ints] = []
    seconds: list[Ints] = []
    for start in range(0, n, height):
        stop = min(n, start + height)
        rows, columns = slice(start, stop), slice(start, n)
        score, candidate = _scores(index, rows, columns)
        candidate &= np.arange(start, n)[None, :] > np.arange(start, stop)[:, None]
        if surprising_only:
            candidate &= _surprising(index, rows, columns)
        keys = np.where(candidate, np.round(score, 6), -1.0)
        chosen = _best(keys, limit)
        keys_found.append(keys.ravel()[chosen])
        firsts.append(chosen // keys.shape[1] + start)
        seconds.append(chosen % keys.shape[1] + start)
    if not keys_found:
        return []
    keys, first, second = np.concatenate(keys_found), np.concatenate(firsts), np.concatenate(seconds)
    order = np.lexsort((second, first, -keys))[:limit]
    return _describe(index, [(int(first[k]), int(second[k])) for k in order])
