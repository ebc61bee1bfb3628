"""``nzr reporting rebuild`` replays the stream into fresh tables and ends with the same figures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats.errors
from nats.aio.msg import Msg
from typer.testing import CliRunner

from nzr_common.contracts import actors
from nzr_common.contracts.base import Envelope
from nzr_reporting.handlers import skip_unknown
from nzr_reporting.rebuild.cli import app
from nzr_reporting.rebuild.service import BatchDecoder, StreamReader, _pending_after, rebuild

from .conftest import Reporting
from .events import (
    ERZGEBIRGE,
    actor,
    agreement,
    agreement_status,
    campaign,
    cooperation,
    gathering_completed,
    match,
    search,
    subscription,
)


async def feed_a_year(reporting: Reporting) -> None:
    now = datetime.now(UTC)
    registered = [
        actor(
            at=now - timedelta(days=30 * i),
            district=ERZGEBIRGE if i % 3 else "14612000",
            kind="verein" if i % 2 else "kommune",
        )
        for i in range(12)
    ]
    await reporting.publish(*registered)
    await reporting.publish(actors.ActorRemoved(actor_id=registered[5].actor_id, removed_at=now))
    workshop = gathering_completed(participants=30)
    deal = agreement(workshop.event_id, [registered[0].actor_id, registered[1].actor_id])
    await reporting.publish(
        workshop,
        deal,
        agreement_status(deal.agreement_id, "in_umsetzung"),
        cooperation(
            registered[0].actor_id,
            registered[1].actor_id,
            origin_agreement_id=deal.agreement_id,
            since=(now - timedelta(days=40)).date(),
        ),
        cooperation(registered[2].actor_id, registered[3].actor_id, cross_sector=False),
        subscription("liste", 10),
        subscription("liste", 11),
        campaign(9),
        search(),
        match(),
    )


async def figures(reporting: Reporting) -> dict:
    report = await reporting.get("/indicators")
    series = await reporting.get("/indicators/actors_total/series", params={"by": "kind"})
    report.pop("freshness_states")
    return {"report": report, "series": series}


async def test_rebuild_while_running_ends_with_identical_figures(reporting: Reporting):
    await feed_a_year(reporting)
    await reporting.settled()
    before = await figures(reporting)
    assert before["report"]["indicators"][0]["values"][0]["value"] == 11

    result = await rebuild(reporting.settings, batch_size=7)

    assert result.applied == reporting.published
    assert await figures(reporting) == before


async def test_readers_see_the_old_figures_during_a_rebuild_and_the_same_after_the_swap(reporting: Reporting):
    await feed_a_year(reporting)
    await reporting.settled()
    before = await figures(reporting)
    read: list[int] = []
    running = asyncio.create_task(
        rebuild(reporting.settings, batch_size=1, progress=lambda done, total: read.append(done))
    )
    during = []
    while not running.done():
        during.append(await figures(reporting))
        await asyncio.sleep(0)
    result = await running
    # readers answered while the rebuild was reading, and never saw empty or half-built figures
    assert during and read and all(seen == before for seen in during)
    assert result.applied == reporting.published
    assert await figures(reporting) == before
    # a second rebuild finds the tables, indexes and keys under their own names again
    await rebuild(reporting.settings, batch_size=50)
    assert await figures(reporting) == before


async def test_rebuild_command_shows_progress_and_replays_into_fresh_tables(reporting: Reporting):
    await feed_a_year(reporting)
    await reporting.settled()
    before = await figures(reporting)
    env = {
        "DATABASE_URL": reporting.settings.database_url,
        "NATS_URL": reporting.settings.nats_url,
        "REGION": reporting.region,
    }
    # The command runs its own event loop, so it gets a thread of its own.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["rebuild", "--batch-size", "5"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{reporting.published} events applied" in result.output
    assert await figures(reporting) == before


class RawMessage:
    def __init__(self, data: bytes, subject: str = "nzr.r1.pub.actors.x") -> None:
        self.data, self.subject = data, subject


def test_the_pending_count_read_off_the_reply_subject_is_nats_pys_own():
    v1 = "$JS.ACK.S.C.1.4711.12.1733240000000000000.0"
    v2 = "$JS.ACK.state.ACCHASH.S.C.1.4711.12.1733240000000000000.37.token"
    for reply in (v1, v2):
        assert _pending_after(reply) == Msg(None, reply=reply).metadata.num_pending  # type: ignore[arg-type]


async def test_a_client_that_dropped_messages_ends_the_rebuild_with_the_error():
    batches: asyncio.Queue = asyncio.Queue(maxsize=3)
    reader = StreamReader(10, batches)
    dropped = nats.errors.SlowConsumerError(subject="nzr.r1.pub.actors.x", reply="", sid=2, sub=None)
    await reader.on_error(dropped)
    await reader.on_message(object())  # after the error nothing more is taken
    assert batches.get_nowait() is dropped and batches.empty() and reader.ended


def test_rebuild_decoder_reads_any_field_order_and_tells_unknown_and_unreadable_messages():
    envelope = Envelope.wrap(actor(), region="r1", service="actors")
    document = json.loads(envelope.to_json())
    # another producer may put ``data`` first, with a field named ``type`` of its own inside
    reordered = {"data": {**document["data"], "type": "nzr.funding.search_performed.v1"}, **document}
    unknown = {**document, "type": "nzr.actors.actor_renamed_in_future.v1"}
    decoded = BatchDecoder().batch(
        [
            RawMessage(envelope.to_json()),
            RawMessage(json.dumps(reordered).encode()),
            RawMessage(json.dumps(unknown).encode()),
            RawMessage(b"not json"),
        ]
    )
    assert decoded.poison == 1
    (c1, first, _, known1), (c2, second, _, known2), (_, skipped, handler, known3) = decoded.work
    assert first == second and first.data.actor_id == envelope.data.actor_id
    assert (c1, c2, known1, known2) == ("reporting__pub_actors", "reporting__pub_actors", True, True)
    assert (skipped.type, handler, known3) == ("nzr.actors.actor_renamed_in_future.v1", skip_unknown, False)


async def test_rebuild_in_large_batches_of_mixed_events_gives_the_same_figures_and_summaries(
    reporting: Reporting,
):
    """A large batch writes each table set-based: updates, removals, status changes and late
    facts of the same rows in one batch keep their order, and the summaries computed at the
    end equal the ones kept in step by the live consumers."""
    from sqlalchemy import select

    from nzr_common.db import create_engine, create_sessionmaker
    from nzr_reporting.indicators.models import ActorFact, CooperationFact, DailyFigure, GatheringFact

    from .test_summaries import generated_events, summary_rows

    for envelope in generated_events([reporting.region], 600, seed=5):
        await reporting.js.publish(
            envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
        )
        reporting.published += 1
    await reporting.settled()
    engine = create_engine(reporting.settings.database_url)
    sessions = create_sessionmaker(engine)

    async def state() -> tuple:
        shown = await figures(reporting)
        async with sessions() as session:
            facts = [
                sorted(map(repr, await session.execute(select(*model.__table__.columns))))
                for model in (ActorFact, CooperationFact, GatheringFact)
            ]
            return shown, await summary_rows(session, DailyFigure, DailyFigure.day), facts

    try:
        before = await state()
        assert before[1], "the generated events count for nothing"
        result = await rebuild(reporting.settings, batch_size=5000)
        assert result.applied == reporting.published
        assert await state() == before
    finally:
        await engine.dispose()


async def test_the_rebuilt_inbox_replaces_the_reporting_consumers_rows_and_keeps_the_others(
    reporting: Reporting,
):
    from sqlalchemy import func, insert, select

    from nzr_common.db import create_engine
    from nzr_reporting.rebuild.service import _live_consumers
    from nzr_reporting.tables import messaging

    await feed_a_year(reporting)
    await reporting.settled()
    inbox = messaging.inbox
    engine = create_engine(reporting.settings.database_url)
    other = {
        "consumer": "someone_else",
        "event_id": "e-1",
        "event_type": "x",
        "processed_at": datetime.now(UTC),
    }
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(inbox).values(**other))
        await rebuild(reporting.settings, batch_size=50)
        async with engine.connect() as connection:
            rows = dict(
                (
                    await connection.execute(
                        select(inbox.c.consumer, func.count()).group_by(inbox.c.consumer)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert rows.pop("someone_else") == 1
    assert set(rows) <= set(_live_consumers())
    assert sum(rows.values()) == reporting.published
