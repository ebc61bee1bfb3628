"""API models of series."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.contracts.events import EventFormat
from nzr_common.params import PlausibleDateTime
from nzr_events.gatherings.schemas import BerlinTime, EventRead, _EventFields


class SeriesCreate(_EventFields):
    rrule: str = Field(
        max_length=500,
        description="RFC 5545 RRULE that ends (COUNT or UNTIL), e.g. FREQ=MONTHLY;BYDAY=2WE;COUNT=10 "
        "or FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20271215 (a date: that whole day, Berlin time)",
    )
    exdates: list[PlausibleDateTime] = Field(
        default_factory=list, max_length=200, description="Start times of cancelled occurrences"
    )
    publish: bool = False


class SeriesEndUpdate(BaseModel):
    """A new end of the series: exactly one of ``count`` and ``until``."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(default=None, ge=1, le=104, description="Number of occurrences (RRULE COUNT)")
    until: date | datetime | None = Field(
        default=None,
        description="Last day (Berlin time, inclusive) or last start time of the series (RRULE UNTIL)",
    )


class SeriesRead(BaseModel):
    id: str
    title: str
    format: EventFormat
    rrule: str
    count: int | None = Field(description="The rule's COUNT, if it ends after a number of occurrences")
    until: BerlinTime | None = Field(description="The rule's UNTIL, if it ends at a time")
    exdates: list[BerlinTime]
    occurrences: list[EventRead]


class SeriesException(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: PlausibleDateTime = Field(description="Start of the occurrence that does not take place")
