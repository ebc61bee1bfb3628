"""The language of messages people read: German by default, another supported one when the
request's ``Accept-Language`` (RFC 9110 §12.5.4) prefers it."""

from __future__ import annotations

DEFAULT_LANGUAGE = "de"


def preferred_language(
    accept_language: str | None, supported: tuple[str, ...] = ("de", "en"), default: str = DEFAULT_LANGUAGE
) -> str:
    """The supported language the header ranks highest (by q-value, then by order); the default
    when it names none of them."""
    best, best_q = default, 0.0
    for item in (accept_language or "")[:1000].split(","):
        tag, _, parameters = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if language in supported and q > best_q:
            best, best_q = language, q
    return best
