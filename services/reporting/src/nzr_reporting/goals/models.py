"""Goals and measures: the region's own (entered over the API, kept by a rebuild) and the
projections of every region's goal and measure events (for the state overview)."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_reporting.tables import ID, REGION, Base


class GoalFact(Base):
    """A region's goal as its ``GoalDefined`` announced it (the state sees every region's goals)."""

    __tablename__ = "goal_facts"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    goal_id: Mapped[str] = mapped_column(ID, primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    indicator_id: Mapped[str | None] = mapped_column(String(64))
    target_value: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    defined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the goal's district (AGS), or None for the whole region
    district: Mapped[str | None] = mapped_column(String(16))


class MeasureFact(Base):
    """A region's measure with the latest status its ``MeasureStatusChanged`` announced."""

    __tablename__ = "measure_facts"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    measure_id: Mapped[str] = mapped_column(ID, primary_key=True)
    goal_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GoalRow(Base):
    """A strategic or operative goal of a region's action plan, measured by one indicator."""

    __tablename__ = "goals"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    region: Mapped[str] = mapped_column(REGION, index=True)
    level: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    parent_goal_id: Mapped[str | None] = mapped_column(ID)
    indicator_id: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(8))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    target_value: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeasureRow(Base):
    """A measure (Maßnahme) that serves a goal: who is responsible, who takes part, when, what."""

    __tablename__ = "measures"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    region: Mapped[str] = mapped_column(REGION, index=True)
    goal_id: Mapped[str] = mapped_column(ID, index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_actor_id: Mapped[str | None] = mapped_column(ID)
    involved_actor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    milestones: Mapped[list[dict]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    resources_needed: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
