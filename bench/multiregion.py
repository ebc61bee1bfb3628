"""Cross-region propagation: from a region's write to its effect at the state, and catch-up
after a hub outage (issue 8).

Ours: outbox row in the region's database → relay → region stream → durable source across the
leaf link → hub aggregate stream → durable consumer with inbox writes at the state.
Baseline, same run, same servers: a bare ``js.publish`` in the region observed by an ordered
consumer on the hub's aggregate stream (JetStream sourcing alone).

    .venv/bin/python bench/multiregion.py [--rate 200] [--seconds 60] [--outage 60] [--pending 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
from sqlalchemy import Column, Float, String, Table

from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Envelope
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.messaging import EventHandlers, consume_forever, plan_subscriptions
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.topology import LocalTopology
from nzr_common.topology import AGGREGATE_STREAM

REGION = "leipzig"
metadata = new_metadata()
tables = add_messaging_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("latency", Float, nullable=False),
)


def event(sent_at: float) -> ActorRegistered:
    # The send time travels in the municipality field so the state side can compute latency.
    return ActorRegistered(
        actor_id=str(uuid.uuid4()),
        name="Bench e.V.",
        kind="verein",
        sector="zivilgesellschaft",
        district="14713000",
        municipality=repr(sent_at),
        registered_at=datetime.now(UTC),
    )


async def _quiet(error: Exception) -> None:
    """Reconnect errors are expected while the hub is stopped."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def database(folder: Path, name: str):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{folder / name}.db")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine, create_sessionmaker(engine)


async def baseline_latency(topology: LocalTopology, rate: int, seconds: float) -> list[float]:
    region = await nats.connect(topology.url(REGION))
    hub = await nats.connect(topology.url("state"))
    latencies: list[float] = []
    subject = f"nzr.{REGION}.pub.bench.raw.v1"
    sub = await hub.jetstream().subscribe(
        subject, stream=AGGREGATE_STREAM, ordered_consumer=True, deliver_policy=nats.js.api.DeliverPolicy.NEW
    )

    async def receive() -> None:
        while True:
            message = await sub.next_msg(timeout=30)
            latencies.append(time.perf_counter() - float(message.data))

    receiver = asyncio.create_task(receive())
    js = region.jetstream()
    count = int(rate * seconds)
    started = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        await js.publish(subject, repr(time.perf_counter()).encode())
    while len(latencies) < count and time.perf_counter() - started < seconds + 30:
        await asyncio.sleep(0.05)
    receiver.cancel()
    await region.close()
    await hub.close()
    return latencies


class Pipeline:
    """Region producer (outbox + relay) and state consumer (durable consumer + inbox)."""

    def __init__(self, topology: LocalTopology, folder: Path) -> None:
        self.topology = topology
        self.folder = folder
        self.latencies: dict[str, float] = {}

    async def start(self) -> None:
        self.region_nc = await nats.connect(
            self.topology.url(REGION), max_reconnect_attempts=-1, error_cb=_quiet
        )
        self.hub_nc = await nats.connect(
            self.topology.url("state"), max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=_quiet
        )
        _, self.producer = await database(self.folder, "producer")
        _, self.consumer = await database(self.folder, "consumer")
        self.outbox = Outbox(tables, region=REGION, service="actors")
        self.relay = OutboxRelay(
            self.producer,
            tables,
            self.region_nc.jetstream(publish_async_max_pending=4000),
            wakeup=self.outbox.pending,
            poll_seconds=0.01,
        )
        handlers = EventHandlers(consumer="state-reporting")

        @handlers.on(ActorRegistered)
        async def record(session, envelope: Envelope[ActorRegistered]) -> None:  # type: ignore[no-untyped-def]
            latency = time.perf_counter() - float(envelope.data.municipality or 0)
            self.latencies[envelope.id] = latency
            await session.execute(effects.insert().values(event_id=envelope.id, latency=latency))

        (subscription,) = plan_subscriptions(
            handlers=handlers,
            sessions=self.consumer,
            tables=tables,
            stream_name=AGGREGATE_STREAM,
            subject_region="*",
            max_deliver=5,
        )
        self.tasks = [
            asyncio.create_task(self.relay.run()),
            asyncio.create_task(consume_forever(self.hub_nc.jetstream(), subscription, fetch_timeout=0.5)),
        ]

    async def write(self, n: int = 1) -> None:
        async with self.producer() as session, session.begin():
            await self.outbox.add(session, *(event(time.perf_counter()) for _ in range(n)))

    async def wait_for(self, total: int, limit: float) -> float:
        started = time.perf_counter()
        while len(self.latencies) < total and time.perf_counter() - started < limit:
            await asyncio.sleep(0.02)
        return time.perf_counter() - started

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.region_nc.close()
        await self.hub_nc.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200, help="events per second")
    parser.add_argument("--seconds", type=float, default=60, help="duration of the steady flow")
    parser.add_argument("--outage", type=float, default=60, help="hub outage in seconds")
    parser.add_argument("--pending", type=int, default=10_000, help="events written during outage")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-regions-"))
    topology = await LocalTopology([REGION, "erzgebirge"], workdir=folder / "nats").start()
    try:
        raw = await baseline_latency(topology, args.rate, args.seconds)
        pipeline = Pipeline(topology, folder)
        await pipeline.start()
        count = int(args.rate * args.seconds)
        started = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
            await pipeline.write()
        await pipeline.wait_for(count, 60)
        ours = list(pipeline.latencies.values())

        topology.stop_hub()
        outage_started = time.perf_counter()
        for _ in range(args.pending // 500):
            await pipeline.write(500)
        await asyncio.sleep(max(0.0, args.outage - (time.perf_counter() - outage_started)))
        topology.start_hub()
        hub_back = time.perf_counter()
        await pipeline.wait_for(count + args.pending // 500 * 500, 120)
        catch_up = time.perf_counter() - hub_back
        caught = len(pipeline.latencies) - count
        await pipeline.stop()
    finally:
        await topology.stop()

    def row(label: str, values: list[float]) -> str:
        return (
            f"{label:<44} n={len(values):>6}  p50={statistics.median(values) * 1000:7.1f} ms"
            f"  p99={percentile(values, 0.99) * 1000:7.1f} ms"
        )

    print(
        f"\nCross-region propagation at {args.rate} events/s for {args.seconds:.0f} s (1 hub, 2 leaf regions)"
    )
    print(row("baseline: js.publish → hub aggregate stream", raw))
    print(row("ours: outbox → relay → source → state inbox", ours))
    ratio = percentile(ours, 0.99) / percentile(raw, 0.99)
    verdict = "meets" if percentile(ours, 0.99) < 0.5 else "MISSES"
    print(f"p99 ratio ours/baseline: {ratio:.1f}x; target p99 < 500 ms: {verdict}")
    print(
        f"\nCatch-up after a {args.outage:.0f} s hub outage with {caught} pending events: "
        f"{catch_up:.1f} s from hub restart to the last effect at the state "
        f"({'meets' if catch_up < 15 else 'MISSES'} target < 15 s)"
    )


if __name__ == "__main__":
    asyncio.run(main())
