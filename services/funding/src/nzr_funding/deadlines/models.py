"""What the deadline watch announced."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_funding.tables import Base


class DeadlineAnnouncementRow(Base):
    """One FundingDeadlineApproaching announced: once per programme, deadline and threshold."""

    __tablename__ = "deadline_announcements"

    programme_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    deadline: Mapped[date] = mapped_column(Date, primary_key=True)
    threshold_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())
