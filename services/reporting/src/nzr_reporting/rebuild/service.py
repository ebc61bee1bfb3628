"""Rebuild the projections by replaying the stream from its start.

The projection tables and the reporting consumers' inbox rows are emptied, then an ephemeral
pull consumer (no acks) reads every subscribed subject from the first message and applies the
events through the same routing table, in batches of one transaction each, recording each
event id in the inbox under the live consumer's name. A running service may keep consuming
meanwhile: whichever of the two applies an event first records it, the other skips it. Goals
and measures are reporting's own data and are kept.

Built for throughput: reading and decoding the next batches overlaps with writing the current
one, messages are validated straight from their bytes, a batch is claimed in the inbox with
one statement, and no per-message span or log line is made. The monthly summaries are not
kept in step per batch but computed once at the end from the rebuilt projections.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import nats
import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from nzr_common.contracts.base import Envelope, region_stream_name
from nzr_common.db import create_engine, create_sessionmaker, dialect_insert, is_sqlite, migrate_async
from nzr_common.messaging import Handler, PoisonMessage, decode
from nzr_common.outbox import Outbox
from nzr_common.regions import region_from_settings
from nzr_common.topology import AGGREGATE_STREAM
from nzr_reporting.bootstrap import Deps, build_deps
from nzr_reporting.handlers import handlers, replayers, touch_region
from nzr_reporting.indicators import summaries, upserts
from nzr_reporting.indicators.models import PROJECTION_TABLES, DailyFigure, MonthlyFigure
from nzr_reporting.indicators.upserts import _bump_version, bump_version
from nzr_reporting.rebuild import shadow
from nzr_reporting.settings import ReportingSettings
from nzr_reporting.tables import messaging

Progress = Callable[[int, int], None]

#: the tables ``summaries.recompute`` fills from the fact tables
SUMMARY_TABLES = [cast(Table, DailyFigure.__table__), cast(Table, MonthlyFigure.__table__)]

log = logging.getLogger(__name__)

#: The rebuild fails when the stream sends nothing for this long while messages are pending.
READ_STALL_SECONDS = 60.0


@dataclass
class RebuildResult:
    applied: int = 0
    ignored: int = 0
    poison: int = 0
    seconds: float = 0.0
    stream: str = ""
    #: of ``seconds``: computing the summaries and the planner statistics, and catching up plus
    #: swapping the tables in
    summaries_seconds: float = 0.0
    swap_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return (self.applied + self.ignored) / self.seconds if self.seconds else 0.0


def _live_consumers() -> list[str]:
    """The live durable consumers' names (the inbox keys, named as ``plan_subscriptions`` does)."""
    return sorted(
        f"{handlers.consumer}__{visibility.value}_{producer}"
        for visibility, producer, _ in handlers.subscriptions()
    )


def _large_page_cache(dbapi_connection: Any, _record: Any) -> None:
    # Rebuilding writes every table at random keys; SQLite's default 2 MB page cache would make
    # each insert into a large B-tree a read from disk.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cache_size=-1048576")  # up to 1 GiB, taken only as the tables grow
    cursor.execute("PRAGMA mmap_size=1073741824")  # reads of pages not cached: no read() calls
    cursor.close()


def _commit_without_waiting(dbapi_connection: Any, _record: Any) -> None:
    # The rebuild's batches go to shadow tables that a crash throws away anyway: their commits
    # need not wait for the WAL flush (the swap, on its own engine, does).
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit = off")
    cursor.close()


async def clear_projections(sessions: async_sessionmaker[AsyncSession], consumers: list[str]) -> None:
    """Empty every projection table and forget which events the reporting consumers handled."""
    async with sessions() as session, session.begin():
        # The version row first, as every projection write locks it first (no deadlock with them).
        await bump_version(session)
        for model in PROJECTION_TABLES:
            await session.execute(delete(model))
        await session.execute(delete(messaging.inbox).where(messaging.inbox.c.consumer.in_(consumers)))


_TYPE = re.compile(rb'"type"\s*:\s*"([^"\\]+)"')


@dataclass
class Decoded:
    """One fetched batch, decoded: the events to apply and what was skipped or unreadable."""

    work: list[tuple[str, Envelope[Any], Handler[Deps], bool]] = field(default_factory=list)
    poison: int = 0


class BatchDecoder:
    """Decode raw messages with one pre-built validator per event type, straight from the bytes.

    The envelope's ``type`` is read off the raw JSON (it precedes ``data`` in our envelopes);
    when it cannot be read there, or the parsed envelope says otherwise, the general
    ``decode`` decides, so a differently ordered envelope costs time, never correctness.
    """

    def __init__(self) -> None:
        self.validators = {
            event_type: Envelope[event_class]  # type: ignore[valid-type]  # a runtime class as parameter
            for event_type, (event_class, _) in handlers.routes.items()
        }

    def decode(self, raw: bytes) -> tuple[Envelope[Any], Handler[Deps], bool]:
        """(envelope, projection, known); raises ``PoisonMessage`` for unreadable messages."""
        found = _TYPE.search(raw)
        event_type = found.group(1).decode(errors="replace") if found else ""
        model = self.validators.get(event_type)
        if model is not None:
            try:
                envelope = model.model_validate_json(raw)
            except ValidationError:
                envelope = None
            if envelope is not None and envelope.type == event_type and event_type in replayers:
                return envelope, replayers[event_type], True
        decoded = decode(raw, handlers.routes)
        if decoded is None:  # not reached: the routing table routes every type (unknown ones to skip)
            raise PoisonMessage("no route")
        envelope, handler = decoded
        known = envelope.type in replayers
        return envelope, replayers[envelope.type] if known else handler, known

    def batch(self, messages: list[Any]) -> Decoded:
        decoded = Decoded()
        for message in messages:
            try:
                envelope, apply, known = self.decode(message.data)
            except PoisonMessage:
                decoded.poison += 1
                continue
            decoded.work.append((_consumer_of_subject(message.subject), envelope, apply, known))
        return decoded


@functools.lru_cache(maxsize=4096)
def _consumer_of_subject(subject: str) -> str:
    """The live durable consumer that reads ``subject`` (``nzr.<region>.<visibility>.<producer>.…``),
    named as ``plan_subscriptions`` names it: the inbox key of the event (a stream has few subjects)."""
    _, _, visibility, producer, *_ = subject.split(".", 4)
    return f"{handlers.consumer}__{visibility}_{producer}"


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """Claim events in the inbox, returning the ones not claimed before: PostgreSQL in one
    statement for the whole batch (one array per column), SQLite row by row."""
    inbox = messaging.inbox
    columns = ("consumer", "event_id", "event_type", "processed_at")
    claim: Any = dialect_insert(dialect, inbox)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        rows = select(*(func.unnest(bindparam(c, type_=ARRAY(inbox.c[c].type))).label(c) for c in columns))
        claim = claim.from_select(list(columns), rows)
    return claim.on_conflict_do_nothing().returning(inbox.c.consumer, inbox.c.event_id)


class FreshInbox:
    """The rebuild's inbox during its main pass. The shadow inbox starts empty and only the
    rebuild writes it, so which events it applied is known in memory: duplicates are told by a
    set instead of a lookup per row, and each batch's inbox rows are written with one ``COPY``
    (PostgreSQL) in the batch's transaction, so inbox and projections still commit together."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def claim(self, decoded: Decoded, now: datetime) -> tuple[set[tuple[str, str]], list[tuple[Any, ...]]]:
        """(the events of the batch seen for the first time, their inbox rows)."""
        claimed: set[tuple[str, str]] = set()
        rows: list[tuple[Any, ...]] = []
        for consumer, envelope, _, _ in decoded.work:
            key = (consumer, envelope.id)
            if key in self.seen:
                continue
            self.seen.add(key)
            claimed.add(key)
            rows.append((consumer, envelope.id, envelope.type, now))
        return claimed, rows

    @staticmethod
    async def record(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
        """Write the claimed events' inbox rows (into the shadow inbox; it holds none of them)."""
        if not rows:
            return
        inbox = messaging.inbox
        columns = [c.name for c in inbox.columns]
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            # COPY goes past SQLAlchemy's statement rewriting: name the shadow table itself.
            raw = await connection.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]  # asyncpg's connection
                shadow.shadow_name(inbox.name), records=rows, columns=columns
            )
        else:
            await session.execute(inbox.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


async def _claim_in_database(session: AsyncSession, decoded: Decoded, now: datetime) -> set[tuple[str, str]]:
    """Claim a batch's events in the inbox, returning the ones not claimed before."""
    records = {(consumer, envelope.id): envelope.type for consumer, envelope, _, _ in decoded.work}
    # Claiming by insert (ON CONFLICT DO NOTHING … RETURNING) uses the inbox's primary key on
    # every database; a separate lookup's generic plan on PostgreSQL would scan the growing inbox.
    dialect = session.get_bind().dialect.name
    claim = _claim_statement(dialect)
    if dialect == "postgresql":
        parameters: Any = {
            "consumer": [consumer for consumer, _ in records],
            "event_id": [ident for _, ident in records],
            "event_type": list(records.values()),
            "processed_at": [now] * len(records),
        }
    else:
        parameters = [
            {"consumer": consumer, "event_id": ident, "event_type": kind, "processed_at": now}
            for (consumer, ident), kind in records.items()
        ]
    return {(row.consumer, row.event_id) for row in await session.execute(claim, parameters)}


async def apply_batch(
    deps: Deps,
    session: AsyncSession,
    decoded: Decoded,
    result: RebuildResult,
    fresh: FreshInbox | None = None,
) -> None:
    """Apply one decoded batch in the caller's transaction with inbox de-duplication (in
    memory with ``fresh``, else in the inbox table); each region's freshness is folded in
    memory and written once per batch."""
    result.poison += decoded.poison
    work = decoded.work
    if not work:
        return
    now = datetime.now(UTC)
    if fresh is None:
        claimed = await _claim_in_database(session, decoded, now)
    else:
        claimed, rows = fresh.claim(decoded, now)
        await fresh.record(session, rows)
    latest: dict[str, datetime] = {}
    for consumer, envelope, apply, known in work:
        key = (consumer, envelope.id)
        if key not in claimed:
            continue
        claimed.discard(key)  # a second copy in the same batch is a duplicate
        await apply(deps, session, envelope)
        if known:
            result.applied += 1
            if envelope.region not in latest or envelope.time > latest[envelope.region]:
                latest[envelope.region] = envelope.time
        else:
            result.ignored += 1
    for region, at in latest.items():
        await touch_region(session, region, at)


def _pending_after(reply: str) -> int:
    """The consumer's count of messages still pending after this one, read off the JetStream
    reply subject (nats-py's ``metadata`` builds two dataclasses and a datetime per message)."""
    tokens = reply.split(".")
    return int(tokens[8] if len(tokens) == 9 else tokens[Msg.Ack.NumPending])


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while batches of tens of thousands of
    envelopes are alive: at the default threshold (700 allocations) its passes over them made
    decoding 4× slower (18 → 5 µs per event). Envelopes form no cycles; the default comes back."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class StreamReader:
    """Reads the stream from its first message through an ordered push consumer and hands
    decoded batches to the writer; ``None`` marks the end (the message that left nothing pending).

    A push consumer streams with flow control while the writer works, where a pull ``fetch``
    waits for each batch and costs a task per message in nats-py (2.8 s against 0.9 s of CPU
    for 100,000 messages on the test machine). The stream sequence of the last message read is
    where the catch-up continues.
    """

    def __init__(self, batch_size: int, queue: asyncio.Queue[tuple[Decoded, int] | BaseException | None]):
        self.batch_size = batch_size
        self.queue = queue
        self.decoder = BatchDecoder()
        self.messages: list[Any] = []
        self.last_sequence = 0
        self.ended = False

    async def on_error(self, error: Exception) -> None:
        """The connection's error callback: messages dropped by the client end the rebuild
        (with an error, the live figures untouched) instead of leaving events out."""
        if isinstance(error, nats.errors.SlowConsumerError) and not self.ended:
            self.ended = True
            await self.queue.put(error)
        else:
            log.warning("rebuild: NATS reports %r", error)

    async def on_message(self, message: Any) -> None:
        if self.ended:
            return
        self.messages.append(message)
        end = _pending_after(message.reply) == 0
        if len(self.messages) < self.batch_size and not end:
            return
        messages, self.messages = self.messages, []
        self.last_sequence = message.metadata.sequence.stream
        try:
            await self.queue.put((self.decoder.batch(messages), len(messages)))
        except Exception as error:  # the writer re-raises it; a callback's error would be lost
            self.ended = True
            await self.queue.put(error)
            return
        if end:
            self.ended = True
            await self.queue.put(None)


async def _apply_fetched(
    deps: Deps,
    sessions: async_sessionmaker[AsyncSession],
    decoded: Decoded,
    result: RebuildResult,
    *,
    fresh: FreshInbox | None,
) -> None:
    """Apply a batch in a transaction of its own: in the main pass (``fresh``) the summaries
    are computed at the end and the fresh shadow tables take set-based writes; in the catch-up
    the summaries are kept in step and the inbox table de-duplicates."""
    async with sessions() as session, session.begin():
        if fresh is not None:
            session.info[summaries.SKIP_INFO_KEY] = True
            session.info[upserts.BULK_INFO_KEY] = True
        await apply_batch(deps, session, decoded, result, fresh)


async def _catch_up(
    pull: Any, deps: Deps, sessions: async_sessionmaker[AsyncSession], result: RebuildResult, batch_size: int
) -> int:
    """Read what arrived since the rebuild reached the end of the stream (summaries kept in step)."""
    decoder, read = BatchDecoder(), 0
    while True:
        try:
            messages = await pull.fetch(batch=batch_size, timeout=0.5)
        except (TimeoutError, nats.errors.TimeoutError):
            return read
        read += len(messages)
        await _apply_fetched(deps, sessions, decoder.batch(messages), result, fresh=None)
        if messages[-1].metadata.num_pending == 0:
            return read


async def _swap(
    live: AsyncEngine,
    consumers: list[str],
    catch_up: Callable[[], Awaitable[int]],
    attempts: int = 20,
) -> None:
    """Swap the shadow tables in once they hold every event the live consumers applied; until
    then read on (a running service may have consumed events after the rebuild's last read)."""
    for attempt in range(attempts):
        async with live.begin() as connection:
            # The version row first, as every projection write locks it first (no deadlock with
            # them); on SQLite this write also takes the database's write lock for the swap.
            await connection.execute(_bump_version(connection.dialect.name))
            missing = await _locked(connection, consumers)
            if not missing or attempt == attempts - 1:
                await connection.run_sync(shadow.swap, consumers)
                return
            await connection.rollback()
        if not await catch_up() and attempt >= 2:
            # Nothing new in the stream: the live inbox knows events the stream no longer holds.
            log.warning("rebuild: %d event(s) of the live inbox are not in the stream", missing)
            async with live.begin() as connection:
                await connection.execute(_bump_version(connection.dialect.name))
                await _locked(connection, consumers)
                await connection.run_sync(shadow.swap, consumers)
            return


async def _locked(connection: AsyncConnection, consumers: list[str], tries: int = 600) -> int:
    """Lock the live tables for the swap (retrying while readers hold one of them: a savepoint
    keeps the transaction usable) and count the events the shadow tables lack."""
    for _ in range(tries - 1 if connection.dialect.name == "postgresql" else 0):
        try:
            async with connection.begin_nested():
                return await connection.run_sync(shadow.lock_and_count_missing, consumers)
        except DBAPIError:
            await asyncio.sleep(0.02)
    return await connection.run_sync(shadow.lock_and_count_missing, consumers)


async def rebuild(
    settings: ReportingSettings,
    *,
    batch_size: int = 20_000,
    progress: Progress | None = None,
    migrate: bool = True,
) -> RebuildResult:
    """Replay the stream from the start into shadow tables and swap them in atomically."""
    if migrate:
        await migrate_async("nzr_reporting", settings.database_url)
    engine = create_engine(settings.database_url)
    live = create_engine(settings.database_url)
    shadow.redirect(engine)
    if is_sqlite(settings.database_url):
        event.listen(engine.sync_engine, "connect", _large_page_cache)
    else:
        event.listen(engine.sync_engine, "connect", _commit_without_waiting)
    sessions = create_sessionmaker(engine)
    deps = build_deps(
        settings,
        region=region_from_settings(settings),
        sessions=sessions,
        outbox=Outbox(messaging, region=settings.region, service="reporting"),
    )
    consumers = _live_consumers()
    region = settings.stream_region
    subjects = sorted(
        {
            f"nzr.{region}.{pattern}"
            for pattern in {f"{v.value}.{p}.>" for (v, p, _) in handlers.subscriptions()}
        }
    )
    stream = settings.consumer_stream or (
        AGGREGATE_STREAM if settings.mode == "state" else region_stream_name(settings.region)
    )
    credentials = settings.nats_credentials
    # Reading and decoding the next batches overlaps with writing the current one.
    batches: asyncio.Queue[tuple[Decoded, int] | BaseException | None] = asyncio.Queue(maxsize=3)
    reader = StreamReader(batch_size, batches)
    connection = await nats.connect(
        settings.nats_url,
        user=credentials.get("username"),
        password=credentials.get("password"),
        error_cb=reader.on_error,
    )
    result = RebuildResult(stream=stream)
    started = time.perf_counter()
    swapped = False
    collections = contextlib.ExitStack()
    collections.enter_context(fewer_collections())
    try:
        js = connection.jetstream()
        total = (await js.stream_info(stream)).state.messages
        async with engine.begin() as ddl:
            await ddl.run_sync(shadow.create)
        fresh = FreshInbox()
        if total:
            push = await js.subscribe(
                subjects[0],
                stream=stream,
                cb=reader.on_message,
                ordered_consumer=True,  # flow control: the server waits for a slow writer
                pending_bytes_limit=1 << 30,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, filter_subjects=subjects),
            )
            info = await push.consumer_info()
            if info.num_pending == 0 and not (info.delivered and info.delivered.stream_seq):
                reader.ended = True  # no message of the stream is for reporting
                await batches.put(None)
            try:
                seen = 0
                while (item := await asyncio.wait_for(batches.get(), READ_STALL_SECONDS)) is not None:
                    if isinstance(item, BaseException):
                        raise item
                    decoded, fetched = item
                    await _apply_fetched(deps, sessions, decoded, result, fresh=fresh)
                    seen += fetched
                    if progress is not None:
                        progress(seen, max(total, seen))
            except TimeoutError:
                stalled = f"rebuild: no message from {stream} for {READ_STALL_SECONDS:g} s"
                raise RuntimeError(stalled) from None
            finally:
                await push.unsubscribe()
        pull = await js.pull_subscribe(
            subjects[0],
            stream=stream,
            pending_msgs_limit=batch_size * 4,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=reader.last_sequence + 1,
                filter_subjects=subjects,
                inactive_threshold=30.0,
                max_waiting=1,
            ),
        )
        del fresh  # a million event ids: not kept through the summaries and the swap
        phase = time.perf_counter()
        async with engine.begin() as ddl:
            await ddl.run_sync(shadow.index)
            # The summaries' queries join and group the fact tables: planned with statistics.
            await ddl.run_sync(shadow.analyze)
        async with sessions() as session, session.begin():
            if not is_sqlite(settings.database_url):
                # One large grouping query: JIT compiling it cost ~1.8 s at 300,000 events, and
                # its sorts spilled to disk at the default work_mem (7.9 → 4.0 s without both).
                await session.execute(text("SET LOCAL jit = off"))
                await session.execute(text("SET LOCAL work_mem = '256MB'"))
            await session.run_sync(summaries.recompute)
        async with engine.begin() as statistics:
            await statistics.run_sync(shadow.analyze, SUMMARY_TABLES)
        result.summaries_seconds = time.perf_counter() - phase
        phase = time.perf_counter()
        await _swap(live, consumers, lambda: _catch_up(pull, deps, sessions, result, batch_size))
        result.swap_seconds = time.perf_counter() - phase
        swapped = True
        await pull.unsubscribe()
    finally:
        result.seconds = time.perf_counter() - started
        if not swapped:
            with contextlib.suppress(Exception):
                async with engine.begin() as ddl:
                    await ddl.run_sync(shadow.drop)
        collections.close()
        await connection.close()
        await engine.dispose()
        await live.dispose()
    return result
