"""Rules of the newsletter that need no I/O: addresses, header safety, retries, bounce actions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidAddress(ValueError):
    """The text is not a usable e-mail address."""


def normalise_email(raw: str) -> str:
    """The canonical form of an address (syntax only, no DNS); raises InvalidAddress.

    Internationalised local parts are refused: every address must travel without SMTPUTF8, so
    it can sit in a header as it is. The whole address is lower-cased so one person has one row.
    """
    if _CONTROL.search(raw):
        raise InvalidAddress("the address contains control characters")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from error
    return (checked.ascii_email or checked.normalized).lower()


def has_control_characters(value: str) -> bool:
    """True for text that could inject a header line (CR, LF and other control characters)."""
    return bool(_CONTROL.search(value))


def retry_delay_seconds(attempt: int, base_seconds: float) -> float:
    """Exponential back-off for temporary SMTP failures, capped at six hours."""
    return min(base_seconds * 2 ** max(attempt - 1, 0), 6 * 3600.0)


def is_permanent_failure(code: int) -> bool:
    """5xx replies are permanent (hard bounce); 4xx and lost connections are temporary."""
    return 500 <= code < 600


@dataclass(frozen=True)
class BounceDecision:
    block: bool
    unsubscribe: bool
    reason: str


def decide_bounce(
    *, kind: str, soft_bounces: int, threshold: int, hard_action: str, soft_action: str
) -> BounceDecision:
    """What a bounce does to the subscriber: a hard one at once, soft ones past the threshold."""
    if kind == "hard":
        action, reason = hard_action, "hard bounce"
    elif soft_bounces >= threshold:
        action, reason = soft_action, f"{soft_bounces} soft bounces"
    else:
        return BounceDecision(False, False, "")
    return BounceDecision(action == "block", action == "unsubscribe", reason)
