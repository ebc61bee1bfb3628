"""Goals and measures: the region's own (entered over the API, kept by a rebuild) and the
projections of every region's goal and measure events (for the state overview)."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Text
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
    #: None in events announced before goals had an explicit direction (derived then)
    direction: Mapped[str | None] = mapped_column(String(20))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


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
    #: increase, decrease, keep_at_least or keep_at_most (None: a goal without target)
    direction: Mapped[str | None] = mapped_column(String(20))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: counts the goal's changes: its ETag (``If-Match`` on PATCH and DELETE)
    version: Mapped[int] = mapped_column(Integer, default=1)


class GoalChange(Base):
    """The audit trail of a goal: who changed which field when, from what to what (kept after
    the goal is deleted; a deletion is one row with field ``*``)."""

    __tablename__ = "goal_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(REGION)
    goal_id: Mapped[str] = mapped_column(ID, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the editor's subject (user id) from the token
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class MeasureRow(Base):
    """A measure (Maßnahme) that serves a goal: who is responsible, who takes part, when, what."""

    __tablename__ = "measures"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    region: Mapped[str] = mapped_column(REGION, index=True)
    goal_id: Mapped[str] = mapped_column(ID, index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_actor_id: Mapped[str | None] = mapped_column(ID)
    #: every responsible actor (the first is ``responsible_actor_id``)
    responsible_actor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    involved_actor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    milestones: Mapped[list[dict]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    resources_needed: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: a recommendation addressed to another institution (e.g. the Landkreis, a ministry)
    recommendation_to: Mapped[str | None] = mapped_column(String(300))
    recommendation: Mapped[str | None] = mapped_column(Text)
    #: the gatherings (event ids) and agreements (agreement ids) that implement the measure
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    agreement_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
