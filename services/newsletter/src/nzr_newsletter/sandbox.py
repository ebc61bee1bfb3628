"""The sandbox campaign templates are checked and rendered in (``nzr_newsletter.templates``):
Jinja's ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``, without ``range`` and
``lipsum``, with ``*``, ``**``, ``+`` and ``%`` refusing results beyond a size cap, the output
streamed from ``generate()`` and cut at a size cap, and the Markdown's HTML rendering.

Imported where a template is checked (saving a campaign) or rendered (the render worker), not
with the web app: Jinja2 and Markdown stay out of an idle service (issue #20).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import markdown
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nzr_newsletter.subscriptions.rules import has_control_characters
from nzr_newsletter.templates import (
    ALLOWED_VARIABLES,
    MAX_OUTPUT_CHARS,
    PERSONAL,
    SAMPLE_EXTRA,
    PreparedMessage,
    RenderedCampaign,
    RenderLimits,
    TemplateRefused,
    build_message,
    render_bounded,
)

_BIG_NUMBER_BITS = 4096
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d{4,})|%[-#0 +]*\d*\.(\*|\d{4,})")


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
