"""What the routes of several sub-domains share: parameter types and the pages behind mailed links."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import HTMLResponse

AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Language of the mail: de (default) or en")
]


TokenQuery = Annotated[str, Query(min_length=10, max_length=2000, description="Token from the mail's link")]


def html_page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f'</title></head><body style="font-family:sans-serif;max-width:40em;margin:2em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def button_page(title: str, text: str, action: str, label: str) -> HTMLResponse:
    return html_page(
        title,
        f'<p>{html.escape(text)}</p><form method="post" action="{html.escape(action)}">'
        f'<button type="submit">{html.escape(label)}</button></form>',
    )


def wants_page(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )
