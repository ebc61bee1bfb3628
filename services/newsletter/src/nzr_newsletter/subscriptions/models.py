"""Tables of subscriptions (one row per subscriber and list)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_newsletter.tables import Base


class SubscriptionRow(Base):
    """Membership of a subscriber in a list with the proof of consent."""

    __tablename__ = "subscriptions"

    subscriber_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("mailing_lists.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|confirmed|unsubscribed
    source: Mapped[str] = mapped_column(String(40))
    consent_text_version: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
