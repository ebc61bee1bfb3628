"""Rebuild the projections by replaying the stream from its start.

The projection tables and the reporting consumers' inbox rows are emptied, then an ephemeral
pull consumer (no acks) reads every subscribed subject from the first message and applies the
events through the same routing table, in batches of one transaction each, recording each
event id in the inbox under the live consumer's name. A running service may keep consuming
meanwhile: whichever of the two applies an event first records it, the other skips it. Goals
and measures are reporting's own data and are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.contracts.base import region_stream_name
from nzr_common.db import create_engine, create_sessionmaker, migrate_async
from nzr_common.messaging import PoisonMessage, decode
from nzr_common.settings import ServiceSettings
from nzr_reporting.projections import handlers
from nzr_reporting.tables import PROJECTION_TABLES, messaging
from nzr_reporting.upserts import bump_version

Progress = Callable[[int, int], None]


@dataclass
class RebuildResult:
    applied: int = 0
    ignored: int = 0
    poison: int = 0
    seconds: float = 0.0
    stream: str = ""

    @property
    def per_second(self) -> float:
        return (self.applied + self.ignored) / self.seconds if self.seconds else 0.0


def _consumer_of_type() -> tuple[dict[str, str], list[str]]:
    """Event type → the live durable consumer's name (the inbox key, named as
    ``plan_subscriptions`` names it), and those names."""
    consumer_of = {
        event_type: f"{handlers.consumer}__{visibility.value}_{producer}"
        for (visibility, producer, _), event_types in handlers.subscriptions().items()
        for event_type in event_types
    }
    return consumer_of, sorted(set(consumer_of.values()))


async def clear_projections(sessions: async_sessionmaker[AsyncSession], consumers: list[str]) -> None:
    """Empty every projection table and forget which events the reporting consumers handled."""
    async with sessions() as session, session.begin():
        for model in PROJECTION_TABLES:
            await session.execute(delete(model))
        await session.execute(delete(messaging.inbox).where(messaging.inbox.c.consumer.in_(consumers)))
        await bump_version(session)


async def apply_batch(
    session: AsyncSession, messages: list[Any], consumer_of: dict[str, str], result: RebuildResult
) -> None:
    """Apply one batch in the caller's transaction with inbox de-duplication."""
    work = []
    for message in messages:
        try:
            decoded = decode(message.data, handlers.routes)
        except PoisonMessage:
            result.poison += 1
            continue
        if decoded is None:
            result.ignored += 1
        else:
            work.append(decoded)
    if not work:
        return
    inbox = messaging.inbox
    seen = {
        (row.consumer, row.event_id)
        for row in await session.execute(
            # Naming the consumers lets the lookup use the inbox's primary key (consumer, event_id).
            select(inbox.c.consumer, inbox.c.event_id).where(
                inbox.c.consumer.in_(sorted({consumer_of[e.type] for e, _ in work})),
                inbox.c.event_id.in_([e.id for e, _ in work]),
            )
        )
    }
    now = datetime.now(UTC)
    records = []
    for envelope, handler in work:
        key = (consumer_of[envelope.type], envelope.id)
        if key in seen:
            continue
        seen.add(key)
        await handler(session, envelope)
        records.append(
            {"consumer": key[0], "event_id": envelope.id, "event_type": envelope.type, "processed_at": now}
        )
    if records:
        await session.execute(insert(inbox), records)
    result.applied += len(records)


async def rebuild(
    settings: ServiceSettings,
    *,
    batch_size: int = 2000,
    progress: Progress | None = None,
    migrate: bool = True,
) -> RebuildResult:
    """Replay the stream from the start into emptied projection tables."""
    if migrate:
        await migrate_async("nzr_reporting", settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    consumer_of, consumers = _consumer_of_type()
    region = settings.stream_region
    subjects = sorted(
        {
            f"nzr.{region}.{pattern}"
            for pattern in {f"{v.value}.{p}.>" for (v, p, _) in handlers.subscriptions()}
        }
    )
    stream = settings.consumer_stream or region_stream_name(settings.region)
    connection = await nats.connect(settings.nats_url)
    result = RebuildResult(stream=stream)
    started = time.perf_counter()
    try:
        js = connection.jetstream()
        total = (await js.stream_info(stream)).state.messages
        await clear_projections(sessions, consumers)
        pull = await js.pull_subscribe(
            subjects[0],
            stream=stream,
            pending_msgs_limit=batch_size * 4,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.ALL,
                filter_subjects=subjects,
                inactive_threshold=30.0,
                max_waiting=1,
            ),
        )
        seen = 0
        while True:
            try:
                messages = await pull.fetch(batch=batch_size, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            async with sessions() as session, session.begin():
                await apply_batch(session, messages, consumer_of, result)
            seen += len(messages)
            if progress is not None:
                progress(seen, max(total, seen))
            if messages[-1].metadata.num_pending == 0:
                break
        await pull.unsubscribe()
    finally:
        result.seconds = time.perf_counter() - started
        await connection.close()
        await engine.dispose()
    return result
