"""The table of cooperations between actors."""

from datetime import UTC, date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_actors.tables import Base
from nzr_common.db import UTCDateTime


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
    #: Every change (correction, end) bumps both: ``version`` is the ETag, ``updated_at`` part of
    #: the network's version (``nzr_actors.network.reads.network_version``).
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        default=lambda: datetime.now(UTC),
        onupdate=lambda: datetime.now(UTC),
        server_default=text("CURRENT_TIMESTAMP"),
        index=True,
    )

    # Every UPDATE says "WHERE version = <the version read>": a concurrent writer loses (412).
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("origin_id", "actor_a", "actor_b", name="uq_cooperations_origin_pair"),
    )
