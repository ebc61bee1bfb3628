"""Safe retries of creating requests: the ``Idempotency-Key`` header (IETF httpapi draft "The
Idempotency-Key HTTP Header Field").

A route declares that it takes the header with ``dependencies=[IDEMPOTENT]``. A request that
sends a key claims it for (caller, key, route): the verified token's region and subject, or the
client address for anonymous callers, so one caller never sees another's answer. Then

* the same key with the same request (method, path, query, content type and body) gets the first
  answer again — status, body and headers such as ``Location`` — without a second effect, marked
  ``Idempotent-Replayed: true``;
* the same key with a different request gets 422, while the first is still running 409;
* a malformed key (empty, over 255 characters, anything but visible ASCII) gets 422 naming the
  header; a request without the header is served as before.

Keys expire ``IDEMPOTENCY_KEY_TTL_SECONDS`` (default 24 h) after they were first used and are
pruned in the background. Answers 401, 403, 408, 429 and 5xx give the key back (the retry runs
again) unless the route had already committed changes: then a 5xx answer is kept, and a request
that failed without an answer leaves the key answering 409 until it expires.

**Exactly one effect.** The claim is a row written before the route runs; the answer is stored
in that row after the route returns, before the client gets it. Every commit the route makes on
its request session also marks the row "effect committed" in the same transaction, and only
while the request still owns the claim. So when a process dies mid-request, a retry after
``IDEMPOTENCY_LOCK_SECONDS`` takes over a claim without an effect (nothing was written), while a
claim whose effect committed but whose answer was lost answers 409 until it expires rather than
act twice. Writes made in another task on the route's behalf (the batched registration writer
of the events service) are outside this fence: for them a crash between the write and storing
the answer lets a retry act again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.params import Depends as DependsParam
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nzr_common.auth import PrincipalDep
from nzr_common.db import UTCDateTime, dialect_insert, rows_affected
from nzr_common.problems import InvalidParam, ProblemError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_CHARACTER = r"[!#-\[\]-~]"  # visible ASCII except '"' and '\'
#: A key of 1–255 visible ASCII characters, bare or as a structured-field string in quotes.
KEY_PATTERN = rf'^(?:"{_KEY_CHARACTER}{{1,255}}"|{_KEY_CHARACTER}{{1,255}})$'
#: Response headers kept with the answer and sent again with it.
KEPT_HEADERS = frozenset(
    {b"content-type", b"location", b"etag", b"content-language", b"content-disposition", b"link"}
)
#: Answers that say nothing about the request's effect: not kept, a retry runs again.
NOT_KEPT = frozenset({401, 403, 408, 429})
_SCOPE_KEY = "nzr.idempotency"
_HEADER_BYTES = HEADER.lower().encode()


def add_idempotency_table(metadata: MetaData) -> Table:
    """The table of claimed keys and their stored answers (one per caller, key and route)."""
    return Table(
        "idempotency_keys",
        metadata,
        # sha256 of the caller (region and subject, or client address): no personal data in clear
        Column("caller", String(64), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("route", String(300), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("owner", String(32), nullable=False),
        Column("claimed_at", UTCDateTime(), nullable=False),
        Column("expires_at", UTCDateTime(), nullable=False, index=True),
        Column("effect_committed", Boolean(), nullable=False, default=False),
        Column("status", Integer(), nullable=True),
        Column("headers", JSON(), nullable=True),
        Column("body", LargeBinary(), nullable=True),
    )


def writer_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine claims and answers are written through.

    On PostgreSQL a small engine of its own whose statements each commit by themselves (every
    write here is one conditional statement) without waiting for the WAL to reach the disk
    (``synchronous_commit=off``) and without a ping per checkout: one round trip per batch.
    Not waiting is safe for claims: the route's own commit comes later in the WAL and flushes
    them, so a crash never keeps an effect but loses its claim. For answers it opens a window of
    ``wal_writer_delay`` (200 ms) in which a crash of the database server loses the stored
    answer: the key then answers 409 (or, without the effect mark, acts again once the lock
    time has passed). On SQLite (WAL, ``synchronous=NORMAL``: commits do not wait for the disk
    either) the service's own engine.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return create_async_engine(
        engine.url,
        pool_size=2,  # one batch of claims and one of answers at a time; takeovers are rare
        max_overflow=3,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"synchronous_commit": "off"}},
    )


class GroupCommit(Generic[T, R]):
    """Writes what concurrent requests submit in one transaction per batch, so a rush costs a
    few commits instead of one per request; each caller waits until its batch has committed."""

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], *, max_batch: int = 500) -> None:
        self._write = write
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name="idempotency group commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # the request went away meanwhile
                        future.set_result(result)
        finally:
            self._writer = None


@dataclass
class IdempotencyConfig:
    table: Table
    #: claims and answers are written through it (:func:`writer_engine`)
    engine: AsyncEngine
    ttl: timedelta
    lock: timedelta

    def __post_init__(self) -> None:
        self.claims = GroupCommit(self._insert_claims)
        self.answers = GroupCommit(self._store_answers)

    async def _insert_claims(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert new claims; for each, whether it is now this request's (not someone else's)."""
        async with self.engine.begin() as connection:
            # One statement, compiled once: SQLAlchemy sends the rows as one multi-row INSERT.
            inserted = await connection.execute(
                _insert(connection, self.table)
                .on_conflict_do_nothing(index_elements=["caller", "key", "route"])
                .returning(self.table.c.owner),
                rows,
            )
            won = set(inserted.scalars())
        return [row["owner"] in won for row in rows]

    async def _store_answers(self, answers: list[dict[str, Any]]) -> list[None]:
        columns = self.table.c
        statement = (
            update(self.table)
            .where(
                columns.caller == bindparam("b_caller"),
                columns.key == bindparam("b_key"),
                columns.route == bindparam("b_route"),
                columns.owner == bindparam("b_owner"),
            )
            .values(status=bindparam("b_status"), headers=bindparam("b_headers"), body=bindparam("b_body"))
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement, answers)
        return [None] * len(answers)


@dataclass
class Claim:
    """A key this request owns until its answer is stored."""

    config: IdempotencyConfig
    caller: str
    key: str
    route: str
    owner: str
    task: asyncio.Task[Any] | None
    effect_committed: bool = False
    fencing: bool = True

    def where(self) -> Sequence[Any]:
        columns = self.config.table.c
        return (
            columns.caller == self.caller,
            columns.key == self.key,
            columns.route == self.route,
            columns.owner == self.owner,
        )

    async def finish(self, status: int | None, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Store the answer; without one (an error), give the key back unless the effect committed."""
        self.fencing = False
        table = self.config.table
        if status is None or status >= 500 or status in NOT_KEPT:
            async with self.config.engine.begin() as connection:
                await connection.execute(
                    delete(table).where(*self.where(), table.c.effect_committed.is_(False))
                )
            if not self.effect_committed or status is None:
                return
        kept = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers if k in KEPT_HEADERS]
        await self.config.answers.submit(
            {
                "b_caller": self.caller,
                "b_key": self.key,
                "b_route": self.route,
                "b_owner": self.owner,
                "b_status": status,
                "b_headers": kept,
                "b_body": body,
            }
        )


@dataclass
class _Slot:
    """Per request: where the dependency leaves its claim for the middleware."""

    claim: Claim | None = None


class StoredAnswer(Exception):
    """Raised by the dependency when the key already has an answer: it is sent again."""

    def __init__(self, status: int, headers: list[list[str]], body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


_current_claim: contextvars.ContextVar[Claim | None] = contextvars.ContextVar(
    "idempotency_claim", default=None
)


def _mark_effect_committed(session: Session) -> None:
    """``before_commit`` of every session: in a request holding a claim, mark the claim's row
    "effect committed" in the same transaction, and refuse to commit if the claim was taken over."""
    claim = _current_claim.get()
    if claim is None or not claim.fencing or asyncio.current_task() is not claim.task:
        return
    table = claim.config.table
    result = session.execute(
        update(table).where(*claim.where(), table.c.status.is_(None)).values(effect_committed=True)
    )
    if rows_affected(result) != 1:
        raise RuntimeError(f"{HEADER} was taken over by a retry; this request's changes are not kept")
    claim.effect_committed = True


def _caller(request: Request, region: str | None, subject: str | None) -> str:
    if subject is not None:
        identity = f"token\0{region}\0{subject}"
    else:
        identity = f"client\0{(request.scope.get('client') or ('',))[0]}"
    return hashlib.sha256(identity.encode()).hexdigest()


async def _request_hash(request: Request) -> str:
    """sha256 of method, path, query, content type and body: what makes two requests the same."""
    scope = request.scope
    digest = hashlib.sha256()
    for part in (
        scope["method"].encode(),
        scope["path"].encode(),
        scope.get("query_string", b""),
        request.headers.get("content-type", "").encode(),
    ):
        digest.update(part)
        digest.update(b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


def _insert(connection: AsyncConnection, table: Table) -> Any:
    return dialect_insert(connection.dialect.name, table)


async def _claim(
    config: IdempotencyConfig, *, caller: str, key: str, route: str, request_hash: str
) -> Claim | StoredAnswer:
    """Claim the key, or say why not: its stored answer, 422 (another request), 409 (running)."""
    table = config.table
    now = datetime.now(UTC)
    claim = Claim(config, caller, key, route, secrets.token_hex(16), asyncio.current_task())
    fresh = {
        "request_hash": request_hash,
        "owner": claim.owner,
        "claimed_at": now,
        "expires_at": now + config.ttl,
        "effect_committed": False,
        "status": None,
        "headers": None,
        "body": None,
    }
    if await config.claims.submit({"caller": caller, "key": key, "route": route, **fresh}):
        return claim
    identity = (table.c.caller == caller, table.c.key == key, table.c.route == route)
    async with config.engine.begin() as connection:
        row = (await connection.execute(select(table).where(*identity))).first()
        if row is None:  # pruned just now
            raise ProblemError(409, "Request in progress", "Retry in a moment.", headers={"Retry-After": "1"})
        takes_over = row.expires_at <= now
        if not takes_over and row.request_hash != request_hash:
            raise ProblemError(
                422,
                "Idempotency key reused",
                f"This {HEADER} was used with a different request; use a new key for a new request.",
                invalid_params=[InvalidParam(name=HEADER, reason="already used with a different request")],
            )
        if not takes_over and row.status is not None:
            return StoredAnswer(row.status, row.headers or [], row.body or b"")
        abandoned = not row.effect_committed and row.claimed_at + config.lock <= now
        if takes_over or abandoned:
            taken = await connection.execute(
                update(table).where(*identity, table.c.owner == row.owner).values(**fresh)
            )
            if rows_affected(taken) == 1:
                return claim
        detail = (
            "The first request with this key changed data but its answer was lost; "
            "look the result up instead of retrying."
            if row.effect_committed
            else "A request with this key is still being processed; retry in a moment."
        )
        raise ProblemError(
            409,
            "Request in progress",
            detail,
            invalid_params=[InvalidParam(name=HEADER, reason="in use by a request still in progress")],
            headers={"Retry-After": "1"},
        )


async def idempotency_key(
    request: Request,
    principal: PrincipalDep,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN,
            description=(
                "Unique key of this request (e.g. a UUID) for safe retries: the same key with the "
                "same request answers the first answer again without a second effect; with a "
                "different request 422, while the first still runs 409. Keys expire 24 h after "
                "first use (setting IDEMPOTENCY_KEY_TTL_SECONDS)."
            ),
        ),
    ] = None,
) -> None:
    """Claim the request's ``Idempotency-Key`` (see the module docstring)."""
    slot: _Slot | None = request.scope.get(_SCOPE_KEY)
    config: IdempotencyConfig | None = getattr(request.app.state, "idempotency", None)
    if key is None or slot is None or config is None:
        return
    route = f"{request.scope['method']} {getattr(request.scope.get('route'), 'path', request.scope['path'])}"
    outcome = await _claim(
        config,
        caller=_caller(request, principal.region, principal.subject),
        key=key.strip('"'),
        route=route,
        request_hash=await _request_hash(request),
    )
    if isinstance(outcome, StoredAnswer):
        raise outcome
    slot.claim = outcome
    _current_claim.set(outcome)


#: ``dependencies=[IDEMPOTENT]``: the route takes an ``Idempotency-Key`` (documented in OpenAPI).
IDEMPOTENT: DependsParam = Depends(idempotency_key)


class IdempotentAnswers:
    """Keep the answer of a request that claimed a key, before the client gets it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not any(name == _HEADER_BYTES for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        slot = _Slot()
        scope[_SCOPE_KEY] = slot
        held: list[Message] = []

        async def hold(message: Message) -> None:
            if slot.claim is None:
                await send(message)
            else:
                held.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            if slot.claim is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(slot.claim.finish(None, [], b""))
            raise
        if slot.claim is None:
            return
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        if start is None:
            await slot.claim.finish(None, [], b"")
        else:
            await slot.claim.finish(start["status"], list(start.get("headers", [])), body)
        for message in held:
            await send(message)


async def _send_stored(request: Request, answer: Exception) -> Response:
    assert isinstance(answer, StoredAnswer)
    headers = {name: value for name, value in answer.headers if name.lower() != "content-length"}
    headers[REPLAYED_HEADER] = "true"
    return Response(answer.body, status_code=answer.status, headers=headers)


def install_idempotency(app: FastAPI, config: IdempotencyConfig) -> None:
    """Serve ``Idempotency-Key`` on the routes that declare :data:`IDEMPOTENT`."""
    app.state.idempotency = config
    app.add_exception_handler(StoredAnswer, _send_stored)
    app.add_middleware(IdempotentAnswers)
    if not event.contains(Session, "before_commit", _mark_effect_committed):
        event.listen(Session, "before_commit", _mark_effect_committed)


async def prune_expired(config: IdempotencyConfig, *, every_seconds: float) -> None:
    """Delete expired keys now and then, forever (a background task of the service)."""
    while True:
        try:
            async with config.engine.begin() as connection:
                await connection.execute(
                    delete(config.table).where(config.table.c.expires_at <= datetime.now(UTC))
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pruning expired idempotency keys failed")
        await asyncio.sleep(every_seconds)
