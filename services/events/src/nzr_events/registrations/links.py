"""The personal links to change or cancel a registration (one signer per process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nzr_events.registrations.rules import cancellation_expiry, sign_cancellation
from nzr_events.settings import EventsSettings


@dataclass(frozen=True)
class CancellationLinks:
    """Signs the personal link to change or cancel a registration (valid until the event ends)."""

    secret: str
    base_url: str

    def token(self, registration_id: str, event_ends_at: datetime) -> str:
        expires = cancellation_expiry(event_ends_at)
        return sign_cancellation(self.secret, registration_id, expires)

    def url(self, registration_id: str, event_ends_at: datetime) -> str:
        token = self.token(registration_id, event_ends_at)
        return f"{self.base_url.rstrip('/')}/api/v1/registrations/cancel?token={token}"


def cancellation_links(settings: EventsSettings) -> CancellationLinks:
    return CancellationLinks(settings.jwt_secret.get_secret_value(), settings.public_base_url)
