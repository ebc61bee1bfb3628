"""Outbox, inbox and dead letters against a real NATS server and real databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved
from nzr_common.contracts.base import Envelope
from nzr_common.deadletter import list_dead_letters
from nzr_common.messaging import EventHandlers, consume_forever
from nzr_common.outbox import OutboxRelay
from nzr_common.testing.waiting import eventually

from .conftest import Pipeline, effects, record_effect


def registered(actor_id: str | None = None) -> ActorRegistered:
    return ActorRegistered(
        actor_id=actor_id or str(uuid.uuid4()),
        name="Solarverein Muldental",
        kind="verein",
        sector="zivilgesellschaft",
        district="14729000",
        registered_at=datetime.now(UTC),
    )


async def write_events(pipeline: Pipeline, *events) -> list[Envelope]:  # type: ignore[no-untyped-def]
    async with pipeline.producer.sessions() as session, session.begin():
        return await pipeline.outbox.add(session, *events)


@contextlib.asynccontextmanager
async def consuming(pipeline: Pipeline, handlers: EventHandlers, **kwargs):  # type: ignore[no-untyped-def]
    subscriptions = pipeline.subscriptions(handlers, **kwargs)
    tasks = [
        asyncio.create_task(consume_forever(pipeline.js, s, batch_size=100, fetch_timeout=0.2))
        for s in subscriptions
    ]
    try:
        yield subscriptions
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_rolled_back_transaction_publishes_nothing(pipeline: Pipeline):
    with pytest.raises(RuntimeError):
        async with pipeline.producer.sessions() as session, session.begin():
            await pipeline.outbox.add(session, registered())
            raise RuntimeError("the state change failed")

    assert await pipeline.producer.count(pipeline.producer.tables.outbox) == 0
    assert await pipeline.relay().relay_once() == 0
    assert await pipeline.stream_messages() == 0


async def test_event_is_not_lost_when_relay_crashes_between_publish_and_marking_sent(pipeline: Pipeline):
    class CrashAfterPublish(OutboxRelay):
        async def _publish(self, rows):  # type: ignore[no-untyped-def]
            await super()._publish(rows)
            raise SystemExit("relay process died before marking the rows sent")

    envelopes = await write_events(pipeline, registered(), registered())
    with pytest.raises(SystemExit):
        await CrashAfterPublish(
            pipeline.producer.sessions, pipeline.producer.tables, pipeline.js
        ).relay_once()
    outbox = pipeline.producer.tables.outbox
    assert await pipeline.producer.count(outbox, outbox.c.sent_at.is_(None)) == 2

    assert await pipeline.relay().relay_once() == 2  # the restarted relay publishes again

    assert await pipeline.producer.count(outbox, outbox.c.sent_at.is_(None)) == 0
    assert await pipeline.stream_messages() == 2  # Nats-Msg-Id dropped the second copies
    handlers = EventHandlers(consumer="reporting")
    record_effect(handlers, ActorRegistered)
    async with consuming(pipeline, handlers):
        await eventually(lambda: _effects_equal(pipeline, 2))
    ids = {e.id for e in envelopes}
    async with pipeline.consumer.sessions() as session:
        seen = {row.event_id for row in (await session.execute(effects.select())).all()}
    assert seen == ids


async def _effects_equal(pipeline: Pipeline, expected: int) -> bool:
    return await pipeline.consumer.count(effects) == expected


async def test_redelivered_event_has_no_second_effect(pipeline: Pipeline):
    envelope = Envelope.wrap(registered(), region=pipeline.region, service="actors")
    # Two copies with different Nats-Msg-Ids get past JetStream's duplicate window,
    # as a redelivery after the window would.
    for copy in range(2):
        await pipeline.js.publish(
            envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": f"{envelope.id}-{copy}"}
        )
    handlers = EventHandlers(consumer="reporting")
    record_effect(handlers, ActorRegistered)
    async with consuming(pipeline, handlers) as subscriptions:
        await eventually(lambda: _inbox_at_least(pipeline, 1))
        await eventually(lambda: _stats(subscriptions, "duplicates", 1))
    assert await pipeline.consumer.count(effects) == 1


async def _inbox_at_least(pipeline: Pipeline, n: int) -> bool:
    return await pipeline.consumer.count(pipeline.consumer.tables.inbox) >= n


async def _stats(subscriptions, field: str, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return sum(getattr(s.batch.stats, field) for s in subscriptions) >= expected


async def test_message_that_always_fails_is_dead_lettered_while_later_messages_flow(pipeline: Pipeline):
    poisoned = str(uuid.uuid4())
    handlers = EventHandlers(consumer="reporting")

    @handlers.on(ActorRegistered)
    async def fail_for_one_actor(_deps: object, session: AsyncSession, envelope: Envelope[Any]) -> None:
        if envelope.data.actor_id == poisoned:
            raise ValueError("this actor always breaks the projection")
        await session.execute(effects.insert().values(event_id=envelope.id, aggregate_id=envelope.subject))

    await write_events(pipeline, registered(), registered(poisoned), registered())
    await pipeline.relay().relay_once()
    async with consuming(pipeline, handlers, max_deliver=3) as subscriptions:
        await eventually(lambda: _effects_equal(pipeline, 2))
        await write_events(pipeline, registered())
        await pipeline.relay().relay_once()
        await eventually(lambda: _effects_equal(pipeline, 3))
        await eventually(lambda: _stats(subscriptions, "dead_lettered", 1))
        async with pipeline.consumer.sessions() as session:
            page = await list_dead_letters(session, pipeline.consumer.tables)
        assert page.total == 1
        letter = page.items[0]
        assert letter.deliveries == 3
        assert "always breaks" in letter.error
        assert poisoned in letter.payload_preview


async def test_garbage_and_unknown_versions_are_dead_lettered_and_consumer_keeps_going(pipeline: Pipeline):
    subject = f"nzr.{pipeline.region}.pub.actors.actor_registered.v1"
    await pipeline.js.publish(subject, b"\xff\xfe not json at all")
    await pipeline.js.publish(
        subject, json.dumps({"type": "nzr.actors.actor_registered.v1", "data": {"actor_id": 42}}).encode()
    )
    await pipeline.js.publish(subject, b"[1, 2, 3]")
    await pipeline.js.publish(subject, b"{" + b"x" * 900_000)
    await write_events(pipeline, registered())
    await pipeline.relay().relay_once()
    handlers = EventHandlers(consumer="reporting")
    record_effect(handlers, ActorRegistered)
    async with consuming(pipeline, handlers) as subscriptions:
        await eventually(lambda: _effects_equal(pipeline, 1))
        await eventually(lambda: _stats(subscriptions, "dead_lettered", 4))
    assert await pipeline.consumer.count(pipeline.consumer.tables.dead_letters) == 4


async def test_replaying_a_dead_letter_after_the_fix_applies_it_once(pipeline: Pipeline):
    broken = True
    handlers = EventHandlers(consumer="reporting")

    @handlers.on(ActorRegistered)
    async def flaky(_deps: object, session: AsyncSession, envelope: Envelope[Any]) -> None:
        if broken:
            raise RuntimeError("projection bug")
        await session.execute(effects.insert().values(event_id=envelope.id, aggregate_id=envelope.subject))

    await write_events(pipeline, registered())
    await pipeline.relay().relay_once()
    async with consuming(pipeline, handlers, max_deliver=2) as subscriptions:
        await eventually(lambda: _stats(subscriptions, "dead_lettered", 1))
    broken = False
    consumer = subscriptions[0].batch
    async with pipeline.consumer.sessions() as session:
        letter = (await list_dead_letters(session, pipeline.consumer.tables)).items[0]
    dead = pipeline.consumer.tables.dead_letters
    async with pipeline.consumer.sessions() as session, session.begin():
        payload = await session.scalar(
            dead.select().with_only_columns(dead.c.payload).where(dead.c.id == letter.id)
        )
        assert await consumer.replay(session, payload) is True
    async with pipeline.consumer.sessions() as session, session.begin():
        assert await consumer.replay(session, payload) is False
    assert await pipeline.consumer.count(effects) == 1


async def test_concurrent_relays_publish_every_event_exactly_once_in_order(pipeline: Pipeline):
    relays = [pipeline.relay(batch_size=50, lease_seconds=2) for _ in range(3)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    actor = str(uuid.uuid4())
    written = []
    for _ in range(20):
        envelopes = await write_events(
            pipeline,
            *(registered() for _ in range(24)),
            ActorRemoved(actor_id=actor, removed_at=datetime.now(UTC)),
        )
        written.extend(envelopes)
        await asyncio.sleep(0.01)
    outbox = pipeline.producer.tables.outbox
    try:
        await eventually(lambda: _all_sent(pipeline))
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    assert sum(r.published for r in relays) == len(written)
    assert await pipeline.producer.count(outbox, outbox.c.sent_at.is_(None)) == 0
    assert await pipeline.stream_messages() == len(written)
    sub = await pipeline.js.subscribe(f"nzr.{pipeline.region}.>", ordered_consumer=True)
    received = []
    for _ in range(len(written)):
        message = await sub.next_msg(timeout=5)
        received.append(json.loads(message.data)["id"])
    await sub.unsubscribe()
    assert received == [e.id for e in written]  # outbox order kept, so per-aggregate order too


async def _all_sent(pipeline: Pipeline) -> bool:
    outbox = pipeline.producer.tables.outbox
    return (
        await pipeline.producer.count(outbox, outbox.c.sent_at.is_(None)) == 0
        and await pipeline.producer.count(outbox) > 0
    )


async def test_relay_housekeeping_drops_rows_sent_long_ago_and_keeps_pending_ones(pipeline: Pipeline):
    await write_events(pipeline, registered(), registered())
    relay = pipeline.relay(keep_sent=timedelta(0))
    assert await relay.relay_once() == 2
    await write_events(pipeline, registered())  # pending: must survive
    assert await relay.housekeeping() == 2
    outbox = pipeline.producer.tables.outbox
    assert await pipeline.producer.count(outbox) == 1
    assert await pipeline.producer.count(outbox, outbox.c.sent_at.is_(None)) == 1
    assert await relay.housekeeping() == 0  # not again before its interval


async def test_relay_housekeeping_drops_inbox_rows_older_than_configured_and_keeps_recent_ones(
    pipeline: Pipeline,
):
    inbox = pipeline.producer.tables.inbox
    now = datetime.now(UTC)
    async with pipeline.producer.sessions() as session, session.begin():
        await session.execute(
            inbox.insert(),
            [
                {"consumer": "c", "event_id": event_id, "event_type": "nzr.actors.x.v1", "processed_at": at}
                for event_id, at in (("old", now - timedelta(days=31)), ("recent", now - timedelta(days=29)))
            ],
        )
    await pipeline.relay(keep_inbox=timedelta(days=30)).housekeeping()
    async with pipeline.producer.sessions() as session:
        assert list(await session.scalars(select(inbox.c.event_id))) == ["recent"]

    await pipeline.relay(keep_inbox=timedelta(0)).housekeeping()  # zero: kept forever
    assert await pipeline.producer.count(inbox) == 1
