"""API models of search: the query, a programme as read, a page of hits with facets."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_funding.catalogue.schemas import Level
from nzr_funding.deadlines.schemas import DeadlineRead

#: Orders of the catalogue search: ``relevance`` (the text score; only with ``q``), ``deadline``
#: (open programmes first, then the nearest next deadline), ``name``, ``-name``; ties are broken
#: by name and id.
ProgrammeSort = Literal["relevance", "deadline", "name", "-name"]


class SearchQuery(BaseModel):
    """A search as saved: text and filters (the same names as the search parameters)."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=300)
    funding_type: list[str] = []
    area: list[str] = []
    territory: list[str] = []
    eligible: list[str] = []
    level: list[str] = []
    topic: list[str] = []
    state: list[str] = []
    open_now: bool = False
    deadline_before: date | None = None
    amount_min: float | None = Field(None, ge=0)
    amount_max: float | None = Field(None, ge=0)
    district: str | None = Field(None, description="AGS of a Saxon district the programme must fund in")


class ProgrammeRead(BaseModel):
    id: str
    revision: int
    name: str
    funder: str
    level: Level
    region: str
    territories: list[str]
    districts: list[str]
    districts_exhaustive: bool
    funding_types: list[str]
    areas: list[str]
    eligible: list[str]
    topics: list[str]
    summary: str
    amount_min_eur: float | None
    amount_max_eur: float | None
    funding_rate_percent: float | None
    deadline: DeadlineRead
    url: str | None
    source_url: str | None = Field(description="Where the facts were checked")
    additional_sources: list[str]
    verified_on: date | None
    taxonomy_source: str | None
    notes: str | None
    legal_forms: list[str] = Field([], description="Legal forms an applicant must have (empty: none named)")


class ProgrammeHit(BaseModel):
    score: float
    programme: ProgrammeRead


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class ProgrammePage(BaseModel):
    """A page of the search (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[ProgrammeHit]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
    as_of: date
    facets: dict[str, list[FacetCount]] = Field(
        description="Per filter dimension the number of hits each value would give "
        "(the dimension's own selection left out)"
    )
