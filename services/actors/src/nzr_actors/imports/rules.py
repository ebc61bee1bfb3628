"""Rules of the CSV import that need no I/O: decoding, columns, a row as an actor's JSON body."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Literal

from nzr_actors.actors.rules import NameIndex, name_key, website_key

CSV_REQUIRED = ("name", "kind", "sector", "district")
CSV_OPTIONAL = (
    "external_id",
    "legal_form",
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
    for column in ("external_id", "legal_form", "municipality", "website", "description"):
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


# --- likely duplicates among new rows ---------------------------------------------------------


@dataclass(frozen=True)
class NamedActor:
    """A stored actor or a new row of the file, as the duplicate check sees it."""

    ident: str | int  # a stored actor's id, or the line of a row of the file
    name: str
    district: str
    municipality: str | None
    website: str | None


@dataclass(frozen=True)
class LikelyDuplicate:
    """What a new row looks like: ``other`` (stored actor or earlier row), how similar and why."""

    other: NamedActor
    reason: Literal["similar_name", "same_website"]
    similarity: float


def likely_duplicates(stored: list[NamedActor], rows: list[NamedActor]) -> dict[int, list[LikelyDuplicate]]:
    """For each new row (``ident`` = its line, in file order), the stored actors of its district
    and the earlier rows of the file it likely duplicates: same website, or a similar name.

    Names are compared through one ``NameIndex`` per district, so a row meets only the names
    that share a block with it, not all of the district's names.
    """
    indexes: dict[str, NameIndex] = {}
    by_ident: dict[str | int, NamedActor] = {}
    by_site: dict[str, list[NamedActor]] = {}

    def remember(actor: NamedActor) -> None:
        indexes.setdefault(actor.district, NameIndex()).add(actor.ident, name_key(actor.name))
        by_ident[actor.ident] = actor
        site = website_key(actor.website)
        if site:
            by_site.setdefault(site, []).append(actor)

    for actor in stored:
        remember(actor)
    found: dict[int, list[LikelyDuplicate]] = {}
    for row in rows:
        hits: dict[str | int, LikelyDuplicate] = {}
        for other in by_site.get(website_key(row.website) or "", []):
            hits[other.ident] = LikelyDuplicate(other, "same_website", 1.0)
        index = indexes.get(row.district)
        for score, ident in index.similar(name_key(row.name)) if index else []:
            if ident not in hits:
                hits[ident] = LikelyDuplicate(by_ident[ident], "similar_name", score)  # type: ignore[index]
        if hits:
            found[int(row.ident)] = sorted(hits.values(), key=lambda d: -d.similarity)
        remember(row)
    return found
