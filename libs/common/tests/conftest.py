"""A miniature producer/consumer pair built from the real plumbing, on a real NATS server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.messaging import EventHandlers, Subscription, plan_subscriptions
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.tables import MessagingTables, add_messaging_tables

metadata = new_metadata()
tables = add_messaging_tables(metadata, record_personal=True)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
)


@dataclass
class Side:
    """One service's database with the plumbing tables."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables

    async def count(self, table: Table, *where) -> int:  # type: ignore[no-untyped-def]
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(table).where(*where)) or 0


@dataclass
class Pipeline:
    region: str
    js: JetStreamContext
    producer: Side
    consumer: Side
    outbox: Outbox

    def relay(self, **kwargs) -> OutboxRelay:  # type: ignore[no-untyped-def]
        return OutboxRelay(self.producer.sessions, self.producer.tables, self.js, poll_seconds=0.02, **kwargs)

    def subscriptions(self, handlers: EventHandlers, *, max_deliver: int = 3) -> list[Subscription]:
        return plan_subscriptions(
            handlers=handlers,
            deps=None,
            sessions=self.consumer.sessions,
            tables=self.consumer.tables,
            stream_name=region_stream_name(self.region),
            subject_region=self.region,
            max_deliver=max_deliver,
        )

    async def stream_messages(self) -> int:
        info = await self.js.stream_info(region_stream_name(self.region))
        return info.state.messages


async def _side(databases, prefix: str) -> Side:  # type: ignore[no-untyped-def]
    engine = create_engine(await databases.new(prefix))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return Side(engine, create_sessionmaker(engine), tables)


@pytest.fixture
async def pipeline(nats_url, databases):  # type: ignore[no-untyped-def]
    region = f"t{uuid.uuid4().hex[:10]}"
    connection = await nats.connect(nats_url)
    js = connection.jetstream(publish_async_max_pending=4000)
    await js.add_stream(
        StreamConfig(
            name=region_stream_name(region), subjects=region_stream_subjects(region), duplicate_window=120
        )
    )
    producer = await _side(databases, "producer")
    consumer = await _side(databases, "consumer")
    yield Pipeline(region, js, producer, consumer, Outbox(tables, region=region, service="actors"))
    await js.delete_stream(region_stream_name(region))
    await connection.close()
    await producer.engine.dispose()
    await consumer.engine.dispose()


def record_effect(handlers: EventHandlers, event_class):  # type: ignore[no-untyped-def]
    """Register a handler that inserts one effect row per handled event."""

    @handlers.on(event_class)
    async def handle(_deps: object, session: AsyncSession, envelope: Envelope[Any]) -> None:
        await session.execute(effects.insert().values(event_id=envelope.id, aggregate_id=envelope.subject))

    return handle
