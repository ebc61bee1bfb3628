"""Digest rules: when a list's digest is due and which items it lists (pure, no I/O)."""

from datetime import datetime, timedelta


def is_due(*, last_digest_at: datetime | None, now: datetime, interval: timedelta, force: bool) -> bool:
    """Due when forced, never sent, or the interval has passed since the last one."""
    return force or not last_digest_at or now - last_digest_at >= interval


def fits_topic(list_topic: str | None, item_topics: list[str] | None) -> bool:
    """An item belongs in a list's digest unless both have topics and the list's is not among
    the item's."""
    return not list_topic or not item_topics or list_topic in item_topics
