"""Text no service stores: U+0000, which PostgreSQL cannot hold in text (SQLite can)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

NUL_REASON = "must not contain the NUL character (U+0000)"


def paths_with_nul(value: Any, path: str = "") -> Iterator[str]:
    """Dotted paths (list items by index) of the strings and keys in ``value`` holding U+0000."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield inner
            else:
                yield from paths_with_nul(item, inner)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from paths_with_nul(item, f"{path}.{index}" if path else str(index))


def refuse_nul(value: Any) -> Any:
    """A ``field_validator("*", mode="before")`` body: the value unchanged, or a ValueError
    (reported on the field) when it holds U+0000 anywhere."""
    if next(paths_with_nul(value), None) is not None:
        raise ValueError(NUL_REASON)
    return value
