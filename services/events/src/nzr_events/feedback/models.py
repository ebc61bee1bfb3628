"""Table of participants' feedback."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_events.tables import Base


class FeedbackRow(Base):
    """A participant's feedback on an event: one per registration, editable through the link."""

    __tablename__ = "registration_feedback"

    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
