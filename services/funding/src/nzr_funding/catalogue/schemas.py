"""API models of the catalogue: records, changes, imports and the taxonomy."""

from __future__ import annotations

from datetime import date
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
    #: Legal forms required (ev, ggmbh, …); read from the summary and notes when absent.
    legal_forms: list[str] | None = None


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
