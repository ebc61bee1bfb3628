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

import markdown
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nzr_newsletter.subscriptions.rules import has_control_characters

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
_BIG_NUMBER_BITS = 4096
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d{4,})|%[-#0 +]*\d*\.(\*|\d{4,})")


class TemplateRefused(ValueError):
    """The template cannot be rendered; the message says where and why."""

    def __init__(self, field: str, reason: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{field}: {where}{reason}")
        self.field = field
        self.line = line
        self.reason = f"{where}{reason}"


class _TooLarge(Exception):
    pass


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with arithmetic that refuses to build huge values."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, max_chars: int = MAX_OUTPUT_CHARS) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.max_chars = max_chars
        for name in ("range", "lipsum"):
            self.globals.pop(name, None)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._check(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def _check(self, operator: str, left: Any, right: Any) -> None:
        left_size, right_size = _size(left), _size(right)
        if (
            operator == "+"
            and left_size is not None
            and right_size is not None
            and left_size + right_size > self.max_chars
        ):
            raise _TooLarge("'+' would build a value beyond the size limit")
        if operator == "*":
            for size, factor in ((left_size, right), (right_size, left)):
                if size is not None and isinstance(factor, int) and size * factor > self.max_chars:
                    raise _TooLarge("'*' would build a value beyond the size limit")
            if _bits(left) + _bits(right) > _BIG_NUMBER_BITS:
                raise _TooLarge("'*' would build a number beyond the size limit")
        if operator == "**" and isinstance(right, int | float):
            if _bits(left) * max(abs(right), 1) > _BIG_NUMBER_BITS or abs(right) > _BIG_NUMBER_BITS:
                raise _TooLarge("'**' would build a number beyond the size limit")
        if operator == "%" and isinstance(left, str) and _FORMAT_WIDTH.search(left):
            raise _TooLarge("'%' formatting with a width or precision beyond the limit")


def _bits(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(abs(value)).bit_length()


_parser = BoundedSandbox()


def _where(error: BaseException) -> int | None:
    """The template line of an error: Jinja rewrites tracebacks so that the template's frames
    carry the file name ``<template>`` and the template's line numbers."""
    line = getattr(error, "lineno", None)
    if line:
        return int(line)
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            found = traceback.tb_lineno
        traceback = traceback.tb_next
    return found


def _problem(error: BaseException) -> str:
    if isinstance(error, _TooLarge):
        return str(error)
    if isinstance(error, MemoryError):
        return "the template needs more memory than allowed"
    if isinstance(error, RecursionError):
        return "the template nests too deeply"
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"


def check_syntax(field: str, source: str, allowed: frozenset[str] = ALLOWED_VARIABLES) -> None:
    """Parse the template and refuse syntax errors and variables outside ``allowed``."""
    try:
        tree = _parser.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateRefused(field, error.message or "syntax error", error.lineno) from error
    unknown = meta.find_undeclared_variables(tree) - allowed
    if unknown:
        first = min(
            (node for node in tree.find_all(nodes.Name) if node.name in unknown), key=lambda n: n.lineno
        )
        raise TemplateRefused(
            field,
            f"'{first.name}' is not a template variable (allowed: {', '.join(sorted(allowed))})",
            first.lineno,
        )


def _render(field: str, source: str, context: dict[str, Any], env: BoundedSandbox) -> str:
    """Render with the output streamed and cut at the size cap."""
    try:
        parts: list[str] = []
        size = 0
        for chunk in env.from_string(source).generate(**context):
            size += len(chunk)
            if size > env.max_chars:
                raise TemplateRefused(field, f"the rendered text is longer than {env.max_chars} characters")
            parts.append(chunk)
        return "".join(parts)
    except TemplateRefused:
        raise
    except Exception as error:  # the template is untrusted: any failure is its problem
        raise TemplateRefused(field, _problem(error), _where(error)) from error


@dataclass(frozen=True)
class RenderedCampaign:
    """The rendered, recipient-independent parts (personal values still placeholders)."""

    subject: str
    text: str
    html: str


def render_in_sandbox(
    *, subject: str, body: str, context: dict[str, Any], max_chars: int = MAX_OUTPUT_CHARS
) -> RenderedCampaign:
    """Render subject and body in this process (the worker process, unit tests, benchmarks)."""
    env = BoundedSandbox(max_chars)
    rendered_subject = _render("subject", subject, context, env).strip()
    if has_control_characters(rendered_subject):
        raise TemplateRefused("subject", "the subject must be one line without control characters")
    if not rendered_subject:
        raise TemplateRefused("subject", "the subject is empty")
    if len(rendered_subject) > 998:
        raise TemplateRefused("subject", "the rendered subject is longer than 998 characters")
    text = _render("body", body, {**context, **PERSONAL}, env).replace("\r\n", "\n")
    try:
        page = markdown.markdown(text, extensions=["extra", "sane_lists"])
    except Exception as error:
        raise TemplateRefused("body", f"the Markdown does not convert: {_problem(error)}") from error
    return RenderedCampaign(rendered_subject, text, page)


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


async def check_template(
    *,
    subject: str,
    body: str,
    extra: dict[str, Any] | None = None,
    limits: RenderLimits | None = None,
) -> None:
    """Refuse a template at save time: syntax, unknown variables, and a dry render with sample
    values within the limits."""
    check_syntax("subject", subject)
    check_syntax("body", body)
    await render_bounded(
        subject=subject, body=body, context={**SAMPLE_EXTRA, **(extra or {})}, limits=limits or RenderLimits()
    )


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
    """Render the template once in this process and build what is the same for every recipient."""
    rendered = render_in_sandbox(subject=subject, body=body, context=context)
    return build_message(
        rendered, campaign_id=campaign_id, sender=sender, list_id_header=list_id_header, now=now
    )


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
