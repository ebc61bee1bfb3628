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
    certainty: Literal["fixed", "expected", "rolling", "unknown"] = Field(
        "fixed", description="expected: inferred from earlier rounds or a secondary source"
    )
    certainty_label: str = Field("", description="The certainty as people read it (Accept-Language)")
    state: Literal["open", "upcoming", "closed", "unknown"]
    next_deadline: date | None = None
    days_left: int | None = None


class Announcement(BaseModel):
    programme_id: str
    deadline: date
    threshold_days: int
    days_left: int
    certainty: Literal["fixed", "expected", "rolling", "unknown"] = "fixed"
    certainty_label: str = ""
    already_announced: bool = Field(False, description="Preview: the scheduled run announced it before")


class DeadlineWatchReport(BaseModel):
    as_of: date
    preview: bool = Field(description="True: nothing was announced; the list says what would be")
    announced: list[Announcement]
