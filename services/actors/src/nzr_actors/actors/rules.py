"""Rules about actors that need no I/O: validation, duplicate keys, concurrency tokens, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import NamedTuple
from urllib.parse import urlsplit

from nzr_common.text import fold, search_document

# Legal forms and filler words that say nothing about which organisation a name means.
NAME_NOISE = frozenset(
    "ev e v eg gmbh ggmbh ug ag kg ohg gbr mbh co kgaa haftungsbeschraenkt stiftung verein der die "
    "das und fuer von im in am".split()
)
DUPLICATE_NAME_THRESHOLD = 0.88
# Further words that do not tell organisations apart, dropped only for the similarity (the
# stored ``name_key`` keeps them, so its meaning for identities and sorting stays as it was).
SIMILARITY_NOISE = frozenset(
    "gemeinnuetzige gemeinnuetziger gemeinnuetziges eingetragener eingetragene des dem den zum zur "
    "fur mit an auf bei gug kdoer".split()
)


class InvalidField(NamedTuple):
    """A field the rules refuse and why (a ``nzr_common.errors.FieldProblem``)."""

    name: str
    reason: str


def check_actor_profile(
    *, district: str | None, topics: list[str] | None, region_districts: set[str], known_topics: set[str]
) -> list[InvalidField]:
    """The district must belong to the region; every topic must be a configured topic."""
    problems = []
    if district is not None and district not in region_districts:
        problems.append(InvalidField("district", f"{district} is not a district of this region"))
    if topics is not None:
        unknown = sorted(set(topics) - known_topics)
        if unknown:
            problems.append(InvalidField("topics", f"unknown topics: {', '.join(unknown)}"))
        if len(set(topics)) != len(topics):
            problems.append(InvalidField("topics", "topics must not repeat"))
    return problems


def name_key(name: str) -> str:
    """The name without case, accents, punctuation and legal form: 'Bürgerenergie e.V.' → 'buergerenergie'."""
    words = re.findall(r"[a-z0-9]+", fold(name))
    return " ".join(w for w in words if w not in NAME_NOISE) or " ".join(words)


def place_key(municipality: str | None, district: str) -> str:
    """Where duplicates are looked for: the municipality, or the district when none is given."""
    folded = " ".join(re.findall(r"[a-z0-9]+", fold(municipality or "")))
    return folded or f"ags:{district}"


def website_key(website: str | None) -> str | None:
    """The site without scheme, ``www.``, query and trailing slash: equal keys mean the same site."""
    if not website:
        return None
    try:
        parts = urlsplit(website if "//" in website else f"//{website}")
    except ValueError:  # e.g. "http://[": no site to compare (only the duplicate check's query has such)
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/').lower()}" or None


@lru_cache(maxsize=100_000)
def similarity_key(key: str) -> str:
    """A name key without the further noise words, its words sorted (word order does not matter)."""
    words = sorted(w for w in key.split() if w not in SIMILARITY_NOISE)
    return " ".join(words) or key


_NUMBER = re.compile(r"\d+")


@lru_cache(maxsize=100_000)
def _numbers(similarity: str) -> tuple[str, ...]:
    """The numbers of a name as a multiset (sorted, repeats kept): "Akteur 3a1 Nr. 1" and
    "Akteur 3a1 Nr. 3" carry 1, 1, 3 and 1, 3, 3 — different names, though the same set."""
    return tuple(sorted(str(int(n)) for n in _NUMBER.findall(similarity)))


def numbers_differ(a: str, b: str) -> bool:
    """Whether both names carry numbers and not the same ones: "2. Grundschule Döbeln" and
    "3. Grundschule Döbeln" are two schools however alike the rest is."""
    first, second = _numbers(a), _numbers(b)
    return bool(first and second and first != second)


def name_similarity(a: str, b: str, *, floor: float = 0.0) -> float:
    """Similarity of two name keys in [0, 1] (rapidfuzz's normalised Indel ratio of the sorted
    words; 0 when their numbers differ); below ``floor`` the answer is 0 (rapidfuzz stops early)."""
    if not a or not b:
        return 0.0
    first, second = similarity_key(a), similarity_key(b)
    if numbers_differ(first, second):
        return 0.0
    from rapidfuzz import fuzz  # with the first duplicate check: an idle service does without

    return fuzz.ratio(first, second, score_cutoff=floor * 100) / 100


def similar_names(
    key: str, keys: Mapping[Hashable, str], *, threshold: float = DUPLICATE_NAME_THRESHOLD, limit: int = 20
) -> list[tuple[float, Hashable]]:
    """The ids in ``keys`` (id → name key) whose name is at least ``threshold`` similar, best first."""
    wanted = similarity_key(key)
    choices = {ident: similarity_key(k) for ident, k in keys.items()}
    from rapidfuzz import fuzz, process

    hits = process.extract(wanted, choices, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=None)
    found = [
        (round(score / 100, 3), ident) for other, score, ident in hits if not numbers_differ(wanted, other)
    ]
    return found[:limit]


def _blocks(similarity: str) -> set[str]:
    """Block keys of a similarity key: the first and the last four letters of each word, so a
    spelling variant shares a block with the original unless every word differs at both ends."""
    blocks = set()
    for word in similarity.split():
        blocks.add(f"<{word[:4]}")
        if len(word) > 4:
            blocks.add(f">{word[-4:]}")
    return blocks or {f"<{similarity[:4]}"}


def block_patterns(key: str) -> list[str]:
    """SQL ``LIKE`` patterns on ``name_key`` that hold for every name sharing a block with
    ``key`` (a word starting or ending with the same four letters), so the database hands over
    only those names (name keys hold only ``[a-z0-9 ]``: nothing to escape)."""
    patterns = []
    for word in similarity_key(key).split():
        patterns += [f"{word[:4]}%", f"% {word[:4]}%"]
        if len(word) > 4:
            patterns += [f"%{word[-4:]}", f"%{word[-4:]} %"]
    return patterns


class NameIndex:
    """Name keys of one district for many similarity lookups (the CSV import): a lookup compares
    only with the names that share a block (see ``_blocks``), not with every name."""

    #: A block this large (a word many names share, like a town or "grundschule") alone does not
    #: make a name a candidate.
    LARGE_BLOCK = 200

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._ids: list[Hashable] = []
        self._blocks: dict[str, list[int]] = {}
        # Names with numbers by their numbers, and names without: a name with numbers can only
        # be like one with the same numbers or none (``numbers_differ``).
        self._numbered: dict[tuple[str, ...], list[int]] = {}
        self._plain: list[int] = []

    def add(self, ident: Hashable, key: str) -> None:
        """Add a name (its key) under ``ident``."""
        position = len(self._keys)
        similarity = similarity_key(key)
        self._keys.append(similarity)
        self._ids.append(ident)
        for block in _blocks(similarity):
            self._blocks.setdefault(block, []).append(position)
        numbers = _numbers(similarity)
        if numbers:
            self._numbered.setdefault(numbers, []).append(position)
        else:
            self._plain.append(position)

    def similar(
        self, key: str, *, threshold: float = DUPLICATE_NAME_THRESHOLD, limit: int = 20
    ) -> list[tuple[float, Hashable]]:
        """The ids whose name is at least ``threshold`` similar to ``key``, best first."""
        wanted = similarity_key(key)
        numbers = _numbers(wanted)
        allowed = self._numbered.get(numbers, []) + self._plain if numbers else None
        if allowed is not None and len(allowed) <= self.LARGE_BLOCK:
            return self._best(wanted, set(allowed), threshold, limit)
        blocks = [self._blocks.get(b, []) for b in _blocks(wanted)]
        candidates: set[int] = set()
        large = []
        for members in blocks:
            if len(members) > self.LARGE_BLOCK:
                large.append(members)
            else:
                candidates.update(members)
        if large:
            # Names met only through common words (a place, "grundschule") must share three
            # blocks (e.g. the place's two and one of another word), else all of them would be.
            shared = Counter(chain.from_iterable(large))
            for members in blocks:
                if len(members) <= self.LARGE_BLOCK:
                    shared.update(members)
            candidates.update(position for position, count in shared.items() if count >= 3)
        return self._best(wanted, candidates, threshold, limit)

    def _best(
        self, wanted: str, candidates: set[int], threshold: float, limit: int
    ) -> list[tuple[float, Hashable]]:
        choices = {position: self._keys[position] for position in candidates}
        from rapidfuzz import fuzz, process

        hits = process.extract(wanted, choices, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=None)
        return [
            (round(score / 100, 3), self._ids[position])
            for other, score, position in hits
            if not numbers_differ(wanted, other)
        ][:limit]


def actor_search_document(
    *, name: str, description: str | None, topics: list[str], municipality: str | None
) -> str:
    """Stemmed tokens of what full-text search looks at: name, description, topics, place."""
    topic_words = [t.replace("_", " ") for t in topics]
    return search_document(name, description, municipality, *topic_words)


def parse_if_match(header: str | None) -> set[int] | None:
    """Versions named by an ``If-Match`` header; None for ``*``, empty set for nothing usable."""
    if header is None:
        return set()
    if header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isdigit():
            versions.add(int(value))
    return versions


def etag(version: int) -> str:
    """The ETag of an actor version (a strong tag: the version in quotes)."""
    return f'"{version}"'


# --- cursor pagination -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where the next page of a search starts: after the row with these sort values and id."""

    sort: str
    scope: str
    values: list[object]
    last_id: str


def search_scope(**criteria: object) -> str:
    """A short fingerprint of a search's query and filters; a cursor is valid only for its search."""
    canonical = json.dumps(
        {k: sorted(v) if isinstance(v, list) else v for k, v in criteria.items()}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor) -> str:
    """An opaque, URL-safe token (clients must not parse it)."""
    raw = json.dumps([cursor.sort, cursor.scope, cursor.values, cursor.last_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The cursor behind a token; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort, scope, values, last_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
        raise ValueError("not a cursor of this list (follow `next` of the previous page)") from error
    if not (isinstance(sort, str) and isinstance(scope, str) and isinstance(values, list)):
        raise ValueError("not a cursor of this list (follow `next` of the previous page)")
    if not isinstance(last_id, str) or not all(isinstance(v, str | int | float) for v in values):
        raise ValueError("not a cursor of this list (follow `next` of the previous page)")
    return Cursor(sort=sort, scope=scope, values=values, last_id=last_id)


def subdistrict_problem(
    subdistricts: dict[str, list[str]], *, municipality: str | None, subdistrict: str | None
) -> InvalidField | None:
    """Why a Stadtteil/Ortsteil is refused: it must be one the region lists for the municipality."""
    if subdistrict is None:
        return None
    listed = {fold(name): names for name, names in subdistricts.items()}.get(fold(municipality or ""))
    if listed is None:
        return InvalidField("subdistrict", f"no Stadtteile/Ortsteile are configured for {municipality!r}")
    if subdistrict not in listed:
        return InvalidField("subdistrict", f"unknown Stadtteil/Ortsteil of {municipality}: {subdistrict}")
    return None


class PreconditionRequired(Exception):
    """A change was sent without ``If-Match`` where one is required (the routes answer 428)."""


class PreconditionFailed(Exception):
    """The actor is not (or no longer) the version the caller read (the routes answer 412);
    ``version`` is the current one when known (for the answer's ETag)."""

    def __init__(self, detail: str, *, version: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.version = version
