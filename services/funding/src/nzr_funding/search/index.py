"""The catalogue as an in-memory index for search and matching, built once per catalogue version.

Everything a request would otherwise derive per programme is derived here once:

* **search**: a posting list per stemmed token (with each programme's share of the text score),
  a bitset (a Python ``int``, bit *i* = programme *i*) per facet value, per deadline state and per
  amount / deadline threshold. A search is then a handful of ``&`` and ``bit_count`` over 10,000
  bits per facet value: filters, disjunctive facet counts and the hit set without a loop over
  programmes in Python.
* **matching**: each hard criterion depends on one fact of the programme (its eligible
  applicants, its area, its deadline), so it is judged once per *distinct* fact with the rules of
  ``domain`` and spread to all programmes with numpy; amounts, own share and topics are compared
  as arrays. Only the programmes shown are explained criterion by criterion
  (``matching_rules.match_programme``), so the explanation is the rule itself.

The index is immutable; ``CatalogueCache`` builds a new one when the catalogue version changes.
Results equal those of the one-programme rules (``matching_rules.match_programme``,
``rules.text_score``, ``rules.passes_ranges`` / ``passes_facets``): the tests compare them.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

import numpy as np

from nzr_funding.catalogue import rules as catalogue_rules
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.matching import rules as matching_rules
from nzr_funding.search import rules
from nzr_funding.search.rules import Entry

#: Facet dimensions whose values are facts of the programme (``state`` depends on the day).
STATIC_DIMENSIONS = ("funding_type", "area", "territory", "eligible", "level", "topic")

# Matching scores in twentieths: every weight × credit (3 × 0.4, 0.25 per shared topic, ...) is
# a whole number of them, so scores add up exactly and equal ``domain``'s rounded ones.
_SCALE = 20
_UNITS = {
    (name, status): round(weight * matching_rules._CREDIT[status] * _SCALE)
    for name, weight in matching_rules._WEIGHT.items()
    for status in matching_rules.Status
}
_TOPIC_UNITS = round(0.25 * _SCALE)
assert all(
    abs(u - w * matching_rules._CREDIT[s] * _SCALE) < 1e-9
    for (n, s), u in _UNITS.items()
    for w in [matching_rules._WEIGHT[n]]
)
_MET, _UNKNOWN, _NOT_MET = 0, 1, 2  # hard-criterion codes; the fit is the worst of them
_FITS = (matching_rules.Fit.FITS, matching_rules.Fit.CHECK, matching_rules.Fit.EXCLUDED)
_CODE = {
    matching_rules.Status.MET: _MET,
    matching_rules.Status.UNKNOWN: _UNKNOWN,
    matching_rules.Status.NOT_MET: _NOT_MET,
}
_STATE_RANK = {"open": 0, "upcoming": 1, "unknown": 2, "closed": 3}


def _bits(flags: np.ndarray) -> int:
    """A boolean array as a bitset."""
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _bits_of(positions: Sequence[int] | np.ndarray, size: int) -> int:
    flags = np.zeros(size, dtype=bool)
    flags[np.asarray(positions, dtype=np.int64)] = True
    return _bits(flags)


def _positions(bits: int, size: int) -> np.ndarray:
    """The set bits of a bitset, ascending."""
    if bits.bit_count() <= 32:  # a few hits: cheaper bit by bit than through numpy
        found = []
        while bits:
            lowest = bits & -bits
            found.append(lowest.bit_length() - 1)
            bits ^= lowest
        return np.array(found, dtype=np.int64)
    raw = np.frombuffer(bits.to_bytes((size + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little")[:size])


class _Thresholds:
    """Bitsets of "value >= x" (or "<= x") for any x: one cumulative bitset per distinct value."""

    def __init__(self, by_value: dict[Any, int], *, upwards: bool) -> None:
        self.keys = sorted(by_value)
        self.masks = [0] * len(self.keys)
        running = 0
        for k in range(len(self.keys) - 1, -1, -1) if upwards else range(len(self.keys)):
            running |= by_value[self.keys[k]]
            self.masks[k] = running

    @classmethod
    def of(cls, values: Sequence[Any], *, upwards: bool) -> _Thresholds:
        by_value: dict[Any, int] = {}
        for i, value in enumerate(values):
            if value is not None:
                by_value[value] = by_value.get(value, 0) | (1 << i)
        return cls(by_value, upwards=upwards)

    def at_least(self, x: Any) -> int:
        k = bisect.bisect_left(self.keys, x)
        return self.masks[k] if k < len(self.keys) else 0

    def at_most(self, x: Any) -> int:
        k = bisect.bisect_right(self.keys, x) - 1
        return self.masks[k] if k >= 0 else 0


def _classes(values: Sequence[Hashable]) -> tuple[list[int], np.ndarray]:
    """Distinct values (as the index of their first occurrence) and each position's class."""
    seen: dict[Hashable, int] = {}
    first: list[int] = []
    index = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        k = seen.get(value)
        if k is None:
            k = seen[value] = len(first)
            first.append(i)
        index[i] = k
    return first, index


@dataclass
class _Day:
    """What depends on the day a search or matching refers to."""

    state_masks: dict[str, int]
    next_deadline: _Thresholds
    order_rank: np.ndarray  # without search terms: open first, nearest deadline, name
    programme_json: dict[tuple[int, str], bytes]


class CatalogueIndex:
    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        size = self.size = len(self.entries)
        facts = self.facts = [e.facts for e in self.entries]
        self.positions = {p.id: i for i, p in enumerate(facts)}
        self.everything = (1 << size) - 1
        order = sorted(range(size), key=lambda i: (facts[i].name, facts[i].id))
        self.name_rank = np.empty(size, dtype=np.int64)
        self.name_rank[order] = np.arange(size)
        # ``-name``: names descending, the id still breaking ties ascending.
        by_id = sorted(range(size), key=lambda i: facts[i].id)
        order = sorted(by_id, key=lambda i: facts[i].name, reverse=True)
        self.name_desc_rank = np.empty(size, dtype=np.int64)
        self.name_desc_rank[order] = np.arange(size)

        # Text: posting lists with each programme's share of ``rules.text_score``.
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, entry in enumerate(self.entries):
            name = set(entry.name_tokens)
            length = max(len(entry.doc_tokens), 1)
            for token, count in Counter(entry.doc_tokens).items():
                where, shares = postings.setdefault(token, ([], []))
                where.append(i)
                shares.append((3.0 if token in name else 0.0) + count / (count + 1.0) + 2.0 * count / length)
        self.postings = {
            token: (np.asarray(where, dtype=np.int64), np.asarray(shares))
            for token, (where, shares) in postings.items()
        }
        self._token_bits: dict[str, int] = {}
        #: Misspelt query stems and the stems of this vocabulary they stand for.
        self.corrections: dict[str, str] = {}

        # Facets and filters.
        value_positions: dict[str, dict[str, list[int]]] = {d: {} for d in STATIC_DIMENSIONS}
        for i, p in enumerate(facts):
            for dimension, values in (
                ("funding_type", p.funding_types),
                ("area", p.areas),
                ("territory", p.territories),
                ("eligible", p.eligible),
                ("level", (p.level,)),
                ("topic", p.topics),
            ):
                for value in values:
                    value_positions[dimension].setdefault(value, []).append(i)
        self.value_bits = {
            d: {v: _bits_of(where, size) for v, where in sorted(values.items())}
            for d, values in value_positions.items()
        }
        self.topic_flags = {v: self._flags(w) for v, w in value_positions["topic"].items()}
        self.area_flags = {v: self._flags(w) for v, w in value_positions["area"].items()}
        self.amount_min = np.array(
            [np.nan if p.amount_min is None else p.amount_min for p in facts], dtype=float
        )
        self.amount_max = np.array(
            [np.nan if p.amount_max is None else p.amount_max for p in facts], dtype=float
        )
        self.rate = np.array([np.nan if p.rate is None else p.rate for p in facts], dtype=float)
        self.no_amount_min = _bits(np.isnan(self.amount_min))
        self.no_amount_max = _bits(np.isnan(self.amount_max))
        self.max_at_least = _Thresholds.of([p.amount_max for p in facts], upwards=True)
        self.min_at_most = _Thresholds.of([p.amount_min for p in facts], upwards=False)

        # Matching: one judgement per distinct fact.
        self.eligible_first, self.eligible_class = _classes([p.eligible for p in facts])
        self.legal_forms_first, self.legal_forms_class = _classes([p.legal_forms for p in facts])
        self.region_first, self.region_class = _classes(
            [(p.territories, p.districts, p.districts_exhaustive) for p in facts]
        )
        self.deadline_first, self.deadline_class = _classes([p.deadline for p in facts])
        self.deadline_bits = [_bits(self.deadline_class == k) for k in range(len(self.deadline_first))]
        self._days: dict[date, _Day] = {}
        self._judged: dict[Hashable, tuple[np.ndarray, np.ndarray]] = {}

    def _flags(self, positions: list[int]) -> np.ndarray:
        flags = np.zeros(self.size, dtype=bool)
        flags[positions] = True
        return flags

    # -----------------------------------------------------------------------------------------
    # The day

    def day(self, today: date) -> _Day:
        found = self._days.get(today)
        if found is None:
            if len(self._days) >= 4:
                self._days.pop(next(iter(self._days)))
            found = self._days[today] = self._build_day(today)
        return found

    def _build_day(self, today: date) -> _Day:
        states: dict[str, int] = {}
        rank = np.empty(len(self.deadline_first), dtype=np.int64)
        next_ordinal = np.empty(len(self.deadline_first), dtype=np.int64)
        by_next: dict[date, int] = {}
        for k, first in enumerate(self.deadline_first):
            status = deadline_rules.cached_deadline_status(self.facts[first].deadline, today)
            state = status.state.value
            states[state] = states.get(state, 0) | self.deadline_bits[k]
            rank[k] = _STATE_RANK[state]
            next_ordinal[k] = (status.next_deadline or date.max).toordinal()
            if status.next_deadline is not None:
                by_next[status.next_deadline] = by_next.get(status.next_deadline, 0) | self.deadline_bits[k]
        order = np.lexsort((self.name_rank, next_ordinal[self.deadline_class], rank[self.deadline_class]))
        order_rank = np.empty(self.size, dtype=np.int64)
        order_rank[order] = np.arange(self.size)
        return _Day(dict(sorted(states.items())), _Thresholds(by_next, upwards=False), order_rank, {})

    def programme_json(
        self, position: int, today: date, render: Callable[[Entry, date, str], bytes], language: str
    ) -> bytes:
        """The programme as JSON as of ``today`` in a language, rendered once per day."""
        cache = self.day(today).programme_json
        found = cache.get((position, language))
        if found is None:
            found = cache[position, language] = render(self.entries[position], today, language)
        return found

    # -----------------------------------------------------------------------------------------
    # Search

    def _token(self, token: str) -> int:
        found = self._token_bits.get(token)
        if found is None:
            where = self.postings.get(token)
            found = 0 if where is None else _bits_of(where[0], self.size)
            self._token_bits[token] = found
        return found

    def search(
        self,
        tokens: Sequence[str],
        filters: rules.SearchFilters,
        today: date,
        *,
        stop_words_only: bool,
        limit: int,
        offset: int,
        bonus: Sequence[str] = (),
        sort: str | None = None,
    ) -> tuple[int, list[tuple[float, int]], dict[str, list[tuple[str, int]]]]:
        """(total, [(score, position)] of the page, facet counts per dimension); every token
        must occur, ``bonus`` tokens only add to the score. ``sort`` is a ``ProgrammeSort``
        (default: ``relevance`` with tokens, else ``deadline``)."""
        day = self.day(today)
        scope = 0 if stop_words_only else self.everything
        for token in set(tokens):
            scope &= self._token(token)
        if filters.open_now:
            scope &= day.state_masks.get(deadline_rules.DeadlineState.OPEN.value, 0)
        if filters.deadline_before is not None:
            scope &= day.next_deadline.at_most(filters.deadline_before)
        if filters.district is not None:
            scope &= self.funds_in(filters.district)
        if filters.amount_min is not None:
            scope &= self.no_amount_max | self.max_at_least.at_least(filters.amount_min)
        if filters.amount_max is not None:
            scope &= self.no_amount_min | self.min_at_most.at_most(filters.amount_max)

        def values_of(dimension: str) -> dict[str, int]:
            return day.state_masks if dimension == "state" else self.value_bits[dimension]

        selected: dict[str, int] = {}
        for dimension, wanted in filters.facets.items():
            if wanted:
                bits = values_of(dimension)
                selection = 0
                for value in wanted:
                    selection |= bits.get(value, 0)
                selected[dimension] = selection
        hits = scope
        for selection in selected.values():
            hits &= selection
        # Disjunctive facets: each dimension counted with every other dimension's selection.
        facets: dict[str, list[tuple[str, int]]] = {}
        for dimension in rules.FACET_DIMENSIONS:
            within = scope
            for other, selection in selected.items():
                if other != dimension:
                    within &= selection
            if not within:
                facets[dimension] = []
                continue
            # Values are in key order, and the sort is stable: by count, then value.
            counts = [
                (v, c) for v, bits in values_of(dimension).items() if (c := (within & bits).bit_count())
            ]
            facets[dimension] = sorted(counts, key=itemgetter(1), reverse=True)

        positions = _positions(hits, self.size) if hits else np.empty(0, dtype=np.int64)
        total, end = len(positions), offset + limit
        if not total or offset >= total:
            return total, [], facets
        scores = None
        if tokens:
            raw = np.zeros(self.size)
            for token in rules.scored_tokens(tokens, bonus):  # the order ``rules.text_score`` adds them in
                found = self.postings.get(token)
                if found is not None:
                    raw[found[0]] += found[1]
            scores = raw[positions]
        chosen = sort or ("relevance" if scores is not None else "deadline")
        if chosen == "relevance" and scores is not None:
            order = np.lexsort((self.name_rank[positions], -np.round(scores, 6)))[offset:end]
        else:
            ranks = {"name": self.name_rank, "-name": self.name_desc_rank}.get(chosen, day.order_rank)
            keys = ranks[positions]
            if end < total:
                picked = np.argpartition(keys, end - 1)[:end]
                order = picked[np.argsort(keys[picked])][offset:end]
            else:
                order = np.argsort(keys)[offset:end]
        return (
            total,
            [(round(float(scores[j]), 6) if scores is not None else 0.0, int(positions[j])) for j in order],
            facets,
        )

    def funds_in(self, district: str) -> int:
        """The programmes that fund (or may fund) in a district, as a bitset."""
        profile = matching_rules.Profile(district=district)
        _, codes = self._per_class(
            ("region", district),
            self.region_first,
            self.region_class,
            lambda p: matching_rules.region_criterion(p, profile),
        )
        return _bits(codes != _NOT_MET)

    # -----------------------------------------------------------------------------------------
    # Matching

    def _per_class(
        self,
        key: Hashable,
        first: list[int],
        classes: np.ndarray,
        judge: Callable[[catalogue_rules.ProgrammeFacts], matching_rules.Criterion],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Units and hard code of one criterion for every programme, judged once per class and
        kept for the part of the profile it depends on (``key``: the kind, the district, ...)."""
        found = self._judged.get(key)
        if found is not None:
            return found
        if len(self._judged) >= 256:
            self._judged.clear()
        units = np.empty(len(first), dtype=np.int64)
        codes = np.empty(len(first), dtype=np.int64)
        for k, i in enumerate(first):
            criterion = judge(self.facts[i])
            units[k] = _UNITS[criterion.name, criterion.status]
            codes[k] = _CODE[criterion.status] if criterion.hard else _MET
        found = self._judged[key] = (units[classes], codes[classes])
        return found

    def _status(self, name: str, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lookup = np.array(
            [
                _UNITS[name, s]
                for s in (
                    matching_rules.Status.MET,
                    matching_rules.Status.UNKNOWN,
                    matching_rules.Status.NOT_MET,
                )
            ]
        )
        return lookup[status], status

    def best_matches(
        self, profile: matching_rules.Profile, today: date, *, limit: int, include_excluded: bool = True
    ) -> tuple[list[matching_rules.Match], dict[matching_rules.Fit, int]]:
        """``matching_rules.best_matches`` over the whole catalogue, ranked by arrays."""
        size = self.size
        if not size:
            return [], dict.fromkeys(matching_rules.Fit, 0)
        e_units, e_code = self._per_class(
            ("eligibility", profile.kind),
            self.eligible_first,
            self.eligible_class,
            lambda p: matching_rules.eligibility_criterion(p, profile),
        )
        f_units, f_code = self._per_class(
            ("legal_form", profile.kind, profile.legal_form),
            self.legal_forms_first,
            self.legal_forms_class,
            lambda p: matching_rules.legal_form_criterion(p, profile),
        )
        r_units, r_code = self._per_class(
            ("region", profile.district),
            self.region_first,
            self.region_class,
            lambda p: matching_rules.region_criterion(p, profile),
        )
        d_units, d_code = self._per_class(
            ("deadline", today, profile.preparation_days),
            self.deadline_first,
            self.deadline_class,
            lambda p: matching_rules.deadline_criterion(p, profile, today),
        )
        # Topic (soft): shared topics, else a shared area.
        if profile.topics:
            shared = np.zeros(size, dtype=np.int64)
            area = np.zeros(size, dtype=bool)
            for topic in profile.topics:
                if topic in self.topic_flags:
                    shared += self.topic_flags[topic]
                if topic in self.area_flags:
                    area |= self.area_flags[topic]
            met = (shared > 0) | area
            t_units = np.where(
                met,
                _UNITS["topic", matching_rules.Status.MET],
                _UNITS["topic", matching_rules.Status.NOT_MET],
            )
        else:
            shared = np.zeros(size, dtype=np.int64)
            t_units = np.full(size, _UNITS["topic", matching_rules.Status.UNKNOWN], dtype=np.int64)
        need, own = profile.amount_needed, profile.own_share_available
        if need is None:
            a_units, a_code = self._status("amount", np.full(size, _UNKNOWN))
        else:
            unknown = np.isnan(self.amount_min) & np.isnan(self.amount_max)
            outside = (need < self.amount_min) | (need > self.amount_max)  # NaN compares False
            a_units, a_code = self._status(
                "amount", np.where(unknown, _UNKNOWN, np.where(outside, _NOT_MET, _MET))
            )
        if need is None or own is None:
            o_units, o_code = self._status("own_share", np.full(size, _UNKNOWN))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                required = need / (self.rate / 100) - need
            enough = (self.rate >= 100) | (own + 0.005 >= required)
            o_units, o_code = self._status(
                "own_share", np.where(np.isnan(self.rate), _UNKNOWN, np.where(enough, _MET, _NOT_MET))
            )
        units = e_units + f_units + r_units + t_units + a_units + o_units + d_units + _TOPIC_UNITS * shared
        fit = np.maximum.reduce([e_code, f_code, r_code, a_code, o_code, d_code])
        counts = np.bincount(fit, minlength=3)
        excluded = (fit == _NOT_MET).astype(np.int64)
        # (excluded, -score, fit, name, id) as one integer per programme.
        key = (((excluded << 12) + (4095 - units)) << 2 | fit) << 32 | self.name_rank
        candidates = np.arange(size) if include_excluded else np.flatnonzero(excluded == 0)
        if limit < len(candidates):
            candidates = candidates[np.argpartition(key[candidates], limit - 1)[:limit]]
        top = candidates[np.argsort(key[candidates])]
        matches = [matching_rules.match_programme(self.facts[i], profile, today) for i in top]
        return matches, {fit_: int(counts[k]) for k, fit_ in enumerate(_FITS)}


_FACET_PREFIXES: dict[tuple[str, str, str], bytes] = {}


def _facet_prefix(dimension: str, value: str, label: str) -> bytes:
    """``{"value":…,"label":…,"count":`` of one facet value, encoded once."""
    key = (dimension, value, label)
    found = _FACET_PREFIXES.get(key)
    if found is None:
        value_json, label_json = (json.dumps(x, ensure_ascii=False) for x in (value, label))
        found = _FACET_PREFIXES[key] = f'{{"value":{value_json},"label":{label_json},"count":'.encode()
    return found


def page_json(
    *,
    items: list[tuple[float, bytes]],
    total: int,
    as_of: date,
    facets: dict[str, list[tuple[str, int]]],
    labels: dict[str, dict[str, str]],
) -> bytes:
    """A ``ProgrammePage`` document from pre-rendered programmes and facet values, without its
    last brace: the caller closes it with the page's ``next`` (``with_next``)."""
    facet_doc = b",".join(
        b'"%s":[%s]'
        % (
            dimension.encode(),
            b",".join(
                b"%s%d}" % (_facet_prefix(dimension, v, labels[dimension].get(v, v)), c) for v, c in counts
            ),
        )
        for dimension, counts in facets.items()
    )
    body = b",".join(b'{"score":%s,"programme":%s}' % (repr(score).encode(), doc) for score, doc in items)
    return b'{"items":[%s],"total":%d,"as_of":"%s","facets":{%s}' % (
        body,
        total,
        as_of.isoformat().encode(),
        facet_doc,
    )


def with_next(document: bytes, next_url: str | None) -> bytes:
    """A ``page_json`` document closed with its ``next`` link."""
    return b'%s,"next":%s}' % (document, json.dumps(next_url).encode())
