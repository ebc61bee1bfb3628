"""Rules of a catalogue record: where a programme funds (coverage), what a valid record is,
and the facts search and matching know about a programme. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nzr_funding.deadlines.rules import Deadline
from nzr_funding.vocabulary import EAST_GERMAN_STATES, FUNDING_TOPICS, HOME_STATE, LEGAL_FORMS


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


_REGISTERED_ASSOCIATION = re.compile(r"eingetragene[rn]? (gemeinnützige[rn]? )?Verein", re.IGNORECASE)


def derive_legal_forms(*texts: str | None) -> tuple[str, ...]:
    """The legal forms a record's own words require ("eingetragene gemeinnützige Vereine" →
    e. V.), for records that do not list them."""
    return ("ev",) if any(t and _REGISTERED_ASSOCIATION.search(t) for t in texts) else ()


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
    legal_forms: Sequence[str] = (),
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
        ("legal_forms", legal_forms, frozenset(LEGAL_FORMS)),
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
    legal_forms: frozenset[str] = frozenset()  # required legal forms (empty: none named)
