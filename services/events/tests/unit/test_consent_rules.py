"""Pure rules of the mailing-list consent given with a registration: handed over once."""

import pytest

from nzr_events.registrations.consent import consent_on_confirmation, consent_on_receipt


@pytest.mark.parametrize(
    ("timing", "waiting", "promoted", "on_receipt", "on_confirmation"),
    [
        ("on_confirmation", False, False, False, True),  # a seat at once
        ("on_confirmation", True, True, False, True),  # waited, then moved up
        ("immediately", False, False, False, True),  # a seat at once: the confirmation carries it
        ("immediately", True, True, True, False),  # from the waiting list at once, not again
    ],
)
def test_the_consent_goes_over_exactly_once_at_the_chosen_moment(
    timing, waiting, promoted, on_receipt, on_confirmation
):
    assert consent_on_receipt(consent=True, timing=timing, waiting=waiting) is on_receipt
    assert consent_on_confirmation(consent=True, timing=timing, promoted=promoted) is on_confirmation


def test_no_consent_is_never_handed_over():
    for timing in ("on_confirmation", "immediately"):
        assert not consent_on_receipt(consent=False, timing=timing, waiting=True)
        assert not consent_on_confirmation(consent=False, timing=timing, promoted=True)
