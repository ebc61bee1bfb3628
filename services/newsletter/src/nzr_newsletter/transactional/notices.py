"""The mails of the registration journey after the first answer (``ParticipantNotice``): a seat
confirmed or freed up, a cancellation, changes, the event cancelled, the reminder and the
thank-you with the outcomes. German by default, English when the registration asked for it."""

from __future__ import annotations

from typing import cast

from nzr_common.contracts.events import ParticipantNotice
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.transactional import ics, rules
from nzr_newsletter.transactional.mails import (
    Paragraph,
    calendar_attachment,
    compose,
    greeting,
    registration_lines,
    sender_of,
)

_CHANGES_DE = {"time": "die Zeit", "place": "der Ort", "session": "das Programm", "capacity": "die Plätze"}
_CHANGES_EN = {"time": "the time", "place": "the place", "session": "the programme", "capacity": "the seats"}

_INTRO_DE = {
    "confirmed": "Ihre Anmeldung ist bestätigt.",
    "promoted": "Gute Nachricht: Für Sie ist ein Platz frei geworden — Sie sind jetzt verbindlich "
    "angemeldet.",
    "cancelled": "Ihre Anmeldung ist storniert.",
    "session_changed": "Ein Programmpunkt, den Sie gewählt haben, hat sich geändert. Hier sind die "
    "aktuellen Angaben.",
    "event_cancelled": "Die Veranstaltung ist leider abgesagt. Ihre Anmeldung entfällt damit.",
    "reminder": "wir erinnern Sie an die Veranstaltung, zu der Sie angemeldet sind:",
    "thank_you": "danke, dass Sie dabei waren! Hier ist, was wir gemeinsam festgehalten haben.",
}
_INTRO_EN = {
    "confirmed": "Your registration is confirmed.",
    "promoted": "Good news: a seat has become free for you — you are now registered.",
    "cancelled": "Your registration is cancelled.",
    "session_changed": "A session you chose has changed. Here are the current details.",
    "event_cancelled": "We are sorry: the event is cancelled, and with it your registration.",
    "reminder": "this is a reminder of the event you registered for:",
    "thank_you": "thank you for taking part! Here is what we agreed on together.",
}


def _intro(event: ParticipantNotice) -> str:
    if event.kind == "event_changed":
        en = event.language == "en"
        names = _CHANGES_EN if en else _CHANGES_DE
        what = ", ".join(names[c] for c in event.changes) or ("details" if en else "die Angaben")
        if en:
            return f"Something has changed ({what}). Here are the current details."
        return f"An der Veranstaltung hat sich etwas geändert ({what}). Hier sind die aktuellen Angaben."
    return (_INTRO_EN if event.language == "en" else _INTRO_DE)[event.kind]


def _calendar_hint(kind: str, method: str, language: str) -> str:
    en = language == "en"
    if method == "CANCEL":
        return (
            "The attachment takes the date out of your calendar."
            if en
            else "Der Anhang nimmt den Termin aus Ihrem Kalender."
        )
    if kind in ("event_changed", "session_changed"):
        return (
            "The attachment replaces your calendar entry."
            if en
            else "Der Anhang ersetzt Ihren bisherigen Kalendereintrag."
        )
    if en:
        return "The attachment puts the date in your calendar."
    return "Den Termin für Ihren Kalender finden Sie im Anhang."


def _thanks(event: ParticipantNotice) -> list[Paragraph]:
    en, language = event.language == "en", event.language
    paragraphs: list[Paragraph] = []
    if event.agreements:
        paragraphs.append("Agreements:" if en else "Vereinbarungen:")
        paragraphs.append([rules.outcome_text(a, language) for a in event.agreements])
    if event.recommendations:
        paragraphs.append("Recommendations:" if en else "Empfehlungen:")
        paragraphs.append([rules.outcome_text(r, language) for r in event.recommendations])
    if event.feedback_url:
        paragraphs.append(
            "How was it? Your feedback helps us plan the next one."
            if en
            else "Wie war es? Ihre Rückmeldung hilft uns, das nächste Treffen zu planen."
        )
        paragraphs.append(("Give feedback" if en else "Rückmeldung geben", event.feedback_url))
    return paragraphs


def notice_mail(deps: Deps, event: ParticipantNotice) -> bytes:
    """The mail telling the participant what happened to their registration."""
    item, language = event.registration, event.language
    paragraphs: list[Paragraph] = [greeting(event.name, language), _intro(event)]
    if event.kind == "thank_you":
        paragraphs.append(f"„{item.title}“\n{rules.when_text(item, language)}")
        paragraphs += _thanks(event)
    else:
        link = event.kind not in rules.CANCEL_KINDS
        paragraphs += registration_lines(item, language, link=link)
    method = rules.calendar_method(event.kind, item.status)
    calendar = None
    if method is not None:
        paragraphs.append(_calendar_hint(event.kind, method, language))
        calendar = calendar_attachment(
            deps,
            item,
            method=cast(ics.Method, method),
            to=event.email,
            name=event.name,
            language=language,
        )
    return compose(
        deps,
        to=event.email,
        subject=rules.subject(event.kind, item, language),
        language=language,
        paragraphs=paragraphs,
        sender=sender_of(deps, item.region_name),
        calendar=calendar,
    )
