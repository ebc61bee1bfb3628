"""Pure rules of series: a recurrence rule that ends, expanded in Berlin wall-clock time.

A series always ends: its RRULE carries ``COUNT`` or ``UNTIL`` (RFC 5545 allows neither for
an endless rule; calendars would repeat an initiative circle forever). ``UNTIL`` is stored in
UTC (``…Z``), as RFC 5545 requires when DTSTART has a time zone; a date or a local time given
by the user is read as Berlin wall-clock time (a date: the whole day counts).

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icalendar import vRecur

from nzr_events.times import to_berlin, to_utc

MAX_OCCURRENCES = 104
ENDS = "a series must end: give COUNT=<n> or UNTIL=<date> in the rule, e.g. FREQ=MONTHLY;COUNT=10"


class InvalidRecurrence(ValueError):
    """The recurrence rule is not valid RFC 5545, does not end or yields no occurrence."""


def rrule_without_prefix(rule: str) -> str:
    text = rule.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text


def _parsed(rule: str) -> vRecur:
    from icalendar import vRecur

    text = rrule_without_prefix(rule)
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise InvalidRecurrence("give one RRULE value, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=10")
    try:
        parsed = vRecur.from_ical(text)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidRecurrence(str(error) or "invalid RRULE") from error
    if "FREQ" not in parsed:
        raise InvalidRecurrence("the rule needs FREQ, e.g. FREQ=WEEKLY")
    return parsed


def until_in_utc(value: date | datetime) -> datetime:
    """An end as RFC 5545 stores it beside a zoned DTSTART: a UTC time. A date means the end
    of that day in Berlin; a time without offset is Berlin wall-clock time."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    return to_utc(value).replace(microsecond=0)


def ending_rule(rule: str, first_start: datetime) -> str:
    """The rule as stored: without ``RRULE:``, with ``COUNT`` or a UTC ``UNTIL`` not before
    the first start; raises ``InvalidRecurrence`` otherwise."""
    from icalendar import vRecur

    parsed = _parsed(rule)
    has_count, has_until = "COUNT" in parsed, "UNTIL" in parsed
    if has_count and has_until:
        raise InvalidRecurrence("give COUNT or UNTIL, not both (RFC 5545)")
    if not has_count and not has_until:
        raise InvalidRecurrence(ENDS)
    if has_until:
        until = until_in_utc(parsed["UNTIL"][0])
        if until < to_utc(first_start):
            raise InvalidRecurrence(
                f"UNTIL ({to_berlin(until):%Y-%m-%d %H:%M}) is before the series' start "
                f"({to_berlin(first_start):%Y-%m-%d %H:%M})"
            )
        parsed["UNTIL"] = [until]
    return vRecur(parsed).to_ical().decode()


def with_end(rule: str, *, count: int | None = None, until: date | datetime | None = None) -> str:
    """The same rule with another end (exactly one of ``count`` and ``until``)."""
    from icalendar import vRecur

    if (count is None) == (until is None):
        raise InvalidRecurrence("give count or until")
    parsed = _parsed(rule)
    parsed.pop("COUNT", None)
    parsed.pop("UNTIL", None)
    if count is not None:
        parsed["COUNT"] = [count]
    else:
        assert until is not None
        parsed["UNTIL"] = [until_in_utc(until)]
    return vRecur(parsed).to_ical().decode()


def occurrences(
    rule: str, first_start: datetime, *, exdates: AbstractSet[datetime] = frozenset()
) -> list[datetime]:
    """Start times (UTC) of an ending series: the RRULE expanded in Berlin wall-clock time, so
    a meeting at 18:00 stays at 18:00 across daylight-saving changes; ``exdates`` left out
    (as in RFC 5545, ``COUNT`` counts them)."""
    from dateutil.rrule import rrulestr

    text = ending_rule(rule, first_start)
    starts: list[datetime] = []
    try:
        for moment in rrulestr(text, dtstart=to_berlin(first_start), forceset=False):
            starts.append(moment.astimezone(UTC))
            if len(starts) > MAX_OCCURRENCES:
                break
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidRecurrence(str(error) or "invalid RRULE") from error
    if len(starts) > MAX_OCCURRENCES:
        raise InvalidRecurrence(f"the rule yields more than {MAX_OCCURRENCES} occurrences; let it end sooner")
    result = [moment for moment in starts if moment not in exdates]
    if not result:
        raise InvalidRecurrence("the rule yields no occurrence")
    return result


def describe_end(rule: str) -> tuple[int | None, datetime | None]:
    """``(count, until)`` of a stored rule (until in Berlin time)."""
    parsed = _parsed(rule)
    count = int(parsed["COUNT"][0]) if "COUNT" in parsed else None
    until = to_berlin(until_in_utc(parsed["UNTIL"][0])) if "UNTIL" in parsed else None
    return count, until
