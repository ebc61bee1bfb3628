"""API models of matching: a profile and the explained ranking."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MatchRequest(BaseModel):
    """Match an actor of the region (``actor_id``) or an ad-hoc profile."""

    model_config = ConfigDict(extra="forbid")

    actor_id: str | None = None
    kind: str | None = None
    district: str | None = Field(None, pattern=r"^\d{8}$")
    topics: list[str] = []
    amount_needed_eur: float | None = Field(None, gt=0)
    own_share_available_eur: float | None = Field(None, ge=0)
    preparation_days: int = Field(14, ge=0, le=365)
    as_of: date | None = None
    limit: int = Field(20, ge=1, le=200)
    include_excluded: bool = True


class CriterionRead(BaseModel):
    name: Literal["eligibility", "region", "topic", "amount", "own_share", "deadline"]
    status: Literal["met", "not_met", "unknown"]
    hard: bool
    reason: str


class MatchItem(BaseModel):
    programme_id: str
    name: str
    fit: Literal["fits", "check", "excluded"]
    score: float
    criteria: list[CriterionRead]
    url: str | None
    deadline_state: str
    next_deadline: date | None


class MatchResult(BaseModel):
    match_id: str
    as_of: date
    actor_id: str | None
    kind: str | None
    district: str | None
    topics: list[str]
    counts: dict[str, int]
    items: list[MatchItem]
