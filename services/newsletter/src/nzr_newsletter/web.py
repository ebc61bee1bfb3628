"""The pages behind mailed links and what the routes of several sub-domains share.

Pages are Jinja2 templates (``page_templates/``, autoescaped) in German, or English when the
browser's ``Accept-Language`` prefers it. They work without JavaScript: a GET only shows what
will happen and a button, the button's POST does it (mail scanners fetch links, so a GET never
changes anything).
"""

from __future__ import annotations

from functools import cache
from html import escape
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs

from fastapi import Header, Query, Request
from fastapi.responses import HTMLResponse

from nzr_common.languages import preferred_language
from nzr_newsletter.tokens import InvalidLink

if TYPE_CHECKING:
    from jinja2 import Environment

AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Language of the mail: de (default) or en")
]


TokenQuery = Annotated[str, Query(min_length=10, max_length=2000, description="Token from the mail's link")]

#: OpenAPI answers of routes that serve a page to a browser and JSON to API clients.
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "JSON, or the page for a browser"}
}
#: OpenAPI answers of a refused mailed link.
#: A refused link answers a page (for a browser, and always on the GET pages) or problem+json
#: (an API client, or a request the platform refuses before the page runs).
REFUSED_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": description,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }
    for code, description in (
        (400, "Forged or used-up link (a page for a browser, problem+json otherwise)"),
        (410, "Expired link (a page for a browser, problem+json otherwise)"),
    )
}

SITE = "Netzwerk Zukunft Regional"
PRIVACY_PATH = "/api/v1/newsletter/privacy"
#: Bodies of forms posted from the pages are small; anything longer is cut before parsing.
MAX_FORM_BYTES = 64 * 1024


@cache
def _pages() -> Environment:
    """The pages' templates, built with the first page: Jinja2 is not loaded before (issue #20)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("nzr_newsletter", "page_templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


TITLES = {
    "confirm": ("Anmeldung bestätigen", "Confirm your subscription"),
    "confirmed": ("Anmeldung bestätigt", "Subscription confirmed"),
    "unsubscribe": ("Newsletter abbestellen", "Unsubscribe"),
    "unsubscribed": ("Abbestellt", "Unsubscribed"),
    "preferences": ("Ihre Newsletter-Einstellungen", "Your newsletter settings"),
    "link_refused": ("Dieser Link funktioniert nicht", "This link does not work"),
    "privacy": ("Datenschutzhinweise zum Newsletter", "Privacy notice of the newsletter"),
}


def page_language(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


def page(
    request: Request, template: str, *, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the request's language; ``title`` is a key of ``TITLES``."""
    language = page_language(request)
    german, english = TITLES[title]
    body = (
        _pages()
        .get_template(f"{template}.html")
        .render(
            lang=language,
            title=english if language == "en" else german,
            site=SITE,
            privacy_url=PRIVACY_PATH,
            **context,
        )
    )
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Content-Language": language, "Vary": "Accept-Language"},
    )


def refused_page(request: Request, error: InvalidLink) -> HTMLResponse:
    """The friendly answer to a forged, damaged, expired or used-up link (410 when expired)."""
    return page(
        request,
        "link_refused",
        title="link_refused",
        status_code=410 if error.expired else 400,
        expired=error.expired,
    )


def wants_page(request: Request) -> bool:
    """A person's browser (a form post, or a GET asking for HTML first) rather than an API client."""
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return True
    return prefers_html(request.headers.get("accept"))


def prefers_html(accept: str | None) -> bool:
    """Whether the ``Accept`` header ranks text/html above application/json."""
    html_q = json_q = 0.0
    for item in (accept or "")[:1000].split(","):
        media, _, parameters = item.strip().partition(";")
        q = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media in ("application/json", "application/problem+json"):
            json_q = max(json_q, q)
    return html_q > json_q


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The fields of a posted ``application/x-www-form-urlencoded`` form (repeated keys kept)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = (await request.body())[:MAX_FORM_BYTES]
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=False, max_num_fields=200)


def html_page(title: str, body: str) -> HTMLResponse:
    """A bare page around ready-made, escaped HTML (the development mail sink's outbox)."""
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title></head><body style="font-family:sans-serif;max-width:40em;margin:2em auto">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def same_page(request: Request) -> str:
    """The path and query of this request: where a page's form posts to (same origin)."""
    return f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path


async def is_one_click(request: Request) -> bool:
    """An RFC 8058 one-click unsubscribe: the mail client POSTs ``List-Unsubscribe=One-Click``
    (URL-encoded or as a multipart field)."""
    if (await form_fields(request)).get("List-Unsubscribe") == ["One-Click"]:
        return True
    body = (await request.body())[:MAX_FORM_BYTES]
    return b'name="List-Unsubscribe"' in body and b"One-Click" in body
