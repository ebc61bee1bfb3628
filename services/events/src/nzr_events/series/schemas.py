"""API models of series."""

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.contracts.events import EventFormat
from nzr_common.params import PlausibleDateTime
from nzr_events.gatherings.schemas import BerlinTime, EventRead, _EventFields


class SeriesCreate(_EventFields):
    rrule: str = Field(max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    exdates: list[PlausibleDateTime] = Field(
        default_factory=list, max_length=200, description="Start times of cancelled occurrences"
    )
    count: int = Field(default=26, ge=1, le=104, description="How many occurrences to schedule")
    publish: bool = False


class SeriesRead(BaseModel):
    id: str
    title: str
    format: EventFormat
    rrule: str
    exdates: list[BerlinTime]
    occurrences: list[EventRead]


class SeriesException(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: PlausibleDateTime = Field(description="Start of the occurrence that does not take place")
