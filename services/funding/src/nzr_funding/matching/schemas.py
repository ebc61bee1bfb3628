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
    legal_form: str | None = Field(
        None, description="ev, ggmbh, gmbh, ug, eg, stiftung, kdoer, gbr, einzelunternehmen, keine"
    )
    district: str | None = Field(None, description="AGS of a Saxon district")
    topics: list[str] = []
    amount_needed_eur: float | None = Field(None, gt=0)
    own_share_available_eur: float | None = Field(None, ge=0)
    preparation_days: int = Field(14, ge=0, le=365)
    as_of: date | None = None
    limit: int = Field(20, ge=1, le=200)
    include_excluded: bool = True


class CriterionRead(BaseModel):
    name: Literal["eligibility", "legal_form", "region", "topic", "amount", "own_share", "deadline"]
    label: str = Field(description="The criterion as people read it (Accept-Language)")
    status: Literal["met", "not_met", "unknown"]
    status_label: str = Field(description="erfüllt / nicht erfüllt / unbekannt (or English)")
    hard: bool
    reason: str


class MatchItem(BaseModel):
    programme_id: str
    name: str
    fit: Literal["fits", "check", "excluded"]
    score: float
    criteria: list[CriterionRead]
    fit_label: str
    url: str | None
    deadline_state: str
    next_deadline: date | None
    deadline_certainty: Literal["fixed", "expected", "rolling", "unknown"]
    deadline_certainty_label: str


class MatchResult(BaseModel):
    match_id: str
    as_of: date
    actor_id: str | None
    kind: str | None
    legal_form: str | None
    district: str | None
    topics: list[str]
    counts: dict[str, int]
    items: list[MatchItem]
