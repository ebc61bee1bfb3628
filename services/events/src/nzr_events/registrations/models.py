"""Table of registrations."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime, partial_index
from nzr_events.tables import Base


class RegistrationRow(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_event_status", "event_id", "status", "position"),
        # One active registration per e-mail and event, even under concurrent requests.
        partial_index(
            "uq_registrations_active_email", "event_id", "email", unique=True, where="status != 'cancelled'"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    data_use_consent: Mapped[bool] = mapped_column(Boolean)
    newsletter_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_text_version: Mapped[str | None] = mapped_column(String(40))
    # When the mailing-list consent goes to newsletter: "on_confirmation" or "immediately".
    newsletter_consent_timing: Mapped[str] = mapped_column(
        String(20), default="on_confirmation", server_default="on_confirmation"
    )
    session_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language of the registrant's mails (from Accept-Language at registration).
    language: Mapped[str] = mapped_column(String(2), default="de", server_default="de")
    # Set when the reminder was announced, so that a restart never sends it again.
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
