"""API schemas of the reporting service."""

from datetime import datetime

from pydantic import BaseModel


class IndicatorValue(BaseModel):
    region: str
    value: float
    by_district: dict[str, float] = {}


class Indicator(BaseModel):
    id: str
    label: str
    definition: str
    unit: str
    source_events: list[str]
    values: list[IndicatorValue]


class IndicatorReport(BaseModel):
    as_of: datetime
    indicators: list[Indicator]
    freshness: dict[str, datetime | None]
