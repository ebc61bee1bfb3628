"""Times of the events service: inputs without offset are wall-clock time in Europe/Berlin,
stored in UTC, shown in Berlin time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def to_utc(moment: datetime) -> datetime:
    """A moment in UTC; a naive input is wall-clock time in Europe/Berlin."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(UTC)


def to_berlin(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN)
