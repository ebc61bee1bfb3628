"""Events announced by the reporting service."""

from datetime import date, datetime
from typing import Literal

from nzr_common.contracts import subjects
from nzr_common.contracts.base import IntegrationEvent


class GoalDefined(IntegrationEvent):
    subject = subjects.GOAL_DEFINED
    goal_id: str
    level: Literal["strategisch", "operativ"]
    title: str
    indicator_id: str | None = None
    target_value: float | None = None
    target_date: date | None = None
    #: AGS code when the goal is measured in one district of the region (added later, optional:
    #: older events without it are goals of the whole region).
    district: str | None = None
    #: Added for action plans (optional: older events have none). The direction (increase,
    #: decrease, keep_at_least, keep_at_most), the dated baseline, the goal's version — a goal
    #: changed later is announced again with a higher version — and ``deleted`` for a goal an
    #: editor removed (announced once more, with the last version + 1).
    direction: Literal["increase", "decrease", "keep_at_least", "keep_at_most"] | None = None
    baseline_value: float | None = None
    baseline_date: date | None = None
    version: int = 1
    deleted: bool = False

    def aggregate_id(self) -> str:
        return self.goal_id


class MeasureStatusChanged(IntegrationEvent):
    subject = subjects.MEASURE_STATUS_CHANGED
    measure_id: str
    goal_id: str
    status: Literal["geplant", "laufend", "abgeschlossen", "ausgesetzt"]
    changed_at: datetime

    def aggregate_id(self) -> str:
        return self.measure_id


class RegionHeartbeat(IntegrationEvent):
    """A region is up and connected, even when nothing else happens: lets the state tell a
    quiet region from one whose link is down."""

    subject = subjects.REGION_HEARTBEAT
    region: str
    sent_at: datetime
    #: The AGS codes of the districts the region's network covers (added later, optional: the
    #: state computes densities over all of a region's districts, including those without actors).
    districts: list[str] = []

    def aggregate_id(self) -> str:
        return self.region
