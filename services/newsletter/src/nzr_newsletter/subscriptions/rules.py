"""Address rules: normalising an e-mail address and refusing control characters."""

from __future__ import annotations

import re

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


def merged_topics(current: list[str], added: list[str], limit: int = 30) -> list[str]:
    """The topics one has, then the new ones, each once, at most ``limit``."""
    return list(dict.fromkeys([*current, *added]))[:limit]
