"""API models of saved searches and their alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_funding.search.schemas import SearchQuery

#: Orders of a member's saved searches (``-`` descending); ties are broken by id.
SavedSearchSort = Literal["created_at", "-created_at", "name", "-name"]
#: Orders of a saved search's alerts (``-`` descending; no programme name sorts last); ties are
#: broken by id, the order alerts were raised in.
AlertSort = Literal["created_at", "-created_at", "programme_name", "-programme_name"]


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


class SavedSearchPage(BaseModel):
    """A page of saved searches (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[SavedSearchRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class AlertPage(BaseModel):
    """A page of alerts (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[AlertRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
