"""Transactional outbox: events are rows written in the same transaction as the state change,
and a relay publishes them to JetStream with ``Nats-Msg-Id`` and marks them sent.

Crash between publish and mark: the rows are published again with the same ``Nats-Msg-Id``;
JetStream drops the duplicate inside its window and consumers' inboxes drop it after that.
Concurrent relays: one holds a lease and publishes in outbox order (per-aggregate order);
the others wait for the lease to expire.

With ``personal_messages`` in the tables, the transaction that marks rows sent also records
(person id, stream, stream sequence) from the publish ack of each region-private event that names
a person, so an erasure can delete exactly those messages (``nzr_common.erasure``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nats.js.errors import NotFoundError
from opentelemetry import propagate
from sqlalchemy import Row, and_, event, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from nzr_common.contracts.base import Envelope, IntegrationEvent, Visibility
from nzr_common.db import dialect_insert, rows_affected
from nzr_common.erasure import person_ids_in
from nzr_common.messaging import delete_inbox_before
from nzr_common.tables import MessagingTables

if TYPE_CHECKING:
    from nats.js import JetStreamContext
    from nats.js.api import PubAck

log = logging.getLogger(__name__)

LEASE_NAME = "outbox"


class Outbox:
    """Adds events to the outbox inside the caller's transaction."""

    def __init__(self, tables: MessagingTables, *, region: str, service: str) -> None:
        self.tables = tables
        self.region = region
        self.service = service
        self.pending = asyncio.Event()

    async def add(
        self, session: AsyncSession, *events: IntegrationEvent, region: str | None = None
    ) -> list[Envelope]:
        """Record ``events`` in the session's transaction; nothing is sent until it commits.

        ``region`` publishes under another region token than the service's own, for data the
        state owns (the funding catalogue is announced as ``state`` and sourced by regions).
        """
        headers: dict[str, str] = {}
        propagate.inject(headers)
        now = datetime.now(UTC)
        envelopes = [Envelope.wrap(e, region=region or self.region, service=self.service) for e in events]
        await session.execute(
            insert(self.tables.outbox),
            [
                {
                    "event_id": env.id,
                    "nats_subject": env.nats_subject(),
                    "event_type": env.type,
                    "aggregate_id": env.subject,
                    "payload": env.to_json(),
                    "headers": {**headers, "ce-type": env.type},
                    "created_at": now,
                }
                for env in envelopes
            ],
        )
        # Wake the relay once the rows are visible: woken before the commit it would find
        # nothing and sleep a whole poll interval.
        event.listen(session.sync_session, "after_commit", self._wake, once=True)
        return envelopes

    def _wake(self, _session: object) -> None:
        self.pending.set()


class OutboxRelay:
    """Publishes pending outbox rows in order; one relay per service database holds the lease."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        js: JetStreamContext,
        *,
        wakeup: asyncio.Event | None = None,
        batch_size: int = 1000,
        poll_seconds: float = 0.1,
        lease_seconds: float = 15.0,
        holder: str | None = None,
        keep_sent: timedelta = timedelta(days=1),
        keep_inbox: timedelta = timedelta(days=30),
        housekeeping_every: timedelta = timedelta(minutes=10),
        publish_timeout_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.tables = tables
        self.js = js
        self.wakeup = wakeup or asyncio.Event()
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.holder = holder or uuid.uuid4().hex
        self._lease_until: datetime | None = None
        self.published = 0
        self.keep_sent = keep_sent
        self.keep_inbox = keep_inbox
        self.housekeeping_every = housekeeping_every
        self.publish_timeout_seconds = publish_timeout_seconds
        self.delete_attempts = 6  # waits 0.25, 0.5, 1, 2, 4 s between them
        self._next_housekeeping = 0.0
        self._stopping = False
        #: Set when :meth:`run` has returned after :meth:`stop`.
        self.stopped = asyncio.Event()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the step in hand: a relay cancelled inside a
        database transaction may leave its connection holding a lock (SQLite's write lock
        outlived a 30 s busy timeout in a loaded test run)."""
        self._stopping = True
        self.wakeup.set()

    async def run(self) -> None:
        """Relay until stopped or cancelled; transient failures back off and retry."""
        try:
            await self._run()
        finally:
            self.stopped.set()

    async def _run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            try:
                leader = await self.hold_lease()
                sent = await self.relay_once() if leader else 0
                if leader and sent == 0:
                    await self.housekeeping()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox relay failed; retrying in %.1fs", backoff, exc_info=True)
                sent = 0
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            if sent < self.batch_size and not self._stopping:
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_seconds)
                except TimeoutError:
                    pass

    async def housekeeping(self) -> int:
        """Every ``housekeeping_every`` drop outbox rows sent longer ago than ``keep_sent``
        (JetStream and the consumers' inboxes hold them from then on) and inbox rows handled
        longer ago than ``keep_inbox`` (a zero ``keep_inbox`` keeps them); returns the outbox
        rows dropped."""
        now = asyncio.get_running_loop().time()
        if now < self._next_housekeeping:
            return 0
        self._next_housekeeping = now + self.housekeeping_every.total_seconds()
        await delete_records_of_removed_messages(self.sessions, self.tables, self.js)
        if self.keep_inbox > timedelta(0):
            dropped = await delete_inbox_before(
                self.sessions, self.tables, datetime.now(UTC) - self.keep_inbox
            )
            if dropped:
                log.info("housekeeping dropped %d inbox rows older than %s", dropped, self.keep_inbox)
        return await delete_sent_before(self.sessions, self.tables, datetime.now(UTC) - self.keep_sent)

    async def hold_lease(self) -> bool:
        """Take or renew the relay lease; True while this relay is the one that publishes."""
        now = datetime.now(UTC)
        if self._lease_until and now < self._lease_until - self.lease / 2:
            return True
        lease = self.tables.relay_lease
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(lease)
                .where(lease.c.name == LEASE_NAME)
                .where(
                    or_(
                        lease.c.holder == self.holder,
                        lease.c.holder.is_(None),
                        lease.c.expires_at < now,
                    )
                )
                .values(holder=self.holder, expires_at=now + self.lease)
            )
            taken = rows_affected(result) == 1
        if not taken and not await self._lease_row_exists():
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(
                        insert(lease).values(name=LEASE_NAME, holder=self.holder, expires_at=now + self.lease)
                    )
                taken = True
            except IntegrityError:
                taken = False
        self._lease_until = now + self.lease if taken else None
        return taken

    async def _lease_row_exists(self) -> bool:
        async with self.sessions() as session:
            lease = self.tables.relay_lease
            found = await session.scalar(select(lease.c.name).where(lease.c.name == LEASE_NAME))
            return found is not None

    async def release(self) -> None:
        """Give the lease up so another relay can take over at once (clean shutdown)."""
        lease = self.tables.relay_lease
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(lease)
                .where(and_(lease.c.name == LEASE_NAME, lease.c.holder == self.holder))
                .values(holder=None, expires_at=None)
            )
        self._lease_until = None

    async def relay_once(self) -> int:
        """Publish one batch of pending rows, wait for every ack, mark them sent; returns the count."""
        outbox = self.tables.outbox
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        outbox.c.position,
                        outbox.c.event_id,
                        outbox.c.nats_subject,
                        outbox.c.payload,
                        outbox.c.headers,
                    )
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        acks = await self._publish(rows)
        # Rows are matched by event id, not by position: SQLite may give a deleted row's position
        # to the next row inserted (an erasure deletes unsent rows and adds PersonErased), which
        # would then be marked sent without ever having been published.
        acked = [row.event_id for row, _ in acks]
        if acked:
            async with self.sessions() as session, session.begin():
                still_there = set(
                    await session.scalars(
                        update(outbox)
                        .where(outbox.c.event_id.in_(acked))
                        .values(sent_at=datetime.now(UTC))
                        .returning(outbox.c.event_id)
                    )
                )
                kept = [(row, ack) for row, ack in acks if row.event_id in still_there]
                await record_personal_messages(session, self.tables, kept)
            await self._delete_erased_in_flight(
                [(row, ack) for row, ack in acks if row.event_id not in still_there]
            )
            self.published += len(acked)
        if len(acked) < len(rows):
            raise RuntimeError(f"JetStream acknowledged {len(acked)} of {len(rows)} events")
        return len(acked)

    async def _delete_erased_in_flight(self, vanished: list[tuple[Any, PubAck]]) -> None:
        """Rows that vanished while their events were being published were erased meanwhile (a
        GDPR erasure deletes a person's unsent rows; it could not yet know these messages):
        their region-private messages are deleted from the stream now. Nothing else remembers
        them, so a failing delete (NATS restarting) is tried again, about 8 s in all, and what
        still fails is logged as an error naming the stream and sequence to delete by hand."""
        for row, ack in vanished:
            if PRIVATE_SUBJECT_PART not in row.nats_subject:
                continue
            try:
                async for attempt in AsyncRetrying(
                    retry=retry_if_not_exception_type(NotFoundError),
                    stop=stop_after_attempt(self.delete_attempts),
                    wait=wait_exponential(multiplier=0.25, max=8),
                    reraise=True,
                ):
                    with attempt:
                        await self.js.delete_msg(ack.stream, ack.seq)
            except NotFoundError:
                continue  # gone already
            except Exception as error:
                log.error(
                    "could not delete %s (stream %s, seq %d) after its row was erased: %r; delete it by hand",
                    row.event_id,
                    ack.stream,
                    ack.seq,
                    error,
                )
                continue
            log.info("deleted %s (seq %d): its row was erased while it was published", row.event_id, ack.seq)

    async def _publish(
        self, rows: Sequence[Row[*tuple[Any, ...]]]
    ) -> list[tuple[Row[*tuple[Any, ...]], PubAck]]:
        futures = []
        for row in rows:
            headers = {**row.headers, "Nats-Msg-Id": row.event_id}
            futures.append(await self.js.publish_async(row.nats_subject, row.payload, headers=headers))
        # An ack lost with the connection (a NATS restart) never resolves its future: bound the
        # wait, or the relay would hang; what was not acked is published again, same Nats-Msg-Id.
        try:
            await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), self.publish_timeout_seconds
            )
        except TimeoutError:
            pass
        results = [
            TimeoutError("no ack") if f.cancelled() or not f.done() else (f.exception() or f.result())
            for f in futures
        ]
        acked: list[tuple[Any, PubAck]] = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("publishing %s failed: %r", row.event_id, result)
                break  # keep order: nothing after a failed event is marked sent
            acked.append((row, result))
        return acked


PRIVATE_SUBJECT_PART = f".{Visibility.PRIVATE.value}."


async def record_personal_messages(
    session: AsyncSession, tables: MessagingTables, acks: list[tuple[Any, PubAck]]
) -> None:
    """Record, in the caller's transaction, which stream message of each acked region-private
    row names which person, and each stream's watermark (the first sequence recorded).

    A duplicate ack (a row published again after a crash) names the first copy's sequence, which
    may be recorded already: existing records and watermarks are kept.
    """
    records, watermark = tables.personal_messages, tables.personal_message_watermarks
    if records is None or watermark is None:
        return
    found: dict[tuple[str, str, int], None] = {}
    first: dict[str, int] = {}
    for row, ack in acks:
        if PRIVATE_SUBJECT_PART not in row.nats_subject:
            continue
        first[ack.stream] = min(ack.seq, first.get(ack.stream, ack.seq))
        for person_id in person_ids_in(row.payload, json.dumps(row.headers)):
            found[(person_id, ack.stream, ack.seq)] = None
    if not first:
        return
    dialect = session.get_bind().dialect.name
    await session.execute(
        dialect_insert(dialect, watermark).on_conflict_do_nothing(),
        [{"stream": stream, "first_sequence": sequence} for stream, sequence in first.items()],
    )
    if found:  # executemany: any number of rows, batched by the driver
        await session.execute(
            dialect_insert(dialect, records).on_conflict_do_nothing(),
            [{"person_id": p, "stream": s, "stream_sequence": q} for p, s, q in found],
        )


async def delete_sent_before(
    sessions: async_sessionmaker[AsyncSession], tables: MessagingTables, cutoff: datetime
) -> int:
    """Housekeeping: drop rows that were sent before ``cutoff``."""
    outbox = tables.outbox
    async with sessions() as session, session.begin():
        result = await session.execute(
            outbox.delete().where(and_(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff))
        )
        return rows_affected(result)


async def delete_records_of_removed_messages(
    sessions: async_sessionmaker[AsyncSession], tables: MessagingTables, js: JetStreamContext
) -> int:
    """Housekeeping: drop personal-message records below each stream's first sequence (the
    messages left with retention or a purge); returns how many."""
    records, watermarks = tables.personal_messages, tables.personal_message_watermarks
    if records is None or watermarks is None:
        return 0
    async with sessions() as session:
        streams = list(await session.scalars(select(watermarks.c.stream)))
    dropped = 0
    for stream in streams:
        try:
            first = (await js.stream_info(stream)).state.first_seq
        except NotFoundError:
            continue  # a stream that is gone is not ours to judge
        async with sessions() as session, session.begin():
            result = await session.execute(
                records.delete().where(records.c.stream == stream, records.c.stream_sequence < first)
            )
            dropped += rows_affected(result)
    return dropped
