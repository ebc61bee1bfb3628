"""Tables of the catalogue: ``catalogue_entries`` is the writer's record of the state-owned
catalogue (with revisions); ``programmes`` is the read model every funding service builds from
the catalogue events, with precomputed documents (``name_doc``, ``search_doc``: stems and compound
parts, marked with the analysis version, see ``search.compounds``) that the in-process search
index indexes (migration 0002 dropped the database full-text indexes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_funding.tables import Base


class CatalogueEntryRow(Base):
    """The state's source of truth for one programme: the last accepted record and its revision."""

    __tablename__ = "catalogue_entries"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgrammeRow(Base):
    """Read model of one programme, built from FundingProgramPublished/Updated/Withdrawn."""

    __tablename__ = "programmes"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(500))
    funder: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(500))
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts_exhaustive: Mapped[bool] = mapped_column(Boolean, default=True)
    funding_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligible: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    amount_min_eur: Mapped[float | None] = mapped_column(Float)
    amount_max_eur: Mapped[float | None] = mapped_column(Float)
    funding_rate_percent: Mapped[float | None] = mapped_column(Float)
    deadline: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: fixed / expected / rolling / unknown, read from the deadline (NULL: rows projected before
    #: migration 0004; the cache reads it from the deadline then).
    deadline_certainty: Mapped[str | None] = mapped_column(String(10))
    #: Legal forms the programme requires (empty or NULL: none named by the source).
    legal_forms: Mapped[list[str] | None] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(1000))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    additional_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    verified_on: Mapped[date | None] = mapped_column(Date)
    taxonomy_source: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    name_doc: Mapped[str] = mapped_column(Text, default="")
    search_doc: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectionStateRow(Base):
    """A counter per projection; ``programmes.seq`` takes its next value on every change so
    readers can pick up what changed since they last looked."""

    __tablename__ = "projection_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
