"""Rules of transactional mails: reachable addresses, a registration's time and place."""

from datetime import UTC, datetime

from nzr_common.contracts.events import RegistrationForMail
from nzr_newsletter.transactional import rules


def registration(**changes) -> RegistrationForMail:  # type: ignore[no-untyped-def]
    values = {
        "registration_id": "r1",
        "event_id": "e1",
        "title": "Repair-Café",
        "starts_at": datetime(2026, 3, 14, 9, 0, tzinfo=UTC),  # 10:00 in Berlin (winter time)
        "ends_at": datetime(2026, 3, 14, 12, 30, tzinfo=UTC),
        "status": "confirmed",
        "manage_url": "https://nzr.example/manage",
    }
    return RegistrationForMail(**{**values, **changes})


def test_an_address_no_mail_can_reach_gives_none_and_a_usable_one_its_normal_form():
    assert rules.normalised("not an address") is None
    assert rules.normalised(" Anna@Example.ORG ") == "anna@example.org"


def test_a_registration_on_one_day_reads_in_berlin_time_in_german_and_english():
    assert rules.when_text(registration(), "de") == "14. März 2026, 10:00–13:30 Uhr"
    assert rules.when_text(registration(), "en") == "14 March 2026, 10:00–13:30 (Berlin time)"


def test_a_registration_over_several_days_names_the_last_day():
    item = registration(ends_at=datetime(2026, 3, 15, 15, 0, tzinfo=UTC))
    assert rules.when_text(item, "de") == "14. März 2026, 10:00–15. März 2026, 16:00 Uhr"


def test_the_place_lists_venue_address_and_online_link_or_says_it_follows():
    item = registration(
        venue_name="Rathaus", venue_address="Markt 1, Plauen", online_url="https://m.example/x"
    )
    assert rules.place_text(item, "de") == "Rathaus, Markt 1, Plauen, online: https://m.example/x"
    assert rules.place_text(registration(), "de") == "Ort folgt"
    assert rules.place_text(registration(), "en") == "place to be announced"


def test_subjects_say_what_happened_in_german_and_english():
    item = registration(waiting_position=3)
    assert rules.subject("waiting", item, "de") == "Sie stehen auf der Warteliste (Platz 3): Repair-Café"
    assert rules.subject("promoted", item, "en") == "You have a seat: Repair-Café"
    assert rules.subject("reminder", item, "de") == "Erinnerung: Repair-Café am 14. März 2026"
    assert rules.subject("reminder", item, "en") == "Reminder: Repair-Café on 14 March 2026"
    assert rules.subject("event_cancelled", item, "de") == "Abgesagt: Repair-Café"


def test_a_calendar_entry_comes_with_a_seat_and_goes_with_a_cancellation():
    assert rules.calendar_method("promoted", "confirmed") == "REQUEST"
    assert rules.calendar_method("event_changed", "waiting") is None  # no seat, no entry
    assert rules.calendar_method("event_cancelled", "waiting") == "CANCEL"
    assert rules.calendar_method("cancelled", "cancelled") == "CANCEL"
    assert rules.calendar_method("thank_you", "confirmed") is None


def test_outcomes_and_sessions_read_with_who_when_and_where():
    from datetime import date

    from nzr_common.contracts.events import OutcomeForMail, SessionForMail

    agreement = OutcomeForMail(text="Lastenrad starten", responsible="BUND", due_date=date(2026, 6, 30))
    assert (
        rules.outcome_text(agreement, "de") == "Lastenrad starten (verantwortlich: BUND; bis 30. Juni 2026)"
    )
    assert rules.outcome_text(agreement, "en") == "Lastenrad starten (responsible: BUND; by 30 June 2026)"
    session = SessionForMail(
        session_id="s",
        title="Werkstatt",
        starts_at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),  # 10:00 in Berlin (summer time)
        ends_at=datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
        room="Saal 2",
    )
    assert rules.session_text(session, "de") == "Werkstatt (1. Juli 2026, 10:00–11:30 Uhr, Raum Saal 2)"


def test_editors_see_masked_addresses():
    assert rules.masked("ida.beispiel@example.org") == "i***@example.org"
    assert rules.masked("") == ""
