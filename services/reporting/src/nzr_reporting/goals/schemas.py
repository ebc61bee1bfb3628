"""API models of goals and measures, and of every region's goals side by side."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_reporting.state.schemas import (
    FreshnessRead,
)

GoalLevel = Literal["strategisch", "operativ"]


MeasureStatus = Literal["geplant", "laufend", "abgeschlossen", "ausgesetzt"]


Direction = Literal["increase", "decrease", "keep_at_least", "keep_at_most"]

#: Orders of the goals list: ``level`` (strategic goals first, then as defined), or by a field
#: (``-`` descending; goals without a target date last); ties are broken by id.
GoalSort = Literal["level", "title", "-title", "target_date", "-target_date", "created_at", "-created_at"]
#: Orders of the measures list (``-`` descending; measures without the date last); ties by id.
MeasureSort = Literal["start", "-start", "end", "-end", "title", "-title"]
#: Orders of a goal's history: oldest (``at``) or newest (``-at``) change first; ties in the
#: order the changes were recorded.
GoalChangeSort = Literal["at", "-at"]


DIRECTION_LABELS: dict[str, str] = {
    "increase": "steigern",
    "decrease": "senken",
    "keep_at_least": "mindestens halten",
    "keep_at_most": "höchstens halten",
}


class GoalCreate(BaseModel):
    """A goal; a measurable one (indicator, target value, target date) needs its direction. The
    baseline is the indicator's value on ``baseline_date`` (default: today) unless given."""

    model_config = ConfigDict(extra="forbid")

    level: GoalLevel
    title: str = Field(min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    parent_goal_id: str | None = None
    indicator_id: str | None = None
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    direction: Direction | None = None
    baseline_value: float | None = None
    baseline_date: date | None = None
    target_value: float | None = None
    target_date: date | None = None


class GoalUpdate(BaseModel):
    """Partial change of a goal (send ``If-Match`` with the ETag you read); ``null`` clears a field."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    parent_goal_id: str | None = None
    indicator_id: str | None = None
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    direction: Direction | None = None
    baseline_value: float | None = None
    baseline_date: date | None = None
    target_value: float | None = None
    target_date: date | None = None


class GoalRead(BaseModel):
    id: str
    region: str
    level: GoalLevel
    title: str
    description: str | None
    parent_goal_id: str | None
    indicator_id: str | None
    district: str | None
    direction: Direction | None
    direction_label: str | None = Field(description="the direction in German")
    baseline_value: float | None
    baseline_date: date | None
    target_value: float | None
    target_date: date | None
    created_at: datetime
    updated_at: datetime | None
    version: int


class GoalChangeRead(BaseModel):
    """One entry of a goal's audit trail: who changed which field when, old → new."""

    at: datetime
    actor: str
    field: str
    old: str | None
    new: str | None


class GoalPage(BaseModel):
    """A page of goals (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[GoalRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class GoalChangePage(BaseModel):
    """A page of a goal's history (``nzr_common.pagination``: follow ``next`` or ``Link``)."""

    items: list[GoalChangeRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class GoalProgress(BaseModel):
    goal_id: str
    title: str
    indicator_id: str
    unit: str
    as_of: date
    direction: Direction
    direction_label: str
    baseline_value: float | None
    baseline_date: date | None
    current_value: float | None
    target_value: float
    target_date: date
    percent_of_target: float | None = Field(description="share of the way from baseline to target")
    expected_percent: float | None = Field(description="share of the time from start to target date")
    on_track: bool
    state: Literal["erreicht", "im_plan", "gefaehrdet", "verfehlt", "ohne_daten"]
    measures: dict[str, int] = Field(default={}, description="measures of the goal by status")


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    due: date
    done: bool = False


ActorIds = list[Annotated[str, Field(min_length=1, max_length=64)]]


class MeasureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal_id: str
    title: str = Field(min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    responsible_actor_id: str | None = None
    responsible_actor_ids: ActorIds = Field(default_factory=list, max_length=50)
    involved_actor_ids: ActorIds = Field(default_factory=list, max_length=200)
    start: date | None = None
    end: date | None = None
    milestones: list[Milestone] = Field(default_factory=list, max_length=100)
    status: MeasureStatus = "geplant"
    resources_needed: list[str] = Field(default_factory=list, max_length=50)
    recommendation_to: str | None = Field(
        default=None, max_length=300, description="the institution a recommendation is addressed to"
    )
    recommendation: str | None = Field(default=None, max_length=10_000)
    event_ids: list[str] = Field(default_factory=list, max_length=200, description="implementing events")
    agreement_ids: list[str] = Field(
        default_factory=list, max_length=200, description="implementing agreements"
    )


class MeasureUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: MeasureStatus | None = None
    milestones: list[Milestone] | None = None
    end: date | None = None
    responsible_actor_ids: ActorIds | None = Field(default=None, max_length=50)
    resources_needed: list[str] | None = Field(default=None, max_length=50)
    recommendation_to: str | None = Field(default=None, max_length=300)
    recommendation: str | None = Field(default=None, max_length=10_000)
    event_ids: list[str] | None = Field(default=None, max_length=200)
    agreement_ids: list[str] | None = Field(default=None, max_length=200)


class MeasureRead(BaseModel):
    id: str
    region: str
    goal_id: str
    title: str
    description: str | None
    responsible_actor_id: str | None
    responsible_actor_ids: list[str]
    involved_actor_ids: list[str]
    start: date | None
    end: date | None
    milestones: list[Milestone]
    status: MeasureStatus
    resources_needed: list[str]
    recommendation_to: str | None
    recommendation: str | None
    event_ids: list[str]
    agreement_ids: list[str]
    updated_at: datetime


class MeasurePage(BaseModel):
    """A page of measures (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[MeasureRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class RegionGoal(BaseModel):
    """One goal of a region as its events announced it, with its progress as of the day."""

    goal_id: str
    level: GoalLevel
    title: str
    indicator_id: str | None
    district: str | None = Field(None, description="AGS code: the goal is measured in this district")
    unit: str | None
    defined_at: datetime
    direction: Direction | None
    baseline_value: float | None = Field(description="the indicator's value on the goal's baseline date")
    current_value: float | None
    target_value: float | None
    target_date: date | None
    percent_of_target: float | None
    expected_percent: float | None
    on_track: bool | None = Field(description="null: the goal has no measurable target")
    state: Literal["erreicht", "im_plan", "gefaehrdet", "verfehlt", "ohne_daten"] | None
    measures: dict[str, int] = Field(default={}, description="measures of the goal by status")


class RegionGoals(BaseModel):
    region: str
    goals: list[RegionGoal]
    measurable: int = Field(description="goals with indicator, target value and target date")
    on_track: int = Field(description="measurable goals reached or on track")
    on_track_rank: int | None = Field(description="rank by the share of measurable goals on track")
    freshness: FreshnessRead


class GoalsOverview(BaseModel):
    as_of: date
    regions: list[RegionGoals]
