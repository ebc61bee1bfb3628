"""Pure rules of the programme: a session lies inside its event; parallel sessions.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from nzr_events.gatherings.rules import Violation
from nzr_events.times import to_berlin


def check_session_times(
    starts_at: datetime, ends_at: datetime, event_starts_at: datetime, event_ends_at: datetime
) -> list[Violation]:
    """A session ends after it starts and lies inside its event's time."""
    problems = []
    if ends_at <= starts_at:
        problems.append(Violation("ends_at", "must be after starts_at"))
    if starts_at < event_starts_at or ends_at > event_ends_at:
        problems.append(
            Violation(
                "starts_at",
                "the session must lie within the event's time "
                f"({to_berlin(event_starts_at):%d.%m.%Y %H:%M}–"
                f"{to_berlin(event_ends_at):%d.%m.%Y %H:%M})",
            )
        )
    return problems


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def parallel_choices(chosen: list[tuple[str, datetime, datetime]]) -> list[tuple[str, str]]:
    """Pairs of chosen sessions that run at the same time (one session per slot is allowed)."""
    clashes = []
    for i, (a, a_start, a_end) in enumerate(chosen):
        for b, b_start, b_end in chosen[i + 1 :]:
            if overlaps(a_start, a_end, b_start, b_end):
                clashes.append((a, b))
    return clashes


def session_changes(
    before: dict[str, object], after: dict[str, object]
) -> list[Literal["time", "place", "capacity"]]:
    """What participants of a session are told changed: its time, room (place) or capacity."""
    changes: list[Literal["time", "place", "capacity"]] = []
    if (before["starts_at"], before["ends_at"]) != (after["starts_at"], after["ends_at"]):
        changes.append("time")
    if before["room"] != after["room"]:
        changes.append("place")
    if before["capacity"] != after["capacity"]:
        changes.append("capacity")
    return changes


def check_session_capacity(capacity: int | None, confirmed: int) -> list[Violation]:
    """A session's capacity never drops below its confirmed participants."""
    if capacity is not None and capacity < confirmed:
        return [
            Violation("capacity", f"{confirmed} participants are confirmed; must be at least {confirmed}")
        ]
    return []


def time_slots(sessions: list[tuple[str, datetime, datetime]]) -> list[list[str]]:
    """Sessions grouped into time slots: overlapping sessions (directly or through another)
    share a slot; slots and the sessions in them in time order."""
    ordered = sorted(sessions, key=lambda s: (s[1], s[2], s[0]))
    slots: list[list[str]] = []
    slot_end: datetime | None = None
    for sid, starts, ends in ordered:
        if slot_end is not None and starts < slot_end:
            slots[-1].append(sid)
            slot_end = max(slot_end, ends)
        else:
            slots.append([sid])
            slot_end = ends
    return slots
