"""The ``.ics`` attachment of a registration mail (RFC 5545 with iTIP, RFC 5546): REQUEST puts or
updates the entry in the participant's calendar, CANCEL takes it out. The UID is the one of the
events service's calendar feed, SEQUENCE grows with every change, so a calendar replaces its
entry instead of adding a second one."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Literal

from nzr_common.contracts.events import RegistrationForMail
from nzr_newsletter.transactional import rules

if TYPE_CHECKING:
    from icalendar import Calendar, Event

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
    chosen sessions in the description; cancelled entries carry ``STATUS:CANCELLED``.

    What is the same for every participant of the event (the calendar's and the entry's own
    properties) comes from templates built once (:func:`_calendar`, :func:`_entry`), shallow
    copies of which get the participant's properties."""
    # Imported by the first registration mail: icalendar (with dateutil) is ~4 MB resident that
    # an idle process does not need (issue #20).
    from icalendar import vCalAddress, vText

    calendar = _calendar(method).copy()
    entry = _entry(
        calendar_uid(item, region),
        item.sequence,
        item.starts_at,
        item.ends_at,
        item.title,
        rules.place_text(item, language),
        method,
        organiser,
        item.region_name,
    ).copy()
    entry.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    entry.add("url", item.manage_url)
    entry.add("description", _description(item, language))
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


@functools.lru_cache(maxsize=4)
def _calendar(method: Method) -> Calendar:
    """The calendar's own properties (a template: copied, never changed)."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


@functools.lru_cache(maxsize=256)
def _entry(
    uid: str,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    place: str,
    method: Method,
    organiser: str,
    region_name: str | None,
) -> Event:
    """The entry's properties that every participant of the event shares (a template: copied,
    never changed): one per event, sequence and method while a burst of mails is rendered."""
    from icalendar import Event, vCalAddress, vText

    entry = Event()
    entry.add("uid", uid)
    entry.add("sequence", sequence)
    entry.add("dtstart", starts_at.astimezone(UTC))
    entry.add("dtend", ends_at.astimezone(UTC))
    entry.add("summary", title)
    entry.add("location", place)
    entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    entry.add("transp", "OPAQUE")
    name, address = parseaddr(organiser)
    organiser_address = vCalAddress(f"mailto:{address}")
    organiser_address.params["cn"] = vText(region_name or name or address)
    entry.add("organizer", organiser_address)
    return entry
