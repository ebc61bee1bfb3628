"""API models of the indicators: definitions, values, reports and monthly series."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from nzr_reporting.state.schemas import (
    FreshnessRead,
)

Breakdown = Literal["district", "kind", "sector", "topic", "format", "status", "target_group"]


class IndicatorDefinitionRead(BaseModel):
    id: str
    label: str
    definition: str
    unit: str
    theme: str
    kind: Literal["bestand", "zugang", "anteil"]
    source_events: list[str]
    breakdowns: list[str]
    by_district: bool


class IndicatorValue(BaseModel):
    region: str
    value: float | None = Field(description="null: no event of this region has arrived yet")
    by_district: dict[str, float] = {}
    breakdown: dict[str, float] | None = None
    rank: int | None = None


class Indicator(IndicatorDefinitionRead):
    as_of: date
    breakdown_by: str | None = None
    population_source: str | None = None
    values: list[IndicatorValue]
    overall: float | None = Field(
        None,
        description="several regions: all of them together (counts summed; actor density as their "
        "actors over the population of all their districts, districts without actors included)",
    )


class IndicatorReport(BaseModel):
    as_of: date
    indicators: list[Indicator]
    freshness: dict[str, datetime | None]
    freshness_states: list[FreshnessRead] = []


class SeriesPoint(BaseModel):
    month: str = Field(description="YYYY-MM; the value as of the month's last day")
    value: float | None
    by_district: dict[str, float] = {}
    breakdown: dict[str, float] | None = None


class RegionSeries(BaseModel):
    region: str
    points: list[SeriesPoint]


class IndicatorSeries(IndicatorDefinitionRead):
    from_month: str
    to_month: str
    breakdown_by: str | None = None
    series: list[RegionSeries]
