"""Tables of bounces."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_common.tables import Sequence64
from nzr_newsletter.tables import Base


class BounceRow(Base):
    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(Sequence64, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # hard | soft | complaint
    source: Mapped[str] = mapped_column(String(20))  # smtp | webhook | dsn
    status_code: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
