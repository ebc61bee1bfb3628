"""Pure rules of series: expanding the recurrence rule in Berlin wall-clock time.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime

from dateutil.rrule import rrulestr

from nzr_events.times import to_berlin, to_utc

MAX_OCCURRENCES = 104


class InvalidRecurrence(ValueError):
    """The recurrence rule is not valid RFC 5545 or yields no occurrence."""


def occurrences(
    rule: str,
    first_start: datetime,
    *,
    exdates: AbstractSet[datetime] = frozenset(),
    limit: int = MAX_OCCURRENCES,
) -> list[datetime]:
    """Start times (UTC) of a series: the RRULE expanded in Berlin wall-clock time, so a
    meeting at 18:00 stays at 18:00 across daylight-saving changes; ``exdates`` left out."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise InvalidRecurrence("give one RRULE value, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    local_start = to_berlin(first_start).replace(tzinfo=None)
    try:
        expanded = rrulestr(text, dtstart=local_start, forceset=False)
        starts = []
        for moment in expanded:
            starts.append(moment)
            if len(starts) >= limit:
                break
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidRecurrence(str(error) or "invalid RRULE") from error
    result = [to_utc(moment) for moment in starts]
    result = [moment for moment in result if moment not in exdates]
    if not result:
        raise InvalidRecurrence("the rule yields no occurrence")
    return result


def rrule_without_prefix(rule: str) -> str:
    text = rule.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text
