"""What a report covers (regions, districts, staleness) and the cache of computed reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nzr_common.regions import District
from nzr_reporting.indicators.schemas import (
    Indicator,
)


@dataclass
class Scope:
    """Which regions a request covers and where their population figures come from."""

    regions: list[str]
    districts: dict[str, District]
    own_region_districts: dict[str, District] | None = None
    stale_after: timedelta = timedelta(hours=1)
    cache: ReportCache | None = None


class ReportCache:
    """Computed indicator lists by (projection version, regions, day): reused until the
    projections change, so dashboards and the state overview cost one small query."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: dict[tuple[Any, ...], list[Indicator]] = {}

    def get(self, key: tuple[Any, ...]) -> list[Indicator] | None:
        return self._entries.get(key)

    def put(self, key: tuple[Any, ...], value: list[Indicator]) -> None:
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = value
