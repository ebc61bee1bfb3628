"""Rules of transactional mails (pure, no I/O): whether an address can receive a mail, and how a
registration's time and place read in German or English."""

from zoneinfo import ZoneInfo

from nzr_common.contracts.events import RegistrationForMail
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
