"""Rules about actors that need no I/O: validation, duplicate keys, concurrency tokens, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import NamedTuple
from urllib.parse import urlsplit

from nzr_common.text import fold, search_document

# Legal forms and filler words that say nothing about which organisation a name means.
NAME_NOISE = frozenset(
    "ev e v eg gmbh ggmbh ug ag kg ohg gbr mbh co kgaa haftungsbeschraenkt stiftung verein der die "
    "das und fuer von im in am".split()
)
DUPLICATE_NAME_THRESHOLD = 0.85


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


def name_similarity(a: str, b: str, *, floor: float = 0.0) -> float:
    """Similarity of two name keys in [0, 1]; word order does not matter.

    Below ``floor`` the answer is 0: difflib's cheap upper bounds rule most pairs out before
    the quadratic comparison runs.
    """
    if not a or not b:
        return 0.0
    if a == b or sorted(a.split()) == sorted(b.split()):
        return 1.0
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


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
        raise ValueError("not a cursor of this API (use next_cursor of the previous page)") from error
    if not (isinstance(sort, str) and isinstance(scope, str) and isinstance(values, list)):
        raise ValueError("not a cursor of this API (use next_cursor of the previous page)")
    if not isinstance(last_id, str) or not all(isinstance(v, str | int | float) for v in values):
        raise ValueError("not a cursor of this API (use next_cursor of the previous page)")
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
