"""Pure rules of the state view: how fresh a region's data is. No I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

FreshnessState = Literal["aktuell", "veraltet", "keine_daten"]


def freshness_state(last_event_at: datetime | None, now: datetime, stale_after: timedelta) -> FreshnessState:
    """A region is stale when its last event is older than ``stale_after`` (never shown as zero)."""
    if last_event_at is None:
        return "keine_daten"
    return "veraltet" if now - last_event_at > stale_after else "aktuell"
