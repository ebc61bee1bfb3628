"""Tables of outcomes: agreements, their progress reports, recommendations, the known actors."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_events.tables import Base


class AgreementRow(Base):
    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    party_actor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    responsible_actor_id: Mapped[str | None] = mapped_column(String(36))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgressReportRow(Base):
    __tablename__ = "agreement_progress"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moved: Mapped[str | None] = mapped_column(Text)
    blocks: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))


class RecommendationRow(Base):
    __tablename__ = "recommendations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    addressee: Mapped[str | None] = mapped_column(String(300))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KnownActorRow(Base):
    """An actor of the region as the stream announced it (ActorRegistered/Updated/Removed):
    the parties of an agreement must be actors that exist."""

    __tablename__ = "known_actors"

    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
