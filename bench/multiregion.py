"""Cross-region propagation: from a region's write to its effect at the state, and catch-up
after a hub restart and after a cut leaf link (issues 8 and 14).

Ours: outbox row in the region's database → relay → region stream → region-owned durable source
consumer across the leaf link → hub aggregate stream → durable consumer with inbox writes at the
state. Baseline, same run, same servers: a bare ``js.publish`` in the region observed at the
hub's aggregate stream (JetStream sourcing alone).

Latency is measured twice in one run: on the deployed topology (per-region accounts, passwords,
mutual TLS with nkeys on the leaf links) and on an open one (one account, plaintext leaf links).
Catch-up is measured on the deployed topology: events written in the region (ours and raw) while
the hub is stopped / the link is cut, then the time from its return until the last one arrived.

    .venv/bin/python bench/multiregion.py [--rate 200] [--seconds 20] [--outage 10] [--pending 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
from sqlalchemy import Column, Float, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Envelope
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.messaging import EventHandlers, consume_forever, plan_subscriptions
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.topology import LocalTopology
from nzr_common.topology import AGGREGATE_STREAM, STATE, RegionNode

RAW_SUBJECT = "nzr.{region}.pub.bench.raw.v1"

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
    """Reconnect errors are expected while the hub is stopped (and an ordered consumer's
    late recreate once its connection is closed)."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def database(folder: Path, name: str):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{folder / name}.db")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine, create_sessionmaker(engine)


class OpenTopology(LocalTopology):
    """The same hub and leaf nodes without accounts, credentials or TLS: what the platform ran
    before issue 14, for the comparison only."""

    def url(self, region: str, *, credentials: bool = False) -> str:
        return super().url(region, credentials=False)

    def hub_conf(self) -> str:
        hub = self.hub
        return f"""server_name: nzr-hub
listen: 127.0.0.1:{hub.client_port}
http: 127.0.0.1:{hub.monitor_port}
jetstream {{ domain: {STATE}, store_dir: "{hub.store_dir}" }}
leafnodes {{ listen: 127.0.0.1:{hub.leaf_port}, no_advertise: true }}
"""

    def leaf_conf(self, node: RegionNode, hub_leaf_url: str) -> str:
        return f"""server_name: nzr-{node.region}
listen: 127.0.0.1:{node.client_port}
jetstream {{ domain: {node.region}, store_dir: "{node.store_dir}" }}
leafnodes {{ reconnect: "1s", remotes: [ {{ url: "{hub_leaf_url.replace("nats-leaf", "nats")}" }} ] }}
"""


async def baseline_latency(topology: LocalTopology, rate: int, seconds: float) -> list[float]:
    region = await nats.connect(topology.url(REGION), error_cb=_quiet)
    hub = await nats.connect(topology.url("state"), error_cb=_quiet)
    latencies: list[float] = []
    subject = RAW_SUBJECT.format(region=REGION)
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
    await asyncio.gather(receiver, return_exceptions=True)
    await sub.unsubscribe()
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
        async def record(_deps: object, session: AsyncSession, envelope: Envelope[ActorRegistered]) -> None:
            latency = time.perf_counter() - float(envelope.data.municipality or 0)
            self.latencies[envelope.id] = latency
            await session.execute(effects.insert().values(event_id=envelope.id, latency=latency))

        (subscription,) = plan_subscriptions(
            handlers=handlers,
            deps=None,
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


async def raw_count(hub: nats.NATS) -> int:
    info = await hub.jetstream().stream_info(
        AGGREGATE_STREAM, subjects_filter=RAW_SUBJECT.format(region=REGION)
    )
    return sum((info.state.subjects or {}).values())


async def steady_flow(topology: LocalTopology, folder: Path, rate: int, seconds: float):  # type: ignore[no-untyped-def]
    """Raw and ours at ``rate`` for ``seconds`` each; returns both latency lists and the pipeline."""
    raw = await baseline_latency(topology, rate, seconds)
    pipeline = Pipeline(topology, folder)
    await pipeline.start()
    count = int(rate * seconds)
    started = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        await pipeline.write()
    await pipeline.wait_for(count, 60)
    return raw, list(pipeline.latencies.values()), pipeline


async def outage(topology: LocalTopology, pipeline: Pipeline, kind: str, seconds: float, pending: int):  # type: ignore[no-untyped-def]
    """Stop the hub or cut Leipzig's link for ``seconds`` while ``pending`` events of ours and as
    many raw ones are written in the region; seconds from the return until the last of each
    reached the state (ours: its effect; raw: the aggregate stream)."""
    region = await nats.connect(topology.url(REGION))
    hub = await nats.connect(
        topology.url(STATE), max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=_quiet
    )
    raw_target = await raw_count(hub) + pending
    ours_target = len(pipeline.latencies) + pending
    if kind == "hub":
        topology.stop_hub()
    else:
        await topology.links[REGION].cut()
    down = time.perf_counter()
    js = region.jetstream()
    for _ in range(pending // 500):
        await pipeline.write(500)
        for _ in range(500):
            await js.publish(RAW_SUBJECT.format(region=REGION), repr(time.perf_counter()).encode())
    await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - down)))
    if kind == "hub":
        topology.start_hub()
    else:
        await topology.links[REGION].start()
    back = time.perf_counter()
    raw_took = ours_took = None
    while time.perf_counter() - back < 120 and (raw_took is None or ours_took is None):
        if raw_took is None:
            with contextlib.suppress(Exception):
                if await raw_count(hub) >= raw_target:
                    raw_took = time.perf_counter() - back
        if ours_took is None and len(pipeline.latencies) >= ours_target:
            ours_took = time.perf_counter() - back
        await asyncio.sleep(0.05)
    await region.close()
    await hub.close()
    return raw_took, ours_took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200, help="events per second")
    parser.add_argument("--seconds", type=float, default=20, help="duration of each steady flow")
    parser.add_argument("--outage", type=float, default=10, help="hub outage / link cut in seconds")
    parser.add_argument("--pending", type=int, default=2000, help="events written during each outage")
    args = parser.parse_args()
    args.pending = max(500, args.pending // 500 * 500)

    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-regions-"))
    flows: dict[str, tuple[list[float], list[float]]] = {}
    catch_up: dict[str, tuple[float | None, float | None]] = {}
    for label, kind in (("open", OpenTopology), ("secured", LocalTopology)):
        topology = await kind([REGION, "erzgebirge"], workdir=folder / label / "nats").start()
        try:
            (folder / label).mkdir(parents=True, exist_ok=True)
            raw, ours, pipeline = await steady_flow(topology, folder / label, args.rate, args.seconds)
            flows[label] = (raw, ours)
            if label == "secured":
                for outage_kind in ("hub", "link"):
                    catch_up[outage_kind] = await outage(
                        topology, pipeline, outage_kind, args.outage, args.pending
                    )
            await pipeline.stop()
        finally:
            await topology.stop()

    def row(label: str, values: list[float]) -> str:
        if not values:
            return f"{label:<66} n=     0"
        return (
            f"{label:<66} n={len(values):>6}  p50={statistics.median(values) * 1000:7.1f} ms"
            f"  p99={percentile(values, 0.99) * 1000:7.1f} ms"
        )

    print(
        f"\nCross-region propagation at {args.rate} events/s for {args.seconds:.0f} s (1 hub, 2 leaf regions)"
    )
    for label, title in (("open", "open (one account, plaintext)"), ("secured", "TLS + accounts")):
        raw, ours = flows[label]
        print(row(f"baseline, {title}: js.publish → hub aggregate", raw))
        print(row(f"ours, {title}: outbox → … → state inbox", ours))
    secured_p99 = percentile(flows["secured"][1], 0.99)
    open_p99 = percentile(flows["open"][1], 0.99)
    verdict = "meets" if secured_p99 < 0.5 else "MISSES"
    print(
        f"p99 ours TLS+accounts / open: {secured_p99 / open_p99:.2f}x; "
        f"ours/baseline (TLS+accounts): {secured_p99 / percentile(flows['secured'][0], 0.99):.1f}x; "
        f"target p99 < 500 ms with TLS+accounts: {verdict}"
    )
    print(f"\nCatch-up with TLS + accounts, {args.pending} events of ours and as many raw written meanwhile")
    for outage_kind, title, target in (
        ("hub", f"hub stopped {args.outage:.0f} s, from its restart", 10),
        ("link", f"leaf link cut {args.outage:.0f} s, from its return", 5),
    ):
        raw_took, ours_took = catch_up[outage_kind]
        raw_text = f"{raw_took:.1f} s" if raw_took is not None else "> 120 s"
        ours_text = f"{ours_took:.1f} s" if ours_took is not None else "> 120 s"
        ratio = f"{ours_took / raw_took:.1f}x" if raw_took and ours_took else "n/a"
        met = "meets" if ours_took is not None and ours_took < target else "MISSES"
        print(
            f"{title}: baseline (raw sourcing) {raw_text}, ours (state effect) {ours_text}, "
            f"ratio {ratio}; target < {target} s: {met}"
        )


if __name__ == "__main__":
    asyncio.run(main())
