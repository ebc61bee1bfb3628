"""The HTML pages behind the links in registration mails (manage, feedback): Jinja2 templates
(autoescaped), their German and English texts, and reading a posted form. A GET never changes
anything (mail scanners prefetch links); the token in the link is the capability, so the forms
carry it in a hidden field and need no CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Header, Request
from fastapi.responses import HTMLResponse

from nzr_common.languages import preferred_language
from nzr_events.times import to_berlin

if TYPE_CHECKING:
    from jinja2 import Environment

PageLanguage = Literal["de", "en"]
#: How the pages answer what goes wrong, for the OpenAPI document: a page (forged link 400, a
#: clash 409, expired link 410, refused input 422), or problem+json when the platform refuses
#: the request before the page runs (e.g. a parameter over its length).
PAGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": description,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }
    for code, description in (
        (400, "Page: the link is not valid"),
        (409, "Page: the registration or event no longer allows this"),
        (410, "Page: the link has expired"),
        (422, "Page: the form's input was refused"),
    )
}
AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Page language: de (default) or en")
]
#: A posted form is small: a token, an action, a few session ids or a comment.
MAX_FORM_BYTES = 20_000

TEXTS: dict[PageLanguage, dict[str, str]] = {
    "de": {
        "manage_title": "Ihre Anmeldung",
        "event": "Veranstaltung",
        "when": "Wann",
        "where": "Wo",
        "online": "Online",
        "status": "Status",
        "status_confirmed": "Angemeldet – Ihr Platz ist bestätigt.",
        "status_waiting": "Auf der Warteliste, Platz {position}. "
        "Wir schreiben Ihnen, sobald ein Platz frei wird.",
        "status_cancelled": "Storniert.",
        "sessions": "Ihre Programmpunkte",
        "no_sessions": "Sie haben keine Programmpunkte gewählt.",
        "choose_sessions": "Programmpunkte wählen",
        "choose_hint": "Pro Zeitfenster können Sie einen Programmpunkt wählen.",
        "slot": "Zeitfenster",
        "none_in_slot": "Keiner in diesem Zeitfenster",
        "seats_left": "noch {seats} Plätze",
        "full": "ausgebucht",
        "save_sessions": "Auswahl speichern",
        "cancel_heading": "Anmeldung stornieren",
        "cancel_text": "Wenn Sie nicht teilnehmen können, geben Sie Ihren Platz bitte frei: "
        "die nächste Person auf der Warteliste rückt dann nach.",
        "cancel_button": "Anmeldung stornieren",
        "closed": "Diese Anmeldung kann nicht mehr geändert werden.",
        "event_cancelled": "Die Veranstaltung wurde abgesagt.",
        "cancelled_title": "Anmeldung storniert",
        "cancelled_text": "Ihre Anmeldung ist storniert. Sie erhalten eine Bestätigung per E-Mail.",
        "already_cancelled_text": "Diese Anmeldung war bereits storniert.",
        "sessions_saved_title": "Auswahl gespeichert",
        "sessions_saved_text": "Ihre Programmpunkte sind gespeichert.",
        "problem_title": "Das hat nicht geklappt",
        "error_full": "Ein gewählter Programmpunkt ist leider ausgebucht. Bitte wählen Sie einen anderen.",
        "error_invalid": "Diese Auswahl ist nicht möglich: bitte wählen Sie höchstens einen Programmpunkt "
        "pro Zeitfenster aus dem Programm dieser Veranstaltung.",
        "back": "Zurück zu Ihrer Anmeldung",
        "invalid_link_title": "Dieser Link ist ungültig",
        "invalid_link_text": "Der Link ist unvollständig oder nicht von uns. Bitte öffnen Sie den Link "
        "direkt aus Ihrer E-Mail oder lassen Sie sich Ihre Links erneut schicken.",
        "expired_link_title": "Dieser Link ist abgelaufen",
        "expired_link_text": "Der Link gilt nur bis zum Ende der Veranstaltung (Rückmeldungen: einige "
        "Wochen danach). Bei Fragen wenden Sie sich bitte an das Organisationsteam.",
        "feedback_title": "Ihre Rückmeldung",
        "feedback_intro": "Wie war die Veranstaltung? "
        "Ihre Rückmeldung hilft uns, die nächste besser zu machen.",
        "rating": "Ihre Bewertung",
        "rating_1": "1 – gar nicht gut",
        "rating_2": "2 – weniger gut",
        "rating_3": "3 – in Ordnung",
        "rating_4": "4 – gut",
        "rating_5": "5 – sehr gut",
        "comment": "Was möchten Sie uns sagen? (freiwillig)",
        "send_feedback": "Rückmeldung senden",
        "feedback_saved_title": "Danke für Ihre Rückmeldung!",
        "feedback_saved_text": "Ihre Rückmeldung ist gespeichert. Über denselben Link können Sie sie ändern.",
        "feedback_change": "Rückmeldung ändern",
        "feedback_invalid": "Bitte wählen Sie eine Bewertung von 1 bis 5 (Text höchstens 5000 Zeichen).",
        "feedback_not_open": "Rückmeldungen sind möglich, sobald die Veranstaltung stattgefunden hat.",
        "your_rating": "Ihre Bewertung: {rating} von 5",
        "time_format": "%d.%m.%Y, %H:%M Uhr",
        "time_only": "%H:%M Uhr",
    },
    "en": {
        "manage_title": "Your registration",
        "event": "Event",
        "when": "When",
        "where": "Where",
        "online": "Online",
        "status": "Status",
        "status_confirmed": "Registered – your seat is confirmed.",
        "status_waiting": "On the waiting list, place {position}. We will write to you when a seat is free.",
        "status_cancelled": "Cancelled.",
        "sessions": "Your sessions",
        "no_sessions": "You have not chosen any sessions.",
        "choose_sessions": "Choose sessions",
        "choose_hint": "You can choose one session per time slot.",
        "slot": "Time slot",
        "none_in_slot": "None in this time slot",
        "seats_left": "{seats} seats left",
        "full": "full",
        "save_sessions": "Save choice",
        "cancel_heading": "Cancel registration",
        "cancel_text": "If you cannot come, please free your seat: the next person on the waiting "
        "list then moves up.",
        "cancel_button": "Cancel registration",
        "closed": "This registration can no longer be changed.",
        "event_cancelled": "The event has been cancelled.",
        "cancelled_title": "Registration cancelled",
        "cancelled_text": "Your registration is cancelled. You will receive a confirmation by e-mail.",
        "already_cancelled_text": "This registration was already cancelled.",
        "sessions_saved_title": "Choice saved",
        "sessions_saved_text": "Your sessions are saved.",
        "problem_title": "That did not work",
        "error_full": "A session you chose is full. Please choose another one.",
        "error_invalid": "This choice is not possible: please choose at most one session per time slot "
        "from this event's programme.",
        "back": "Back to your registration",
        "invalid_link_title": "This link is not valid",
        "invalid_link_text": "The link is incomplete or not ours. Please open the link straight from "
        "your e-mail or ask for your links to be sent again.",
        "expired_link_title": "This link has expired",
        "expired_link_text": "The link is valid until the event ends (feedback: a few weeks after). "
        "If you have questions, please contact the organisers.",
        "feedback_title": "Your feedback",
        "feedback_intro": "How was the event? Your feedback helps us make the next one better.",
        "rating": "Your rating",
        "rating_1": "1 – not good at all",
        "rating_2": "2 – not so good",
        "rating_3": "3 – okay",
        "rating_4": "4 – good",
        "rating_5": "5 – very good",
        "comment": "Anything you would like to tell us? (optional)",
        "send_feedback": "Send feedback",
        "feedback_saved_title": "Thank you for your feedback!",
        "feedback_saved_text": "Your feedback is saved. You can change it through the same link.",
        "feedback_change": "Change feedback",
        "feedback_invalid": "Please choose a rating from 1 to 5 (text at most 5000 characters).",
        "feedback_not_open": "Feedback is possible once the event has taken place.",
        "your_rating": "Your rating: {rating} of 5",
        "time_format": "%d %b %Y, %H:%M",
        "time_only": "%H:%M",
    },
}


def page_language(accept_language: str | None) -> PageLanguage:
    """German unless ``Accept-Language`` prefers English."""
    return "en" if preferred_language(accept_language) == "en" else "de"


def page_templates() -> Environment:
    """The templates of the pages, autoescaped; an unknown name in a template is an error."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("nzr_events", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Pages:
    """Renders the pages of one region (built once at start-up; its templates are loaded with the
    first page, so an idle service does not load Jinja2: issue #20)."""

    region_name: str

    @cached_property
    def templates(self) -> Environment:
        return page_templates()

    def render(
        self, name: str, *, language: PageLanguage, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        texts = TEXTS[language]

        def when(moment: datetime, form: str = "time_format") -> str:
            return to_berlin(moment).strftime(texts[form])

        body = self.templates.get_template(name).render(
            t=texts, lang=language, region_name=self.region_name, when=when, **context
        )
        # Personal pages: never cached by a proxy, never indexed, the token never leaks as referrer.
        headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(body, status_code=status_code, headers=headers)

    def link_problem(self, *, language: PageLanguage, expired: bool) -> HTMLResponse:
        """The friendly page for a forged (400) or expired (410) link."""
        kind = "expired_link" if expired else "invalid_link"
        return self.render(
            "link_problem.html",
            language=language,
            status_code=410 if expired else 400,
            heading=TEXTS[language][f"{kind}_title"],
            text=TEXTS[language][f"{kind}_text"],
        )


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body (empty for anything else)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    return parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)


def first(form: dict[str, list[str]], name: str) -> str:
    """The first value of a form field, or ''."""
    return (form.get(name) or [""])[0]
