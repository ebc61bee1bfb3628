"""What registration mails share between the mails of one event (templates, cached headers) never
changes what each mail says."""

from datetime import UTC, datetime
from email.policy import compat32

import icalendar
import pytest

from nzr_common.contracts.events import RegistrationForMail
from nzr_newsletter.transactional import ics, rules
from nzr_newsletter.transactional.mails import _POLICY


def registration(**changes) -> RegistrationForMail:  # type: ignore[no-untyped-def]
    values = {
        "registration_id": "r1",
        "event_id": "e1",
        "title": "Regionalkonferenz Zukunft",
        "starts_at": datetime(2027, 3, 18, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2027, 3, 18, 16, 0, tzinfo=UTC),
        "venue_name": "Stadthalle",
        "status": "confirmed",
        "manage_url": "https://nzr.example/manage/1",
        "calendar_uid": "e1@leipzig.nzr",
    }
    return RegistrationForMail(**{**values, **changes})


@pytest.mark.parametrize(
    "value",
    [
        "",
        "auto-generated",
        "=?utf-8?q?Anmeldung_best=C3=A4tigt?=",
        'text/plain; charset="utf-8"',
        "Netzwerk Zukunft <newsletter@nzr.example.org>",
        "two  spaces",
        " leading",
        "trailing ",
        "tab\there",
        "Grüße",
        "line\nbreak",
        "x" * 70,
        "x" * 73,
        "word " * 30,
    ],
)
def test_headers_are_written_as_compat32_writes_them(value: str) -> None:
    for name in ("Subject", "Content-Disposition"):
        assert _POLICY.fold_binary(name, value) == compat32.fold_binary(name, value)
        assert _POLICY.fold(name, value) == compat32.fold(name, value)


def test_each_participant_of_an_event_gets_only_their_own_entry_from_the_shared_template() -> None:
    def invite(attendee: str, url: str) -> icalendar.Event:
        data = ics.invitation(
            registration(manage_url=url),
            method="REQUEST",
            region="leipzig",
            organiser="Netzwerk <n@nzr.example.org>",
            attendee=attendee,
            attendee_name="",
            language="de",
        )
        calendar = icalendar.Calendar.from_ical(data)
        assert str(calendar["METHOD"]) == "REQUEST"
        (entry,) = calendar.walk("VEVENT")
        return entry

    first = invite("a@example.org", "https://nzr.example/manage/a")
    second = invite("b@example.org", "https://nzr.example/manage/b")
    assert str(first["ATTENDEE"]) == "mailto:a@example.org"
    assert str(second["ATTENDEE"]) == "mailto:b@example.org"
    assert str(second["URL"]) == "https://nzr.example/manage/b"
    assert str(second["UID"]) == "e1@leipzig.nzr" and str(second["SUMMARY"]) == "Regionalkonferenz Zukunft"
    item = registration()
    template = ics._entry(  # the cached template the two invitations were copied from
        "e1@leipzig.nzr",
        0,
        item.starts_at,
        item.ends_at,
        item.title,
        rules.place_text(item, "de"),
        "REQUEST",
        "Netzwerk <n@nzr.example.org>",
        None,
    )
    assert not ics._calendar("REQUEST").subcomponents
    assert not {"ATTENDEE", "URL", "DTSTAMP", "DESCRIPTION"} & set(template)
