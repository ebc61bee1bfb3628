"""Pure rules of gatherings: times in Europe/Berlin, capacity, slots, recurrence, signed links.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from itsdangerous import BadSignature, URLSafeSerializer

BERLIN = ZoneInfo("Europe/Berlin")
MAX_OCCURRENCES = 104
CANCELLATION_PURPOSE = "nzr-events/registration-cancellation/v1"


@dataclass(frozen=True)
class Violation:
    name: str
    reason: str


def to_utc(moment: datetime) -> datetime:
    """A moment in UTC; a naive input is wall-clock time in Europe/Berlin."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(UTC)


def to_berlin(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN)


def check_event_times(
    starts_at: datetime, ends_at: datetime, opens_at: datetime | None, closes_at: datetime | None
) -> list[Violation]:
    """End after start; the registration window opens before it closes and before the end."""
    problems = []
    if ends_at <= starts_at:
        problems.append(Violation("ends_at", "must be after starts_at"))
    if opens_at and closes_at and closes_at <= opens_at:
        problems.append(Violation("registration_closes_at", "must be after registration_opens_at"))
    if closes_at and closes_at > ends_at:
        problems.append(Violation("registration_closes_at", "must not be after the event's end"))
    return problems


def check_session_times(
    starts_at: datetime, ends_at: datetime, event_starts_at: datetime, event_ends_at: datetime
) -> list[Violation]:
    """A session ends after it starts and lies inside its event's time."""
    problems = []
    if ends_at <= starts_at:
        problems.append(Violation("ends_at", "must be after starts_at"))
    if starts_at < event_starts_at or ends_at > event_ends_at:
        problems.append(
            Violation(
                "starts_at",
                "the session must lie within the event's time "
                f"({to_berlin(event_starts_at):%d.%m.%Y %H:%M}–"
                f"{to_berlin(event_ends_at):%d.%m.%Y %H:%M})",
            )
        )
    return problems


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def parallel_choices(chosen: list[tuple[str, datetime, datetime]]) -> list[tuple[str, str]]:
    """Pairs of chosen sessions that run at the same time (one session per slot is allowed)."""
    clashes = []
    for i, (a, a_start, a_end) in enumerate(chosen):
        for b, b_start, b_end in chosen[i + 1 :]:
            if overlaps(a_start, a_end, b_start, b_end):
                clashes.append((a, b))
    return clashes


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


def has_seat(capacity: int | None, confirmed: int) -> bool:
    return capacity is None or confirmed < capacity


def normalise_email(email: str) -> str:
    return email.strip().lower()


def participants(confirmed: int, attended: int) -> int:
    """Participants of a completed event: those checked in, or the confirmed when nobody was."""
    return attended if attended else confirmed


class InvalidRecurrence(ValueError):
    """The recurrence rule is not valid RFC 5545 or yields no occurrence."""


def occurrences(
    rule: str,
    first_start: datetime,
    *,
    exdates: set[datetime] = frozenset(),  # type: ignore[assignment]
    limit: int = MAX_OCCURRENCES,
) -> list[datetime]:
    """Start times (UTC) of a series: the RRULE expanded in Berlin wall-clock time, so a
    meeting at 18:00 stays at 18:00 across daylight-saving changes; ``exdates`` left out."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise InvalidRecurrence("give one RRULE value, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    local_start = to_berlin(first_start).replace(tzinfo=None)
    try:
        expanded = rrulestr(text, dtstart=local_start, forceset=False)
        starts = []
        for moment in expanded:
            starts.append(moment)
            if len(starts) >= limit:
                break
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidRecurrence(str(error) or "invalid RRULE") from error
    result = [to_utc(moment) for moment in starts]
    result = [moment for moment in result if moment not in exdates]
    if not result:
        raise InvalidRecurrence("the rule yields no occurrence")
    return result


def rrule_without_prefix(rule: str) -> str:
    text = rule.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose only, so a signed link is never also a valid JWT key or vice versa."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(derive_key(secret, CANCELLATION_PURPOSE), salt=CANCELLATION_PURPOSE)


def sign_cancellation(secret: str, registration_id: str, expires_at: datetime) -> str:
    """A link token that cancels exactly this registration until ``expires_at``."""
    return _serializer(secret).dumps({"r": registration_id, "p": "cancel", "e": int(expires_at.timestamp())})


class InvalidLink(ValueError):
    pass


class ExpiredLink(ValueError):
    pass


def read_cancellation(secret: str, token: str, now: datetime) -> str:
    """The registration id of a cancellation token; raises for forged, foreign or expired ones."""
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature as error:
        raise InvalidLink("The cancellation link is not valid.") from error
    if not isinstance(payload, dict) or payload.get("p") != "cancel" or not payload.get("r"):
        raise InvalidLink("The cancellation link is not valid.")
    if now.timestamp() >= int(payload.get("e", 0)):
        raise ExpiredLink("The cancellation link has expired.")
    return str(payload["r"])


def cancellation_expiry(event_ends_at: datetime) -> datetime:
    """Links stay valid until the event is over."""
    return event_ends_at + timedelta(0)
