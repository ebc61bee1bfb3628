"""Tables of digests (the items a digest may list)."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_newsletter.tables import Base


class DigestItemRow(Base):
    """Something worth a line in the next digest: an upcoming gathering, a funding deadline."""

    __tablename__ = "digest_items"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # kind:reference
    kind: Mapped[str] = mapped_column(String(10))  # event | funding
    title: Mapped[str] = mapped_column(String(300))
    happens_on: Mapped[datetime] = mapped_column(UTCDateTime())
    district: Mapped[str | None] = mapped_column(String(8))
    place: Mapped[str | None] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(1000))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
