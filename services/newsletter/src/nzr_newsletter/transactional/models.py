"""Tables of transactional mails (the queued mails to one address)."""

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_common.tables import Sequence64
from nzr_newsletter.tables import Base


class MailRow(Base):
    """A transactional mail to one address and its delivery state: queued → sending → sent, or
    deferred (a temporary failure: tried again later with back-off), bounced (the server refused
    the address permanently, 5xx: the address is suppressed from then on), failed (temporary
    failures until the attempts ran out), suppressed (never sent: the address hard-bounced or its
    owner was erased; ``last_error`` says which)."""

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(Sequence64, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # registration kind, links, already_registered …
    #: The event a registration mail is about (the organiser's view filters by it).
    event_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: The ``ParticipantNotice.notice_id`` it answers: a notice announced twice is mailed once.
    notice_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    # queued | sending | deferred | sent | bounced | failed | suppressed
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
