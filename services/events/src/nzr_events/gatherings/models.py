"""Table of gatherings (an event is also one occurrence of a series)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_events.tables import Base


class EventRow(Base):
    """A gathering; also one occurrence of a series. Counters change only under the row lock."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_listing", "status", "district", "starts_at"),
        Index("ix_events_status_starts", "status", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    series_id: Mapped[str | None] = mapped_column(ForeignKey("series.id"), index=True)
    occurrence_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    venue_name: Mapped[str | None] = mapped_column(String(300))
    venue_address: Mapped[str | None] = mapped_column(String(500))
    district: Mapped[str | None] = mapped_column(String(8))
    online_url: Mapped[str | None] = mapped_column(String(500))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "|klima|energie|": a portable way to filter by topic with LIKE on both databases.
    topic_tags: Mapped[str] = mapped_column(String(2000), default="|")
    organiser_actor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fee_note: Mapped[str | None] = mapped_column(String(500))
    accessibility: Mapped[str | None] = mapped_column(Text)
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    waiting_count: Mapped[int] = mapped_column(Integer, default=0)
    attended_count: Mapped[int] = mapped_column(Integer, default=0)
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # iCalendar SEQUENCE: grows with every change of time, place or programme participants are
    # told of, so calendars replace the entry instead of adding one.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The reminder goes out this many days before the start (None: no reminder).
    reminder_days: Mapped[int | None] = mapped_column(Integer, default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
