"""The personal links in a registration's mails (manage, feedback) and the calendar identity of
an event: one signer per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nzr_events.registrations.rules import cancellation_expiry, sign_cancellation, sign_feedback
from nzr_events.settings import EventsSettings

#: The pages behind the links (served by ``registrations.pages``).
MANAGE_PATH = "/api/v1/registrations/manage"
FEEDBACK_PATH = "/api/v1/registrations/feedback"


@dataclass(frozen=True)
class RegistrationLinks:
    """Signs the personal links of a registration: the page to change or cancel it (valid until
    the event ends) and the feedback page (valid ``feedback_days`` after the end)."""

    secret: str
    base_url: str
    region: str = "demo"
    region_name: str | None = None
    feedback_days: int = 90

    def token(self, registration_id: str, event_ends_at: datetime) -> str:
        expires = cancellation_expiry(event_ends_at)
        return sign_cancellation(self.secret, registration_id, expires)

    def url(self, registration_id: str, event_ends_at: datetime) -> str:
        """The manage page: shows the registration, cancels it or changes its sessions on POST."""
        token = self.token(registration_id, event_ends_at)
        return f"{self.base_url.rstrip('/')}{MANAGE_PATH}?token={token}"

    def feedback_url(self, registration_id: str, event_ends_at: datetime) -> str:
        token = sign_feedback(
            self.secret, registration_id, event_ends_at + timedelta(days=self.feedback_days)
        )
        return f"{self.base_url.rstrip('/')}{FEEDBACK_PATH}?token={token}"

    def calendar_uid(self, event_id: str) -> str:
        """One iCalendar UID per event (an occurrence of a series is an event of its own)."""
        return f"{event_id}@{self.region}.nzr"


def registration_links(settings: EventsSettings) -> RegistrationLinks:
    return RegistrationLinks(
        settings.jwt_secret.get_secret_value(),
        settings.public_base_url,
        region=settings.region,
        region_name=settings.region_name,
        feedback_days=settings.feedback_link_days,
    )
