"""A short-lived cache of rendered public pages (the event list and the iCalendar feed).

Anonymous listings are the hottest read and identical for every caller. A rendered page is
served from memory for ``ttl`` seconds, answered by an ASGI middleware that sits inside the
platform's middlewares (metrics, security headers and tracing still apply) but before routing,
so a hit skips parameter parsing and the database. Any write through this process clears the
cache before its response leaves, so a caller never reads an older state after its own write;
other replicas' writes show after at most ``ttl`` seconds.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The public pages served from the cache (the event list and the iCalendar feed).
CACHED_PAGES = frozenset({"/api/v1/events", "/api/v1/events.ics"})


def page_key(path: str, query: str) -> str:
    return f"{path}?{query}"


class PublicPageCache:
    def __init__(self, ttl: float, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._pages: dict[str, tuple[float, str, bytes, dict[str, str]]] = {}

    def get(self, key: str) -> tuple[str, bytes, dict[str, str]] | None:
        """(media type, body, further headers such as ``Link``) of a fresh page, or None."""
        hit = self._pages.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2], hit[3]

    def put(self, key: str, media_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        if self.ttl <= 0:
            return
        if len(self._pages) >= self.max_entries:
            self._pages.clear()
        self._pages[key] = (time.monotonic() + self.ttl, media_type, body, headers or {})

    def clear(self) -> None:
        self._pages.clear()


class PublicPageCacheMiddleware:
    """Answers anonymous GETs of cached public pages; a non-GET request clears the cache."""

    def __init__(self, app: ASGIApp, cache: PublicPageCache, paths: frozenset[str]) -> None:
        self.app = app
        self.cache = cache
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):
            # Callers with a token see more; a precondition is checked by the route (428).
            personal = any(k in (b"authorization", b"if-match") for k, _ in scope["headers"])
            if scope["path"] in self.paths and not personal:
                hit = self.cache.get(page_key(scope["path"], scope["query_string"].decode("latin-1")))
                if hit is not None:
                    await _send_page(send, *hit, with_body=scope["method"] == "GET")
                    return
            await self.app(scope, receive, send)
            return

        async def send_after_clearing(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.cache.clear()
            await send(message)

        await self.app(scope, receive, send_after_clearing)


async def _send_page(
    send: Send, media_type: str, body: bytes, headers: dict[str, str], *, with_body: bool
) -> None:
    further = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *further,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body if with_body else b""})
