"""GDPR erasure cost in the plumbing against the raw reads underneath, measured in the same run.

An erasure deletes the person's region-private messages from the stream and the private outbox
rows and dead letters of the service that name them. Per repetition:

* **stream**: N ``RegistrationConfirmed`` messages published through the outbox relay (which
  records who each names) on a fresh nats-server with file storage, plus 3 of the person's.
  Ours: ``erase_from_stream`` with the records (deletes the 3 recorded sequences); the
  **baseline**: the old full scan (``erase_from_stream`` without records reads all N + 3), on 3
  fresh messages of the person in the same stream. A raw read of the N messages (the old
  scan's floor) is printed too.
* **tables**: ``erase_from_messaging_tables`` over N sent private outbox rows in SQLite, against
  the baseline ``SELECT payload`` of the same rows.

Medians of the repetitions are printed with the ratio (our time / baseline time). Nothing is
asserted; exit code 0. ``.venv/bin/python bench/gdpr_erasure.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from sqlalchemy import select

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.contracts.events import RegistrationConfirmed
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.erasure import erase_from_messaging_tables, erase_from_stream
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.databases import sqlite_url
from nzr_common.testing.nats import NatsServerProcess

REGION = "bench"
PERSON = "wiebke.quast@example.org"


def registration(email: str) -> RegistrationConfirmed:
    return RegistrationConfirmed(
        registration_id=str(uuid.uuid4()),
        event_id="e-1",
        name="Erika Musterfrau",
        email=email,
        confirmed_at=datetime.now(UTC),
    )


def envelope_bytes(email: str) -> tuple[str, bytes]:
    envelope = Envelope.wrap(registration(email), region=REGION, service="events")
    return envelope.nats_subject(), envelope.to_json()


async def publish(js: JetStreamContext, emails: list[str]) -> None:
    futures = []
    for email in emails:
        subject, payload = envelope_bytes(email)
        futures.append(await js.publish_async(subject, payload))
    await asyncio.gather(*futures)


async def raw_read(js: JetStreamContext, batch_size: int = 500) -> int:
    """The baseline: read every private events message once, as the erasure's consumer does."""
    subject = f"nzr.{REGION}.priv.events.>"
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, filter_subject=subject, mem_storage=True
    )
    pull = await js.pull_subscribe(subject, stream=region_stream_name(REGION), config=config)
    read = 0
    try:
        remaining = (await pull.consumer_info()).num_pending
        while remaining > 0:
            messages = await pull.fetch(batch=min(batch_size, remaining), timeout=5)
            remaining -= len(messages)
            read += len(messages)
    finally:
        await pull.unsubscribe()
    return read


class RecordingProducer:
    """The events service's plumbing in SQLite: outbox, relay and the personal-message records."""

    def __init__(self, folder: Path, js: JetStreamContext) -> None:
        self.metadata = new_metadata()
        self.tables = add_messaging_tables(self.metadata, record_personal=True)
        self.engine = create_engine(sqlite_url(folder, f"records-{uuid.uuid4().hex[:8]}"))
        self.sessions = create_sessionmaker(self.engine)
        self.outbox = Outbox(self.tables, region=REGION, service="events")
        self.relay = OutboxRelay(self.sessions, self.tables, js)

    async def start(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(self.metadata.create_all)

    async def publish(self, emails: list[str]) -> None:
        for start in range(0, len(emails), 1000):
            async with self.sessions() as session, session.begin():
                await self.outbox.add(session, *(registration(e) for e in emails[start : start + 1000]))
            while await self.relay.relay_once():
                pass


async def stream_round(js: JetStreamContext, producer: RecordingProducer) -> tuple[float, float, float]:
    person = person_id_for(PERSON)
    three = [PERSON, PERSON.upper(), f" {PERSON}"]  # the person's, spelled three ways
    await producer.publish(three)
    started = time.perf_counter()
    async with producer.sessions() as session, session.begin():
        deleted = await erase_from_stream(
            js, region=REGION, producer="events", person_id=person, session=session, tables=producer.tables
        )
    ours = time.perf_counter() - started
    await producer.publish(three)
    started = time.perf_counter()
    scanned = await erase_from_stream(js, region=REGION, producer="events", person_id=person)
    baseline = time.perf_counter() - started
    records = producer.tables.personal_messages
    assert records is not None
    async with producer.sessions() as session, session.begin():  # the scanned ones' records
        await session.execute(records.delete())
    started = time.perf_counter()
    read = await raw_read(js)
    raw = time.perf_counter() - started
    if (deleted, scanned) != (3, 3):
        raise SystemExit(f"expected to delete 3 of {read} messages twice, deleted {deleted} and {scanned}")
    return ours, baseline, raw


async def table_round(folder: Path, count: int) -> tuple[float, float]:
    metadata = new_metadata()
    tables = add_messaging_tables(metadata)
    engine = create_engine(sqlite_url(folder, f"erasure-{uuid.uuid4().hex[:8]}"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = create_sessionmaker(engine)
    outbox = Outbox(tables, region=REGION, service="events")
    try:
        async with sessions() as session, session.begin():
            emails = [f"person{i}@example.org" for i in range(count)] + [PERSON]
            for start in range(0, len(emails), 1000):
                await outbox.add(session, *(registration(e) for e in emails[start : start + 1000]))
            await session.execute(tables.outbox.update().values(sent_at=datetime.now(UTC)))
        async with sessions() as session:
            started = time.perf_counter()
            rows = (await session.execute(select(tables.outbox.c.position, tables.outbox.c.payload))).all()
            baseline = time.perf_counter() - started
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            erased = await erase_from_messaging_tables(session, tables, person_id_for(PERSON))
            ours = time.perf_counter() - started
        if erased != (1, 0) or len(rows) != count + 1:
            raise SystemExit(f"expected one outbox row of {len(rows)} erased, got {erased}")
        return ours, baseline
    finally:
        await engine.dispose()


async def main(count: int, repetitions: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-erasure-"))
    server = NatsServerProcess(folder / "nats").start()
    connection = await nats.connect(server.url)
    try:
        js = connection.jetstream(publish_async_max_pending=4000)
        await js.add_stream(
            StreamConfig(
                name=region_stream_name(REGION),
                subjects=region_stream_subjects(REGION),
                storage=StorageType.FILE,
            )
        )
        producer = RecordingProducer(folder, js)
        await producer.start()
        await producer.publish([f"person{i}@example.org" for i in range(count)])
        stream = [await stream_round(js, producer) for _ in range(repetitions)]
        await producer.engine.dispose()
        tables = [await table_round(folder, count) for _ in range(repetitions)]
    finally:
        await connection.close()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"GDPR erasure over {count:,} region-private messages / outbox rows, medians of {repetitions} runs")
    ours = statistics.median(r[0] for r in stream)
    baseline = statistics.median(r[1] for r in stream)
    raw = statistics.median(r[2] for r in stream)
    print(f"  stream: erase_from_stream with the records (3 messages deleted): {ours * 1000:8.1f} ms")
    print(f"    baseline, the old full scan: {baseline * 1000:8.1f} ms ({count / baseline:,.0f} messages/s)")
    print(f"    (a raw read of the same messages: {raw * 1000:8.1f} ms)")
    print(f"    ratio ours/baseline: {ours / baseline:.4f}x")
    for what, rounds, baseline_name in (
        ("tables: erase_from_messaging_tables (SQLite)", tables, "SELECT of the same rows"),
    ):
        ours = statistics.median(r[0] for r in rounds)
        baseline = statistics.median(r[1] for r in rounds)
        print(f"  {what}: {ours * 1000:8.1f} ms ({count / ours:,.0f} items/s)")
        print(f"    baseline, {baseline_name}: {baseline * 1000:8.1f} ms ({count / baseline:,.0f} items/s)")
        print(f"    ratio ours/baseline: {ours / baseline:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000, help="messages and outbox rows (default 20,000)")
    parser.add_argument("--repetitions", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.repetitions))
