"""Tables of the newsletter service (its own database)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nzr_common.db import UTCDateTime, new_metadata
from nzr_common.tables import Sequence64, add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)


class ListRow(Base):
    __tablename__ = "mailing_lists"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(80))
    visibility: Mapped[str] = mapped_column(String(10))  # public | internal
    registration_default: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool] = mapped_column(default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubscriberRow(Base):
    """One address; the id is the pseudonym used in shareable events."""

    __tablename__ = "subscribers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str | None] = mapped_column(String(8))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    blocked: Mapped[bool] = mapped_column(default=False)
    blocked_reason: Mapped[str | None] = mapped_column(String(200))
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="regular")  # regular | digest
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    sender: Mapped[str | None] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    list_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    context: Mapped[dict] = mapped_column(JSON, default=dict)  # extra template values (digest items)
    status: Mapped[str] = mapped_column(String(12), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """Per-recipient delivery state: queued → sending → sent | failed | bounced."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        Index("ix_deliveries_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Sequence64, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    subscriber_id: Mapped[str] = mapped_column(String(36), index=True)
    list_id: Mapped[str] = mapped_column(String(36))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_id: Mapped[str | None] = mapped_column(String(32))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MailRow(Base):
    """A transactional mail (confirmation, test send) waiting for the SMTP sender."""

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(Sequence64, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), index=True)  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BounceRow(Base):
    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(Sequence64, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # hard | soft
    source: Mapped[str] = mapped_column(String(20))  # smtp | webhook | dsn
    status_code: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestItemRow(Base):
    """Something worth a line in the next digest: an upcoming gathering, a funding deadline."""

    __tablename__ = "digest_items"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # kind:reference
    kind: Mapped[str] = mapped_column(String(10))  # event | funding
    title: Mapped[str] = mapped_column(String(300))
    happens_on: Mapped[datetime] = mapped_column(UTCDateTime())
    district: Mapped[str | None] = mapped_column(String(8))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ErasedPersonRow(Base):
    """Who was erased (GDPR Art. 17) and when, by pseudonymous person id only: an event that
    names them and happened before the erasure (a registration consumed late) must not bring
    them back. A sign-up after the erasure is a new consent and is taken."""

    __tablename__ = "erased_persons"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
