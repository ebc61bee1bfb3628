"""The development mail sink: run by the service when it has no SMTP_HOST (started and stopped
with it), and the routes showing the sink's mails (only in development; also of a sink in a
process of its own, as ``nzr run`` starts one: SMTP_IS_SINK)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from email.message import EmailMessage
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from nzr_common.access import DEVELOPMENT_ONLY
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.problems import ProblemError
from nzr_newsletter.bootstrap import API, Deps, DepsDep
from nzr_newsletter.schemas import SinkMessage, SinkMessagePage
from nzr_newsletter.sink import MailSink, body_of, calendar_of
from nzr_newsletter.web import html_page

log = logging.getLogger(__name__)

router = APIRouter(prefix=API, tags=["newsletter"])


def _sink(deps: Deps) -> MailSink:
    if deps.sink is None or deps.settings.environment != "development":
        raise ProblemError(
            404, "Not Found", "The mail sink runs only in development (without SMTP_HOST, or SMTP_IS_SINK)."
        )
    return deps.sink


#: The captured mail's own HTML is shown without scripts, forms or remote content.
_SANDBOX = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
}


def _row(message: SinkMessage) -> str:
    name = html.escape(message.name)
    views = []
    if message.has_html:
        views.append(f'<a href="mail/{name}/html">HTML</a>')
    if message.has_text:
        views.append(f'<a href="mail/{name}/text">Text</a>')
    if message.calendar:
        views.append(f'<a href="mail/{name}/ics" download>.ics ({html.escape(message.calendar)})</a>')
    views.append(f'<a href="mail/{name}">.eml</a>')
    links = "".join(
        f'<li><a href="{html.escape(link)}">{html.escape(link)}</a></li>' for link in message.links
    )
    return (
        f"<tr><td>{message.received_at:%d.%m.%Y %H:%M:%S}</td><td>{html.escape(message.to)}</td>"
        f"<td>{html.escape(message.subject)}</td><td>{html.escape(message.language or '')}</td>"
        f"<td>{' · '.join(views)}</td></tr>"
        + (
            f'<tr><td></td><td colspan="4"><details><summary>Links ({len(message.links)})</summary>'
            f"<ul>{links}</ul></details></td></tr>"
            if message.links
            else ""
        )
    )


@router.get(
    "/dev/mail",
    response_class=HTMLResponse,
    operation_id="show_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def show_sink_messages(
    deps: DepsDep, request: Request, paging: Annotated[Paging, Depends(paging_params(100, 200))]
) -> HTMLResponse:
    """The mails the development sink captured, newest first, a page at a time (`limit`,
    `cursor`; the link to older mails is also the `Link` header): time, recipient, subject, and
    links to its HTML, its text, its ``.ics`` and the raw ``.eml``."""
    sink = _sink(deps)
    messages, total = sink.messages(limit=paging.limit, offset=paging.offset), sink.count()
    if not messages:
        return html_page("Postausgang (Entwicklung)", "<p>Noch keine Mails.</p>")
    rows = "".join(_row(m) for m in messages)
    shown = f"{paging.offset + 1}–{paging.offset + len(messages)}"
    intro = (
        f"<p>{total} Mails, die der Dienst verschickt hat (die Entwicklungs-Senke stellt nichts "
        f"zu), hier die {shown}., neueste zuerst. Die Links in den Mails funktionieren.</p>"
    )
    table = (
        "<table><thead><tr><th>Zeit (UTC)</th><th>An</th><th>Betreff</th><th>Sprache</th>"
        f"<th>Ansehen</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    older = next_link(request, paging, len(messages), total)
    more = f'<p><a href="{html.escape(older)}" rel="next">Ältere Mails</a></p>' if older else ""
    page = html_page("Postausgang (Entwicklung)", intro + table + more)
    page.headers.update(link_header(older))
    return page


@router.get(
    "/dev/mail.json",
    response_model=SinkMessagePage,
    operation_id="list_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def list_sink_messages(
    deps: DepsDep,
    request: Request,
    response: Response,
    paging: Annotated[Paging, Depends(paging_params(50, 200))],
) -> SinkMessagePage:
    """The development sink's mails as JSON, newest first, paged by `limit` and `cursor` (the
    `next` link, also in the `Link` header)."""
    sink = _sink(deps)
    items, total = sink.messages(limit=paging.limit, offset=paging.offset), sink.count()
    page = SinkMessagePage(items=items, total=total, next=next_link(request, paging, len(items), total))
    response.headers.update(link_header(page.next))
    return page


def _message(deps: Deps, name: str) -> EmailMessage:
    message = _sink(deps).message_of(name)
    if message is None:
        raise ProblemError(404, "Not Found", f"No message {name}.")
    return message


@router.get(
    "/dev/mail/{name}",
    response_class=PlainTextResponse,
    operation_id="get_sink_message",
    dependencies=[DEVELOPMENT_ONLY],
)
async def get_sink_message(name: str, deps: DepsDep) -> PlainTextResponse:
    """One raw message of the development sink."""
    path = _sink(deps).path_of(name)
    if path is None:
        raise ProblemError(404, "Not Found", f"No message {name}.")
    return PlainTextResponse(path.read_text(errors="replace"), media_type="message/rfc822")


@router.get(
    "/dev/mail/{name}/html",
    response_class=HTMLResponse,
    operation_id="get_sink_message_html",
    dependencies=[DEVELOPMENT_ONLY],
)
async def get_sink_message_html(name: str, deps: DepsDep) -> HTMLResponse:
    """The HTML part of a captured mail, as a mail program shows it (no scripts, no remote content)."""
    body = body_of(_message(deps, name), "html")
    if body is None:
        raise ProblemError(404, "Not Found", f"Message {name} has no HTML part.")
    return HTMLResponse(body, headers=_SANDBOX)


@router.get(
    "/dev/mail/{name}/text",
    response_class=PlainTextResponse,
    operation_id="get_sink_message_text",
    dependencies=[DEVELOPMENT_ONLY],
)
async def get_sink_message_text(name: str, deps: DepsDep) -> PlainTextResponse:
    """The plain-text part of a captured mail."""
    body = body_of(_message(deps, name), "plain")
    if body is None:
        raise ProblemError(404, "Not Found", f"Message {name} has no text part.")
    return PlainTextResponse(body)


@router.get(
    "/dev/mail/{name}/ics",
    operation_id="get_sink_message_calendar",
    dependencies=[DEVELOPMENT_ONLY],
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def get_sink_message_calendar(name: str, deps: DepsDep) -> Response:
    """The ``.ics`` attached to a captured mail, as a download."""
    part = calendar_of(_message(deps, name))
    if part is None:
        raise ProblemError(404, "Not Found", f"Message {name} has no calendar attachment.")
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", part.get_filename() or "termin.ics")
    method = part.get_param("method")
    media_type = f"text/calendar; method={method}" if isinstance(method, str) else "text/calendar"
    return Response(
        part.get_payload(decode=True) or b"",
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def start_mail_sink(deps: Deps) -> None:
    """Start the development sink (when the service runs one) before the sender needs it."""
    if deps.sink is not None and deps.runs_sink:
        await deps.sink.start()
        log.info("development mail sink on port %d writes to %s", deps.sink.port, deps.sink.folder.resolve())


async def serve_mail_sink(deps: Deps) -> None:
    """Keep the development sink open until the service stops, then close it."""
    if deps.sink is None or not deps.runs_sink:
        return
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await deps.sink.stop()
