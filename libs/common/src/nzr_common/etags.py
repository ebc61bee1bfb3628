"""Entity tags for every resource and feed, conditional reads and conditional updates (RFC 9110
§8.8.3, §13), in one ASGI middleware so no route has to remember them.

- A ``GET`` answered 200 gets an ``ETag`` unless the route set one itself (actors tag
  their versions): a strong tag, the hash of the representation's bytes.
- ``If-None-Match`` that names the current tag (weak comparison, or ``*``) → 304 without a body.
- ``If-Match`` on a change (``PUT``, ``PATCH``, ``DELETE``, ``POST``) is checked against the tag of
  the resource at the same URL as a ``GET`` by the same caller would see it: a stale tag → 412
  with the current ``ETag``, nothing changed. When that URL has no representation (no ``GET``
  there, or not 200) the precondition cannot be evaluated and the route answers 428
  (:mod:`nzr_common.conditions`). ``If-Match`` stays optional: a change without it is performed.
- The check and the change are one critical section per URL (:class:`ChangeLocks`): a change
  carrying ``If-Match`` holds its path's lock exclusively from the check until the route has
  answered; changes without ``If-Match`` of the same path hold it shared (they do not wait for
  each other, but never run between another request's check and change). Two changes sending
  the same tag: one succeeds, the other gets 412.

  The lock lives in the process. A service runs one uvicorn worker per process, but Kubernetes
  runs several replicas of some services (``deploy/k8s/base``: actors, events and funding with
  ``replicas: 2``), and requests for one URL may land on different replicas: across processes
  the check and the change can still interleave. Routes that need the guarantee across
  replicas check a row version in the transaction of the change and declare ``If-Match``
  themselves (actors); the rest get it per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Representations larger than this are streamed through without a tag.
MAX_TAGGED_BYTES = 2 * 1024 * 1024
#: Scope key set when the middleware evaluated ``If-Match`` (the route then does not answer 428).
IF_MATCH_CHECKED = "nzr.if_match_checked"
_CHANGES = frozenset({"PUT", "PATCH", "DELETE", "POST"})
_DROPPED_FOR_GET = frozenset(
    {b"if-match", b"if-none-match", b"content-length", b"content-type", b"idempotency-key"}
)


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def none_match(header: str, current: str) -> bool:
    """``If-None-Match`` names the current tag (weak comparison) or is ``*``."""
    tags = _tags(header)
    return "*" in tags or _opaque(current) in {_opaque(t) for t in tags}


def if_match_holds(header: str, current: str) -> bool:
    """``If-Match`` names the current tag (strong comparison: weak tags never match) or is ``*``."""
    tags = _tags(header)
    return "*" in tags or (not current.startswith("W/") and current in tags)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class _Captured:
    """A response kept in memory: status, headers, body (None once it grew too large)."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.body: bytearray | None = bytearray()
        self.more: list[Message] = []


class _PathLock:
    """Shared holders (changes without ``If-Match``) or one exclusive holder (a conditional
    change); waiting exclusive holders go first, so a steady stream of unconditional changes
    cannot starve a conditional one."""

    __slots__ = ("condition", "exclusive", "shared", "users", "waiting_exclusive")

    def __init__(self) -> None:
        self.condition = asyncio.Condition()
        self.shared = 0
        self.exclusive = False
        self.waiting_exclusive = 0
        self.users = 0  # holders and waiters: the lock is dropped when it falls to 0


class ChangeLocks:
    """One lock per normalised request path, created on first use and dropped when idle."""

    def __init__(self) -> None:
        self._locks: dict[str, _PathLock] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @staticmethod
    def key(path: str) -> str:
        return "/" + "/".join(part for part in path.split("/") if part)

    @asynccontextmanager
    async def hold(self, path: str, *, exclusive: bool) -> AsyncIterator[None]:
        key = self.key(path)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = _PathLock()
        lock.users += 1
        try:
            async with lock.condition:
                if exclusive:
                    lock.waiting_exclusive += 1
                    try:
                        await lock.condition.wait_for(lambda: not lock.exclusive and not lock.shared)
                    finally:
                        lock.waiting_exclusive -= 1
                    lock.exclusive = True
                else:
                    await lock.condition.wait_for(lambda: not lock.exclusive and not lock.waiting_exclusive)
                    lock.shared += 1
            try:
                yield
            finally:
                async with lock.condition:
                    if exclusive:
                        lock.exclusive = False
                    else:
                        lock.shared -= 1
                    lock.condition.notify_all()
        finally:
            lock.users -= 1
            if lock.users == 0 and self._locks.get(key) is lock:
                del self._locks[key]


class EntityTags:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.locks = ChangeLocks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            await self._read(scope, receive, send)
            return
        if method not in _CHANGES:
            await self.app(scope, receive, send)
            return
        if_match = _header(scope["headers"], b"if-match")
        async with self.locks.hold(scope["path"], exclusive=if_match is not None):
            if if_match is not None:
                current = await self._current_tag(scope)
                if current is not None:
                    if not if_match_holds(if_match, current):
                        await _precondition_failed(send, current)
                        return
                    scope[IF_MATCH_CHECKED] = True
            await self.app(scope, receive, send)

    async def _current_tag(self, scope: Scope) -> str | None:
        """The tag of what a GET of the same URL by the same caller answers, None if not 200."""
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _DROPPED_FOR_GET]
        get_scope = {**scope, "method": "GET", "headers": headers}
        captured = _Captured()

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.start = message
            elif message["type"] == "http.response.body" and captured.body is not None:
                captured.body += message.get("body", b"")

        await self._read(get_scope, receive, send)
        if captured.start is None or captured.start["status"] != 200:
            return None
        return _header(captured.start.get("headers", []), b"etag")

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        captured = _Captured()
        if_none_match = _header(scope["headers"], b"if-none-match")
        if_match = _header(scope["headers"], b"if-match")

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] != 200 or _header(message.get("headers", []), b"etag"):
                    captured.body = None  # not ours to tag (or tagged by the route): pass through
                    tag = _header(message.get("headers", []), b"etag")
                    if tag and message["status"] == 200 and if_match and not if_match_holds(if_match, tag):
                        await _precondition_failed(send, tag)
                        captured.start = {"type": "dropped"}
                        return
                    await send(message)
                    return
                captured.start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            if captured.start is not None and captured.start.get("type") == "dropped":
                return
            if captured.body is None:
                await send(message)
                return
            captured.body += message.get("body", b"")
            if len(captured.body) > MAX_TAGGED_BYTES:  # too large to tag: send what we have
                assert captured.start is not None
                await send(captured.start)
                await send({"type": "http.response.body", "body": bytes(captured.body), "more_body": True})
                captured.body = None
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if message.get("more_body", False):
                return
            assert captured.start is not None
            body = bytes(captured.body)
            tag = entity_tag(body)
            headers = [*captured.start.get("headers", []), (b"etag", tag.encode())]
            if if_match is not None and not if_match_holds(if_match, tag):
                await _precondition_failed(send, tag)
            elif if_none_match is not None and none_match(if_none_match, tag):
                kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
            else:
                await send({**captured.start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, keep)


async def _precondition_failed(send: Send, current: str) -> None:
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "The resource has changed since you read it (If-Match names another ETag); read it again.",
    }
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"etag", current.encode()),
    ]
    await send({"type": "http.response.start", "status": 412, "headers": headers})
    await send({"type": "http.response.body", "body": body})
