"""The ``.ics`` attachment of a registration mail (RFC 5545 with iTIP, RFC 5546): REQUEST puts or
updates the entry in the participant's calendar, CANCEL takes it out. The UID is the one of the
events service's calendar feed, SEQUENCE grows with every change, so a calendar replaces its
entry instead of adding a second one.

Written as text here (escaped and folded as RFC 5545 says) rather than through ``icalendar``'s
component model: a registration burst renders hundreds, and one small VEVENT of known
properties does not need a general serializer (the tests parse every kind with ``icalendar``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal

from nzr_common.contracts.events import RegistrationForMail
from nzr_newsletter.transactional import rules

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Netzwerk Zukunft Regional//Teilnahme//DE"
#: Octets per content line before it is folded (RFC 5545, 3.1), the line break not counted.
LINE_OCTETS = 75

#: Control characters other than HTAB have no place in a TEXT or parameter value.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


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


def text(value: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return _CONTROLS.sub("", value)


def parameter(value: str) -> str:
    """A parameter value, always quoted (RFC 5545, 3.2): a DQUOTE cannot be in it, so it becomes
    an apostrophe; line breaks and other control characters become spaces."""
    value = " ".join(_CONTROLS.sub(" ", value).split())
    return '"' + value.replace('"', "'") + '"'


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC (form #2 of RFC 5545, 3.3.5)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def folded(line: str) -> str:
    """A content line folded after at most 75 octets, never inside a UTF-8 sequence (RFC 5545,
    3.1); every line ends in CRLF."""
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line + "\r\n"
    parts = []
    start, limit = 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: break before its character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, LINE_OCTETS - 1  # continuation lines start with a space
    parts.append(data[start:].decode())
    return "\r\n ".join(parts) + "\r\n"


@lru_cache(maxsize=64)
def _organiser_line(organiser: str, region_name: str | None) -> str:
    name, address = parseaddr(organiser)
    return folded(f"ORGANIZER;CN={parameter(region_name or name or address)}:mailto:{address}")


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
    attendee_parameters = ""
    if attendee_name.strip():
        attendee_parameters += f";CN={parameter(attendee_name)}"
    attendee_parameters += ";ROLE=REQ-PARTICIPANT"
    if method == "REQUEST":
        attendee_parameters += ";PARTSTAT=ACCEPTED"
    attendee_parameters += ";RSVP=FALSE"
    lines = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        f"PRODID:{PRODID}\r\n"
        f"METHOD:{method}\r\n"
        "BEGIN:VEVENT\r\n"
        + folded(f"UID:{text(calendar_uid(item, region))}")
        + f"SEQUENCE:{int(item.sequence)}\r\n"
        f"DTSTAMP:{utc(now or datetime.now(UTC))}\r\n"
        f"DTSTART:{utc(item.starts_at)}\r\n"
        f"DTEND:{utc(item.ends_at)}\r\n"
        + folded(f"SUMMARY:{text(item.title)}")
        + folded(f"LOCATION:{text(rules.place_text(item, language))}")
        + folded(f"URL:{_CONTROLS.sub('', item.manage_url)}")
        + folded(f"DESCRIPTION:{text(_description(item, language))}")
        + f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}\r\n"
        "TRANSP:OPAQUE\r\n"
        + _organiser_line(organiser, item.region_name)
        + folded(f"ATTENDEE{attendee_parameters}:mailto:{attendee}")
        + "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return lines.encode()
