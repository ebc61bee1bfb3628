"""RFC 5545 calendars of public events, built with the icalendar library.

UIDs are stable (event id + region, the same UID the participants' mailed ``.ics`` carries),
SEQUENCE is the event's ``sequence`` (raised on every change of time, place or sessions and on
cancellation, as in the mails) so subscribed clients take updates, cancelled events carry
``STATUS:CANCELLED``, times are in Europe/Berlin with a VTIMEZONE, and a series appears as one
VEVENT with its ending RRULE plus one EXDATE per cancelled occurrence and one overriding VEVENT
(RECURRENCE-ID) per occurrence that differs from the rule. A programme's sessions are listed in
the event's DESCRIPTION: every calendar app shows that, while separate VEVENTs linked by
RELATED-TO are shown by few and clutter the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icalendar import Calendar, Event

from nzr_events.times import to_berlin

PRODID = "-//Netzwerk Zukunft Regional//events//DE"
STATUS = {"published": "CONFIRMED", "completed": "CONFIRMED", "cancelled": "CANCELLED"}


@dataclass(frozen=True)
class SeriesInfo:
    """A series as its master VEVENT shows it; ``starts`` are the dates its rule yields (UTC)."""

    uid: str
    rule: str
    first_start: datetime
    duration: timedelta
    exdates: frozenset[datetime]
    title: str
    starts: frozenset[datetime]
    sequence: int


@dataclass(frozen=True)
class ProgrammeItem:
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None = None


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
    programme: list[ProgrammeItem] = field(default_factory=list)


def description_with_programme(description: str | None, programme: list[ProgrammeItem]) -> str | None:
    """The event's description followed by its programme, one session a line in Berlin time."""
    if not programme:
        return description
    lines = ["Programm:"]
    for item in sorted(programme, key=lambda i: (i.starts_at, i.title)):
        start, end = to_berlin(item.starts_at), to_berlin(item.ends_at)
        room = f" ({item.room})" if item.room else ""
        lines.append(f"{start:%H:%M}–{end:%H:%M} {item.title}{room}")
    return "\n\n".join(p for p in (description, "\n".join(lines)) if p)


def _vevent(
    uid: str, title: str, starts_at: datetime, ends_at: datetime, *, sequence: int, stamp: datetime
) -> Event:
    from icalendar import Event  # with the first feed: an idle service does without (issue #20)

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", title)
    event.add("dtstart", to_berlin(starts_at))
    event.add("dtend", to_berlin(ends_at))
    event.add("sequence", sequence)
    return event


def _fill(event: Event, entry: CalendarEntry) -> None:
    description = description_with_programme(entry.description, entry.programme)
    if description:
        event.add("description", description)
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
    from icalendar import Calendar

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
        _add_series(calendar, series[series_id], occurrences)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _add_series(calendar: Calendar, info: SeriesInfo, occurrences: list[CalendarEntry]) -> None:
    """The master VEVENT (RRULE, EXDATEs of excepted and cancelled dates) and its overrides."""
    master = _vevent(
        info.uid,
        info.title,
        info.first_start,
        info.first_start + info.duration,
        sequence=info.sequence,
        stamp=max(o.updated_at for o in occurrences),
    )
    _fill(master, occurrences[0])
    master["status"] = "CONFIRMED"
    from icalendar import vRecur

    master.add("rrule", vRecur.from_ical(info.rule))
    original = {id(o): o.occurrence_starts_at or o.starts_at for o in occurrences}
    cancelled = {original[id(o)] for o in occurrences if o.status == "cancelled"}
    excluded = (set(info.exdates) | cancelled) & info.starts
    if excluded:
        master.add("exdate", [to_berlin(d) for d in sorted(excluded)])
    calendar.add_component(master)
    for entry in occurrences:
        start = original[id(entry)]
        if entry.status == "cancelled" or start in excluded:
            continue
        if start not in info.starts:
            # Not (or no longer) a date of the rule: an event of its own, so it is not lost.
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
            continue
        differs = (
            entry.starts_at != start
            or entry.ends_at - entry.starts_at != info.duration
            or entry.title != info.title
            or bool(entry.programme)
        )
        if not differs:
            continue
        override = _vevent(
            info.uid,
            entry.title,
            entry.starts_at,
            entry.ends_at,
            sequence=entry.sequence,
            stamp=entry.updated_at,
        )
        override.add("recurrence-id", to_berlin(start))
        _fill(override, entry)
        calendar.add_component(override)
