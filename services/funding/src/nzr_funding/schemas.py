"""API schemas of the funding service (never the tables)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nzr_common.nul import refuse_nul
from nzr_common.problems import InvalidParam

Level = Literal["bund", "land", "eu", "stiftung"]
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,119}$"


class ProgrammeRecord(BaseModel):
    """One programme in the seed format (``foerderprogramme.json``); also the CSV columns.

    ``deadline`` is the source's text ("laufend bis 31.12.2027", "jährlich 30.06.") or a
    structured deadline (``{"kind": "recurring", "yearly": ["06-30"]}``). ``territories``
    (Fördergebiet keys) and ``districts`` (AGS codes) are derived from ``region`` when absent.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return refuse_nul(value)  # CSV cells come here unchecked; PostgreSQL cannot store U+0000

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=500)
    funder: str = Field(min_length=1, max_length=500)
    level: Level
    region: str = Field(min_length=1, max_length=500)
    funding_types: list[str] = []
    areas: list[str] = []
    eligible: list[str] = []
    topics: list[str] = []
    summary: str = Field("", max_length=5000)
    amount_min_eur: float | None = None
    amount_max_eur: float | None = None
    funding_rate_percent: float | None = None
    deadline: str | dict[str, Any] | None = None
    url: str | None = Field(None, max_length=1000)
    source_url: str | None = Field(None, max_length=1000)
    additional_sources: list[str] = []
    verified_on: date | None = None
    taxonomy_source: Literal["foerderdatenbank", "eigene_zuordnung"] | None = None
    notes: str | None = Field(None, max_length=5000)
    territories: list[str] | None = None
    districts: list[str] | None = None


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


class ProgrammeHit(BaseModel):
    score: float
    programme: ProgrammeRead


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class ProgrammePage(BaseModel):
    items: list[ProgrammeHit]
    total: int
    limit: int
    offset: int
    as_of: date
    facets: dict[str, list[FacetCount]] = Field(
        description="Per filter dimension the number of hits each value would give "
        "(the dimension's own selection left out)"
    )


class CatalogueChange(BaseModel):
    id: str
    revision: int
    outcome: Literal["created", "updated", "unchanged", "withdrawn"]


class RejectedRecord(BaseModel):
    index: int
    id: str | None
    problems: list[InvalidParam]


class ImportReport(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedRecord]
    programmes: list[CatalogueChange]


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


class Announcement(BaseModel):
    programme_id: str
    deadline: date
    threshold_days: int
    days_left: int


class DeadlineWatchReport(BaseModel):
    as_of: date
    announced: list[Announcement]


class TaxonomyValue(BaseModel):
    key: str
    label: str


class TaxonomyDimension(BaseModel):
    parameter: str
    label: str
    source: str
    values: list[TaxonomyValue]


class Taxonomy(BaseModel):
    source: dict[str, Any]
    dimensions: list[TaxonomyDimension]
