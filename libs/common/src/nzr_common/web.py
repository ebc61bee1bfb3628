"""HTTP middleware shared by every service: body size limit, security headers, rate limits,
request metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nzr_common.auth import PRINCIPAL_SCOPE_KEY, Principal
from nzr_common.nul import NUL_REASON, paths_with_nul
from nzr_common.problems import PROBLEM_JSON, ProblemError

log = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
#: API answers (JSON, CSV, iCalendar, SVG, ...) load nothing and may not be framed; an SVG
#: chart opened directly cannot run script.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Our own HTML pages (newsletter confirmation, reporting dashboard): inline styles, no script.
HTML_CSP = (
    b"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: FastAPI's Swagger UI and ReDoc load their script and styles from jsDelivr and start inline.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    b"https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by header and while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False
        refused = False

        # Over the limit, the client gets its 413 at once and the app sees the client leave:
        # an exception raised into the app would be turned into a 400 by FastAPI's body parsing.
        async def limited_receive() -> Message:
            nonlocal received, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        started = True
                        await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the client has its answer already
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = f"The request body exceeds {self.max_bytes} bytes."
        await send_problem(scope, send, 413, "Payload Too Large", detail)


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    title: str,
    detail: str,
    *,
    invalid_params: list[dict[str, str]] | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with problem+json straight from a middleware (before routing)."""
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path"),
    }
    if invalid_params:
        problem["invalid_params"] = invalid_params
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: Request bodies read whole to look for U+0000 (JSON writes it ``\u0000``, forms ``%00``).
_TEXT_BODIES = (b"application/json", b"application/x-www-form-urlencoded")
_FORM = b"application/x-www-form-urlencoded"


class RefuseNulCharacters:
    """Refuse U+0000 in the path, the query and JSON or form bodies with 422 naming the field.

    PostgreSQL cannot store it in text (SQLite can): without this, a NUL in any text field
    would reach the database and fail there with 500 instead of being refused as bad input.
    Bodies of other types (CSV uploads) are the route's to judge, row by row.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields: list[str] = []
        if "\x00" in scope.get("path", ""):
            fields.append("path")
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            fields += [name for name, value in parse_qsl(query.decode("latin-1")) if "\x00" in name + value]
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").lower()
        has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        # Without a content type FastAPI reads the body as JSON: so does this check.
        if content_type.startswith(_TEXT_BODIES) or (not content_type and has_body):
            body, receive = await _read_body(receive)
            if content_type.startswith(_FORM):
                if b"%00" in body:
                    fields += [
                        name for name, value in parse_qsl(body.decode("latin-1")) if "\x00" in name + value
                    ]
            elif b"\\u0000" in body:
                try:
                    fields += list(paths_with_nul(json.loads(body)))
                except ValueError:
                    pass  # malformed JSON: the route answers 400 naming it
        if fields:
            await send_problem(
                scope,
                send,
                422,
                "Invalid request",
                f"Invalid fields: {', '.join(fields)}",
                invalid_params=[{"name": f, "reason": NUL_REASON} for f in fields],
            )
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it to the app as if it came now."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), _replay([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


class SecurityHeaders:
    """Headers careful operators expect on every response, errors and 404s included: no MIME
    sniffing, no framing, no referrer, a Content-Security-Policy fitting the content (API,
    HTML page, API docs) and HSTS when configured. Headers the app set itself are kept."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_max_age: int = 0,
        hsts_include_subdomains: bool = False,
        docs_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        self.headers = list(SECURITY_HEADERS)
        if hsts_max_age > 0:
            value = f"max-age={hsts_max_age}" + ("; includeSubDomains" if hsts_include_subdomains else "")
            self.headers.append((b"strict-transport-security", value.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", self._policy(scope, headers)))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)

    def _policy(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> bytes:
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if not content_type.lower().startswith(b"text/html"):
            return API_CSP
        return DOCS_CSP if scope.get("path") in self.docs_paths else HTML_CSP


#: Verifies an ``Authorization`` header (None: no header) and returns the caller; raises
#: :class:`nzr_common.problems.ProblemError` (401) for one that does not verify.
Authenticate = Callable[[str | None], Awaitable[Principal]]


class RateLimits:
    """Limits per route class (search, sign-up, subscription, writes), answered with 429
    problem+json and ``Retry-After`` before the route runs (pages answered from a cache count).

    The key is the verified token's region and subject for callers with a token and the client
    address for anonymous callers. On a limited route an ``Authorization`` header that does not
    verify (``Basic``, an empty ``Bearer``, garbage, expired, signed otherwise) is answered 401
    here, so it never escapes the anonymous limits; the verified principal is left in the scope
    for the route. The client address is the connection's; uvicorn's ``ProxyHeadersMiddleware``
    replaces it with the ``X-Forwarded-For`` client only for the proxies trusted in the settings.

    The counters live in ``storage_uri``: ``memory://`` per process, ``redis://…`` shared by a
    service's replicas. When the shared store does not answer within ``store_timeout`` seconds,
    the request is judged by counters in this process instead (logged at most once a minute),
    so an outage of the store neither takes the public endpoints down nor lifts the limits; for
    the next ``store_retry_seconds`` requests are judged here without asking the store, so a
    store that hangs costs one request its timeout per window, not every request. Counters in
    memory are never raced against a timeout: a busy event loop delays them, it does not fail them.

    The strategy is ``limits``' sliding window counter: two counters per key. Its moving window
    keeps an entry per hit and sweeps them with a thread hop per key after each hit, which
    halved the registration throughput in ``bench/rate_limits.py``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], Sequence[tuple[BaseRoute, str]]],
        limits_by_name: dict[str, str],
        authenticate: Authenticate,
        storage_uri: str = "memory://",
        namespace: str = "nzr",
        store_timeout: float = 0.25,
        store_retry_seconds: float = 10.0,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.app = app
        self.refused = Counter(
            "nzr_rate_limited_requests",
            "Requests answered 429 by the rate limits, by limit (search, sign_up, subscription, writes)",
            ["limit"],
            registry=registry,
        )
        self._routes = routes
        self._limited: dict[str, list[tuple[BaseRoute, str]]] | None = None
        self.limits = {name: limits.parse_many(value) for name, value in limits_by_name.items()}
        self.authenticate = authenticate
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self.limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri))
        self.local = (
            self.limiter
            if isinstance(self.limiter.storage, MemoryStorage)
            else SlidingWindowCounterRateLimiter(MemoryStorage())
        )
        self.namespace = namespace
        self.store_timeout = store_timeout
        self.store_retry_seconds = store_retry_seconds
        self._store_retry_at = 0.0
        self._next_store_warning = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._limited is None:
            self._limited = _by_method(self._routes())
        candidates = self._limited.get(scope["method"], ())
        name = next((name for route, name in candidates if route.matches(scope)[0] is Match.FULL), None)
        if name is not None:
            header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            try:
                principal = await self.authenticate(None if header is None else header.decode("latin-1"))
            except ProblemError as problem:
                headers = [(k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()]
                detail = problem.detail or problem.title
                await send_problem(scope, send, problem.status, problem.title, detail, headers=headers)
                return
            scope[PRINCIPAL_SCOPE_KEY] = principal
            who: tuple[str, ...]
            if principal.anonymous:
                who = ("address", (scope.get("client") or ("unknown", 0))[0])
            else:
                who = ("subject", principal.region or "", principal.subject or "")
            for item in self.limits.get(name, ()):
                retry_after = await self._retry_after(item, (self.namespace, name, *who))
                if retry_after is not None:
                    self.refused.labels(name).inc()
                    await _refuse_too_many(scope, send, name, item, retry_after, principal.anonymous)
                    return
        await self.app(scope, receive, send)

    async def _retry_after(self, item: limits.RateLimitItem, keys: tuple[str, ...]) -> int | None:
        """Count the hit; None when it is within the limit, else the seconds to wait."""
        if self.limiter is self.local or time.monotonic() < self._store_retry_at:
            return await self._hit(self.local, item, keys)
        try:
            return await asyncio.wait_for(self._hit(self.limiter, item, keys), self.store_timeout)
        except Exception as error:  # the shared store is down or slow: judge in this process
            now = time.monotonic()
            self._store_retry_at = now + self.store_retry_seconds
            if now >= self._next_store_warning:
                self._next_store_warning = now + 60.0
                log.warning("rate-limit store unreachable (%r); counting in this process", error)
            return await self._hit(self.local, item, keys)

    @staticmethod
    async def _hit(
        limiter: SlidingWindowCounterRateLimiter, item: limits.RateLimitItem, keys: tuple[str, ...]
    ) -> int | None:
        if await limiter.hit(item, *keys):
            return None
        stats = await limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _by_method(routes: Sequence[tuple[BaseRoute, str]]) -> dict[str, list[tuple[BaseRoute, str]]]:
    """The limited routes per HTTP method, so a request is matched only against its method's."""
    grouped: dict[str, list[tuple[BaseRoute, str]]] = {}
    for route, name in routes:
        for method in getattr(route, "methods", None) or ():
            grouped.setdefault(method, []).append((route, name))
    return grouped


async def _refuse_too_many(
    scope: Scope, send: Send, name: str, item: limits.RateLimitItem, retry: int, anonymous: bool
) -> None:
    whose = "from your address" if anonymous else "with your token"
    kind = name.replace("_", "-").capitalize()
    detail = f"{kind} requests {whose} are limited to {item}; try again in {retry} s."
    headers = [(b"retry-after", str(retry).encode())]
    await send_problem(scope, send, 429, "Too Many Requests", detail, headers=headers)


class RequestMetrics:
    """Prometheus request counter and latency histogram labelled by route template."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, status)
            children = self._children.get(key)
            if children is None:  # labels() looks the child up under a lock: once per key
                children = self._children[key] = (
                    self.requests.labels(scope["method"], route, str(status)),
                    self.latency.labels(scope["method"], route),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - start)
