"""The actor read model matching uses."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from nzr_funding.tables import Base


class ActorRow(Base):
    """Read model of the region's actors (kind, legal form, district, topics) for matching."""

    __tablename__ = "actors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    district: Mapped[str] = mapped_column(String(8))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_form: Mapped[str | None] = mapped_column(String(20))
    public_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
