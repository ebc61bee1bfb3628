"""API models of the state view: data freshness, the overview of all regions, the consumers' status."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class FreshnessRead(BaseModel):
    region: str
    last_event_at: datetime | None
    state: Literal["aktuell", "veraltet", "keine_daten"]
    age_minutes: float | None


class OverviewCell(BaseModel):
    region: str
    value: float | None
    rank: int | None


class OverviewRow(BaseModel):
    indicator_id: str
    label: str
    unit: str
    cells: list[OverviewCell]


class StateOverview(BaseModel):
    as_of: date
    regions: list[str]
    rows: list[OverviewRow]
    freshness: list[FreshnessRead]


class ConsumerStatus(BaseModel):
    consumer: str
    subject: str
    handled: int
    duplicates: int
    ignored_unknown_types: int
    dead_lettered: int
    retried: int


class ReportingStatus(BaseModel):
    mode: str
    region: str
    consumers: list[ConsumerStatus]
    ignored_unknown_types: int = Field(
        description="events of a type reporting does not know: skipped, counted once each, kept"
    )
    skipped_event_types: dict[str, int] = Field(default={}, description="skipped events by type")
