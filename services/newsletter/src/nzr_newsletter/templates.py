"""Campaign templates: checked at save time, rendered once per campaign in a sandbox, personalised
into bytes.

A Jinja2 template in Markdown gives both parts: the rendered Markdown is the plain-text part,
its HTML rendering the HTML part. Per-recipient values (name, unsubscribe and preferences
links) are rendered as placeholders and substituted into the prepared parts for each
recipient, so a campaign to 100,000 people renders its template once, not 100,000 times.

Templates are written by editors, so they are untrusted code: they render in Jinja's
``ImmutableSandboxedEnvironment`` with ``StrictUndefined``, without ``range`` and ``lipsum``,
with ``*``, ``**``, ``+`` and ``%`` refusing results beyond a size cap, and the output is
streamed from ``generate()`` and cut at a size cap. A loop that outputs nothing escapes the size
cap, and string methods can still build large values in memory, so the service renders in a
separate process (``template_worker``) with a hard time limit and a memory limit.

Checking and rendering a template in this process is ``nzr_newsletter.sandbox`` (Jinja2 and
Markdown), imported where a template is checked or rendered: an idle service does not load them
(issue #20).
"""

from __future__ import annotations

import asyncio
import binascii
import email.utils
import html
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from typing import Any

PERSONAL = {"name": "NZRSLOTNAMEQ", "unsubscribe_url": "NZRSLOTUNSUBQ", "preferences_url": "NZRSLOTPREFSQ"}
_SLOT = re.compile("|".join(PERSONAL.values()))
_KEY_OF_SLOT = {slot: key for key, slot in PERSONAL.items()}

#: The variables a campaign template may use; anything else is refused when it is saved.
ALLOWED_VARIABLES = frozenset({*PERSONAL, "list_names", "region", "items"})
SAMPLE_EXTRA: dict[str, Any] = {"items": [], "list_names": ["Beispielliste"], "region": "demo"}

#: Defaults of the limits (the service takes them from its settings).
MAX_OUTPUT_CHARS = 1_000_000
RENDER_SECONDS = 5.0
MEMORY_BYTES = 512 * 1024 * 1024


class TemplateRefused(ValueError):
    """The template cannot be rendered; the message says where and why."""

    def __init__(self, field: str, reason: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{field}: {where}{reason}")
        self.field = field
        self.line = line
        self.reason = f"{where}{reason}"


@dataclass(frozen=True)
class RenderedCampaign:
    """The rendered, recipient-independent parts (personal values still placeholders)."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderLimits:
    max_chars: int = MAX_OUTPUT_CHARS
    seconds: float = RENDER_SECONDS
    memory_bytes: int = MEMORY_BYTES
    #: Worker processes at a time (None: no bound); the time limit runs once a worker starts.
    workers: asyncio.Semaphore | None = None


async def render_bounded(
    *, subject: str, body: str, context: dict[str, Any], limits: RenderLimits
) -> RenderedCampaign:
    """Render in a worker process killed after ``limits.seconds`` and limited in memory; the
    event loop never runs template code."""
    if limits.workers is None:
        return await _render_in_worker(subject=subject, body=body, context=context, limits=limits)
    async with limits.workers:
        return await _render_in_worker(subject=subject, body=body, context=context, limits=limits)


async def _render_in_worker(
    *, subject: str, body: str, context: dict[str, Any], limits: RenderLimits
) -> RenderedCampaign:
    request = json.dumps(
        {
            "subject": subject,
            "body": body,
            "context": context,
            "max_chars": limits.max_chars,
            "memory_bytes": limits.memory_bytes,
            "cpu_seconds": max(int(limits.seconds) + 1, 1),
        },
        default=str,
    ).encode()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nzr_newsletter.template_worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(request), limits.seconds)
    except TimeoutError:
        raise TemplateRefused("body", f"rendering took longer than {limits.seconds:g} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    try:
        answer = json.loads(out)
    except ValueError:
        raise TemplateRefused(
            "body", "rendering was stopped (it needed more time or memory than allowed)"
        ) from None
    if not answer.get("ok"):
        raise TemplateRefused(answer["field"], answer["reason"])
    return RenderedCampaign(answer["subject"], answer["text"], answer["html"])


def _segments(text: str) -> list[str]:
    """Split at placeholders: even positions are literal text, odd positions placeholder keys."""
    parts: list[str] = []
    position = 0
    for match in _SLOT.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(_KEY_OF_SLOT[match.group(0)])
        position = match.end()
    parts.append(text[position:])
    return parts


def _join(segments: list[str], values: dict[str, str]) -> str:
    return "".join(values[part] if index % 2 else part for index, part in enumerate(segments))


def _quoted_printable(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n")


def _header_text(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode().replace("\n", "\r\n")


TEXT_FOOTER = "\n\n-- \nAbbestellen: NZRSLOTUNSUBQ\nEinstellungen, Export und Löschung: NZRSLOTPREFSQ\n"
HTML_LAYOUT = (
    '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><title>{title}'
    '</title></head>\n<body style="font-family:sans-serif;max-width:40em">\n{body}\n'
    '<hr>\n<p style="font-size:small"><a href="NZRSLOTUNSUBQ">Abbestellen</a> · '
    '<a href="NZRSLOTPREFSQ">Einstellungen, Export und Löschung</a></p>\n'
    "</body></html>\n"
)


@dataclass(frozen=True)
class PreparedMessage:
    """A campaign's message with the recipient-independent parts already built."""

    head: bytes
    text_segments: list[str]
    html_segments: list[str]
    boundary: str
    message_id_domain: str
    campaign_id: str
    subject: str

    def personalise(
        self, *, to: str, subscriber_id: str, name: str, unsubscribe_url: str, preferences_url: str
    ) -> bytes:
        """The complete RFC 5322 message for one recipient."""
        text_values = {"name": name, "unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
        html_values = {key: html.escape(value) for key, value in text_values.items()}
        text = _quoted_printable(_join(self.text_segments, text_values))
        body = _quoted_printable(_join(self.html_segments, html_values))
        boundary = self.boundary.encode()
        return b"".join(
            (
                self.head,
                b"To: ",
                to.encode("ascii"),
                b"\r\n",
                b"Message-ID: ",
                message_id(self.campaign_id, subscriber_id, self.message_id_domain).encode(),
                b"\r\n",
                b"List-Unsubscribe: <",
                unsubscribe_url.encode("ascii"),
                b">\r\n",
                b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                b'Content-Type: multipart/alternative; boundary="',
                boundary,
                b'"\r\n\r\n',
                b"--",
                boundary,
                b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                text,
                b"\r\n",
                b"--",
                boundary,
                b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                body,
                b"\r\n",
                b"--",
                boundary,
                b"--\r\n",
            )
        )


def message_id(campaign_id: str, subscriber_id: str, domain: str) -> str:
    """Stable per (campaign, recipient): a resent message is recognisable as the same one."""
    return f"<{campaign_id}.{subscriber_id}@{domain}>"


def sender_domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "nzr.invalid"


def build_message(
    rendered: RenderedCampaign,
    *,
    campaign_id: str,
    sender: str,
    list_id_header: str,
    now: datetime | None = None,
) -> PreparedMessage:
    """Everything that is the same for every recipient, from the rendered parts."""
    text = rendered.text.rstrip("\n") + TEXT_FOOTER
    page = HTML_LAYOUT.format(title=html.escape(rendered.subject), body=rendered.html)
    name, address = email.utils.parseaddr(sender)
    from_header = email.utils.formataddr((name, address), charset="utf-8")
    head = (
        f"From: {from_header}\r\n"
        f"Subject: {_header_text(rendered.subject)}\r\n"
        f"Date: {email.utils.format_datetime(now or datetime.now(UTC))}\r\n"
        f"MIME-Version: 1.0\r\n"
        f"List-Id: {list_id_header}\r\n"
        f"Precedence: bulk\r\n"
        f"Auto-Submitted: auto-generated\r\n"
    ).encode("ascii")
    return PreparedMessage(
        head=head,
        text_segments=_segments(text),
        html_segments=_segments(page),
        boundary=f"=_nzr_{campaign_id.replace('-', '')}",
        message_id_domain=sender_domain(sender),
        campaign_id=campaign_id,
        subject=rendered.subject,
    )


def preview(
    prepared: PreparedMessage, *, name: str, unsubscribe_url: str, preferences_url: str
) -> tuple[str, str]:
    """Text and HTML of the message for one (sample) recipient."""
    values = {"name": name, "unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
    escaped = {key: html.escape(value) for key, value in values.items()}
    return _join(prepared.text_segments, values), _join(prepared.html_segments, escaped)
