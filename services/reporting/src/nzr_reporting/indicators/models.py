"""Projection tables the indicators are computed from: facts built only from events (thrown
away and rebuilt by ``nzr reporting rebuild``), the daily and monthly summaries and the
projection version. Counts, codes and pseudonymous ids only, never names or e-mail addresses."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_reporting.goals.models import GoalFact, MeasureFact
from nzr_reporting.state.models import RegionCoverage, RegionFreshness, SkippedEventType
from nzr_reporting.tables import ID, REGION, Base


class ActorFact(Base):
    """One actor as the events told it; a row without ``registered_at`` is a placeholder for an
    update or removal that arrived before the registration."""

    __tablename__ = "actor_facts"
    # Covering index of the as-of and per-day sums (region, district, registration, removal).
    __table_args__ = (Index("ix_actor_facts_figures", "region", "district", "registered_on", "removed_on"),)

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    district: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str | None] = mapped_column(String(40))
    sector: Mapped[str | None] = mapped_column(String(40))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile_version: Mapped[int] = mapped_column(Integer, default=0)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registered_on: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)


class CooperationFact(Base):
    """A typed, dated cooperation between two actors (placeholder until it is recorded)."""

    __tablename__ = "cooperation_facts"
    __table_args__ = (
        Index("ix_cooperation_facts_figures", "region", "since", "until", "cross_sector"),
        # The cooperations of an actor and of a pair (summaries of pairs and education partners).
        Index("ix_cooperation_facts_actor_a", "region", "actor_a", "actor_b"),
        Index("ix_cooperation_facts_actor_b", "region", "actor_b"),
    )

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    cooperation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    actor_a: Mapped[str | None] = mapped_column(ID)
    actor_b: Mapped[str | None] = mapped_column(ID)
    cooperation_type: Mapped[str | None] = mapped_column(String(80))
    cross_sector: Mapped[bool | None] = mapped_column(Boolean)
    origin_agreement_id: Mapped[str | None] = mapped_column(ID)
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)


class GatheringFact(Base):
    """A gathering (event) with its format, place and participant counts."""

    __tablename__ = "gathering_facts"
    __table_args__ = (Index("ix_gathering_facts_figures", "region", "completed_on", "district", "format"),)

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    format: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(8))
    starts_on: Mapped[date | None] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    participants: Mapped[int | None] = mapped_column(Integer)
    attended: Mapped[int | None] = mapped_column(Integer)
    #: education for sustainable development: the event's topics include ``bne`` (None: unknown)
    bne: Mapped[bool | None] = mapped_column(Boolean)
    #: attendance counts by target group (schueler, lehrkraefte, erwachsene, multiplikatoren)
    by_target_group: Mapped[dict[str, int] | None] = mapped_column(JSON)


def held_on(gathering: Any) -> Any:
    """The day a completed gathering counts on: the day it started (its own date), else — for
    events completed before ``EventCompleted`` carried the start — the day it was completed."""
    return func.coalesce(gathering.starts_on, gathering.completed_on)


#: the topic code that marks education for sustainable development (Bildung für nachhaltige
#: Entwicklung) on actors and events
BNE_TOPIC = "bne"

#: the actor kind of education institutions (schools, Kitas, adult education, universities)
EDUCATION_KIND = "bildungseinrichtung"


class AgreementFact(Base):
    """An agreement reached at a gathering (who does what by when), counted by status."""

    __tablename__ = "agreement_facts"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ID, primary_key=True)
    event_id: Mapped[str | None] = mapped_column(ID)
    parties: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    initial_status: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgreementStatusChange(Base):
    """A status an agreement changed to at ``at`` (the status it was recorded with is on the fact)."""

    __tablename__ = "agreement_status_history"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))


class RecommendationFact(Base):
    __tablename__ = "recommendation_facts"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    recommendation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(ID)
    recorded_on: Mapped[date] = mapped_column(Date)


class ListReachSnapshot(Base):
    """Confirmed subscribers of a mailing list, the latest figure of each day (counts only)."""

    __tablename__ = "list_reach_daily"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    list_id: Mapped[str] = mapped_column(ID, primary_key=True)
    on_date: Mapped[date] = mapped_column(Date, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_subscribers: Mapped[int] = mapped_column(Integer)


class CampaignFact(Base):
    __tablename__ = "campaign_facts"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ID, primary_key=True)
    recipients: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    bounced: Mapped[int] = mapped_column(Integer)
    finished_on: Mapped[date] = mapped_column(Date)


class FundingSearchFact(Base):
    __tablename__ = "funding_search_facts"
    __table_args__ = (Index("ix_funding_search_facts_figures", "region", "performed_on"),)

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    search_id: Mapped[str] = mapped_column(ID, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    performed_on: Mapped[date] = mapped_column(Date)


class FundingMatchFact(Base):
    __tablename__ = "funding_match_facts"
    __table_args__ = (Index("ix_funding_match_facts_figures", "region", "district", "performed_on"),)

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    match_id: Mapped[str] = mapped_column(ID, primary_key=True)
    district: Mapped[str | None] = mapped_column(String(8))
    programmes_fully_met: Mapped[int] = mapped_column(Integer)
    performed_on: Mapped[date] = mapped_column(Date)


class DailyFigure(Base):
    """The net contribution of one day to a figure of a region (by district and key; ``""``
    stands for none): +1 actor registered, −1 removed, +12 participants, … Maintained in the
    transaction that changes the projections, so a stock as of a day is one indexed sum."""

    __tablename__ = "daily_figures"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    district: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    amount: Mapped[float] = mapped_column(Float)


class MonthlyFigure(Base):
    """The same contributions summed per month (``month`` is its first day): the state overview
    reads whole months here and only the reference day's own month from ``daily_figures``."""

    __tablename__ = "monthly_figures"

    region: Mapped[str] = mapped_column(REGION, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    district: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    amount: Mapped[float] = mapped_column(Float)


class ProjectionVersion(Base):
    """Counts every committed change of the projections, so computed reports can be reused
    until the next change."""

    __tablename__ = "projection_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


PROJECTION_TABLES = [
    ActorFact,
    CooperationFact,
    GatheringFact,
    AgreementFact,
    AgreementStatusChange,
    RecommendationFact,
    ListReachSnapshot,
    CampaignFact,
    FundingSearchFact,
    FundingMatchFact,
    RegionFreshness,
    RegionCoverage,
    GoalFact,
    MeasureFact,
    SkippedEventType,
    DailyFigure,
    MonthlyFigure,
]
