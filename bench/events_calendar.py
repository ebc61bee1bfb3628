"""The iCalendar feed's document, next to a baseline measured in the same run.

Ours: ``calendar.rules.build_calendar`` for E single events (each with a programme of S
sessions listed in its DESCRIPTION) and K series of 10 occurrences (each with one cancelled
date as EXDATE and one moved date as a RECURRENCE-ID override), including the expansion of each
series' ending RRULE (``series.rules.occurrences``) that decides its EXDATEs — what
``GET /api/v1/events.ics`` computes after its database reads.
Baseline: a bare ``icalendar`` loop writing one minimal VEVENT (UID, DTSTAMP, SUMMARY, DTSTART,
DTEND) per event and per occurrence, and serialising the calendar.

No assertion: the figures are printed, exit code 0.
``.venv/bin/python bench/events_calendar.py --help``
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from nzr_events.calendar.rules import CalendarEntry, ProgrammeItem, SeriesInfo, build_calendar
from nzr_events.series.rules import occurrences
from nzr_events.times import to_berlin, to_utc

START = to_utc(datetime(2027, 1, 13, 18, 0))
RULE = "FREQ=MONTHLY;BYDAY=2WE;COUNT=10"


def _entries(events: int, sessions: int, series: int) -> tuple[list[CalendarEntry], list[tuple[str, str]]]:
    entries = []
    for i in range(events):
        start = START + timedelta(days=i % 300, hours=i % 5)
        programme = [
            ProgrammeItem(
                f"Werkstatt {j + 1}",
                start + timedelta(minutes=45 * j),
                start + timedelta(minutes=45 * j + 40),
                f"Raum {j + 1}",
            )
            for j in range(sessions)
        ]
        entries.append(
            CalendarEntry(
                uid=f"event-{i}@bench.nzr",
                title=f"Netzwerktreffen {i}",
                description="Austausch der Akteure im Landkreis, mit Imbiss.",
                starts_at=start,
                ends_at=start + timedelta(hours=4),
                location="Bürgerhaus, Markt 1, 09111 Chemnitz",
                url=None,
                status="published",
                sequence=2,
                updated_at=START - timedelta(days=3),
                categories=["energie_klimaschutz"],
                programme=programme,
            )
        )
    rules = []
    for k in range(series):
        series_id = f"s{k}"
        rules.append((series_id, RULE))
        for n, start in enumerate(occurrences(RULE, START)):
            moved = n == 5
            entries.append(
                CalendarEntry(
                    uid=f"{series_id}-{n}@bench.nzr",
                    title="Initiativkreis Energiewende",
                    description=None,
                    starts_at=start + (timedelta(hours=1) if moved else timedelta()),
                    ends_at=start + timedelta(hours=3 if moved else 2),
                    location="Rathaus",
                    url=None,
                    status="cancelled" if n == 3 else "published",
                    sequence=1,
                    updated_at=START - timedelta(days=3),
                    series_id=series_id,
                    occurrence_starts_at=start,
                )
            )
    return entries, rules


def ours(entries: list[CalendarEntry], rules: list[tuple[str, str]]) -> bytes:
    infos = {
        series_id: SeriesInfo(
            uid=f"series-{series_id}@bench.nzr",
            rule=rule,
            first_start=START,
            duration=timedelta(hours=2),
            exdates=frozenset(),
            title="Initiativkreis Energiewende",
            starts=frozenset(occurrences(rule, START)),
            sequence=2,
        )
        for series_id, rule in rules
    }
    return build_calendar(entries, series=infos)


def baseline(entries: list[CalendarEntry]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//bench//DE")
    calendar.add("version", "2.0")
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.updated_at.astimezone(UTC))
        event.add("summary", entry.title)
        event.add("dtstart", to_berlin(entry.starts_at))
        event.add("dtend", to_berlin(entry.ends_at))
        calendar.add_component(event)
    return calendar.to_ical()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    entries, rules = _entries(args.events, args.sessions, args.series)
    print(
        f"iCalendar feed document: {args.events} events with {args.sessions} sessions each, "
        f"{args.series} series of 10 dates (1 cancelled, 1 moved); median of {args.runs}"
    )
    plain = [dataclasses.replace(e, programme=[]) for e in entries]
    timings: dict[str, list[float]] = {"ours": [], "baseline": [], "no_programme": []}
    for run in range(args.runs):
        began = time.perf_counter()
        document = ours(entries, rules)
        timings["ours"].append(time.perf_counter() - began)
        began = time.perf_counter()
        ours(plain, rules)
        timings["no_programme"].append(time.perf_counter() - began)
        began = time.perf_counter()
        bare = baseline(entries)
        timings["baseline"].append(time.perf_counter() - began)
        ms = {name: values[-1] * 1000 for name, values in timings.items()}
        print(
            f"   run {run + 1}: ours {ms['ours']:.0f} ms ({len(document) / 1024:.0f} KiB, "
            f"{document.count(b'BEGIN:VEVENT')} VEVENTs; without programmes {ms['no_programme']:.0f} ms), "
            f"bare icalendar {ms['baseline']:.0f} ms ({len(bare) / 1024:.0f} KiB, "
            f"{bare.count(b'BEGIN:VEVENT')} VEVENTs)"
        )
    mine, base = statistics.median(timings["ours"]), statistics.median(timings["baseline"])
    without = statistics.median(timings["no_programme"])
    print(
        f"   median ours {mine * 1000:.0f} ms (without programmes {without * 1000:.0f} ms), "
        f"bare icalendar {base * 1000:.0f} ms, ratio {mine / base:.2f}x"
    )


if __name__ == "__main__":
    main()
