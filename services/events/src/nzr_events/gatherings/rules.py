"""Pure rules of gatherings: times, the registration window's place, seats, participants.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, NamedTuple

PUBLIC_STATUSES = ("published", "cancelled", "completed")


class Violation(NamedTuple):
    """A field that breaks a rule and why (a ``(field, message)`` pair, as the domain errors take)."""

    name: str
    reason: str


def check_event_times(
    starts_at: datetime, ends_at: datetime, opens_at: datetime | None, closes_at: datetime | None
) -> list[Violation]:
    """End after start; the registration window opens before it closes and before the end."""
    problems = []
    if ends_at <= starts_at:
        problems.append(Violation("ends_at", "must be after starts_at"))
    if opens_at and closes_at and closes_at <= opens_at:
        problems.append(Violation("registration_closes_at", "must be after registration_opens_at"))
    if closes_at and closes_at > ends_at:
        problems.append(Violation("registration_closes_at", "must not be after the event's end"))
    return problems


def has_seat(capacity: int | None, confirmed: int) -> bool:
    return capacity is None or confirmed < capacity


def seats_left(capacity: int | None, confirmed: int) -> int | None:
    return None if capacity is None else max(capacity - confirmed, 0)


def participants(confirmed: int, attended: int) -> int:
    """Participants of a completed event: those checked in, or the confirmed when nobody was."""
    return attended if attended else confirmed


def topic_tags(topics: list[str]) -> str:
    return "|" + "".join(f"{t.strip().lower()}|" for t in topics)


def check_region_district(district: str | None, region_districts: set[str]) -> list[Violation]:
    if district and region_districts and district not in region_districts:
        return [Violation("district", f"{district} is not a district of this region")]
    return []


def check_reminder(reminder_days: int | None) -> list[Violation]:
    """A reminder ``reminder_days`` before the start must fall before the start (None: none)."""
    if reminder_days is not None and reminder_days < 1:
        return [
            Violation(
                "reminder_days",
                f"a reminder {reminder_days} days before would fall at or after the event's start; "
                "use 1 or more days, or null for no reminder",
            )
        ]
    return []


def reminder_due(
    now: datetime, *, starts_at: datetime, reminder_days: int | None, registered_at: datetime
) -> bool:
    """Whether a confirmed registration's reminder is due now: its moment has come, the event
    has not started, and the registration is older than that moment (a later one had its
    confirmation close enough to the event)."""
    if reminder_days is None:
        return False
    moment = starts_at - timedelta(days=reminder_days)
    return moment <= now < starts_at and registered_at < moment


#: Fields whose change participants are told of, by what they change.
TIME_FIELDS = ("starts_at", "ends_at")
PLACE_FIELDS = ("venue_name", "venue_address", "online_url")


def noticeable_changes(before: dict[str, object], after: dict[str, object]) -> list[Literal["time", "place"]]:
    """``time`` and/or ``place`` when those fields differ between two states of an event."""
    changes: list[Literal["time", "place"]] = []
    if any(before.get(f) != after.get(f) for f in TIME_FIELDS):
        changes.append("time")
    if any(before.get(f) != after.get(f) for f in PLACE_FIELDS):
        changes.append("place")
    return changes
