"""Deadlines as data: parsing, the state of a deadline on a day, and which approaching
deadlines the watch announces. No I/O."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any


class DeadlineKind(StrEnum):
    FIXED = "fixed"  # one or more calendar dates
    ROLLING = "rolling"  # "laufend", optionally until a date
    RECURRING = "recurring"  # every year on the same day(s)
    UNKNOWN = "unknown"


class Certainty(StrEnum):
    """How sure the catalogue is of a deadline."""

    FIXED = "fixed"  # dates or a standing yearly rule as the funder publishes them
    EXPECTED = "expected"  # inferred from earlier rounds, a secondary source or an estimate
    ROLLING = "rolling"  # applications accepted continuously
    UNKNOWN = "unknown"  # no deadline known


class DeadlineState(StrEnum):
    OPEN = "open"  # applications possible, next deadline reachable
    UPCOMING = "upcoming"  # the next window has not opened yet
    CLOSED = "closed"  # no further deadline
    UNKNOWN = "unknown"  # not known from the sources


class DeadlineError(ValueError):
    """A deadline that cannot exist (31 February) or is malformed; ``field`` names where."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    dates: tuple[date, ...] = ()  # fixed
    yearly: tuple[tuple[int, int], ...] = ()  # recurring (month, day)
    opens: date | None = None  # fixed: the window opens on
    until: date | None = None  # rolling / recurring: no deadline after
    text: str | None = None  # the source's wording, kept visible
    stated_certainty: Certainty | None = None  # given by the record; otherwise read from the text

    @property
    def certainty(self) -> Certainty:
        """Fixed, expected, rolling or unknown: as the record states it, else from the kind and
        the source's wording ("zuletzt belegt", "voraussichtlich", "ca.", "z. B.", "Stand 2021",
        "laut Sekundärquelle", dates of a past round "(2023: 27.02., …)")."""
        if self.stated_certainty is not None:
            return self.stated_certainty
        if self.kind is DeadlineKind.ROLLING:
            return Certainty.ROLLING
        if self.kind is DeadlineKind.UNKNOWN:
            return Certainty.UNKNOWN
        if self.text and _HEDGES.search(self.text):
            return Certainty.EXPECTED
        return Certainty.FIXED

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.dates:
            data["dates"] = [d.isoformat() for d in self.dates]
        if self.yearly:
            data["yearly"] = [f"{m:02d}-{d:02d}" for m, d in self.yearly]
        if self.opens:
            data["opens"] = self.opens.isoformat()
        if self.until:
            data["until"] = self.until.isoformat()
        if self.text:
            data["text"] = self.text
        if self.stated_certainty is not None:
            data["certainty"] = self.stated_certainty.value
        return data


@dataclass(frozen=True)
class DeadlineStatus:
    state: DeadlineState
    next_deadline: date | None = None
    days_left: int | None = None


_HEDGES = re.compile(
    r"zuletzt belegt|voraussichtlich|\bca\.|\bz\.\s?b\.|\bstand \d{4}|sekundärquelle|\(\d{4}:"
    r"|\bu\.\s?a\.|unregelmäßig|geschätzt|erwartet|je (förder)?aufruf|über aufrufe|thematischen aufrufen"
    r"|jährliche[rn]? (ausschreibung|aufruf|eu-aufrufe)",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\([^()]*\)")
_FULL_DATE = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_DAY_MONTH = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?!\d)")
_UNTIL = re.compile(r"\bbis\s+(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _calendar_date(day: int, month: int, year: int, field: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as error:
        raise DeadlineError(field, f"{day:02d}.{month:02d}.{year} is not a calendar date") from error


def _day_month(day: int, month: int, field: str) -> tuple[int, int]:
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:
        raise DeadlineError(field, f"{day:02d}.{month:02d}. is not a day of the year")
    return month, day


def parse_deadline_text(text: str | None) -> Deadline:
    """Read the seed's free-text deadline ("laufend bis 31.12.2027", "jährlich 30.06.", ...).

    Text in parentheses is commentary (project start, older rounds) and is only used for
    the end date of rolling programmes and for "n times per year" patterns.
    """
    if text is None or not text.strip():
        return Deadline(DeadlineKind.UNKNOWN)
    lowered = text.strip().lower()
    main = _PARENS.sub(" ", lowered)
    if re.match(r"^(ueberwiegend |überwiegend |fort)?laufend", lowered):
        found = _UNTIL.search(lowered)
        until = _calendar_date(int(found[1]), int(found[2]), int(found[3]), "deadline") if found else None
        return Deadline(DeadlineKind.ROLLING, until=until, text=text)
    if re.search(r"jährlich|quartalsweise|pro jahr|im jahr", lowered):
        pairs = [(int(d), int(m)) for d, m in _DAY_MONTH.findall(main)]
        pairs += [(int(d), int(m)) for d, m, _ in _FULL_DATE.findall(main)]
        if not pairs and "pro jahr" in lowered:
            pairs = [(int(d), int(m)) for d, m in _DAY_MONTH.findall(lowered)]
        if pairs:
            yearly = tuple(sorted({_day_month(d, m, "deadline") for d, m in pairs}))
            return Deadline(DeadlineKind.RECURRING, yearly=yearly, text=text)
        return Deadline(DeadlineKind.UNKNOWN, text=text)
    dates = tuple(
        sorted({_calendar_date(int(d), int(m), int(y), "deadline") for d, m, y in _FULL_DATE.findall(main)})
    )
    if dates:
        return Deadline(DeadlineKind.FIXED, dates=dates, text=text)
    return Deadline(DeadlineKind.UNKNOWN, text=text)


def _iso_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DeadlineError(field, "expected a date YYYY-MM-DD")
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not match:
        raise DeadlineError(field, f"'{value}' is not a date YYYY-MM-DD")
    return _calendar_date(int(match[3]), int(match[2]), int(match[1]), field)


def deadline_from_data(data: Mapping[str, Any] | str | None, *, field: str = "deadline") -> Deadline:
    """A deadline from its structured form (``{"kind": "recurring", "yearly": ["03-31"]}``) or
    from free text; raises DeadlineError naming the offending field."""
    if data is None or isinstance(data, str):
        return parse_deadline_text(data)
    if not isinstance(data, Mapping):
        raise DeadlineError(field, "expected text or an object with 'kind'")
    kind_value: Any = data.get("kind")
    try:
        kind = DeadlineKind(kind_value)
    except ValueError as error:
        kinds = ", ".join(k.value for k in DeadlineKind)
        raise DeadlineError(f"{field}.kind", f"'{kind_value}' is not one of {kinds}") from error
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise DeadlineError(f"{field}.text", "expected text")
    stated = _stated_certainty(data.get("certainty"), kind, field)
    until = _iso_date(data["until"], f"{field}.until") if data.get("until") else None
    opens = _iso_date(data["opens"], f"{field}.opens") if data.get("opens") else None
    if kind is DeadlineKind.FIXED:
        raw = data.get("dates")
        if not isinstance(raw, list) or not raw:
            raise DeadlineError(f"{field}.dates", "a fixed deadline needs at least one date")
        dates = tuple(sorted({_iso_date(v, f"{field}.dates[{i}]") for i, v in enumerate(raw)}))
        if opens and opens > dates[-1]:
            raise DeadlineError(f"{field}.opens", "the window opens after its last deadline")
        return Deadline(kind, dates=dates, opens=opens, text=text, stated_certainty=stated)
    if kind is DeadlineKind.RECURRING:
        raw = data.get("yearly")
        if not isinstance(raw, list) or not raw:
            raise DeadlineError(f"{field}.yearly", "a recurring deadline needs days like '03-31'")
        yearly = []
        for i, value in enumerate(raw):
            match = re.fullmatch(r"(\d{2})-(\d{2})", value) if isinstance(value, str) else None
            if not match:
                raise DeadlineError(f"{field}.yearly[{i}]", f"'{value}' is not a day of the year MM-DD")
            yearly.append(_day_month(int(match[2]), int(match[1]), f"{field}.yearly[{i}]"))
        return Deadline(
            kind, yearly=tuple(sorted(set(yearly))), until=until, text=text, stated_certainty=stated
        )
    if kind is DeadlineKind.ROLLING:
        return Deadline(kind, until=until, text=text)
    return Deadline(kind, text=text)


def _stated_certainty(value: Any, kind: DeadlineKind, field: str) -> Certainty | None:
    """A record's own certainty of a fixed or recurring deadline (the others follow the kind)."""
    if value is None or kind not in (DeadlineKind.FIXED, DeadlineKind.RECURRING):
        return None
    if value not in (Certainty.FIXED.value, Certainty.EXPECTED.value):
        raise DeadlineError(f"{field}.certainty", f"'{value}' is not one of fixed, expected")
    return Certainty(value)


def _occurrence(year: int, month: int, day: int) -> date:
    # 29 February in a common year falls on the 28th.
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_deadline(deadline: Deadline, today: date) -> date | None:
    """The next date on or after ``today`` by which an application must be in, if any."""
    if deadline.kind is DeadlineKind.FIXED:
        return next((d for d in deadline.dates if d >= today), None)
    if deadline.kind is DeadlineKind.RECURRING:
        candidates = [
            _occurrence(year, m, d) for year in (today.year, today.year + 1) for m, d in deadline.yearly
        ]
        found = min(c for c in candidates if c >= today)
        return None if deadline.until and found > deadline.until else found
    if deadline.kind is DeadlineKind.ROLLING and deadline.until and deadline.until >= today:
        return deadline.until
    return None


def deadline_status(deadline: Deadline, today: date) -> DeadlineStatus:
    """Open / upcoming / closed / unknown as of ``today``, with the next deadline."""
    if deadline.kind is DeadlineKind.UNKNOWN:
        return DeadlineStatus(DeadlineState.UNKNOWN)
    upcoming = next_deadline(deadline, today)
    days_left = (upcoming - today).days if upcoming else None
    if deadline.kind is DeadlineKind.ROLLING:
        if deadline.until and deadline.until < today:
            return DeadlineStatus(DeadlineState.CLOSED)
        return DeadlineStatus(DeadlineState.OPEN, upcoming, days_left)
    if upcoming is None:
        return DeadlineStatus(DeadlineState.CLOSED)
    if deadline.kind is DeadlineKind.FIXED and deadline.opens and today < deadline.opens:
        return DeadlineStatus(DeadlineState.UPCOMING, upcoming, days_left)
    return DeadlineStatus(DeadlineState.OPEN, upcoming, days_left)


@lru_cache(maxsize=4096)
def _cached_status(key: tuple[Any, ...], today: date) -> DeadlineStatus:
    return deadline_status(_KEYED[key], today)


_KEYED: dict[tuple[Any, ...], Deadline] = {}


def cached_deadline_status(deadline: Deadline, today: date) -> DeadlineStatus:
    """``deadline_status`` memoised per distinct deadline and day (search and matching loop
    over thousands of programmes that share a few deadline patterns)."""
    key = (deadline.kind, deadline.dates, deadline.yearly, deadline.opens, deadline.until)
    _KEYED.setdefault(key, deadline)
    return _cached_status(key, today)


DEFAULT_THRESHOLDS = (30, 7)


def due_announcements(
    deadline: Deadline, today: date, thresholds: Sequence[int] = DEFAULT_THRESHOLDS
) -> list[tuple[date, int, int]]:
    """(deadline, threshold, days_left) to announce today: the smallest threshold reached.

    A programme announced at 30 days is announced again at 7; one first seen 5 days before
    is announced once, at 7. Callers record what was announced so it happens only once.
    """
    upcoming = next_deadline(deadline, today)
    if upcoming is None or (deadline.kind is DeadlineKind.ROLLING and deadline.until is None):
        return []
    days_left = (upcoming - today).days
    reached = [t for t in sorted(thresholds) if days_left <= t]
    return [(upcoming, reached[0], days_left)] if reached else []
