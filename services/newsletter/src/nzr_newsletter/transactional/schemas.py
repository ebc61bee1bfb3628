"""API models of transactional mails: the organiser's view of their delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from nzr_common.pagination import NEXT_DESCRIPTION

MailStatus = Literal["queued", "sending", "deferred", "sent", "bounced", "failed", "suppressed"]
#: Orders of the mail list (``nzr_newsletter.sorting``); default ``-created_at``, newest first.
TransactionalMailSort = Literal["created_at", "-created_at", "sent_at", "-sent_at"]


class TransactionalMailRead(BaseModel):
    id: int
    event_id: str | None
    recipient: str = Field(
        description="The address; masked (``i***@example.org``) for editors, in full for admins"
    )
    kind: str = Field(description="registration, already_registered, or the notice kind (promoted, …)")
    status: MailStatus
    reason: str | None = Field(description="Why it is deferred, bounced, failed or suppressed")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When a deferred mail is tried again")


class TransactionalMailPage(BaseModel):
    """A page of transactional mails (``nzr_common.pagination``: follow ``next`` or the ``Link``
    header)."""

    items: list[TransactionalMailRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
