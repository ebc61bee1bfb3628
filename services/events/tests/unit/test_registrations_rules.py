"""Pure rules of registrations: the window, addresses, signed links, CSV cells (no I/O)."""

from datetime import UTC, datetime, timedelta

import pytest

from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.rules import (
    ExpiredLink,
    InvalidLink,
    csv_cell,
    mail_language,
    normalise_email,
    read_cancellation,
    registration_window_problem,
    sign_cancellation,
)


def test_cancellation_link_is_bound_to_secret_purpose_and_expiry():
    now = datetime.now(UTC)
    token = sign_cancellation("secret", "reg-1", now + timedelta(days=1))
    assert read_cancellation("secret", token, now) == "reg-1"
    with pytest.raises(InvalidLink):
        read_cancellation("other secret", token, now)
    with pytest.raises(InvalidLink):
        read_cancellation("secret", token[:-2] + "xx", now)
    with pytest.raises(ExpiredLink):
        read_cancellation("secret", token, now + timedelta(days=2))


def test_registration_window_closes_at_the_start_unless_set_otherwise():
    start = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    assert (
        registration_window_problem(
            start - timedelta(minutes=1), opens_at=None, closes_at=None, event_starts_at=start
        )
        is None
    )
    assert "closed" in registration_window_problem(
        start, opens_at=None, closes_at=None, event_starts_at=start
    )
    assert "opens" in registration_window_problem(
        start - timedelta(days=9), opens_at=start - timedelta(days=7), closes_at=None, event_starts_at=start
    )


def test_the_personal_link_carries_a_token_valid_until_the_event_ends():
    ends = datetime.now(UTC) + timedelta(days=3)
    links = RegistrationLinks(secret="secret", base_url="https://events.example/")
    url = links.url("reg-7", ends)
    assert url.startswith("https://events.example/api/v1/registrations/manage?token=")
    token = url.split("token=", 1)[1]
    assert read_cancellation("secret", token, ends - timedelta(minutes=1)) == "reg-7"
    with pytest.raises(ExpiredLink):
        read_cancellation("secret", token, ends)


def test_addresses_are_compared_trimmed_and_in_lower_case():
    assert normalise_email("  Anna.Berg@Example.ORG ") == "anna.berg@example.org"


def test_mail_is_english_only_when_asked_for():
    assert mail_language("en") == "en"
    assert mail_language("fr") == "de"


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1", "-1", "@cmd", "\tx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value):
    assert csv_cell(value) == "'" + value


def test_plain_csv_cells_stay_as_they_are():
    assert csv_cell("Anna") == "Anna"
    assert csv_cell(None) == ""
