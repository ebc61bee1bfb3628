"""The texts of the transactional mails (German, English by the registrant's language)."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from nzr_common.contracts.events import RegistrationForMail, RegistrationLinksRequested, RegistrationReceived
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.transactional import rules

Paragraph = str | tuple[str, str]  # text, or (label, link)


def _registration_lines(item: RegistrationForMail, language: str) -> list[Paragraph]:
    if language == "en":
        state = (
            "Your seat is confirmed."
            if item.status == "confirmed"
            else f"You are on the waiting list (position {item.waiting_position or '?'}); "
            "we write to you when a seat becomes free."
        )
        label = "Change or cancel your registration"
        return [
            f"„{item.title}“\n{rules.when_text(item, language)}\n{rules.place_text(item, language)}",
            state,
            (label, item.manage_url),
        ]
    state = (
        "Ihr Platz ist bestätigt."
        if item.status == "confirmed"
        else f"Sie stehen auf der Warteliste (Platz {item.waiting_position or '?'}); "
        "wir schreiben Ihnen, sobald ein Platz frei wird."
    )
    label = "Anmeldung ändern oder abmelden"
    return [
        f"„{item.title}“\n{rules.when_text(item, language)}\n{rules.place_text(item, language)}",
        state,
        (label, item.manage_url),
    ]


def _message(deps: Deps, *, to: str, subject: str, language: str, paragraphs: list[Paragraph]) -> bytes:
    text = "\n\n".join(p if isinstance(p, str) else f"{p[0]}:\n{p[1]}" for p in paragraphs)
    body = "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>"
        if isinstance(p, str)
        else f'<p><a href="{html.escape(p[1])}">{html.escape(p[0])}</a></p>'
        for p in paragraphs
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(subject)}'
        f'</title></head>\n<body style="font-family:sans-serif;max-width:40em">\n{body}\n</body></html>\n'
    )
    message = EmailMessage()
    message["From"] = deps.settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=templates.sender_domain(deps.settings.sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + "\n")
    message.add_alternative(page, subtype="html")
    message["Content-Language"] = language  # after the content: set_content drops Content-* headers
    return bytes(message)


def _greeting(name: str, language: str) -> str:
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
    elif language == "en":
        subject = (
            f"{'Registration confirmed' if item.status == 'confirmed' else 'Waiting list'}: {item.title}"
        )
        intro, outro = (
            "Thank you for your registration.",
            "If you did not register, cancel with the link above.",
        )
    else:
        subject = f"{'Anmeldung bestätigt' if item.status == 'confirmed' else 'Warteliste'}: {item.title}"
        intro = "Danke für Ihre Anmeldung."
        outro = "Wenn Sie sich nicht angemeldet haben, melden Sie sich mit dem Link oben ab."
    paragraphs: list[Paragraph] = [_greeting(event.name, language), intro]
    paragraphs += _registration_lines(item, language)
    paragraphs.append(outro)
    return _message(deps, to=event.email, subject=subject, language=language, paragraphs=paragraphs)


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
    paragraphs: list[Paragraph] = [_greeting(event.name, language), intro]
    for item in event.registrations:
        paragraphs += _registration_lines(item, language)
    paragraphs.append(outro)
    return _message(deps, to=event.email, subject=subject, language=language, paragraphs=paragraphs)


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
    paragraphs: list[Paragraph] = [_greeting(name, language), intro, (labels[0], preferences_url)]
    if confirm_url:
        paragraphs.append((labels[1], confirm_url))
    paragraphs.append(outro)
    return _message(deps, to=to, subject=subject, language=language, paragraphs=paragraphs)
