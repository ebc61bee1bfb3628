"""Table of series."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_events.tables import Base


class SeriesRow(Base):
    """A recurring meeting: the template of its occurrences and its RFC 5545 rule."""

    __tablename__ = "series"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(40))
    rrule: Mapped[str] = mapped_column(String(500))
    first_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
