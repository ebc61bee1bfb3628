"""RFC 5545 calendars of public events, built with the icalendar library.

UIDs are stable (event id + region), SEQUENCE follows the event's version so subscribed
clients take updates, cancelled events carry ``STATUS:CANCELLED``, times are in Europe/Berlin
with a VTIMEZONE, and a series appears as one VEVENT with RRULE/EXDATE plus one overriding
VEVENT (RECURRENCE-ID) per occurrence that differs from the rule or was cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vRecur

from nzr_events.times import to_berlin

PRODID = "-//Netzwerk Zukunft Regional//events//DE"
STATUS = {"published": "CONFIRMED", "completed": "CONFIRMED", "cancelled": "CANCELLED"}

# (uid, rrule, first start, duration, exdates (ISO, UTC), title)
SeriesInfo = tuple[str, str, datetime, timedelta, list[str], str]


@dataclass
class CalendarEntry:
    uid: str
    title: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    location: str | None
    url: str | None
    status: str
    sequence: int
    updated_at: datetime
    categories: list[str] = field(default_factory=list)
    series_id: str | None = None
    occurrence_starts_at: datetime | None = None


def _vevent(
    uid: str, title: str, starts_at: datetime, ends_at: datetime, *, sequence: int, stamp: datetime
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", title)
    event.add("dtstart", to_berlin(starts_at))
    event.add("dtend", to_berlin(ends_at))
    event.add("sequence", sequence)
    return event


def _fill(event: Event, entry: CalendarEntry) -> None:
    if entry.description:
        event.add("description", entry.description)
    if entry.location:
        event.add("location", entry.location)
    if entry.url:
        event.add("url", entry.url)
    if entry.categories:
        event.add("categories", entry.categories)
    event.add("last-modified", entry.updated_at.astimezone(UTC))
    event.add("status", STATUS.get(entry.status, "TENTATIVE"))


def build_calendar(entries: list[CalendarEntry], *, series: dict[str, SeriesInfo]) -> bytes:
    """A VCALENDAR with VTIMEZONE for Europe/Berlin."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Netzwerk Zukunft Regional")
    calendar.add("x-wr-timezone", "Europe/Berlin")
    by_series: dict[str, list[CalendarEntry]] = {}
    for entry in entries:
        if entry.series_id and entry.series_id in series:
            by_series.setdefault(entry.series_id, []).append(entry)
            continue
        event = _vevent(
            entry.uid,
            entry.title,
            entry.starts_at,
            entry.ends_at,
            sequence=entry.sequence,
            stamp=entry.updated_at,
        )
        _fill(event, entry)
        calendar.add_component(event)
    for series_id, occurrences in by_series.items():
        uid, rule, first_start, duration, exdates, title = series[series_id]
        newest = max(o.updated_at for o in occurrences)
        master = _vevent(
            uid,
            title,
            first_start,
            first_start + duration,
            sequence=max(o.sequence for o in occurrences),
            stamp=newest,
        )
        _fill(master, occurrences[0])
        master["status"] = "CONFIRMED"
        master.add("rrule", vRecur.from_ical(rule))
        excluded = {datetime.fromisoformat(d) for d in exdates}
        if excluded:
            master.add("exdate", [to_berlin(d) for d in sorted(excluded)])
        calendar.add_component(master)
        for entry in occurrences:
            original = entry.occurrence_starts_at or entry.starts_at
            if original in excluded:
                continue
            differs = (
                entry.status == "cancelled"
                or entry.starts_at != original
                or entry.ends_at - entry.starts_at != duration
                or entry.title != title
            )
            if not differs:
                continue
            override = _vevent(
                uid,
                entry.title,
                entry.starts_at,
                entry.ends_at,
                sequence=entry.sequence,
                stamp=entry.updated_at,
            )
            override.add("recurrence-id", to_berlin(original))
            _fill(override, entry)
            calendar.add_component(override)
    calendar.add_missing_timezones()
    return calendar.to_ical()
