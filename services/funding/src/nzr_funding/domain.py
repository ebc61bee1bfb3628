"""Pure rules of the funding service: deadlines as data, programme validation, coverage,
eligibility matching with explained criteria, search scoring and the deadline watch.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

import calendar
import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

# ---------------------------------------------------------------------------------------------
# Vocabulary

LEVELS = ("bund", "land", "eu", "stiftung")

#: The network's own topic tags on programmes (not part of the Förderdatenbank).
FUNDING_TOPICS = (
    "klimaschutz_energie",
    "klimaanpassung",
    "mobilitaet",
    "naturschutz_biodiversitaet",
    "landwirtschaft_laendlicher_raum",
    "nachhaltiges_wirtschaften",
    "entwicklungszusammenarbeit",
    "bne_globales_lernen",
    "demokratie_zivilgesellschaft",
    "ehrenamt_engagement",
    "grenzueberschreitende_zusammenarbeit",
    "europa_jugend",
)

#: Topics of actor profiles (actors service) → the programme topics they correspond to.
ACTOR_TOPICS = {
    "energie_klimaschutz": ("klimaschutz_energie", "klimaanpassung"),
    "mobilitaet": ("mobilitaet",),
    "landwirtschaft_ernaehrung": ("landwirtschaft_laendlicher_raum",),
    "nachhaltiges_wirtschaften": ("nachhaltiges_wirtschaften",),
    "entwicklungszusammenarbeit": ("entwicklungszusammenarbeit",),
    "bne": ("bne_globales_lernen",),
    "demokratie_teilhabe": ("demokratie_zivilgesellschaft", "ehrenamt_engagement"),
    "natur_umwelt": ("naturschutz_biodiversitaet", "klimaanpassung"),
    "soziales": ("ehrenamt_engagement",),
    "kultur": ("europa_jugend",),
}

#: Actor kind → the Förderberechtigte keys under which it applies (Förderdatenbank convention:
#: associations, foundations and church bodies are "Verband/Vereinigung").
KIND_TO_ELIGIBLE: dict[str, tuple[str, ...]] = {
    "verein": ("verband_vereinigung",),
    "initiative": ("verband_vereinigung", "privatperson"),
    "kommune": ("kommune", "oeffentliche_einrichtung"),
    "unternehmen": ("unternehmen",),
    "bildungseinrichtung": ("bildungseinrichtung",),
    "religionsgemeinschaft": ("verband_vereinigung",),
    "stiftung": ("verband_vereinigung",),
    "verwaltung": ("oeffentliche_einrichtung", "kommune"),
    "sonstige": (),
}

#: Federal states whose territory counts as "ostdeutsche Bundesländer und Berlin".
EAST_GERMAN_STATES = (
    "berlin",
    "brandenburg",
    "mecklenburg_vorpommern",
    "sachsen",
    "sachsen_anhalt",
    "thueringen",
)
HOME_STATE = "sachsen"


def funding_topics_of(actor_or_programme_topics: Iterable[str]) -> set[str]:
    """Programme topic keys for a mix of actor topics and programme topics."""
    result: set[str] = set()
    for topic in actor_or_programme_topics:
        if topic in ACTOR_TOPICS:
            result.update(ACTOR_TOPICS[topic])
        else:
            result.add(topic)
    return result


# ---------------------------------------------------------------------------------------------
# Deadlines as data


class DeadlineKind(StrEnum):
    FIXED = "fixed"  # one or more calendar dates
    ROLLING = "rolling"  # "laufend", optionally until a date
    RECURRING = "recurring"  # every year on the same day(s)
    UNKNOWN = "unknown"


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
        return data


@dataclass(frozen=True)
class DeadlineStatus:
    state: DeadlineState
    next_deadline: date | None = None
    days_left: int | None = None


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
    kind_value = data.get("kind")
    try:
        kind = DeadlineKind(kind_value)
    except ValueError as error:
        kinds = ", ".join(k.value for k in DeadlineKind)
        raise DeadlineError(f"{field}.kind", f"'{kind_value}' is not one of {kinds}") from error
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise DeadlineError(f"{field}.text", "expected text")
    until = _iso_date(data["until"], f"{field}.until") if data.get("until") else None
    opens = _iso_date(data["opens"], f"{field}.opens") if data.get("opens") else None
    if kind is DeadlineKind.FIXED:
        raw = data.get("dates")
        if not isinstance(raw, list) or not raw:
            raise DeadlineError(f"{field}.dates", "a fixed deadline needs at least one date")
        dates = tuple(sorted({_iso_date(v, f"{field}.dates[{i}]") for i, v in enumerate(raw)}))
        if opens and opens > dates[-1]:
            raise DeadlineError(f"{field}.opens", "the window opens after its last deadline")
        return Deadline(kind, dates=dates, opens=opens, text=text)
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
        return Deadline(kind, yearly=tuple(sorted(set(yearly))), until=until, text=text)
    if kind is DeadlineKind.ROLLING:
        return Deadline(kind, until=until, text=text)
    return Deadline(kind, text=text)


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


# ---------------------------------------------------------------------------------------------
# Coverage: where a programme funds


@dataclass(frozen=True)
class Coverage:
    territories: tuple[str, ...]  # Fördergebiet keys ("bundesweit", "sachsen", ...)
    districts: tuple[str, ...] = ()  # AGS codes when limited to some Saxon districts
    districts_exhaustive: bool = True  # False when the source lists examples ("z. B.")


def _district_aliases(district_names: Mapping[str, str]) -> list[tuple[str, str]]:
    aliases = []
    for ags, name in district_names.items():
        short = name.removeprefix("Landkreis ").strip()
        if name.startswith("Landkreis "):
            aliases += [(f"lk {short.lower()}", ags), (f"landkreis {short.lower()}", ags)]
        else:
            aliases.append((short.lower(), ags))
    # Longest first, so "lk leipzig" wins over "leipzig".
    return sorted(aliases, key=lambda a: -len(a[0]))


def derive_coverage(region_text: str, district_names: Mapping[str, str]) -> Coverage:
    """Read the seed's free-text region into Fördergebiet keys and Saxon districts."""
    lowered = region_text.lower()
    if lowered.startswith("ostdeutsche"):
        return Coverage(EAST_GERMAN_STATES)
    if lowered.startswith("bundesweit") or lowered.startswith(("deutsch-", "eu-weit")):
        return Coverage(("bundesweit",))
    found: list[str] = []
    rest = lowered
    for alias, ags in _district_aliases(district_names):
        if re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", rest):
            found.append(ags)
            rest = re.sub(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", " ", rest)
    if lowered.startswith("sachsen") and not found:
        return Coverage((HOME_STATE,))
    if found or "sächs" in lowered or "sachsen" in lowered:
        return Coverage((HOME_STATE,), tuple(sorted(set(found))), "z. b." not in lowered)
    return Coverage(())


# ---------------------------------------------------------------------------------------------
# Validation of a catalogue record


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


def check_programme(
    *,
    funding_types: Sequence[str],
    areas: Sequence[str],
    eligible: Sequence[str],
    topics: Sequence[str],
    territories: Sequence[str],
    districts: Sequence[str],
    amount_min: float | None,
    amount_max: float | None,
    rate: float | None,
    taxonomy: Mapping[str, frozenset[str]],
    known_districts: Iterable[str],
) -> list[Problem]:
    """Business rules of one programme record; every problem names its field."""
    problems = []
    for name, values, allowed in (
        ("funding_types", funding_types, taxonomy["foerderart"]),
        ("areas", areas, taxonomy["foerderbereich"]),
        ("eligible", eligible, taxonomy["foerderberechtigte"]),
        ("territories", territories, taxonomy["foerdergebiet"]),
        ("topics", topics, frozenset(FUNDING_TOPICS)),
        ("districts", districts, frozenset(known_districts)),
    ):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            problems.append(Problem(name, f"unknown key(s): {', '.join(unknown)}"))
    for name, value in (("amount_min_eur", amount_min), ("amount_max_eur", amount_max)):
        if value is not None and value < 0:
            problems.append(Problem(name, "must not be negative"))
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        problems.append(Problem("amount_min_eur", f"minimum {amount_min:g} exceeds maximum {amount_max:g}"))
    if rate is not None and not 0 < rate <= 100:
        problems.append(Problem("funding_rate_percent", f"{rate:g} is outside 0–100"))
    return problems


# ---------------------------------------------------------------------------------------------
# Matching


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Fit(StrEnum):
    FITS = "fits"  # every hard criterion met
    CHECK = "check"  # no hard criterion failed, some unknown
    EXCLUDED = "excluded"  # a hard criterion failed


@dataclass(frozen=True)
class Criterion:
    name: str
    status: Status
    hard: bool
    reason: str


@dataclass(frozen=True)
class ProgrammeFacts:
    """What matching and search need to know about one programme."""

    id: str
    name: str
    level: str
    eligible: frozenset[str]
    territories: frozenset[str]
    districts: frozenset[str]
    districts_exhaustive: bool
    topics: frozenset[str]
    areas: frozenset[str]
    funding_types: frozenset[str]
    amount_min: float | None
    amount_max: float | None
    rate: float | None
    deadline: Deadline


@dataclass(frozen=True)
class Profile:
    """Who looks for money: an actor's profile or an ad-hoc one."""

    kind: str | None = None
    district: str | None = None
    topics: frozenset[str] = frozenset()
    amount_needed: float | None = None
    own_share_available: float | None = None
    preparation_days: int = 14


@dataclass(frozen=True)
class Match:
    programme_id: str
    name: str
    fit: Fit
    score: float
    criteria: tuple[Criterion, ...] = field(default=())


_WEIGHT = {"eligibility": 3.0, "region": 3.0, "topic": 2.0, "amount": 1.0, "own_share": 1.0, "deadline": 2.0}
_CREDIT = {Status.MET: 1.0, Status.UNKNOWN: 0.4, Status.NOT_MET: 0.0}


def _eligibility(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if profile.kind is None:
        return Criterion("eligibility", Status.UNKNOWN, True, "no applicant kind given")
    if not p.eligible:
        return Criterion("eligibility", Status.UNKNOWN, True, "the source names no eligible applicants")
    keys = KIND_TO_ELIGIBLE.get(profile.kind, ())
    hit = sorted(p.eligible.intersection(keys))
    if hit:
        return Criterion("eligibility", Status.MET, True, f"{profile.kind} applies as {', '.join(hit)}")
    if not keys:
        return Criterion(
            "eligibility", Status.UNKNOWN, True, f"'{profile.kind}' has no Förderberechtigte category"
        )
    return Criterion(
        "eligibility", Status.NOT_MET, True, f"{profile.kind} is not among {', '.join(sorted(p.eligible))}"
    )


def _region(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if not p.territories:
        return Criterion("region", Status.UNKNOWN, True, "the funding area is not known")
    if "bundesweit" in p.territories:
        return Criterion("region", Status.MET, True, "funded nationwide")
    if HOME_STATE not in p.territories:
        return Criterion("region", Status.NOT_MET, True, f"funded only in {', '.join(sorted(p.territories))}")
    if not p.districts:
        return Criterion("region", Status.MET, True, "funded throughout Saxony")
    if profile.district is None:
        return Criterion("region", Status.UNKNOWN, True, "limited to some districts; no district given")
    if profile.district in p.districts:
        return Criterion("region", Status.MET, True, f"district {profile.district} is in the funding area")
    if not p.districts_exhaustive:
        return Criterion(
            "region",
            Status.UNKNOWN,
            True,
            f"district {profile.district} is not among the example districts of the source",
        )
    return Criterion(
        "region", Status.NOT_MET, True, f"district {profile.district} is outside the funding area"
    )


def _topic(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if not profile.topics:
        return Criterion("topic", Status.UNKNOWN, False, "no topics given")
    shared = sorted(profile.topics & p.topics) or sorted(profile.topics & p.areas)
    if shared:
        return Criterion("topic", Status.MET, False, f"shared topics: {', '.join(shared)}")
    return Criterion("topic", Status.NOT_MET, False, "no shared topic or area")


def _amount(p: ProgrammeFacts, profile: Profile) -> Criterion:
    need = profile.amount_needed
    if need is None:
        return Criterion("amount", Status.UNKNOWN, True, "no amount given")
    if p.amount_min is None and p.amount_max is None:
        return Criterion("amount", Status.UNKNOWN, True, "the source names no amounts")
    if p.amount_min is not None and need < p.amount_min:
        return Criterion(
            "amount", Status.NOT_MET, True, f"{need:,.0f} € is below the minimum {p.amount_min:,.0f} €"
        )
    if p.amount_max is not None and need > p.amount_max:
        return Criterion(
            "amount", Status.NOT_MET, True, f"{need:,.0f} € exceeds the maximum {p.amount_max:,.0f} €"
        )
    return Criterion("amount", Status.MET, True, f"{need:,.0f} € is within the programme's range")


def _own_share(p: ProgrammeFacts, profile: Profile) -> Criterion:
    if profile.amount_needed is None or profile.own_share_available is None:
        return Criterion("own_share", Status.UNKNOWN, True, "amount or own share not given")
    if p.rate is None:
        return Criterion("own_share", Status.UNKNOWN, True, "the source names no funding rate")
    if p.rate >= 100:
        return Criterion("own_share", Status.MET, True, "full funding, no own share needed")
    # The grant covers rate% of the total project cost; the rest is the applicant's share.
    total = profile.amount_needed / (p.rate / 100)
    required = total - profile.amount_needed
    if profile.own_share_available + 0.005 >= required:
        return Criterion(
            "own_share",
            Status.MET,
            True,
            f"own share of {required:,.0f} € at {p.rate:g} % funding is available",
        )
    return Criterion(
        "own_share",
        Status.NOT_MET,
        True,
        f"{p.rate:g} % funding needs {required:,.0f} € own share, "
        f"{profile.own_share_available:,.0f} € available",
    )


def _deadline(p: ProgrammeFacts, profile: Profile, today: date) -> Criterion:
    status = cached_deadline_status(p.deadline, today)
    if status.state is DeadlineState.UNKNOWN:
        return Criterion("deadline", Status.UNKNOWN, True, "no deadline known; ask the funder")
    if status.state is DeadlineState.CLOSED:
        return Criterion("deadline", Status.NOT_MET, True, "no further deadline")
    if p.deadline.kind is DeadlineKind.ROLLING:
        until = f" until {p.deadline.until.isoformat()}" if p.deadline.until else ""
        if status.days_left is not None and status.days_left < profile.preparation_days:
            return Criterion(
                "deadline", Status.NOT_MET, True, f"rolling applications end in {status.days_left} days"
            )
        return Criterion("deadline", Status.MET, True, f"applications accepted continuously{until}")
    assert status.next_deadline is not None and status.days_left is not None
    if status.days_left < profile.preparation_days:
        return Criterion(
            "deadline",
            Status.NOT_MET,
            True,
            f"next deadline {status.next_deadline.isoformat()} is in {status.days_left} days, "
            f"less than {profile.preparation_days} days to prepare",
        )
    return Criterion(
        "deadline",
        Status.MET,
        True,
        f"next deadline {status.next_deadline.isoformat()} ({status.days_left} days)",
    )


def _fit(criteria: Sequence[Criterion]) -> Fit:
    hard = [c.status for c in criteria if c.hard]
    if Status.NOT_MET in hard:
        return Fit.EXCLUDED
    return Fit.CHECK if Status.UNKNOWN in hard else Fit.FITS


def _score(criteria: Sequence[Criterion], shared_topics: int) -> float:
    return round(sum(_WEIGHT[c.name] * _CREDIT[c.status] for c in criteria) + 0.25 * shared_topics, 3)


def match_programme(p: ProgrammeFacts, profile: Profile, today: date) -> Match:
    """Every criterion of one programme for one profile, with its fit and score."""
    criteria = (
        _eligibility(p, profile),
        _region(p, profile),
        _topic(p, profile),
        _amount(p, profile),
        _own_share(p, profile),
        _deadline(p, profile, today),
    )
    return Match(p.id, p.name, _fit(criteria), _score(criteria, len(profile.topics & p.topics)), criteria)


def match_all(programmes: Iterable[ProgrammeFacts], profile: Profile, today: date) -> list[Match]:
    """``match_programme`` for many programmes, in their order (see ``best_matches``)."""
    return [
        Match(p.id, p.name, fit, score, criteria)
        for p, fit, score, criteria in _judge_all(programmes, profile, today)
    ]


def best_matches(
    programmes: Iterable[ProgrammeFacts],
    profile: Profile,
    today: date,
    *,
    limit: int,
    include_excluded: bool = True,
) -> tuple[list[Match], dict[Fit, int]]:
    """The ``limit`` best matches in rank order and how many programmes have each fit."""
    counts = dict.fromkeys(Fit, 0)
    rows = []
    for p, fit, score, criteria in _judge_all(programmes, profile, today):
        counts[fit] += 1
        if include_excluded or fit is not Fit.EXCLUDED:
            rows.append((fit is Fit.EXCLUDED, -score, _FIT_ORDER[fit], p.name, p.id, fit, criteria))
    top = heapq.nsmallest(limit, rows)  # ids are unique: comparison never reaches fit/criteria
    return [Match(r[4], r[3], r[5], -r[1], r[6]) for r in top], counts


_HARD_CODE = {Status.MET: 0, Status.UNKNOWN: 1, Status.NOT_MET: 2}
_FIT_BY_CODE = (Fit.FITS, Fit.CHECK, Fit.EXCLUDED)


def _judged(criterion: Criterion) -> tuple[Criterion, float, int]:
    """A criterion with its weighted credit and, if hard, how badly it fails (0, 1, 2)."""
    return (
        criterion,
        _WEIGHT[criterion.name] * _CREDIT[criterion.status],
        _HARD_CODE[criterion.status] if criterion.hard else 0,
    )


def _judge_all(programmes: Iterable[ProgrammeFacts], profile: Profile, today: date):  # type: ignore[no-untyped-def]
    """(programme, fit, score, criteria) for each programme, as ``match_programme`` gives them.

    Each criterion is judged once per distinct fact object it depends on (keyed by identity:
    callers that intern equal facts, as the catalogue cache does, share the judgement); the
    per-programme work is then a few look-ups and additions."""
    eligibility: dict[Any, tuple[Criterion, float, int]] = {}
    region: dict[Any, tuple[Criterion, float, int]] = {}
    topic: dict[Any, Any] = {}
    amount: dict[Any, tuple[Criterion, float, int]] = {}
    own_share: dict[Any, tuple[Criterion, float, int]] = {}
    deadline: dict[Any, tuple[Criterion, float, int]] = {}
    for p in programmes:
        key = id(p.eligible)
        e = eligibility.get(key)
        if e is None:
            e = eligibility[key] = _judged(_eligibility(p, profile))
        key = (id(p.territories), id(p.districts), p.districts_exhaustive)
        r = region.get(key)
        if r is None:
            r = region[key] = _judged(_region(p, profile))
        # Areas only matter when no topic is shared, so most programmes hit the first memo.
        t = topic.get(id(p.topics))
        if t is None:
            shared = len(profile.topics & p.topics)
            t = topic[id(p.topics)] = (
                (*_judged(_topic(p, profile)), shared) if shared or not profile.topics else ()
            )
        if not t:
            key = ("areas", id(p.areas))
            t = topic.get(key)
            if t is None:
                t = topic[key] = (*_judged(_topic(p, profile)), 0)
        key = (p.amount_min, p.amount_max)
        a = amount.get(key)
        if a is None:
            a = amount[key] = _judged(_amount(p, profile))
        o = own_share.get(p.rate)
        if o is None:
            o = own_share[p.rate] = _judged(_own_share(p, profile))
        key = id(p.deadline)
        d = deadline.get(key)
        if d is None:
            d = deadline[key] = _judged(_deadline(p, profile, today))
        score = round(e[1] + r[1] + t[1] + a[1] + o[1] + d[1] + 0.25 * t[3], 3)
        fit = _FIT_BY_CODE[max(e[2], r[2], a[2], o[2], d[2])]
        yield p, fit, score, (e[0], r[0], t[0], a[0], o[0], d[0])


_FIT_ORDER = {Fit.FITS: 0, Fit.CHECK: 1, Fit.EXCLUDED: 2}


def rank_matches(matches: Iterable[Match]) -> list[Match]:
    """Best first: no programme with a failed hard criterion ranks above one without."""
    return sorted(
        matches, key=lambda m: (m.fit is Fit.EXCLUDED, -m.score, _FIT_ORDER[m.fit], m.name, m.programme_id)
    )


# ---------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class SearchFilters:
    """Facet filters (any value within a dimension, all dimensions) and range filters."""

    facets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    open_now: bool = False
    deadline_before: date | None = None
    amount_min: float | None = None
    amount_max: float | None = None


FACET_DIMENSIONS = ("funding_type", "area", "territory", "eligible", "level", "topic", "state")


def facet_values(p: ProgrammeFacts, today: date) -> dict[str, frozenset[str]]:
    """The values a programme contributes to each facet."""
    return {
        "funding_type": p.funding_types,
        "area": p.areas,
        "territory": p.territories,
        "eligible": p.eligible,
        "level": frozenset((p.level,)),
        "topic": p.topics,
        "state": frozenset((cached_deadline_status(p.deadline, today).state.value,)),
    }


def passes_ranges(p: ProgrammeFacts, filters: SearchFilters, today: date) -> bool:
    """Open-now, deadline-before and amount-range filters (unknown amounts are not excluded)."""
    if filters.open_now or filters.deadline_before:
        status = cached_deadline_status(p.deadline, today)
        if filters.open_now and status.state is not DeadlineState.OPEN:
            return False
        if filters.deadline_before and not (
            status.next_deadline and status.next_deadline <= filters.deadline_before
        ):
            return False
    if filters.amount_min is not None and p.amount_max is not None and p.amount_max < filters.amount_min:
        return False
    return not (
        filters.amount_max is not None and p.amount_min is not None and p.amount_min > filters.amount_max
    )


def passes_facets(
    values: Mapping[str, frozenset[str]], filters: SearchFilters, skip: str | None = None
) -> bool:
    return all(
        dimension == skip or values[dimension] & wanted
        for dimension, wanted in filters.facets.items()
        if wanted
    )


def text_score(query: Sequence[str], name_tokens: Sequence[str], doc_tokens: Sequence[str]) -> float:
    """Relevance of a document to stemmed query tokens: name hits weigh most, then frequency."""
    if not query:
        return 0.0
    name = set(name_tokens)
    score = 0.0
    length = max(len(doc_tokens), 1)
    for token in set(query):
        count = doc_tokens.count(token)
        score += (3.0 if token in name else 0.0) + count / (count + 1.0) + 2.0 * count / length
    return round(score, 6)


def matches_query(query: Sequence[str], doc_tokens: Iterable[str]) -> bool:
    """Every query token occurs in the document (the same rule as the database's index)."""
    return set(query) <= set(doc_tokens)


# ---------------------------------------------------------------------------------------------
# Deadline watch

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
