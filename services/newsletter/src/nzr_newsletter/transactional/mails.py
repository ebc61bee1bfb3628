"""The texts of the transactional mails (German, English by the registrant's language)."""

from __future__ import annotations

import binascii
import html
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

from nzr_common.contracts.events import RegistrationForMail, RegistrationLinksRequested, RegistrationReceived
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.transactional import ics, rules

Paragraph = str | tuple[str, str] | list[str]  # text, (label, link), or a bulleted list


def registration_lines(item: RegistrationForMail, language: str, *, link: bool = True) -> list[Paragraph]:
    """Title, time, place, chosen sessions, the state of the registration and its link."""
    en = language == "en"
    lines: list[Paragraph] = [
        f"„{item.title}“\n{rules.when_text(item, language)}\n{rules.place_text(item, language)}"
    ]
    if item.sessions:
        lines.append("Your sessions:" if en else "Ihre Programmpunkte:")
        lines.append([rules.session_text(s, language) for s in item.sessions])
    if item.status == "confirmed":
        lines.append("Your seat is confirmed." if en else "Ihr Platz ist bestätigt.")
    elif item.status == "waiting":
        position = item.waiting_position or "?"
        lines.append(
            f"You are on the waiting list (position {position}); we write to you when a seat becomes free."
            if en
            else f"Sie stehen auf der Warteliste (Platz {position}); wir schreiben Ihnen, sobald ein "
            "Platz frei wird."
        )
    if link and item.status != "cancelled":
        label = "Change or cancel your registration" if en else "Anmeldung ändern oder abmelden"
        lines.append((label, item.manage_url))
    return lines


@dataclass(frozen=True)
class Attachment:
    """The ``.ics`` of a registration mail and its iTIP method."""

    content: bytes
    method: ics.Method


def calendar_attachment(
    deps: Deps, item: RegistrationForMail, *, method: ics.Method, to: str, name: str, language: str
) -> Attachment:
    content = ics.invitation(
        item,
        method=method,
        region=deps.region.id,
        organiser=deps.settings.sender,
        attendee=to,
        attendee_name=name,
        language=language,
    )
    return Attachment(content, method)


def sender_of(deps: Deps, region_name: str | None) -> str:
    """From: the region's name (when the event names it) with the configured sender address."""
    return _sender_of(deps.settings.sender, region_name)


@lru_cache(maxsize=64)
def _sender_of(sender: str, region_name: str | None) -> str:
    name, address = parseaddr(sender)
    if not region_name or region_name == name:
        return sender
    return formataddr((region_name, address))


def _text(paragraph: Paragraph) -> str:
    if isinstance(paragraph, str):
        return paragraph
    if isinstance(paragraph, list):
        return "\n".join(f"- {item}" for item in paragraph)
    return f"{paragraph[0]}:\n{paragraph[1]}"


def _html(paragraph: Paragraph) -> str:
    if isinstance(paragraph, str):
        return "<p>" + html.escape(paragraph).replace("\n", "<br>") + "</p>"
    if isinstance(paragraph, list):
        return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in paragraph) + "</ul>"
    return f'<p><a href="{html.escape(paragraph[1])}">{html.escape(paragraph[0])}</a></p>'


def compose(
    deps: Deps,
    *,
    to: str,
    subject: str,
    language: str,
    paragraphs: list[Paragraph],
    sender: str | None = None,
    calendar: Attachment | None = None,
) -> bytes:
    """The mail as bytes: plain text and HTML (no images, no tracking), the ``.ics`` attached.

    Written out here rather than through ``email``'s MIME classes and generator: the same
    structure (multipart/mixed of multipart/alternative and the calendar), at a fraction of the
    cost of the generator's header folding (a registration burst renders hundreds). Headers are
    ASCII (RFC 2047 encoded words where the subject or a name needs them), the parts UTF-8 and
    quoted-printable, so the mail is readable raw and safe over any SMTP server. Boundaries are
    random (128 bits): no line of a quoted-printable body can start with one."""
    text = "\n\n".join(_text(p) for p in paragraphs)
    body = "".join(_html(p) for p in paragraphs)
    page = (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(subject)}'
        f'</title></head>\n<body style="font-family:sans-serif;max-width:40em">\n{body}\n</body></html>\n'
    )
    inner = _boundary()
    alternative = _multipart(inner, _part(text + "\n", PLAIN), _part(page, HTML))
    if calendar is None:
        content_type = f'multipart/alternative; boundary="{inner}"'
        content = alternative
    else:
        outer = _boundary()
        cancel = calendar.method == "CANCEL"
        name = (
            ("cancel.ics" if cancel else "invite.ics")
            if language == "en"
            else ("absage.ics" if cancel else "termin.ics")
        )
        attachment = _part(
            calendar.content.decode(),
            f'text/calendar; charset="utf-8"; method="{calendar.method}"',
            f'Content-Disposition: attachment; filename="{name}"\n',
        )
        content_type = f'multipart/mixed; boundary="{outer}"'
        nested = f'Content-Type: multipart/alternative;\n boundary="{inner}"\n\n{alternative}'
        content = _multipart(outer, nested, attachment)
    subject = " ".join(subject.split())  # one line, whatever the title holds
    head = (
        f"Content-Type: {content_type}\n"
        "MIME-Version: 1.0\n"
        + _header("From", _from_header(sender or deps.settings.sender))
        + _header("To", to)
        + _header("Subject", subject)
        + f"Date: {formatdate(localtime=False)}\n"
        f"Message-ID: {make_msgid(domain=_sender_domain(deps.settings.sender))}\n"
        "Auto-Submitted: auto-generated\n"
        f"Content-Language: {language}\n\n"
    )
    return (head + content).encode("ascii")


PLAIN = 'text/plain; charset="utf-8"'
HTML = 'text/html; charset="utf-8"'
#: Header lines longer than this are folded (RFC 5322 recommends 78 characters).
HEADER_CHARACTERS = 78


def _header(name: str, value: str) -> str:
    """One header line: ASCII as it is when it fits, else folded (and RFC 2047 encoded words for
    anything not ASCII) by ``email.header``; never a line break from the value."""
    value = " ".join(value.split())
    if value.isascii() and len(name) + 2 + len(value) <= HEADER_CHARACTERS:
        return f"{name}: {value}\n"
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: {Header(value, charset, header_name=name).encode(linesep=chr(10))}\n"


@lru_cache(maxsize=64)
def _from_header(sender: str) -> str:
    """From: the display name (encoded when it is not ASCII) and the address."""
    return formataddr(parseaddr(sender), charset="utf-8")


@lru_cache(maxsize=16)
def _sender_domain(sender: str) -> str:
    return templates.sender_domain(sender)


def _part(content: str, content_type: str, extra_headers: str = "") -> str:
    """A UTF-8 text part, quoted-printable (readable in the raw mail, safe over any SMTP server),
    encoded by ``binascii`` in C (the same bytes as the stdlib's pure-Python encoder)."""
    lines = content.replace("\r\n", "\n").encode()
    encoded = binascii.b2a_qp(lines, istext=True).decode("ascii")
    head = f"Content-Type: {content_type}\nContent-Transfer-Encoding: quoted-printable\n{extra_headers}"
    return f"{head}\n{encoded}"


def _multipart(boundary: str, *parts: str) -> str:
    """The body of a multipart entity, laid out as the stdlib's generator lays it out: the line
    break before each delimiter belongs to the delimiter (RFC 2046, 5.1.1)."""
    return f"--{boundary}\n" + f"\n--{boundary}\n".join(parts) + f"\n--{boundary}--\n"


def _boundary() -> str:
    return f"nzr-{secrets.token_hex(16)}"


def greeting(name: str, language: str) -> str:
    name = " ".join(name.split())  # one line, whatever was stored
    if language == "en":
        return f"Hello {name}," if name else "Hello,"
    return f"Hallo {name}," if name else "Hallo,"


def registration_received_mail(deps: Deps, event: RegistrationReceived) -> bytes:
    """What became of a registration; for an address registered already, its existing one."""
    item, language = event.registration, event.language
    if event.already_registered:
        if language == "en":
            subject = f"You are already registered: {item.title}"
            intro = (
                "Someone (perhaps you) has just registered this address again. You are already "
                "registered — here is your link to change or cancel."
            )
            outro = "If that was not you, ignore this mail: nothing has changed."
        else:
            subject = f"Sie sind bereits angemeldet: {item.title}"
            intro = (
                "Jemand (vielleicht Sie selbst) hat diese Adresse gerade noch einmal angemeldet. "
                "Sie sind bereits angemeldet — hier ist Ihr Link zum Ändern oder Abmelden."
            )
            outro = "Wenn Sie das nicht waren, ignorieren Sie diese Mail: Es hat sich nichts geändert."
    else:
        kind = "confirmed" if item.status == "confirmed" else "waiting"
        subject = rules.subject(kind, item, language)
        if language == "en":
            intro = "Thank you for your registration."
            outro = "If you did not register, cancel with the link above."
        else:
            intro = "Danke für Ihre Anmeldung."
            outro = "Wenn Sie sich nicht angemeldet haben, melden Sie sich mit dem Link oben ab."
    paragraphs: list[Paragraph] = [greeting(event.name, language), intro]
    paragraphs += registration_lines(item, language)
    calendar = None
    if item.status == "confirmed":
        calendar = calendar_attachment(
            deps, item, method="REQUEST", to=event.email, name=event.name, language=language
        )
        paragraphs.append(
            "The attachment puts the date in your calendar."
            if language == "en"
            else "Den Termin für Ihren Kalender finden Sie im Anhang."
        )
    paragraphs.append(outro)
    return compose(
        deps,
        to=event.email,
        subject=subject,
        language=language,
        paragraphs=paragraphs,
        sender=sender_of(deps, item.region_name),
        calendar=calendar,
    )


def registration_links_mail(deps: Deps, event: RegistrationLinksRequested) -> bytes:
    """The links of every active registration of the address, sent again on request."""
    language = event.language
    if language == "en":
        subject, intro = "Your registrations and links", "Here are your registrations with their links:"
        outro = "If you did not ask for this mail, ignore it: nothing has changed."
    else:
        subject, intro = "Ihre Anmeldungen und Links", "Hier sind Ihre Anmeldungen mit ihren Links:"
        outro = (
            "Wenn Sie diese Mail nicht angefordert haben, ignorieren Sie sie: Es hat sich nichts geändert."
        )
    paragraphs: list[Paragraph] = [greeting(event.name, language), intro]
    for item in event.registrations:
        paragraphs += registration_lines(item, language)
    paragraphs.append(outro)
    return compose(deps, to=event.email, subject=subject, language=language, paragraphs=paragraphs)


def subscription_links_mail(
    deps: Deps,
    *,
    to: str,
    name: str,
    language: str,
    preferences_url: str,
    confirm_url: str | None,
    already_subscribed: bool,
) -> bytes:
    """The answer to a sign-up of an address that is subscribed already, or to "send me my
    links again": the preferences link (change, unsubscribe, export, delete), and the
    confirmation link while a subscription waits for it."""
    if language == "en":
        subject = "You are already subscribed" if already_subscribed else "Your newsletter links"
        intro = (
            "Someone (perhaps you) has just signed this address up again. You are already "
            "subscribed — here is your link to change or unsubscribe."
            if already_subscribed
            else "Here is your link to change your subscriptions or unsubscribe."
        )
        labels = ("Change or unsubscribe", "Confirm your pending subscription")
        outro = "If that was not you, ignore this mail: nothing has changed."
    else:
        subject = "Sie sind bereits angemeldet" if already_subscribed else "Ihre Links zum Newsletter"
        intro = (
            "Jemand (vielleicht Sie selbst) hat diese Adresse gerade noch einmal angemeldet. Sie sind "
            "bereits angemeldet — hier ist Ihr Link zum Ändern oder Abmelden."
            if already_subscribed
            else "Hier ist Ihr Link zum Ändern oder Abmelden."
        )
        labels = ("Ändern oder abmelden", "Ausstehende Anmeldung bestätigen")
        outro = "Wenn Sie das nicht waren, ignorieren Sie diese Mail: Es hat sich nichts geändert."
    paragraphs: list[Paragraph] = [greeting(name, language), intro, (labels[0], preferences_url)]
    if confirm_url:
        paragraphs.append((labels[1], confirm_url))
    paragraphs.append(outro)
    return compose(deps, to=to, subject=subject, language=language, paragraphs=paragraphs)
