"""Tables of the actors service (its own database).

Topics and resources are kept twice on purpose: as JSON on the actor row, so reading an actor
is one row, and as narrow rows in ``actor_topics``/``actor_resources`` for indexed filters.
``search_text`` holds the stemmed search document; it is indexed with FTS5 on SQLite
(migration 0001) and as the stored ``simple`` tsvector ``search_vector`` with a GIN index on
PostgreSQL (migration 0002).
"""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nzr_common.db import UTCDateTime, new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)


class ActorRow(Base):
    __tablename__ = "actors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(40))
    district: Mapped[str] = mapped_column(String(8), index=True)
    municipality: Mapped[str | None] = mapped_column(String(200))
    place_key: Mapped[str] = mapped_column(String(200), index=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    resources: Mapped[list[dict]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(500))
    website_key: Mapped[str | None] = mapped_column(String(500), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    public_profile: Mapped[bool] = mapped_column(default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Every UPDATE says "WHERE version = <the version read>": a concurrent writer loses (412).
    __mapper_args__ = {"version_id_col": version}
    # The duplicate check reads this index alone (migration 0002; on PostgreSQL 0002 also adds
    # the generated column ``search_vector`` with its GIN index, which the model leaves out).
    __table_args__ = (Index("ix_actors_place_name", "place_key", "name_key", "id"),)


class ActorTopicRow(Base):
    __tablename__ = "actor_topics"

    topic: Mapped[str] = mapped_column(String(60), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_actor_topics_actor", "actor_id"),)


class ActorResourceRow(Base):
    __tablename__ = "actor_resources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))

    __table_args__ = (Index("ix_actor_resources_kind_direction", "kind", "direction", "actor_id"),)


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(200))
    consent_purpose: Mapped[str] = mapped_column(String(500))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CooperationRow(Base):
    """A cooperation between two actors, stored with ``actor_a < actor_b``.

    With an actor of another region (``partner_region``), ``actor_a`` is this region's actor
    and ``actor_b`` the other region's, which has no row here (hence no foreign key).
    """

    __tablename__ = "cooperations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_a: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    actor_b: Mapped[str] = mapped_column(String(36), index=True)
    partner_region: Mapped[str | None] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(20))
    origin_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("origin_id", "actor_a", "actor_b", name="uq_cooperations_origin_pair"),
    )
