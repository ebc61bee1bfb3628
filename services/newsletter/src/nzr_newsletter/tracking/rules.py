"""Tracking rules: which links of a campaign's HTML are counted and how (pure, no I/O).

Counting is per campaign only: the pixel and the click links carry the campaign and the link's
position, never the recipient, so every recipient's mail has the same tracking URLs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

#: ``<a href="…">`` as Markdown writes it; the personal links (placeholders) stay untouched.
_ANCHOR = re.compile(r'(<a\s[^>]*?href=")([^"]*)(")', re.IGNORECASE)
PERSONAL_SLOT = "NZRSLOT"


def rewrite_links(page: str, click_url: Callable[[int], str]) -> tuple[str, list[str]]:
    """The HTML with every http(s) link replaced by its counting redirect, and the targets in
    order (the redirect's only destinations: it can send nobody anywhere else)."""
    targets: list[str] = []

    def replace(match: re.Match[str]) -> str:
        target = html.unescape(match.group(2))
        if PERSONAL_SLOT in target or not target.lower().startswith(("http://", "https://")):
            return match.group(0)
        if target not in targets:
            targets.append(target)
        return f"{match.group(1)}{html.escape(click_url(targets.index(target)))}{match.group(3)}"

    return _ANCHOR.sub(replace, page), targets


def pixel(url: str) -> str:
    """The invisible image whose loading counts an open (decorative: empty alt text)."""
    return f'\n<img src="{html.escape(url)}" width="1" height="1" alt="" style="display:block;border:0">'


def wants_tracking(list_settings: list[bool]) -> bool:
    """A campaign is counted only when every one of its lists has tracking switched on."""
    return bool(list_settings) and all(list_settings)


def target_of(links: list[str] | None, index: int) -> str | None:
    """The link at ``index`` of a tracked campaign, or None (no open redirect: only these)."""
    if links is None or not 0 <= index < len(links):
        return None
    return links[index]


#: A transparent 1×1 GIF.
PIXEL_GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
