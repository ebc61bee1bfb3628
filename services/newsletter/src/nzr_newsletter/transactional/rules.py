"""Rules of transactional mails (pure, no I/O): whether an address can receive a mail, and how a
registration's time and place read in German or English."""

from datetime import datetime
from zoneinfo import ZoneInfo

from nzr_common.contracts.events import OutcomeForMail, RegistrationForMail, SessionForMail
from nzr_newsletter.subscriptions import rules as addresses

BERLIN = ZoneInfo("Europe/Berlin")
MONTHS_DE = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()


def normalised(address: str) -> str | None:
    """The normalised address, or ``None`` when no mail can reach it."""
    try:
        return addresses.normalise_email(address)
    except addresses.InvalidAddress:
        return None


def when_text(item: RegistrationForMail, language: str) -> str:
    start, end = item.starts_at.astimezone(BERLIN), item.ends_at.astimezone(BERLIN)
    if language == "en":
        day = f"{start.day} {start:%B %Y}"
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{end.day} {end:%B %Y}, {end:%H:%M}"
        return f"{day}, {start:%H:%M}–{until} (Berlin time)"
    day = f"{start.day}. {MONTHS_DE[start.month - 1]} {start.year}"
    same_day = end.date() == start.date()
    until = f"{end:%H:%M}" if same_day else f"{end.day}. {MONTHS_DE[end.month - 1]} {end.year}, {end:%H:%M}"
    return f"{day}, {start:%H:%M}–{until} Uhr"


def place_text(item: RegistrationForMail, language: str) -> str:
    parts = [p for p in (item.venue_name, item.venue_address) if p]
    if item.online_url:
        parts.append(f"online: {item.online_url}")
    return ", ".join(parts) or ("place to be announced" if language == "en" else "Ort folgt")


def day_text(moment: datetime, language: str) -> str:
    """The day in Berlin, as a subject line names it: "18. März 2027" / "18 March 2027"."""
    local = moment.astimezone(BERLIN)
    if language == "en":
        return f"{local.day} {local:%B %Y}"
    return f"{local.day}. {MONTHS_DE[local.month - 1]} {local.year}"


def session_text(session: SessionForMail, language: str) -> str:
    start, end = session.starts_at.astimezone(BERLIN), session.ends_at.astimezone(BERLIN)
    hours = f"{start:%H:%M}–{end:%H:%M}" + ("" if language == "en" else " Uhr")
    room = f", {'room' if language == 'en' else 'Raum'} {session.room}" if session.room else ""
    return f"{session.title} ({day_text(start, language)}, {hours}{room})"


def outcome_text(outcome: OutcomeForMail, language: str) -> str:
    """An agreement or recommendation with who does it by when, as the thank-you lists it."""
    details = []
    if outcome.responsible:
        details.append(f"{'responsible' if language == 'en' else 'verantwortlich'}: {outcome.responsible}")
    if outcome.due_date:
        due = outcome.due_date
        details.append(
            f"by {due.day} {due:%B %Y}"
            if language == "en"
            else f"bis {due.day}. {MONTHS_DE[due.month - 1]} {due.year}"
        )
    return outcome.text + (f" ({'; '.join(details)})" if details else "")


def subject(kind: str, item: RegistrationForMail, language: str) -> str:
    """The subject line of a registration mail of this kind (a ``NoticeKind`` or ``waiting``)."""
    title = item.title
    if language == "en":
        lines = {
            "confirmed": f"Registration confirmed: {title}",
            "waiting": f"You are on the waiting list (position {item.waiting_position or '?'}): {title}",
            "promoted": f"You have a seat: {title}",
            "cancelled": f"Registration cancelled: {title}",
            "event_changed": f"Changed: {title}",
            "session_changed": f"Changed: {title}",
            "event_cancelled": f"Cancelled: {title}",
            "reminder": f"Reminder: {title} on {day_text(item.starts_at, language)}",
            "thank_you": f"Thank you for taking part: {title}",
        }
    else:
        lines = {
            "confirmed": f"Anmeldung bestätigt: {title}",
            "waiting": f"Sie stehen auf der Warteliste (Platz {item.waiting_position or '?'}): {title}",
            "promoted": f"Sie haben einen Platz: {title}",
            "cancelled": f"Abmeldung bestätigt: {title}",
            "event_changed": f"Geändert: {title}",
            "session_changed": f"Geändert: {title}",
            "event_cancelled": f"Abgesagt: {title}",
            "reminder": f"Erinnerung: {title} am {day_text(item.starts_at, language)}",
            "thank_you": f"Danke für Ihre Teilnahme: {title}",
        }
    return lines[kind]


#: Kinds whose mail carries the calendar entry (REQUEST) or takes it out (CANCEL).
REQUEST_KINDS = frozenset({"confirmed", "promoted", "event_changed", "session_changed", "reminder"})
CANCEL_KINDS = frozenset({"cancelled", "event_cancelled"})


def calendar_method(kind: str, status: str) -> str | None:
    """REQUEST for a seat (not while waiting), CANCEL when it ends, nothing for a thank-you."""
    if kind in CANCEL_KINDS:
        return "CANCEL"
    if kind in REQUEST_KINDS and status == "confirmed":
        return "REQUEST"
    return None


def masked(address: str) -> str:
    """The address as an editor sees it: the first letter of the local part and the domain."""
    local, at, domain = address.partition("@")
    if not at:
        return address
    return f"{local[:1]}***@{domain}"
