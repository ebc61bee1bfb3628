"""Tables of actors (organisations) and their topic/resource index rows.

Topics and resources are kept twice on purpose: as JSON on the actor row, so reading an actor
is one row, and as narrow rows in ``actor_topics``/``actor_resources`` for indexed filters.
``search_text`` holds the stemmed search document; it is indexed with FTS5 on SQLite
(migration 0001) and as the stored ``simple`` tsvector ``search_vector`` with a GIN index on
PostgreSQL (migration 0002).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_actors.tables import Base
from nzr_common.db import UTCDateTime


class ActorRow(Base):
    __tablename__ = "actors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(40))
    #: ``LegalForm`` code (``ev``, ``ggmbh``, …); None when not recorded (migration 0006).
    legal_form: Mapped[str | None] = mapped_column(String(20))
    district: Mapped[str] = mapped_column(String(8), index=True)
    municipality: Mapped[str | None] = mapped_column(String(200))
    #: Stadtteil/Ortsteil (one of the region's ``SUBDISTRICTS`` of the municipality; migration 0006).
    subdistrict: Mapped[str | None] = mapped_column(String(120))
    place_key: Mapped[str] = mapped_column(String(200), index=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    resources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
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
    # The district-wide duplicate check reads ix_actors_district_name alone (migration 0006).
    __table_args__ = (
        Index("ix_actors_place_name", "place_key", "name_key", "id"),
        Index("ix_actors_district_name", "district", "name_key", "id"),
        Index("ix_actors_district_subdistrict", "district", "subdistrict"),
    )


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
