"""Event consumption: an explicit routing table from event type to handler, and a durable
JetStream pull consumer per (consumer service, producer) that handles batches in one
transaction with inbox de-duplication, isolates failures, and dead-letters after bounded
deliveries. Trace context travels in the ``traceparent`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from pydantic import ValidationError
from sqlalchemy import CursorResult
from sqlalchemy import exc as sqlalchemy_errors
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base

from nzr_common.contracts.base import (
    SUBJECT_ROOT,
    Envelope,
    IntegrationEvent,
    Visibility,
    region_stream_name,
)
from nzr_common.db import dialect_insert
from nzr_common.deadletter import store_dead_letter
from nzr_common.tables import MessagingTables

log = logging.getLogger(__name__)
tracer = trace.get_tracer("nzr.messaging")

E = TypeVar("E", bound=IntegrationEvent)
D = TypeVar("D")
#: An event handler: ``async def on_x(deps: Deps, session: AsyncSession, envelope: Envelope[X])``;
#: it runs in the batch's transaction (``session``), so it never commits.
Handler = Callable[[D, AsyncSession, Envelope[Any]], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be handled (malformed, unknown version): dead-letter at once."""


@dataclass
class EventHandlers(Generic[D]):
    """The explicit routing table of one consuming service: event class → handler taking the
    service's deps, the batch's session and the envelope."""

    consumer: str
    routes: dict[str, tuple[type[IntegrationEvent], Handler[D]]] = field(default_factory=dict)
    sources: dict[str, str | None] = field(default_factory=dict)

    def on(
        self, event_class: type[E], *, from_region: str | None = None
    ) -> Callable[[Callable[[D, AsyncSession, Envelope[E]], Awaitable[None]]], Any]:
        """Route ``event_class`` to the decorated handler. ``from_region`` reads another region's
        stream instead of the own one (e.g. ``"state"`` for the state's funding catalogue)."""

        def register(handler: Any) -> Any:
            event_type = event_class.subject.event_type
            if event_type in self.routes:
                raise ValueError(f"{event_type} already has a handler in {self.consumer}")
            self.routes[event_type] = (event_class, handler)
            self.sources[event_type] = from_region
            return handler

        return register

    def subscriptions(self) -> dict[tuple[Visibility, str, str | None], list[str]]:
        """Handled event types grouped by (visibility, producer, source region): one durable
        consumer each, so events of one aggregate keep their order."""
        groups: dict[tuple[Visibility, str, str | None], list[str]] = {}
        for event_type, (event_class, _) in self.routes.items():
            key = (event_class.subject.visibility, event_class.subject.producer, self.sources.get(event_type))
            groups.setdefault(key, []).append(event_type)
        return groups


def subject_event_type(nats_subject: str) -> str:
    """The event type a subject carries: ``nzr.<region>.<vis>.<producer>.<name>.v<n>`` →
    ``nzr.<producer>.<name>.v<n>``."""
    return ".".join([SUBJECT_ROOT, *nats_subject.split(".")[-3:]])


def decode(
    raw_payload: bytes,
    routes: dict[str, tuple[type[IntegrationEvent], Handler[D]]],
    nats_subject: str | None = None,
) -> tuple[Envelope[Any], Handler[D]] | None:
    """Parse a message into (envelope, handler); None for event types this consumer ignores.

    Another version of an event on its own subject (``.v2`` next to ``.v1``) is ignored, as the
    contract says; an envelope whose ``type`` is not the one its subject carries is poison.
    """
    try:
        document = json.loads(raw_payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonMessage(f"payload is not JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise PoisonMessage("payload is not a CloudEvents envelope (no 'type')")
    if nats_subject is not None:
        carried = subject_event_type(nats_subject)
        if carried in routes and document["type"] != carried:
            raise PoisonMessage(f"type {document['type'][:200]!r} on the subject of {carried}")
    route = routes.get(document["type"])
    if route is None:
        return None
    event_class, handler = route
    try:
        envelope = Envelope[event_class].model_validate(document)  # type: ignore[valid-type]
    except ValidationError as error:
        raise PoisonMessage(f"envelope does not match {document['type']}: {error}") from error
    return envelope, handler


#: SQLSTATE classes and codes of a database that is away or busy rather than of a statement at
#: fault: connection exceptions (08), insufficient resources (53, e.g. too many connections) and
#: operator intervention (57P01 shutdown, 57P02 crash, 57P03 "the database system is starting
#: up" / "shutting down"). asyncpg's errors for them reach us as a plain ``DBAPIError``.
TRANSIENT_SQLSTATES = ("08", "53", "57P")


def is_transient(error: BaseException) -> bool:
    """The database (or the network to it) is away, not the message at fault: retry it later,
    never count it towards dead-lettering."""
    if isinstance(error, sqlalchemy_errors.DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATES):
            return True
    return isinstance(
        error,
        (sqlalchemy_errors.OperationalError, sqlalchemy_errors.InterfaceError, OSError, TimeoutError),
    )


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    retried: int = 0


class BatchConsumer(Generic[D]):
    """Handles a batch of JetStream messages for one consumer with inbox de-duplication; hands
    each handler the service's ``deps``."""

    def __init__(
        self,
        *,
        consumer: str,
        handlers: EventHandlers[D],
        deps: D,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        max_deliver: int,
    ) -> None:
        self.consumer = consumer
        self.handlers = handlers
        self.deps = deps
        self.sessions = sessions
        self.tables = tables
        self.max_deliver = max_deliver
        self.stats = ConsumerStats()
        #: Per region, the CloudEvents ``time`` (epoch seconds) of the newest event handled from
        #: it: a region whose events (heartbeats at least) stop coming is stale.
        self.last_event_at: dict[str, float] = {}

    async def handle_batch(self, messages: list[Msg]) -> None:
        work: list[tuple[Msg, Envelope[Any], Handler[D]]] = []
        poison: list[tuple[Msg, str]] = []
        ignored: list[Msg] = []
        for message in messages:
            try:
                decoded = decode(message.data, self.handlers.routes, message.subject)
            except PoisonMessage as error:
                poison.append((message, str(error)))
                continue
            if decoded is None:
                ignored.append(message)
            else:
                work.append((message, *decoded))
        if poison:
            async with self.sessions() as session, session.begin():
                for message, reason in poison:
                    await self._dead_letter(session, message, reason, None)
            self.stats.dead_lettered += len(poison)
        try:
            await self._handle_together(work)
            done = [m for m, _, _ in work]
        except Exception as error:
            if is_transient(error):
                raise
            log.info("batch of %d failed in %s; handling one by one", len(work), self.consumer)
            done = await self._handle_one_by_one(work)
        self.stats.ignored += len(ignored)
        for message in [*done, *ignored, *(m for m, _ in poison)]:
            await message.ack()

    async def _handle_together(self, work: list[tuple[Msg, Envelope[Any], Handler[D]]]) -> None:
        if not work:
            return
        async with self.sessions() as session, session.begin():
            claimed = await self._claim(session, [envelope for _, envelope, _ in work])
            handled = 0
            for message, envelope, handler in work:
                if envelope.id not in claimed:
                    self.stats.duplicates += 1
                    continue
                claimed.discard(envelope.id)  # a second copy in the same batch is a duplicate
                with _traced(message, envelope, self.consumer):
                    await handler(self.deps, session, envelope)
                handled += 1
        self.stats.handled += handled
        for _, envelope, _ in work:
            at = envelope.time.timestamp()
            if at > self.last_event_at.get(envelope.region, 0.0):
                self.last_event_at[envelope.region] = at

    async def _handle_one_by_one(self, work: list[tuple[Msg, Envelope[Any], Handler[D]]]) -> list[Msg]:
        done: list[Msg] = []
        for message, envelope, handler in work:
            try:
                await self._handle_together([(message, envelope, handler)])
                done.append(message)
            except Exception as error:
                if is_transient(error):
                    raise
                deliveries = message.metadata.num_delivered or 1
                if deliveries >= self.max_deliver:
                    log.warning("dead-lettering %s after %d deliveries: %r", envelope.id, deliveries, error)
                    async with self.sessions() as session, session.begin():
                        await self._dead_letter(session, message, repr(error), envelope)
                    self.stats.dead_lettered += 1
                    done.append(message)
                else:
                    self.stats.retried += 1
                    await message.nak(delay=min(0.2 * 2**deliveries, 10.0))
        return done

    async def _claim(self, session: AsyncSession, envelopes: Iterable[Envelope[Any]]) -> set[str]:
        """Record the events in the inbox and return the ids that were not there yet.

        One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in the handlers' transaction: no
        separate duplicate lookup (whose generic plan on a fresh PostgreSQL inbox scans every
        row), and a concurrent consumer of the same event waits on the key and then skips it.
        """
        now = datetime.now(UTC)
        rows = {
            e.id: {"consumer": self.consumer, "event_id": e.id, "event_type": e.type, "processed_at": now}
            for e in envelopes
        }
        if not rows:
            return set()
        statement = (
            dialect_insert(session.get_bind().dialect.name, self.tables.inbox)
            .values(list(rows.values()))
            .on_conflict_do_nothing()
            .returning(self.tables.inbox.c.event_id)
        )
        return set(await session.scalars(statement))

    async def _dead_letter(
        self, session: AsyncSession, message: Msg, error: str, envelope: Envelope[Any] | None
    ) -> None:
        await store_dead_letter(
            session,
            self.tables,
            consumer=self.consumer,
            nats_subject=message.subject,
            payload=message.data,
            headers=dict(message.headers or {}),
            error=error,
            deliveries=message.metadata.num_delivered or 1,
            stream_sequence=message.metadata.sequence.stream if message.metadata.sequence else None,
            event_id=envelope.id if envelope else None,
            event_type=envelope.type if envelope else None,
        )

    async def replay(self, session: AsyncSession, payload: bytes) -> bool:
        """Run a stored message through its handler again; False if it was already handled."""
        decoded = decode(payload, self.handlers.routes)
        if decoded is None:
            raise PoisonMessage("no handler for this event type")
        envelope, handler = decoded
        if not await self._claim(session, [envelope]):
            return False
        await handler(self.deps, session, envelope)
        return True


async def delete_inbox_before(
    sessions: async_sessionmaker[AsyncSession], tables: MessagingTables, cutoff: datetime
) -> int:
    """Housekeeping: drop inbox rows of events handled before ``cutoff``; returns how many."""
    inbox = tables.inbox
    async with sessions() as session, session.begin():
        result = await session.execute(inbox.delete().where(inbox.c.processed_at < cutoff))
        return cast("CursorResult[Any]", result).rowcount or 0


class _traced:
    """Continue the publisher's trace (``traceparent`` header) around one handler call."""

    def __init__(self, message: Msg, envelope: Envelope[Any], consumer: str) -> None:
        self.carrier = dict(message.headers or {})
        self.subject = message.subject
        self.envelope = envelope
        self.consumer = consumer

    def __enter__(self) -> None:
        self.token = otel_context.attach(propagate.extract(self.carrier))
        self.span = tracer.start_span(
            f"handle {self.envelope.type}",
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.subject,
                "messaging.consumer.group.name": self.consumer,
                "cloudevents.event_id": self.envelope.id,
                "cloudevents.event_type": self.envelope.type,
            },
        )

    def __exit__(self, *exc: object) -> None:
        self.span.end()
        otel_context.detach(self.token)


@dataclass
class Binding:
    """Whether a subscription's durable consumer is bound, and why not: read by ``/readyz``."""

    bound: bool = False
    ever_bound: bool = False
    attempts: int = 0
    binds: int = 0
    reason: str = "not tried yet"

    def succeeded(self) -> None:
        self.bound = self.ever_bound = True
        self.binds += 1
        self.attempts = 0
        self.reason = "bound"

    def failed(self, reason: str) -> None:
        self.bound = False
        self.attempts += 1
        self.reason = reason

    def unbound(self, reason: str) -> None:
        """Not bound for a reason outside the consumer (NATS away, messaging stopped)."""
        self.bound = False
        self.reason = reason


@dataclass
class Subscription:
    """One durable pull consumer: a subject filter on the stream, and the batch handler."""

    durable: str
    subject: str
    stream: str
    batch: BatchConsumer[Any]
    binding: Binding = field(default_factory=Binding)


def plan_subscriptions(
    *,
    handlers: EventHandlers[D],
    deps: D,
    sessions: async_sessionmaker[AsyncSession],
    tables: MessagingTables,
    stream_name: str,
    subject_region: str,
    max_deliver: int,
    own_region: str | None = None,
) -> list[Subscription]:
    """One durable consumer per (visibility, producer) the service listens to.

    Consumers live in their stream, so the own region's need no region in their name; a
    subscription to another region's stream (the state's catalogue) is shared by every region
    consuming it on that server, so its durable name carries ``own_region``.
    """
    planned = []
    for visibility, producer, from_region in handlers.subscriptions():
        durable = f"{handlers.consumer}__{visibility.value}_{producer}"
        region_token, stream = subject_region, stream_name
        if from_region is not None:
            durable += f"_from_{from_region}"
            if own_region:
                durable += f"_for_{own_region.replace('-', '_')}"
            region_token, stream = from_region, region_stream_name(from_region)
        subject = f"{SUBJECT_ROOT}.{region_token}.{visibility.value}.{producer}.>"
        batch = BatchConsumer(
            consumer=durable,
            handlers=handlers,
            deps=deps,
            sessions=sessions,
            tables=tables,
            max_deliver=max_deliver,
        )
        planned.append(Subscription(durable, subject, stream, batch))
    return planned


#: Waits between attempts to bind a consumer: 0.2 s doubling to 5 s, with jitter so the
#: consumers of many services do not ask the server in step.
BIND_WAIT = wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.5)


async def consume_forever(
    js: JetStreamContext,
    subscription: Subscription,
    *,
    batch_size: int = 500,
    fetch_timeout: float = 1.0,
    ack_wait_seconds: float = 30.0,
    retry_delay: float = 1.0,
    check_every_seconds: float = 5.0,
    bind_wait: wait_base = BIND_WAIT,
) -> None:
    """Bind the durable consumer (retrying until its stream is there), then pull batches and hand
    them to the batch handler, forever; a consumer deleted under it is bound again.

    ``fetch`` returns as soon as at least one message is there, so a quiet stream costs one
    long poll per ``fetch_timeout`` and a busy one is handled in batches.
    """
    config = ConsumerConfig(
        durable_name=subscription.durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        # Unbounded here: the batch consumer bounds the deliveries that failed for the message's
        # own sake and dead-letters it; a database outage must never make JetStream drop it.
        max_deliver=-1,
        ack_wait=ack_wait_seconds,
        filter_subject=subscription.subject,
    )
    while True:
        pull = await bind_consumer(
            js, subscription, config, pending_msgs_limit=batch_size * 4, wait=bind_wait
        )
        try:
            await _pull_while_bound(
                js,
                pull,
                subscription,
                batch_size=batch_size,
                fetch_timeout=fetch_timeout,
                retry_delay=retry_delay,
                check_every_seconds=check_every_seconds,
            )
        finally:
            if subscription.binding.bound:
                subscription.binding.unbound("stopped")
            with contextlib.suppress(Exception):
                await pull.unsubscribe()


async def bind_consumer(
    js: JetStreamContext,
    subscription: Subscription,
    config: ConsumerConfig,
    *,
    pending_msgs_limit: int,
    wait: wait_base = BIND_WAIT,
) -> JetStreamContext.PullSubscription:
    """Create or look up the durable consumer and subscribe to it, retrying with back-off for as
    long as it takes (stream not provisioned yet, NATS or its JetStream account not ready);
    every failed attempt is logged with its reason and kept in ``subscription.binding``."""

    def log_failure(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = _bind_failure(error)
        subscription.binding.failed(reason)
        # The first failure and then about one a minute (the wait is capped at 5 s) at warning.
        loud = state.attempt_number == 1 or state.attempt_number % 12 == 0
        log.log(
            logging.WARNING if loud else logging.DEBUG,
            "consumer %s on stream %s not bound (attempt %d: %s); retrying in %.1fs",
            subscription.durable,
            subscription.stream,
            state.attempt_number,
            reason,
            state.upcoming_sleep,
        )

    async for attempt in AsyncRetrying(wait=wait, before_sleep=log_failure):
        with attempt:
            pull = await js.pull_subscribe(
                subscription.subject,
                durable=subscription.durable,
                stream=subscription.stream,
                config=config,
                pending_msgs_limit=pending_msgs_limit,
            )
    if subscription.binding.attempts:
        log.info(
            "consumer %s on stream %s bound after %d failed attempts",
            subscription.durable,
            subscription.stream,
            subscription.binding.attempts,
        )
    subscription.binding.succeeded()
    return pull


def _bind_failure(error: BaseException | None) -> str:
    """Why a bind failed, in words an operator can act on."""
    if isinstance(error, nats.js.errors.NotFoundError):
        return f"{error.description or 'stream not found'} (not provisioned yet?)"
    if isinstance(error, (nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError)):
        return "no JetStream answers (JetStream not enabled for this account, or not ready)"
    if isinstance(error, nats.js.errors.APIError):
        return f"JetStream refused: {error.description} (code {error.err_code})"
    if isinstance(error, (TimeoutError, nats.errors.TimeoutError)):
        return "JetStream did not answer in time"
    if isinstance(error, (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError)):
        return "NATS not connected"
    return repr(error)


async def _pull_while_bound(
    js: JetStreamContext,
    pull: JetStreamContext.PullSubscription,
    subscription: Subscription,
    *,
    batch_size: int,
    fetch_timeout: float,
    retry_delay: float,
    check_every_seconds: float,
) -> None:
    """Fetch and handle batches; return when the consumer is gone (deleted, or its stream).

    A pull on a deleted consumer finds no responder (or times out), which a NATS restart causes
    too, so then the consumer's existence is checked, at most every ``check_every_seconds``.
    """
    loop = asyncio.get_running_loop()
    next_check = loop.time() + check_every_seconds
    while True:
        try:
            messages = await pull.fetch(batch=batch_size, timeout=fetch_timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            if loop.time() >= next_check:
                next_check = loop.time() + check_every_seconds
                if await _consumer_gone(js, subscription):
                    return
            continue
        except (
            nats.errors.ConnectionClosedError,
            nats.js.errors.ServiceUnavailableError,
            nats.errors.NoRespondersError,
        ):
            # NATS reconnecting, or nobody serves the pull: the consumer may have been deleted.
            if loop.time() >= next_check:
                next_check = loop.time() + check_every_seconds
                if await _consumer_gone(js, subscription):
                    return
            await asyncio.sleep(0.5)
            continue
        except nats.js.errors.APIError as error:
            log.warning("consumer %s: pull refused (%s)", subscription.durable, error)
            if await _consumer_gone(js, subscription):
                return
            await asyncio.sleep(retry_delay)
            continue
        next_check = loop.time() + check_every_seconds
        try:
            await subscription.batch.handle_batch(messages)
        except Exception as error:
            # The database may be down: hand the batch back to come again soon (not only
            # after ack_wait), and wait a little before fetching more.
            if is_transient(error):
                log.warning("consumer %s waits for the database: %r", subscription.durable, error)
            else:
                log.exception("consumer %s could not handle a batch", subscription.durable)
            for message in messages:
                with contextlib.suppress(Exception):
                    await message.nak(delay=retry_delay)
            await asyncio.sleep(retry_delay)


async def _consumer_gone(js: JetStreamContext, subscription: Subscription) -> bool:
    """True when the server says the consumer (or its stream) no longer exists; False when it
    exists or the server cannot be asked right now (a NATS outage is not a lost consumer)."""
    try:
        await js.consumer_info(subscription.stream, subscription.durable, timeout=2.0)
    except nats.js.errors.NotFoundError as error:
        reason = error.description or "consumer not found"
        subscription.binding.failed(f"lost: {reason}")
        log.warning(
            "consumer %s on stream %s is gone (%s); binding it again",
            subscription.durable,
            subscription.stream,
            reason,
        )
        return True
    except Exception:
        return False
    return False
