"""Reporting rebuild throughput against a bare nats-py pull consumer, and state-overview latency.

One run on a fresh nats-server:

* N shareable events of 13 regions spread over 24 months (actors, cooperations, gatherings,
  agreements, newsletter reach, funding searches and matches) are published into one stream
  shaped like the hub's aggregate stream (``nzr.<region>.pub.>``).
* **read** (baseline): a bare nats-py ephemeral pull consumer (no acks) fetches every message
  of that stream in batches, doing nothing with them.
* **rebuild** (per database backend): ``nzr_reporting.rebuild.service.rebuild`` in state mode — the
  same stream read the same way, every event decoded and applied through the routing table in
  batched transactions with inbox de-duplication, into emptied projection tables.
* **overview**: ``GET /api/v1/reports/overview`` of the state-mode service over the rebuilt
  projections (13 regions × 24 months, every indicator), p50/p95 over repeated requests.
* **computed overview**: the same request with the cache cold, as users see it while events
  arrive (one new event is published and consumed before each request), and the computation of
  every indicator from the monthly summaries against the baseline of summing the fact tables
  (the computation before the summaries), both in the same run. ``--overview-only`` loads the
  events with one rebuild and measures only this (no bare read, no rebuild ratio).

* **references** (printed, not the target's baseline): the same pull read under the rebuild's
  garbage-collector thresholds, and a bare ordered push read (the rebuild reads that way).

Targets (issue #19): rebuild ≥ 50% of the bare pull read's rate in the same run, with readers answering
during the rebuild (their p95 printed); state overview p95 < 100 ms with a bare SELECT of the
same summary rows as baseline. The rebuild writes shadow tables and swaps them in.
Nothing is asserted: figures and ratios are printed, exit code 0.
``.venv/bin/python bench/reporting_rebuild.py`` (1,000,000 events; ``--events`` fewer); PostgreSQL too when
``TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from sqlalchemy import func, select, union_all

from nzr_common.auth import issue_token
from nzr_common.contracts import actors, events, funding, newsletter
from nzr_common.contracts.base import Envelope
from nzr_common.db import create_engine, create_sessionmaker, migrate_async
from nzr_common.regions import load_districts
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    sqlite_url,
)
from nzr_common.testing.nats import NatsServerProcess
from nzr_reporting.app import create_app
from nzr_reporting.indicators.models import DailyFigure, MonthlyFigure
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.indicators.service import all_indicators, projection_version
from nzr_reporting.indicators.workbook import SummaryWorkbook, Workbook
from nzr_reporting.rebuild.service import fewer_collections, rebuild
from nzr_reporting.settings import ReportingSettings

STREAM = "NZR_BENCH_AGGREGATE"
REGIONS = [f"region{i:02d}" for i in range(13)]
MONTHS = 24


def make_events(count: int, seed: int = 7) -> list[Envelope]:
    """A realistic mix of shareable events over 13 regions and 24 months."""
    rng = random.Random(seed)
    districts = list(load_districts())
    now = datetime.now(UTC)
    actor_ids: dict[str, list[str]] = {r: [] for r in REGIONS}
    envelopes = []
    kinds = ["verein", "initiative", "kommune", "unternehmen", "bildungseinrichtung"]
    sectors = ["zivilgesellschaft", "wirtschaft", "verwaltung_politik", "bildung_wissenschaft"]
    for _ in range(count):
        region = rng.choice(REGIONS)
        at = now - timedelta(days=rng.uniform(0, MONTHS * 30.4))
        roll = rng.random()
        known = actor_ids[region]
        if roll < 0.40 or len(known) < 2:
            event = actors.ActorRegistered(
                actor_id=str(uuid.uuid4()),
                name="Verein",
                kind=rng.choice(kinds),
                sector=rng.choice(sectors),
                district=rng.choice(districts),
                topics=["energie_klimaschutz"],
                registered_at=at,
            )
            known.append(event.actor_id)
        elif roll < 0.55:
            event = actors.CooperationRecorded(
                cooperation_id=str(uuid.uuid4()),
                actor_a=rng.choice(known),
                actor_b=rng.choice(known),
                cooperation_type="projekt",
                since=at.date(),
                cross_sector=rng.random() < 0.4,
            )
        elif roll < 0.65:
            event = events.EventCompleted(
                event_id=str(uuid.uuid4()),
                format="workshop",
                district=rng.choice(districts),
                participants=rng.randint(5, 120),
                completed_at=at,
            )
        elif roll < 0.72:
            event = events.AgreementRecorded(
                agreement_id=str(uuid.uuid4()),
                event_id=str(uuid.uuid4()),
                party_actor_ids=[rng.choice(known)],
                status=rng.choice(["offen", "umgesetzt"]),
            )
        elif roll < 0.82:
            event = newsletter.ListReachChanged(
                list_id=f"liste-{rng.randint(1, 3)}", confirmed_subscribers=rng.randint(10, 900), as_of=at
            )
        elif roll < 0.92:
            event = funding.FundingSearchPerformed(search_id=str(uuid.uuid4()), hits=7, performed_at=at)
        else:
            event = funding.FundingMatchRequested(
                match_id=str(uuid.uuid4()),
                district=rng.choice(districts),
                programmes_fully_met=2,
                performed_at=at,
            )
        envelopes.append(Envelope.wrap(event, region=region, service=event.subject.producer))
    return envelopes


async def publish_all(url: str, envelopes: list[Envelope]) -> float:
    connection = await nats.connect(url)
    js = connection.jetstream(publish_async_max_pending=4000)
    await js.add_stream(StreamConfig(name=STREAM, subjects=["nzr.*.pub.>"], duplicate_window=120.0))
    started = time.perf_counter()
    futures = []
    for envelope in envelopes:
        futures.append(
            await js.publish_async(
                envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
            )
        )
        if len(futures) >= 4000:
            await asyncio.gather(*futures)
            futures = []
    await asyncio.gather(*futures)
    seconds = time.perf_counter() - started
    await connection.close()
    return seconds


async def bare_read(url: str, batch_size: int) -> tuple[int, float]:
    """Read every message of the stream with an ephemeral pull consumer and do nothing."""
    connection = await nats.connect(url)
    js = connection.jetstream()
    started = time.perf_counter()
    pull = await js.pull_subscribe(
        "nzr.*.pub.>",
        stream=STREAM,
        pending_msgs_limit=batch_size * 4,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30.0
        ),
    )
    seen = 0
    while True:
        try:
            messages = await pull.fetch(batch=batch_size, timeout=1.0)
        except (TimeoutError, nats.errors.TimeoutError):
            # A slow server (a busy machine) is no end of the stream, as in the rebuild.
            if (await pull.consumer_info()).num_pending:
                continue
            break
        seen += len(messages)
        if messages[-1].metadata.num_pending == 0:
            break
    seconds = time.perf_counter() - started
    await pull.unsubscribe()
    await connection.close()
    return seen, seconds


async def bare_push_read(url: str) -> tuple[int, float]:
    """Reference: read every message with an ordered push consumer (as the rebuild now does)."""
    connection = await nats.connect(url)
    js = connection.jetstream()
    done, seen = asyncio.Event(), [0]

    async def count(message: Any) -> None:
        seen[0] += 1
        if message.metadata.num_pending == 0:
            done.set()

    started = time.perf_counter()
    push = await js.subscribe(
        "nzr.*.pub.>", stream=STREAM, cb=count, ordered_consumer=True, pending_bytes_limit=1 << 30
    )
    await asyncio.wait_for(done.wait(), 600)
    seconds = time.perf_counter() - started
    await push.unsubscribe()
    await connection.close()
    return seen[0], seconds


async def overview_latency(
    settings: ReportingSettings, requests: int, expected: int
) -> tuple[float, list[float]]:
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region='state', roles=['state'])}"}
    timings = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            # The live consumers first skip what the rebuild applied (inbox); then they idle.
            runtime = app.state.runtime
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                consumed = sum(
                    c.stats.handled + c.stats.duplicates + c.stats.ignored for c in runtime.consumers.values()
                )
                if consumed >= expected:
                    break
                await asyncio.sleep(0.2)
            started = time.perf_counter()
            first = await client.get("/api/v1/reports/overview", headers=headers)
            cold = (time.perf_counter() - started) * 1000
            assert first.status_code == 200, first.text
            body = first.json()
            assert len(body["regions"]) == len(REGIONS), body["regions"]
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get("/api/v1/reports/overview", headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
    return cold, timings


async def computed_overview(settings: ReportingSettings, server_url: str, requests: int) -> list[float]:
    """Overview latency as users see it while events arrive: before each request one new event
    is published and consumed, so the cached report is stale and the overview is computed."""
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region='state', roles=['state'])}"}
    rng = random.Random(5)
    districts = list(load_districts())
    timings = []
    connection = await nats.connect(server_url)
    js = connection.jetstream()
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)

    async def version() -> int:
        async with sessions() as session:
            return await projection_version(session)

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                # The first round is untimed: the live consumers first skip what the rebuild
                # applied, and the first request opens connections and compiles statements.
                for round_ in range(requests + 1):
                    before = await version()
                    event = actors.ActorRegistered(
                        actor_id=str(uuid.uuid4()),
                        name="Verein",
                        kind="verein",
                        sector="zivilgesellschaft",
                        district=rng.choice(districts),
                        registered_at=datetime.now(UTC),
                    )
                    envelope = Envelope.wrap(event, region=rng.choice(REGIONS), service="actors")
                    await js.publish(
                        envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
                    )
                    deadline = time.monotonic() + (60 if round_ else 900)
                    while await version() == before and time.monotonic() < deadline:
                        await asyncio.sleep(0.01)
                    started = time.perf_counter()
                    response = await client.get("/api/v1/reports/overview", headers=headers)
                    if round_:
                        timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
    finally:
        await connection.close()
        await engine.dispose()
    return timings


async def read_while(settings: ReportingSettings, done: asyncio.Event) -> list[float]:
    """Readers during a rebuild: every indicator of the state overview computed again and again
    from the live tables until ``done`` (cache-free), each timed."""
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    scope = Scope(regions=REGIONS, districts=load_districts())
    today = datetime.now(UTC).date()
    timings: list[float] = []
    try:
        while not done.is_set():
            async with sessions() as session:
                started = time.perf_counter()
                await all_indicators(SummaryWorkbook(session, scope), today, set(REGIONS))
                timings.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    return timings


async def rebuild_with_readers(settings: ReportingSettings, batch: int) -> tuple[Any, list[float]]:
    done = asyncio.Event()
    readers = asyncio.create_task(read_while(settings, done))
    try:
        result = await rebuild(settings, batch_size=batch, migrate=False)
    finally:
        done.set()
    return result, await readers


async def bare_select(settings: ReportingSettings, repetitions: int) -> list[float]:
    """Baseline of the state overview: the bare SELECT of the summary rows it reads (every
    region's sums by measure, district and key: whole months before today's month and today's
    month by day — the query ``SummaryWorkbook`` sends), fetched and nothing computed."""
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    first = datetime.now(UTC).date().replace(day=1)
    m, d = MonthlyFigure, DailyFigure
    query = union_all(
        select(m.region, m.measure, m.district, m.key, func.sum(m.amount))
        .where(m.region.in_(REGIONS), m.month < first)
        .group_by(m.region, m.measure, m.district, m.key),
        select(d.region, d.measure, d.district, d.key, func.sum(d.amount))
        .where(d.region.in_(REGIONS), d.day >= first)
        .group_by(d.region, d.measure, d.district, d.key),
    )
    timings = []
    try:
        for repetition in range(repetitions + 1):
            async with sessions() as session:
                started = time.perf_counter()
                (await session.execute(query)).all()
                if repetition:
                    timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings


async def overview_computations(
    settings: ReportingSettings, repetitions: int
) -> tuple[list[float], list[float]]:
    """Every indicator for the state overview computed directly, cache-free: from the monthly
    summaries (ours) and by summing the fact tables (the baseline), alternating, same data."""
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    scope = Scope(regions=REGIONS, districts=load_districts())
    today = datetime.now(UTC).date()
    ours, baseline = [], []
    try:
        for repetition in range(repetitions + 1):
            for workbook, timings in (
                (SummaryWorkbook, ours),
                (partial(Workbook, districts=False), baseline),
            ):
                async with sessions() as session:
                    started = time.perf_counter()
                    await all_indicators(workbook(session, scope), today, set(REGIONS))
                    if repetition:  # the first round warms connections and statement caches
                        timings.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return ours, baseline


async def print_computed_overview(backend: str, settings: ReportingSettings, url: str, args: Any) -> None:
    ours, baseline = await overview_computations(settings, args.baseline_repeat)
    print(
        f"[{backend}] overview computation, every indicator for {len(REGIONS)} regions, "
        f"{args.baseline_repeat}× each: from monthly summaries p50 {percentile(ours, 0.5):.1f} ms, "
        f"p95 {percentile(ours, 0.95):.1f} ms | baseline (sums over the fact tables) "
        f"p50 {percentile(baseline, 0.5):.1f} ms, p95 {percentile(baseline, 0.95):.1f} ms | "
        f"speed-up at p95 {percentile(baseline, 0.95) / percentile(ours, 0.95):.1f}×"
    )
    bare = await bare_select(settings, args.baseline_repeat)
    print(
        f"[{backend}] state overview ({len(REGIONS)} regions × {MONTHS} months) computed: p95 "
        f"{percentile(ours, 0.95):.1f} ms (target < 100 ms) | baseline bare SELECT of the same summary "
        f"rows p95 {percentile(bare, 0.95):.1f} ms | "
        f"ratio {percentile(ours, 0.95) / percentile(bare, 0.95):.1f}×"
    )
    timings = await computed_overview(settings, url, args.requests)
    print(
        f"[{backend}] GET /reports/overview computed (cache cold: one new event consumed before "
        f"each of {args.requests} requests): p50 {percentile(timings, 0.5):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms (target p95 < 100 ms; baseline p95 above)"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> None:
    server = NatsServerProcess().start()
    print(f"generating {args.events:,} events over {len(REGIONS)} regions × {MONTHS} months …")
    envelopes = make_events(args.events)
    try:
        seconds = await publish_all(server.url, envelopes)
        count = len(envelopes)
        print(f"published {count:,} events in {seconds:.1f} s ({count / seconds:,.0f} msg/s)")
        # The generated events live on in the stream only: a million objects kept here would make
        # every garbage collection of the measured readers walk them.
        del envelopes
        gc.collect()
        backends = [] if args.postgresql_only else [("sqlite", None)]
        if postgres_admin_url() and not args.sqlite_only:
            backends.append(("postgresql", postgres_admin_url()))
        for backend, admin in backends:
            url = (
                sqlite_url(Path(tempfile.mkdtemp(prefix="nzr-bench-")), "reporting")
                if admin is None
                else await create_postgres_database(admin, "nzr_bench_reporting")
            )
            try:
                settings = ReportingSettings(
                    region="state",
                    mode="state",
                    consumer_stream=STREAM,
                    nats_url=server.url,
                    database_url=url,
                    known_regions=REGIONS,
                )
                await migrate_async("nzr_reporting", url)
                if args.overview_only:
                    result = await rebuild(settings, batch_size=args.batch, migrate=False)
                    print(
                        f"[{backend}] loaded {result.applied:,} events by rebuild in {result.seconds:.1f} s"
                    )
                    await print_computed_overview(backend, settings, server.url, args)
                    continue
                rates = []
                for repetition in range(args.repeat):
                    seen, read_seconds = await bare_read(server.url, args.batch)
                    result, reads = await rebuild_with_readers(settings, args.batch)
                    read_rate, rebuild_rate = seen / read_seconds, result.per_second
                    rates.append(rebuild_rate / read_rate)
                    # A read that ended early looks fast: say so.
                    rebuilt = result.applied + result.ignored + result.poison
                    for what, got in (("read", seen), ("rebuild", rebuilt)):
                        if got != count:
                            print(f"[{backend} #{repetition + 1}] {what} saw {got:,} of {count:,} events")
                    # References beside the issue's baseline: the same pull read under the
                    # rebuild's garbage-collector thresholds, and a bare ordered push read.
                    with fewer_collections():
                        tuned_seen, tuned_seconds = await bare_read(server.url, args.batch)
                    push_seen, push_seconds = await bare_push_read(server.url)
                    print(
                        f"[{backend} #{repetition + 1}] references: pull read with the rebuild's GC "
                        f"thresholds {tuned_seen / tuned_seconds:,.0f} msg/s (ratio "
                        f"{rebuild_rate / (tuned_seen / tuned_seconds):.1%}); ordered push read "
                        f"{push_seen / push_seconds:,.0f} msg/s (ratio "
                        f"{rebuild_rate / (push_seen / push_seconds):.1%})"
                    )
                    print(
                        f"[{backend} #{repetition + 1}] read {seen:,} msgs: {read_rate:,.0f} msg/s | "
                        f"rebuild {result.applied:,} applied + {result.ignored} skipped in "
                        f"{result.seconds:.1f} s (summaries {result.summaries_seconds:.1f} s, swap "
                        f"{result.swap_seconds:.2f} s): {rebuild_rate:,.0f} events/s | "
                        f"ratio {rebuild_rate / read_rate:.1%} (target ≥ 50%) | readers during the rebuild: "
                        f"{len(reads)} overview computations, p50 {percentile(reads or [0], 0.5):.1f} ms, "
                        f"p95 {percentile(reads or [0], 0.95):.1f} ms"
                    )
                cold, timings = await overview_latency(settings, args.requests, count)
                print(
                    f"[{backend}] rebuild/read ratio median {statistics.median(rates):.1%}; "
                    f"state overview ({len(REGIONS)} regions × {MONTHS} months, {args.requests} requests): "
                    f"first (computed) {cold:.1f} ms, then (reused until the projections change) "
                    f"p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms "
                    f"(target p95 < 100 ms)"
                )
                await print_computed_overview(backend, settings, server.url, args)
            finally:
                if admin is not None:
                    await drop_postgres_database(admin, url)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events in the stream (issue #19: 1,000,000)"
    )
    parser.add_argument("--batch", type=int, default=20_000, help="events per fetch and per transaction")
    parser.add_argument("--repeat", type=int, default=1, help="rebuild repetitions per backend")
    parser.add_argument("--requests", type=int, default=100, help="overview requests for the latency figure")
    parser.add_argument(
        "--overview-only",
        action="store_true",
        help="load the events and measure only the computed (cache-cold) state overview",
    )
    parser.add_argument(
        "--baseline-repeat", type=int, default=10, help="direct computations each, ours and baseline"
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true", help="needs TEST_DATABASE_URL")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
