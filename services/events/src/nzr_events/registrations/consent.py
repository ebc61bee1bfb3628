"""Pure rules of the mailing-list consent given with a registration: when it is handed to
newsletter (which still asks for double opt-in), exactly once.

- ``on_confirmation`` (German label "bei Bestätigung des Platzes", the default): with the
  registration's RegistrationConfirmed — at once when a seat is free, or when the person is
  promoted from the waiting list. Nobody on a waiting list that never moves is subscribed.
- ``immediately`` ("sofort"): at once, also from the waiting list (with RegistrationReceived);
  a later promotion does not hand it over a second time.

Nothing here touches the database or the broker.
"""

from __future__ import annotations

from typing import Literal

ConsentTiming = Literal["on_confirmation", "immediately"]

TIMING_LABELS: dict[str, str] = {"on_confirmation": "bei Bestätigung des Platzes", "immediately": "sofort"}


def consent_on_receipt(*, consent: bool, timing: str, waiting: bool) -> bool:
    """Whether the consent goes to newsletter with the registration's receipt."""
    return consent and waiting and timing == "immediately"


def consent_on_confirmation(*, consent: bool, timing: str, promoted: bool) -> bool:
    """Whether the consent goes to newsletter with the confirmation (not a second time)."""
    return consent and not (promoted and timing == "immediately")
