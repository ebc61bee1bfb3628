"""Pure rules of registrations: the window, addresses, signed cancellation links, CSV cells.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

from nzr_common.contracts.events import MailLanguage
from nzr_events.times import to_berlin

CANCELLATION_PURPOSE = "nzr-events/registration-cancellation/v1"


def registration_window_problem(
    now: datetime, *, opens_at: datetime | None, closes_at: datetime | None, event_starts_at: datetime
) -> str | None:
    """Why registration is not open now, or None; without a set end it closes at the start."""
    if opens_at and now < opens_at:
        return f"Registration opens at {to_berlin(opens_at):%d.%m.%Y %H:%M}."
    closes = closes_at or event_starts_at
    if now >= closes:
        return f"Registration closed at {to_berlin(closes):%d.%m.%Y %H:%M}."
    return None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose only, so a signed link is never also a valid JWT key or vice versa."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _serializer(secret: str) -> URLSafeSerializer:
    """One signer per secret: deriving the key for every link cost half of building a mail's
    data (``bench/participant_notices.py``)."""
    return URLSafeSerializer(derive_key(secret, CANCELLATION_PURPOSE), salt=CANCELLATION_PURPOSE)


def sign_cancellation(secret: str, registration_id: str, expires_at: datetime) -> str:
    """A link token that manages (shows, changes, cancels) exactly this registration until
    ``expires_at``."""
    return _serializer(secret).dumps({"r": registration_id, "p": "cancel", "e": int(expires_at.timestamp())})


def sign_feedback(secret: str, registration_id: str, expires_at: datetime) -> str:
    """A link token that opens only the feedback page of this registration until ``expires_at``."""
    return _serializer(secret).dumps(
        {"r": registration_id, "p": "feedback", "e": int(expires_at.timestamp())}
    )


class InvalidLink(ValueError):
    pass


class ExpiredLink(ValueError):
    pass


def _read(secret: str, token: str, now: datetime, purpose: str) -> str:
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature as error:
        raise InvalidLink("The link is not valid.") from error
    if not isinstance(payload, dict) or payload.get("p") != purpose or not payload.get("r"):
        raise InvalidLink("The link is not valid.")
    if now.timestamp() >= int(payload.get("e", 0)):
        raise ExpiredLink("The link has expired.")
    return str(payload["r"])


def read_cancellation(secret: str, token: str, now: datetime) -> str:
    """The registration id of a cancellation token; raises for forged, foreign or expired ones."""
    return _read(secret, token, now, "cancel")


def read_feedback(secret: str, token: str, now: datetime) -> str:
    """The registration id of a feedback token; raises for forged, foreign or expired ones."""
    return _read(secret, token, now, "feedback")


def cancellation_expiry(event_ends_at: datetime) -> datetime:
    """Links stay valid until the event is over."""
    return event_ends_at + timedelta(0)


def mail_language(language: str) -> MailLanguage:
    return "en" if language == "en" else "de"


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
