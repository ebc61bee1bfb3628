"""Rules about actors that need no I/O: validation, duplicate keys, concurrency tokens, CSV rows."""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from nzr_common.contracts.actors import person_id_for  # noqa: F401  (the contract's pseudonym)
from nzr_common.text import fold, search_document

# Legal forms and filler words that say nothing about which organisation a name means.
NAME_NOISE = frozenset(
    "ev e v eg gmbh ggmbh ug ag kg ohg gbr mbh co kgaa haftungsbeschraenkt stiftung verein der die "
    "das und fuer von im in am".split()
)
DUPLICATE_NAME_THRESHOLD = 0.85


@dataclass(frozen=True)
class InvalidField:
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
    parts = urlsplit(website if "//" in website else f"//{website}")
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


def cooperation_pair(actor_a: str, actor_b: str) -> tuple[str, str]:
    """The pair in storage order (a < b), so each pair has one spelling."""
    return (actor_a, actor_b) if actor_a < actor_b else (actor_b, actor_a)


def agreement_pairs(party_ids: list[str]) -> list[tuple[str, str]]:
    """Every pair of distinct parties of an agreement, in storage order."""
    parties = sorted(set(party_ids))
    return [(a, b) for i, a in enumerate(parties) for b in parties[i + 1 :]]


# --- CSV import ------------------------------------------------------------------------------

CSV_REQUIRED = ("name", "kind", "sector", "district")
CSV_OPTIONAL = (
    "external_id",
    "municipality",
    "topics",
    "website",
    "description",
    "public_profile",
    "resources_offered",
    "resources_needed",
)
LIST_SEPARATOR = re.compile(r"[|;,]\s*")
TRUE_WORDS = {"1", "true", "ja", "yes", "x", "wahr"}
FALSE_WORDS = {"", "0", "false", "nein", "no", "falsch"}


class CsvRejected(Exception):
    """The file as a whole cannot be imported (encoding, columns)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def read_actor_csv(raw: bytes) -> list[CsvRow]:
    """Decode (UTF-8, with or without BOM), detect ``;`` or ``,`` and check the columns."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvRejected("file", f"the file is not UTF-8 (byte {error.start}): save it as UTF-8") from error
    if not text.strip():
        raise CsvRejected("file", "the file is empty")
    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in CSV_REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        reasons = []
        if missing:
            reasons.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            reasons.append(f"unknown columns: {', '.join(unknown)}")
        if len(set(header)) != len(header):
            reasons.append("repeated columns")
        allowed = ", ".join(CSV_REQUIRED + CSV_OPTIONAL)
        raise CsvRejected("columns", f"{'; '.join(reasons)} (allowed: {allowed})")
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        line = reader.line_num
        if len(record) != len(header):
            rows.append(CsvRow(line, {"__error__": f"{len(record)} cells, the header has {len(header)}"}))
            continue
        rows.append(CsvRow(line, {h: cell.strip() for h, cell in zip(header, record, strict=True)}))
    return rows


def csv_row_to_actor(values: dict[str, str]) -> dict[str, object]:
    """The JSON body of an actor from one CSV row (validated afterwards like any request)."""
    body: dict[str, object] = {c: values[c] for c in CSV_REQUIRED}
    for column in ("external_id", "municipality", "website", "description"):
        if values.get(column):
            body[column] = values[column]
    if values.get("topics"):
        body["topics"] = [t for t in LIST_SEPARATOR.split(values["topics"]) if t]
    flag = values.get("public_profile", "").lower()
    body["public_profile"] = flag if flag not in TRUE_WORDS | FALSE_WORDS else flag in TRUE_WORDS
    resources = []
    for column, direction in (("resources_offered", "offered"), ("resources_needed", "needed")):
        for kind in LIST_SEPARATOR.split(values.get(column, "")):
            if kind:
                resources.append({"kind": kind, "direction": direction})
    if resources:
        body["resources"] = resources
    return body
