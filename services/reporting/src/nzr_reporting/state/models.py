"""Projections about the regions themselves: each region's last event and the skipped
event types."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_reporting.tables import REGION, Base


class RegionFreshness(Base):
    """When the last event of a region happened (a silent region shows as stale, not as zero)."""

    __tablename__ = "region_freshness"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RegionCoverage(Base):
    """The districts a region's network covers, as its latest heartbeat told (state mode: the
    population a region's densities are computed over, districts without actors included)."""

    __tablename__ = "region_coverage"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SkippedEventType(Base):
    """How many events of a type reporting does not know were skipped (counted once per event
    through the inbox; rebuilt like the projections)."""

    __tablename__ = "skipped_event_types"

    event_type: Mapped[str] = mapped_column(String(200), primary_key=True)
    skipped: Mapped[int] = mapped_column(Integer)
    last_skipped_at: Mapped[datetime] = mapped_column(UTCDateTime())
