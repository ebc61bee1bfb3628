"""API models of saved searches and their alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_funding.search.schemas import SearchQuery


class SavedSearchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    query: SearchQuery
    alerts: bool = True


class SavedSearchRead(BaseModel):
    id: str
    name: str
    query: SearchQuery
    alerts: bool
    created_at: datetime


class AlertRead(BaseModel):
    id: int
    saved_search_id: str
    programme_id: str
    programme_name: str | None
    revision: int
    change: Literal["published", "updated"]
    created_at: datetime
    deadline_certainty: Literal["fixed", "expected", "rolling", "unknown"] = "unknown"
    deadline_certainty_label: str = ""
