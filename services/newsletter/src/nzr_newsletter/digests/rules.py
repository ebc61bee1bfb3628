"""Digest rules: when a list's digest is due and which items it lists (pure, no I/O)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: Digests speak the region's local time.
LOCAL = ZoneInfo("Europe/Berlin")
_WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")


def is_due(*, last_digest_at: datetime | None, now: datetime, interval: timedelta, force: bool) -> bool:
    """Due when forced, never sent, or the interval has passed since the last one."""
    return force or not last_digest_at or now - last_digest_at >= interval


def fits_topic(list_topic: str | None, item_topics: list[str] | None) -> bool:
    """An item belongs in a list's digest unless both have topics and the list's is not among
    the item's."""
    return not list_topic or not item_topics or list_topic in item_topics


def place_of(venue_name: str | None, venue_address: str | None, district_name: str | None) -> str | None:
    """Where it takes place as one line: the venue and its address, else the district."""
    venue = ", ".join(part.strip() for part in (venue_name, venue_address) if part and part.strip())
    return venue or district_name


def when(moment: datetime, *, with_time: bool) -> str:
    """German date (and time) in the region's time: ``Do., 14.01.2027, 18:00 Uhr``."""
    local = moment.astimezone(LOCAL)
    day = f"{_WEEKDAYS[local.weekday()]}, {local:%d.%m.%Y}"
    return f"{day}, {local:%H:%M} Uhr" if with_time else day
