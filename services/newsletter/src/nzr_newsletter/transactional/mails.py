"""The texts of the transactional mails (German, English by the registrant's language)."""

from __future__ import annotations

import binascii
import functools
import html
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr

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
    return _sender_named(deps.settings.sender, region_name)


# The header values below are the same for every mail of an event (a burst renders hundreds):
# parsed and encoded once per distinct value, by the same stdlib functions.


@functools.lru_cache(maxsize=256)
def _sender_named(sender: str, region_name: str | None) -> str:
    name, address = parseaddr(sender)
    if not region_name or region_name == name:
        return sender
    return formataddr((region_name, address))


@functools.lru_cache(maxsize=256)
def _from_header(sender: str) -> str:
    display, address = parseaddr(sender)
    return formataddr((display, address), charset="utf-8")


@functools.lru_cache(maxsize=1024)
def _subject_header(subject: str) -> str:
    subject = " ".join(subject.split())  # one line, whatever the title holds
    return subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject").encode()


@functools.lru_cache(maxsize=256)
def _message_id_domain(sender: str) -> str:
    return templates.sender_domain(sender)


#: A header value the generator would write unchanged: printable ASCII words with single spaces.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")


class _Compat32(Compat32):
    """compat32 (the policy of the MIME classes below), except that a header already fit to
    be written as it is (short, one line, plain ASCII — most of them: the encoded subject and
    sender, dates, ids, content types) skips the ``email.header.Header`` round trip the
    generator makes for every header, which would hand back the same line at several times
    the cost of the whole line. Anything else is folded by compat32 itself."""

    def _as_is(self, name: str, value: object) -> str | None:
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and _PLAIN_VALUE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return None

    def fold(self, name: str, value: str) -> str:
        return self._as_is(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = self._as_is(name, value)
        return line.encode("ascii") if line is not None else super().fold_binary(name, value)


_POLICY = _Compat32()


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
    """The mail as bytes: plain text and HTML (no images, no tracking), the ``.ics`` attached."""
    text = "\n\n".join(_text(p) for p in paragraphs)
    body = "".join(_html(p) for p in paragraphs)
    page = (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(subject)}'
        f'</title></head>\n<body style="font-family:sans-serif;max-width:40em">\n{body}\n</body></html>\n'
    )
    # Built with the stdlib's compat32 MIME classes: the same structure as ``EmailMessage`` would
    # give, at a fraction of its header-parsing cost (a registration burst renders hundreds).
    # Boundaries are random (128 bits) and set here: the generator would otherwise compile a
    # regular expression per boundary to search the parts for it (the bodies are
    # quoted-printable, so no line of theirs can start with one anyway).
    alternative = MIMEMultipart(
        "alternative", boundary=_boundary(), _subparts=[_part(text + "\n", "plain"), _part(page, "html")]
    )
    del alternative["MIME-Version"]
    message: MIMEMultipart = alternative
    if calendar is not None:
        cancel = calendar.method == "CANCEL"
        name = (
            ("cancel.ics" if cancel else "invite.ics")
            if language == "en"
            else ("absage.ics" if cancel else "termin.ics")
        )
        attachment = _part(calendar.content.decode(), "calendar")
        attachment.set_param("method", calendar.method)
        attachment.add_header("Content-Disposition", "attachment", filename=name)
        message = MIMEMultipart("mixed", boundary=_boundary(), _subparts=[alternative, attachment])
    if "MIME-Version" not in message:
        message["MIME-Version"] = "1.0"
    message["From"] = _from_header(sender or deps.settings.sender)
    message["To"] = to
    message["Subject"] = _subject_header(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_message_id_domain(deps.settings.sender))
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = language
    return message.as_bytes(policy=_POLICY)


def _part(content: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part, quoted-printable (readable in the raw mail, safe over any SMTP server):
    encoded by ``binascii`` in C, the same bytes as the stdlib's pure-Python encoder gives at
    several times its cost."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]  # only the top level carries it
    part["Content-Transfer-Encoding"] = "quoted-printable"
    lines = content.replace("\r\n", "\n").encode()
    part.set_payload(binascii.b2a_qp(lines, istext=True).decode("ascii"))
    return part


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
