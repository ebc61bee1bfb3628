"""Messages people read, in German by default and in English by ``Accept-Language``.

One gettext catalogue for the service (domain ``funding``): the message ids in the code are
English, ``locale/de/LC_MESSAGES/funding.po`` holds the German. The ``.po`` file is read with
Babel at first use and compiled in memory (``babel.messages.mofile``), so a fresh ``make env``
needs no compile step and there is no ``.mo`` file to keep in step. Rules return ``Message``
objects (an id and its parameters, hashable so rankings can be cached); the edge renders them
in the caller's language, formatting amounts, rates and dates the way that language writes them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_percent
from babel.support import NullTranslations, Translations
from fastapi import Depends, Request

from nzr_common.errors import Invalid
from nzr_common.languages import preferred_language

LANGUAGES = ("de", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "funding"


@dataclass(frozen=True)
class Money:
    """An amount in euros."""

    eur: float


@dataclass(frozen=True)
class Percent:
    """A rate given in percent (80 → "80 %")."""

    value: float


@dataclass(frozen=True)
class Message:
    """A message id with its parameters, rendered in a language at the edge."""

    msgid: str
    params: tuple[tuple[str, Any], ...] = ()

    def render(self, language: str) -> str:
        text = translations(language).gettext(self.msgid)
        return text.format(**{name: _formatted(value, language) for name, value in self.params})


def _(msgid: str, **params: Any) -> Message:
    """A message to render later (the gettext keyword ``pybabel extract`` looks for)."""
    return Message(msgid, tuple(params.items()))


def _formatted(value: Any, language: str) -> str:
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return ", ".join(_formatted(v, language) for v in items)
    if isinstance(value, Money):
        pattern = "#,##0\xa0¤" if language == "de" else "¤#,##0"
        return format_currency(value.eur, "EUR", format=pattern, locale=language, currency_digits=False)
    if isinstance(value, Percent):
        pattern = "#,##0.##\xa0%" if language == "de" else "#,##0.##%"
        return format_percent(value.value / 100, format=pattern, locale=language)
    if isinstance(value, date):
        return format_date(value, format="medium", locale=language)
    return str(value)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of a language (the message ids themselves for English)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def render(message: Message | str, language: str) -> str:
    """A message (or an already final text) in a language."""
    return message if isinstance(message, str) else message.render(language)


def invalid(title: Message, problems: list[tuple[str, Message]], language: str) -> Invalid:
    """A 422 naming each parameter at fault, in the caller's language."""
    return Invalid(render(title, language), [(name, render(reason, language)) for name, reason in problems])


_CERTAINTY = {
    "fixed": _("fixed deadline"),
    "expected": _("expected: inferred from earlier rounds, check with the funder"),
    "rolling": _("rolling: applications accepted continuously"),
    "unknown": _("no deadline known"),
}


def certainty_label(certainty: str, language: str) -> str:
    """How sure a deadline is, as people read it."""
    return _CERTAINTY[certainty].render(language)


def request_language(request: Request) -> str:
    """German, or English when the request's ``Accept-Language`` prefers it."""
    return preferred_language(request.headers.get("accept-language"), LANGUAGES)


#: The caller's language in a route: ``async def route(language: LanguageDep) -> ...``.
LanguageDep = Annotated[str, Depends(request_language)]
