"""API models of deadlines: a programme's deadline state and the watch's report."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class DeadlineRead(BaseModel):
    kind: Literal["fixed", "rolling", "recurring", "unknown"]
    dates: list[date] = []
    yearly: list[str] = Field([], description="Days of the year, MM-DD")
    opens: date | None = None
    until: date | None = None
    text: str | None = Field(None, description="The source's wording")
    state: Literal["open", "upcoming", "closed", "unknown"]
    next_deadline: date | None = None
    days_left: int | None = None


class Announcement(BaseModel):
    programme_id: str
    deadline: date
    threshold_days: int
    days_left: int


class DeadlineWatchReport(BaseModel):
    as_of: date
    announced: list[Announcement]
