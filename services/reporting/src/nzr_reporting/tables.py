"""Projection tables of the reporting service, built only from events."""

from datetime import datetime

from nzr_common.db import UTCDateTime, new_metadata
from nzr_common.tables import add_messaging_tables
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata)


class ActorFact(Base):
    """One registered actor as the events told it (no names, no contacts)."""

    __tablename__ = "actor_facts"

    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), index=True)
    district: Mapped[str] = mapped_column(String(8), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RegionFreshness(Base):
    """When the last event of a region arrived (a silent region shows as stale, not as zero)."""

    __tablename__ = "region_freshness"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
