"""The development mail sink in the service: started and stopped with it, and its routes (only
without SMTP_HOST, only in development)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse

from nzr_common.access import DEVELOPMENT_ONLY
from nzr_common.problems import ProblemError
from nzr_newsletter.bootstrap import API, Deps, DepsDep
from nzr_newsletter.schemas import SinkMessage
from nzr_newsletter.sink import MailSink
from nzr_newsletter.web import html_page

log = logging.getLogger(__name__)

router = APIRouter(prefix=API, tags=["newsletter"])


def _sink(deps: Deps) -> MailSink:
    if deps.sink is None or deps.settings.environment != "development":
        raise ProblemError(404, "Not Found", "The mail sink runs only in development without SMTP_HOST.")
    return deps.sink


@router.get(
    "/dev/mail",
    response_class=HTMLResponse,
    operation_id="show_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def show_sink_messages(deps: DepsDep) -> HTMLResponse:
    """The mails the development sink received, newest first, with their links."""
    rows = []
    for message in _sink(deps).messages():
        links = "".join(
            f'<li><a href="{html.escape(link)}">{html.escape(link)}</a></li>' for link in message.links
        )
        rows.append(
            f"<h3>{html.escape(message.subject)}</h3><p>an {html.escape(message.to)}, "
            f"{message.received_at:%d.%m.%Y %H:%M:%S} UTC · "
            f'<a href="mail/{message.name}">.eml</a></p><ul>{links}</ul>'
        )
    return html_page("Postausgang (Entwicklung)", "".join(rows) or "<p>Noch keine Mails.</p>")


@router.get(
    "/dev/mail.json",
    response_model=list[SinkMessage],
    operation_id="list_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def list_sink_messages(deps: DepsDep) -> list[SinkMessage]:
    """The development sink's mails as JSON."""
    return _sink(deps).messages()


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


async def start_mail_sink(deps: Deps) -> None:
    """Start the development sink (when the service has one) before the sender needs it."""
    if deps.sink is not None:
        await deps.sink.start()
        log.info("development mail sink on port %d writes to %s", deps.sink.port, deps.sink.folder.resolve())


async def serve_mail_sink(deps: Deps) -> None:
    """Keep the development sink open until the service stops, then close it."""
    if deps.sink is None:
        return
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await deps.sink.stop()
