"""The ``.ics`` attachment of a registration mail (RFC 5545 with iTIP, RFC 5546): REQUEST puts or
updates the entry in the participant's calendar, CANCEL takes it out. The UID is the one of the
events service's calendar feed, SEQUENCE grows with every change, so a calendar replaces its
entry instead of adding a second one."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Literal

from nzr_common.contracts.events import RegistrationForMail
from nzr_newsletter.transactional import rules

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Netzwerk Zukunft Regional//Teilnahme//DE"


def calendar_uid(item: RegistrationForMail, region: str) -> str:
    """The registration's UID, or the one the events feed gives the event (``<id>@<region>.nzr``)."""
    return item.calendar_uid or f"{item.event_id}@{region}.nzr"


def _description(item: RegistrationForMail, language: str) -> str:
    lines = []
    if item.sessions:
        lines.append("Your sessions:" if language == "en" else "Ihre Programmpunkte:")
        lines += [f"- {rules.session_text(s, language)}" for s in item.sessions]
        lines.append("")
    label = "Change or cancel your registration" if language == "en" else "Anmeldung ändern oder abmelden"
    lines.append(f"{label}: {item.manage_url}")
    return "\n".join(lines)


def invitation(
    item: RegistrationForMail,
    *,
    method: Method,
    region: str,
    organiser: str,
    attendee: str,
    attendee_name: str,
    language: str,
    now: datetime | None = None,
) -> bytes:
    """One VEVENT for the registration: the event's time (UTC), place and the personal link, the
    chosen sessions in the description; cancelled entries carry ``STATUS:CANCELLED``."""
    # Imported by the first registration mail: icalendar (with dateutil) is ~4 MB resident that
    # an idle process does not need (issue #20).
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    entry = Event()
    entry.add("uid", calendar_uid(item, region))
    entry.add("sequence", item.sequence)
    entry.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    entry.add("dtstart", item.starts_at.astimezone(UTC))
    entry.add("dtend", item.ends_at.astimezone(UTC))
    entry.add("summary", item.title)
    entry.add("location", rules.place_text(item, language))
    entry.add("url", item.manage_url)
    entry.add("description", _description(item, language))
    entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    entry.add("transp", "OPAQUE")
    name, address = parseaddr(organiser)
    organiser_address = vCalAddress(f"mailto:{address}")
    organiser_address.params["cn"] = vText(item.region_name or name or address)
    entry.add("organizer", organiser_address)
    participant = vCalAddress(f"mailto:{attendee}")
    if attendee_name:
        participant.params["cn"] = vText(" ".join(attendee_name.split()))
    participant.params["role"] = vText("REQ-PARTICIPANT")
    if method == "REQUEST":
        participant.params["partstat"] = vText("ACCEPTED")
    participant.params["rsvp"] = vText("FALSE")
    entry.add("attendee", participant)
    calendar.add_component(entry)
    return calendar.to_ical()
