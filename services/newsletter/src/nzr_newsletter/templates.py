"""Campaign templates: checked at save time, rendered once per campaign, personalised into bytes.

A Jinja2 template in Markdown gives both parts: the rendered Markdown is the plain-text part,
its HTML rendering the HTML part. Per-recipient values (name, unsubscribe and preferences
links) are rendered as placeholders and substituted into the prepared parts for each
recipient, so a campaign to 100,000 people renders its template once, not 100,000 times.
"""

from __future__ import annotations

import binascii
import email.utils
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from typing import Any

import markdown
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from nzr_newsletter.domain import has_control_characters

PERSONAL = {"name": "NZRSLOTNAMEQ", "unsubscribe_url": "NZRSLOTUNSUBQ", "preferences_url": "NZRSLOTPREFSQ"}
_SLOT = re.compile("|".join(PERSONAL.values()))
_KEY_OF_SLOT = {slot: key for key, slot in PERSONAL.items()}

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

SAMPLE_EXTRA: dict[str, Any] = {"items": [], "list_names": ["Beispielliste"], "region": "demo"}


class TemplateRefused(ValueError):
    """The template cannot be rendered; the message says where and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _render(field: str, source: str, context: dict[str, Any]) -> str:
    try:
        return _environment.from_string(source).render(**context)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateError(f"{type(error).__name__}{where}: {error.message or error}") from error


def render_subject(subject: str, context: dict[str, Any]) -> str:
    try:
        rendered = _render("subject", subject, context).strip()
    except TemplateError as error:
        raise TemplateRefused("subject", str(error)) from error
    if has_control_characters(rendered):
        raise TemplateRefused("subject", "the subject must be one line without control characters")
    if not rendered:
        raise TemplateRefused("subject", "the subject is empty")
    return rendered


def render_body(body: str, context: dict[str, Any]) -> str:
    try:
        return _render("body", body, {**context, **PERSONAL}).replace("\r\n", "\n")
    except TemplateError as error:
        raise TemplateRefused("body", str(error)) from error


def check_template(*, subject: str, body: str, extra: dict[str, Any] | None = None) -> None:
    """Refuse a template that does not render with sample values (at save time, not send time)."""
    context = {**SAMPLE_EXTRA, **(extra or {})}
    render_subject(subject, context)
    render_body(body, context)


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


TEXT_FOOTER = (
    "\n\n-- \nAbbestellen mit einem Klick: NZRSLOTUNSUBQ\nEinstellungen, Export und Löschung: NZRSLOTPREFSQ\n"
)
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


def prepare_message(
    *,
    campaign_id: str,
    subject: str,
    body: str,
    sender: str,
    list_id_header: str,
    context: dict[str, Any],
    now: datetime | None = None,
) -> PreparedMessage:
    """Render the template once and build everything that is the same for every recipient."""
    rendered_subject = render_subject(subject, context)
    text = render_body(body, context).rstrip("\n") + TEXT_FOOTER
    body_html = markdown.markdown(render_body(body, context), extensions=["extra", "sane_lists"])
    page = HTML_LAYOUT.format(title=html.escape(rendered_subject), body=body_html)
    name, address = email.utils.parseaddr(sender)
    from_header = email.utils.formataddr((name, address), charset="utf-8")
    head = (
        f"From: {from_header}\r\n"
        f"Subject: {_header_text(rendered_subject)}\r\n"
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
        subject=rendered_subject,
    )


def preview(
    prepared: PreparedMessage, *, name: str, unsubscribe_url: str, preferences_url: str
) -> tuple[str, str]:
    """Text and HTML of the message for one (sample) recipient."""
    values = {"name": name, "unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
    escaped = {key: html.escape(value) for key, value in values.items()}
    return _join(prepared.text_segments, values), _join(prepared.html_segments, escaped)
