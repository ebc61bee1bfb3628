"""Outbox → JetStream → inbox pipeline throughput against raw nats-py ``publish_async``.

One run on a fresh nats-server measures, per repetition:

* **raw**: nats-py JetStream ``publish_async`` (``publish_async_max_pending=4000``) of N messages
  into a file-storage stream, awaiting every ack; the payload is a real event envelope.
* **pipeline** (per database backend): N ``ActorRegistered`` events written through
  ``Outbox.add`` in batched transactions → ``OutboxRelay`` → JetStream → a durable consumer
  (``plan_subscriptions`` + ``consume_forever``) whose handler inserts one row per event, with
  inbox de-duplication. Producer and consumer are two services: separate databases, separate
  NATS connections and (by default) separate processes, wired as ``nzr_common.runtime`` wires
  them. Timed from the first outbox write to the commit of the transaction that records the
  last event in the consumer's inbox.

The target (issue): pipeline events/s ≥ 10% of raw msg/s measured in the same run, on SQLite and
on PostgreSQL. No timing is asserted: the verdict is printed and the exit code is 0 (1 only when
a run failed or lost events). ``make bench``, or ``.venv/bin/python bench/pipeline.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.api import StorageType, StreamConfig
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry

from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.messaging import EventHandlers, consume_forever, plan_subscriptions
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.settings import ServiceSettings
from nzr_common.tables import MessagingTables, add_messaging_tables
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database, sqlite_url
from nzr_common.testing.nats import NatsServerProcess

TARGET_RATIO = 0.10
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SERVICE_DEFAULTS = ServiceSettings()  # batch sizes, poll interval and max deliveries services run with


# ---------------------------------------------------------------------------------------------
# events, schema, databases


def make_events(n: int) -> list[ActorRegistered]:
    """N distinct, realistic ``ActorRegistered`` events (built before the clock starts)."""
    now = datetime.now(UTC)
    return [
        ActorRegistered(
            actor_id=str(uuid.uuid4()),
            name=f"Verein {i:05d} e.V.",
            kind="verein",
            sector="zivilgesellschaft",
            district="14625",
            topics=["ehrenamt"],
            public_profile=True,
            registered_at=now,
        )
        for i in range(n)
    ]


@dataclass
class Schema:
    metadata: MetaData
    tables: MessagingTables
    bench: Table


def build_schema() -> Schema:
    """What one service's migrations would create: the plumbing tables and one table of its own."""
    metadata = new_metadata()
    tables = add_messaging_tables(metadata)
    bench = Table(
        "bench_actors",
        metadata,
        Column("actor_id", String(36), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("district", String(16), nullable=False),
    )
    return Schema(metadata, tables, bench)


@dataclass
class Database:
    """One service's database: engine, sessions and schema."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    schema: Schema

    @classmethod
    async def open(cls, url: str, *, create: bool = False) -> Database:
        engine = create_engine(url)
        schema = build_schema()
        if create:
            async with engine.begin() as connection:
                await connection.run_sync(schema.metadata.create_all)
        return cls(engine, create_sessionmaker(engine), schema)

    async def count(self, table: Table, *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table).where(*where)))


@dataclass
class Backend:
    """Makes the databases of one pipeline run and removes them afterwards."""

    name: str
    make: Callable[[str], Awaitable[str]]  # label -> URL
    drop: Callable[[str], Awaitable[None]]  # URL


def sqlite_backend(folder: Path) -> Backend:
    async def make(label: str) -> str:
        return sqlite_url(folder, f"{label}-{uuid.uuid4().hex[:8]}")

    async def drop(url: str) -> None:
        await asyncio.to_thread(remove_sqlite_files, url)

    return Backend("sqlite", make, drop)


def remove_sqlite_files(url: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)


def postgres_backend(admin_url: str) -> Backend:
    async def make(label: str) -> str:
        return await create_postgres_database(admin_url, f"nzr_bench_{label}")

    async def drop(url: str) -> None:
        await drop_postgres_database(admin_url, url)

    return Backend("postgresql", make, drop)


async def find_postgres(mode: str) -> tuple[str | None, str]:
    """The asyncpg admin URL of the PostgreSQL server to use, or None and why it is skipped."""
    if mode == "off":
        return None, "disabled with --postgres off"
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    source = "BENCH_DATABASE_URL/TEST_DATABASE_URL" if url else "the default"
    url = url or DEFAULT_POSTGRES_URL
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgres"):
        return None, f"{source} is not a PostgreSQL URL"
    try:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, timeout=3)
        await connection.close()
    except Exception as error:
        return None, f"no PostgreSQL answering at {parsed.host}:{parsed.port or 5432} ({error!r})"
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False), ""


# ---------------------------------------------------------------------------------------------
# baseline


async def raw_publish_async(nats_url: str, payload: bytes, n: int, run: int) -> float:
    """Raw nats-py ``publish_async`` into a file-storage stream, every ack awaited; msg/s."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream(publish_async_max_pending=4000)
    stream, subject = f"BENCH_RAW_{run}", f"bench.raw.{run}"
    await js.add_stream(StreamConfig(name=stream, subjects=[subject], storage=StorageType.FILE))
    try:
        started = time.monotonic()
        for _ in range(n):
            await js.publish_async(subject, payload)
        await js.publish_async_completed()
        elapsed = time.monotonic() - started
        stored = (await js.stream_info(stream)).state.messages
        if stored != n:
            raise RuntimeError(f"the raw stream holds {stored} of {n} messages")
        return n / elapsed
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)
        await nc.close()


# ---------------------------------------------------------------------------------------------
# the consuming service (a child process, or a task with --layout single)


@dataclass(frozen=True)
class ConsumerSpec:
    nats_url: str
    database_url: str
    stream: str
    region: str
    events: int
    handler: str
    batch_size: int
    tracing: bool
    loop: str


def bench_handlers(kind: str, bench: Table) -> EventHandlers:
    """The consumer's routing table: one trivial handler that inserts a row per event."""
    handlers = EventHandlers(consumer="benchsink")
    if kind == "core":

        @handlers.on(ActorRegistered)
        async def record_actor(
            _deps: object, session: AsyncSession, envelope: Envelope[ActorRegistered]
        ) -> None:
            actor = envelope.data
            await session.execute(
                insert(bench).values(actor_id=actor.actor_id, name=actor.name, district=actor.district)
            )

    else:  # the unit of work flushes a batch's rows in one executemany when it commits
        row_class = type("BenchActor", (), {})
        registry().map_imperatively(row_class, bench)

        @handlers.on(ActorRegistered)
        async def record_actor(
            _deps: object, session: AsyncSession, envelope: Envelope[ActorRegistered]
        ) -> None:
            actor = envelope.data
            session.add(row_class(actor_id=actor.actor_id, name=actor.name, district=actor.district))

    return handlers


async def consumer_service(spec: ConsumerSpec, channel: Connection) -> None:
    """Durable consumer(s) with the handler table, as runtime.py starts them; sends ``ready``,
    then ``done`` with the monotonic time the last event's inbox row was committed."""
    database = await Database.open(spec.database_url)
    nc = await nats.connect(spec.nats_url)
    tasks: list[asyncio.Task[Any]] = []
    try:
        js = nc.jetstream(publish_async_max_pending=4000)
        subscriptions = plan_subscriptions(
            handlers=bench_handlers(spec.handler, database.schema.bench),
            deps=None,
            sessions=database.sessions,
            tables=database.schema.tables,
            stream_name=spec.stream,
            subject_region=spec.region,
            max_deliver=SERVICE_DEFAULTS.consumer_max_deliver,
        )
        consumers = [s.batch for s in subscriptions]
        done = Milestone(lambda: sum(c.stats.handled for c in consumers) >= spec.events)
        for subscription in subscriptions:
            done.observe(subscription.batch, "handle_batch")
            tasks.append(asyncio.create_task(consume_forever(js, subscription, batch_size=spec.batch_size)))
        async with asyncio.timeout(30):
            for subscription in subscriptions:
                await wait_until(lambda s=subscription: durable_exists(js, s.stream, s.durable))
        channel.send(("ready",))
        await done.reached.wait()
        stats = {k: sum(getattr(c.stats, k) for c in consumers) for k in asdict(consumers[0].stats)}
        channel.send(("done", done.at, stats, done.calls))
    except Exception as error:
        channel.send(("error", repr(error)))
        raise
    finally:
        await stop_tasks(tasks)
        await nc.close()
        await database.engine.dispose()


def consumer_process(spec: ConsumerSpec, channel: Connection) -> None:
    """Entry point of the consumer service's process."""
    if spec.tracing:
        install_tracer_provider("bench-consumer")
    with contextlib.suppress(Exception):  # already reported over the channel
        run_loop(spec.loop, consumer_service(spec, channel))


# ---------------------------------------------------------------------------------------------
# the pipeline


@dataclass
class PipelineResult:
    events: int
    written_s: float  # last outbox transaction committed
    relayed_s: float  # relay marked the last row sent
    done_s: float  # last inbox row committed
    relay_batches: int
    consumer_batches: int
    raw_rate: float = 0.0  # raw publish_async msg/s measured just before this run
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.done_s

    @property
    def ratio(self) -> float:
        return self.rate / self.raw_rate


async def pipeline(
    nats_url: str, backend: Backend, events: list[ActorRegistered], args: argparse.Namespace, run: int
) -> PipelineResult:
    """Outbox.add → OutboxRelay → JetStream → consume_forever with inbox; events/s end to end."""
    region = f"bench{run}{backend.name[:2]}"
    total = len(events)
    urls: dict[str, str] = {}
    databases: list[Database] = []
    tasks: list[asyncio.Task[Any]] = []
    child: multiprocessing.process.BaseProcess | None = None
    nc = await nats.connect(nats_url)
    relay: OutboxRelay | None = None
    try:
        for side in ("producer", "consumer"):
            urls[side] = await backend.make(side)
        producer = await Database.open(urls["producer"], create=True)
        databases.append(producer)
        databases.append(await Database.open(urls["consumer"], create=True))

        js = nc.jetstream(publish_async_max_pending=4000)
        stream = await ensure_region_stream(js, region)

        # The consuming service, in its own process unless --layout single.
        spec = ConsumerSpec(
            nats_url=nats_url,
            database_url=urls["consumer"],
            stream=stream,
            region=region,
            events=total,
            handler=args.handler,
            batch_size=args.consumer_batch,
            tracing=args.tracing,
            loop=args.loop,
        )
        parent_end, child_end = multiprocessing.Pipe()
        consumer_task = None
        if args.layout == "processes":
            child = multiprocessing.get_context("spawn").Process(
                target=consumer_process, args=(spec, child_end), name="bench-consumer"
            )
            child.start()
        else:
            consumer_task = asyncio.create_task(consumer_service(spec, child_end))
            tasks.append(consumer_task)
        async with asyncio.timeout(60):
            await receive(parent_end, "ready", child)

        # The producing service: outbox, and the relay woken by it.
        outbox = Outbox(producer.schema.tables, region=region, service="actors")
        relay = OutboxRelay(
            producer.sessions,
            producer.schema.tables,
            js,
            wakeup=outbox.pending,
            batch_size=args.relay_batch,
            poll_seconds=SERVICE_DEFAULTS.relay_poll_seconds,
        )
        relayed = Milestone(lambda: relay.published >= total)
        relayed.observe(relay, "relay_once")
        tasks.append(asyncio.create_task(relay.run()))
        async with asyncio.timeout(30):
            await wait_until(relay.hold_lease)

        started = time.monotonic()
        for first in range(0, total, args.txn_size):
            async with producer.sessions() as session, session.begin():
                await outbox.add(session, *events[first : first + args.txn_size])
        written_at = time.monotonic()
        try:
            async with asyncio.timeout(args.timeout):
                _, done_at, stats, consumer_batches = await receive(parent_end, "done", child)
            # The relay may mark its last batch sent after the consumer committed it.
            async with asyncio.timeout(args.timeout):
                await relayed.reached.wait()
        except TimeoutError as error:
            raise TimeoutError(
                f"not all events arrived within {args.timeout:.0f}s ({relay.published} of {total} relayed)"
            ) from error

        result = PipelineResult(
            total,
            written_at - started,
            relayed.at - started,
            done_at - started,
            relayed.calls,
            consumer_batches,
        )
        # The consumer service shuts down by itself once it has reported.
        if consumer_task is not None:
            await consumer_task
        if child is not None:
            await asyncio.to_thread(child.join, 30)
        await stop_tasks(tasks)
        result.notes.extend(await verify(databases, total, stats))
        return result
    finally:
        await stop_tasks(tasks)
        if child is not None and child.is_alive():
            child.terminate()
            await asyncio.to_thread(child.join, 10)
        if relay is not None:
            with contextlib.suppress(Exception):
                await relay.release()
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(region_stream_name(region))
        await nc.close()
        for database in databases:
            await database.engine.dispose()
        for url in urls.values():
            with contextlib.suppress(Exception):
                await backend.drop(url)


async def ensure_region_stream(js: Any, region: str) -> str:
    """As runtime.py declares it: the region stream, file storage, a 2-minute duplicate window."""
    name = region_stream_name(region)
    await js.add_stream(
        StreamConfig(name=name, subjects=region_stream_subjects(region), duplicate_window=120.0)
    )
    return name


async def verify(databases: list[Database], total: int, stats: dict[str, int]) -> list[str]:
    """What was timed really happened: every row sent, recorded in the inbox and handled."""
    producer, consumer = databases
    outbox, inbox = producer.schema.tables.outbox, consumer.schema.tables.inbox
    counts = {
        "outbox rows marked sent": await producer.count(outbox, outbox.c.sent_at.is_not(None)),
        "inbox rows": await consumer.count(inbox),
        "handler rows": await consumer.count(consumer.schema.bench),
    }
    notes = [f"LOST: {what} {count} of {total}" for what, count in counts.items() if count != total]
    notes += [f"consumer {what}: {count}" for what, count in stats.items() if what != "handled" and count]
    return notes


class Milestone:
    """The moment a condition first holds, checked after each call of the observed methods."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        self.condition = condition
        self.reached = asyncio.Event()
        self.at = 0.0
        self.calls = 0

    def observe(self, obj: Any, method: str) -> None:
        """Wrap one object's bound method (the library code itself runs unchanged)."""
        original = getattr(obj, method)

        async def observed(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            result = await original(*args, **kwargs)
            if not self.reached.is_set() and self.condition():
                self.at = time.monotonic()
                self.reached.set()
            return result

        setattr(obj, method, observed)


async def receive(
    channel: Connection, kind: str, child: multiprocessing.process.BaseProcess | None
) -> tuple[Any, ...]:
    """The next message from the consumer service, which must be ``kind``."""
    while not await asyncio.to_thread(channel.poll, 0.05):
        if child is not None and not child.is_alive():
            raise RuntimeError(f"the consumer process exited with code {child.exitcode}")
    message = channel.recv()
    if message[0] != kind:
        raise RuntimeError(f"the consumer reported {message!r} instead of {kind!r}")
    return message


async def durable_exists(js: Any, stream: str, durable: str) -> bool:
    try:
        await js.consumer_info(stream, durable)
        return True
    except Exception:
        return False


async def wait_until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds (callers bound the wait with ``asyncio.timeout``)."""
    while True:
        if await check():
            return
        await asyncio.sleep(0.02)


async def stop_tasks(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    tasks.clear()


def install_tracer_provider(name: str) -> None:
    """Services always run with an SDK tracer provider (``nzr_common.telemetry``); so does the bench."""
    trace.set_tracer_provider(TracerProvider(resource=Resource.create({"service.name": name})))


def run_loop(loop: str, main: Coroutine[Any, Any, Any]) -> Any:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


# ---------------------------------------------------------------------------------------------
# report


def report(
    results: dict[str, list[PipelineResult]],
    failed: dict[str, str],
    skipped: dict[str, str],
    args: argparse.Namespace,
    payload_bytes: int,
) -> None:
    handler = {"orm": "session.add(row) per event", "core": "session.execute(insert) per event"}
    layout = {"processes": "producer and consumer services in two processes", "single": "one process"}
    print()
    print(
        f"events per measurement: {args.events:,}   payload: {payload_bytes} B (a real "
        f"ActorRegistered envelope)   repetitions: {args.repeat}"
    )
    print(
        f"layout: {layout[args.layout]}   handler: {handler[args.handler]}   outbox txn: "
        f"{args.txn_size}   relay batch: {args.relay_batch}   consumer batch: {args.consumer_batch}"
    )
    print(
        f"loop: {args.loop}   tracing: {'SDK provider' if args.tracing else 'off'}   "
        f"target: pipeline ≥ {TARGET_RATIO:.0%} of raw publish_async"
    )
    print()
    prefix = "median " if args.repeat > 1 else ""
    header = (
        f"{'backend':<11} {prefix + 'raw msg/s':>16} {prefix + 'pipeline ev/s':>20} "
        f"{prefix + 'ratio':>13}  {'target':<7} phases, s: written / relayed / in inbox"
    )
    print(header)
    print("-" * len(header))
    verdicts: dict[str, bool] = {}
    for name, runs in results.items():
        if not runs:
            continue
        mid = statistics.median
        ratio = mid(r.ratio for r in runs)
        verdicts[name] = ratio >= TARGET_RATIO
        phases = " / ".join(
            f"{mid(getattr(r, f) for r in runs):.2f}" for f in ("written_s", "relayed_s", "done_s")
        )
        print(
            f"{name:<11} {mid(r.raw_rate for r in runs):>16,.0f} {mid(r.rate for r in runs):>20,.0f} "
            f"{ratio:>13.1%}  {'met' if verdicts[name] else 'MISSED':<7} {phases}"
        )
        last = runs[-1]
        print(
            f"{'':<11} ({last.relay_batches} relay batches, {last.consumer_batches} consumer "
            "batches in the last run)"
        )
        for note in sorted({n for r in runs for n in r.notes}):
            print(f"{'':<11} {note}")
    for name, reason in {**failed, **skipped}.items():
        print(f"{name:<11} {'FAILED' if name in failed else 'skipped'}: {reason}")
    print()
    met = [n for n, ok in verdicts.items() if ok]
    missed = [n for n, ok in verdicts.items() if not ok]
    if met and not missed and not failed and not skipped:
        print(f"verdict: target met on {' and '.join(met)}")
    else:
        parts = [f"target MISSED on {', '.join(missed)}"] if missed else []
        parts += [f"met on {', '.join(met)}"] if met else []
        parts += [f"not measured on {', '.join([*failed, *skipped])}"] if failed or skipped else []
        print("verdict: " + ("; ".join(parts) or "nothing measured"))


# ---------------------------------------------------------------------------------------------
# main


async def main(args: argparse.Namespace) -> int:
    if args.tracing:
        install_tracer_provider("bench-producer")
    backends: list[Backend] = []
    skipped: dict[str, str] = {}
    folder = tempfile.TemporaryDirectory(prefix="nzr-bench-")
    if args.sqlite:
        backends.append(sqlite_backend(Path(folder.name)))
    admin_url, reason = await find_postgres(args.postgres)
    if admin_url:
        backends.append(postgres_backend(admin_url))
    else:
        skipped["postgresql"] = reason
        print(f"note: PostgreSQL skipped: {reason}", flush=True)

    events = [make_events(args.events) for _ in range(args.repeat)]
    payload = Envelope.wrap(events[0][0], region="bench1sq", service="actors").to_json()
    server = NatsServerProcess().start()
    print(
        f"nats-server on {server.url}, JetStream in {server.workdir}; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: dict[str, list[PipelineResult]] = {b.name: [] for b in backends}
    failed: dict[str, str] = {}
    try:
        for run in range(1, args.repeat + 1):
            for backend in backends:
                if backend.name in failed:
                    continue
                # Raw right before each pipeline run, so the ratio compares neighbours in time.
                raw = await raw_publish_async(server.url, payload, args.events, run)
                try:
                    result = await pipeline(server.url, backend, events[run - 1], args, run)
                except Exception as error:
                    failed[backend.name] = repr(error)
                    print(f"run {run}: pipeline on {backend.name} FAILED: {error!r}", flush=True)
                    continue
                result.raw_rate = raw
                results[backend.name].append(result)
                print(
                    f"run {run}: {backend.name:<10} raw publish_async {raw:>7,.0f} msg/s   pipeline "
                    f"{result.rate:>6,.0f} events/s   {result.ratio:.1%}",
                    flush=True,
                )
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
        folder.cleanup()
    report(results, failed, skipped, args, len(payload))
    print(
        f"load average at the end: {os.getloadavg()[0]:.2f} (the machine is shared; "
        "figures move with it, ratios less so)"
    )
    lost = any(n.startswith("LOST") for runs in results.values() for r in runs for n in r.notes)
    return 1 if failed or lost else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="messages/events per measurement")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; medians are reported")
    parser.add_argument("--txn-size", type=int, default=500, help="events per outbox transaction")
    parser.add_argument(
        "--relay-batch",
        type=int,
        default=SERVICE_DEFAULTS.relay_batch_size,
        help="OutboxRelay batch_size (the services' RELAY_BATCH_SIZE default)",
    )
    parser.add_argument(
        "--consumer-batch",
        type=int,
        default=SERVICE_DEFAULTS.consumer_batch_size,
        help="consume_forever batch_size (the services' CONSUMER_BATCH_SIZE default)",
    )
    parser.add_argument(
        "--handler",
        choices=["orm", "core"],
        default="orm",
        help="orm: session.add(row) per event, flushed with the batch; "
        "core: await session.execute(insert(...)) per event",
    )
    parser.add_argument(
        "--layout",
        choices=["processes", "single"],
        default="processes",
        help="processes: the consumer service runs in its own process, as services "
        "do; single: producer and consumer share one process and event loop",
    )
    parser.add_argument(
        "--postgres",
        choices=["auto", "off"],
        default="auto",
        help="auto: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else "
        f"{DEFAULT_POSTGRES_URL}, when a server answers",
    )
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="skip SQLite")
    parser.add_argument(
        "--no-tracing",
        dest="tracing",
        action="store_false",
        help="no OpenTelemetry SDK tracer provider (services always install one)",
    )
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="event loop (uvicorn runs the services on uvloop)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds the consumer may take per pipeline run"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    sys.exit(run_loop(arguments.loop, main(arguments)))
