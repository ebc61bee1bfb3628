"""GDPR erasure in the messaging plumbing every service shares: the outbox, the dead letters and
the region-private messages a service published to its region's JetStream stream.

An erasure event names the person only by the pseudonymous id (``person_id_for``); a row or a
message is about the person when an e-mail address in it maps to that id. Dead letters can be
anything (garbage bytes, the wrong schema), so they are searched as bytes.

Stream messages: only region-private subjects may carry personal data. In services whose tables
have ``personal_messages`` (``add_messaging_tables(record_personal=True)``), the outbox relay
records (person id, stream, stream sequence) for every person a private event names, in the
transaction that marks the event sent, so erasing deletes exactly the recorded sequences and
their records: O(messages about the person). Messages published before the records existed (an
upgrade) are found by the old scan, kept simple and correct with one watermark per stream: the
relay stores the sequence of the first private message it recorded on that stream, and every
private message of this service at or after it is recorded (stream sequences only grow; a row
published again after a crash gets its first copy's sequence in the duplicate ack and is
recorded too). So the scan reads only the producer's ``priv`` messages *below* the watermark,
and none once the stream's first sequence has passed it (after retention or a purge). Without a
watermark for the stream (no private message recorded yet, or no records table) the whole
subject is scanned, as before. The scan uses an ephemeral consumer without acks, bounded by
the count pending when it starts. (A relay of the old version publishing after the watermark
was set, in a rolling upgrade that hands the relay lease back to it, would leave messages
unrecorded.) A poison message on a private subject that a consumer dead-lettered goes with the
dead letter, by the sequence the dead letter kept.

JetStream deletes a message by overwriting it (the API's default ``no_erase: false``), so the
address is gone from the store, not only hidden.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.base import SUBJECT_ROOT, Visibility, region_stream_name
from nzr_common.tables import MessagingTables

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from nzr_common.connection import NatsConnection

log = logging.getLogger(__name__)

# Anything shaped like an address: characters that never occur in one (quotes, brackets, spaces,
# the JSON and header separators) delimit it. A match starts only after a delimiter and the
# quantifiers are possessive, so the scan stays linear on huge garbage payloads. False positives
# only cost a hash.
_PART = rb"[^\s\"'<>()\[\],;:\\@]"
ADDRESS = re.compile(rb"(?<!" + _PART + rb")" + _PART + rb"++@" + _PART + rb"++")


def person_ids_in(*texts: bytes | str | None) -> set[str]:
    """The person ids of every e-mail address found in ``texts``."""
    found = set()
    for text in texts:
        if not text:
            continue
        raw = text.encode() if isinstance(text, str) else text
        for match in ADDRESS.finditer(raw):
            address = match.group().decode("utf-8", errors="ignore").rstrip(".")
            found.add(person_id_for(address))
    return found


def mentions_person(person_id: str, *texts: bytes | str | None) -> bool:
    return person_id in person_ids_in(*texts)


@dataclass(frozen=True)
class ErasedCopies:
    outbox_rows: int = 0
    dead_letters: int = 0
    stream_messages: int = 0


async def erase_from_messaging_tables(
    session: AsyncSession, tables: MessagingTables, person_id: str
) -> tuple[int, int]:
    """Delete the outbox rows (sent or not) and dead letters that mention the person, in the
    caller's transaction; returns (outbox rows, dead letters).

    An unsent event about an erased person is not sent any more; a dead letter about them can
    never be replayed. Sent outbox rows are kept up to a day and would otherwise outlive the
    erasure; only ``priv`` subjects may carry personal data, so only those rows are read.
    """
    outbox_rows, letters = await _erase_rows(session, tables, person_id)
    return outbox_rows, len(letters)


async def _erase_rows(
    session: AsyncSession, tables: MessagingTables, person_id: str
) -> tuple[int, list[tuple[str, int | None]]]:
    """``erase_from_messaging_tables``, returning the deleted dead letters' (subject, stream
    sequence)."""
    outbox, letters = tables.outbox, tables.dead_letters
    rows = await session.execute(
        select(outbox.c.position, outbox.c.payload).where(
            outbox.c.nats_subject.like(f"%.{Visibility.PRIVATE.value}.%")
        )
    )
    positions = [row.position for row in rows if mentions_person(person_id, row.payload)]
    letter_rows = await session.execute(
        select(
            letters.c.id,
            letters.c.payload,
            letters.c.headers,
            letters.c.error,
            letters.c.nats_subject,
            letters.c.stream_sequence,
        )
    )
    found = [
        row
        for row in letter_rows
        if mentions_person(person_id, row.payload, json.dumps(row.headers), row.error)
    ]
    if positions:
        await session.execute(delete(outbox).where(outbox.c.position.in_(positions)))
    if found:
        await session.execute(delete(letters).where(letters.c.id.in_([row.id for row in found])))
    return len(positions), [(row.nats_subject, row.stream_sequence) for row in found]


async def erase_dead_lettered_messages(js: JetStreamContext, letters: list[tuple[str, int | None]]) -> int:
    """Delete from the stream the region-private messages behind dead letters that named the
    person (a poison message on a private subject is not always one the producer's relay
    recorded: it may not come from the producer at all); returns how many were deleted."""
    deleted = 0
    for subject, sequence in letters:
        parts = subject.split(".")
        if sequence is None or len(parts) < 3 or parts[0] != SUBJECT_ROOT:
            continue
        if parts[2] != Visibility.PRIVATE.value:
            continue
        deleted += await _delete_message(js, region_stream_name(parts[1]), sequence)
    return deleted


async def erase_from_stream(
    js: JetStreamContext,
    *,
    region: str,
    producer: str,
    person_id: str,
    session: AsyncSession | None = None,
    tables: MessagingTables | None = None,
    batch_size: int = 500,
    fetch_timeout: float = 5.0,
) -> int:
    """Delete the region-private messages ``producer`` published about the person from the
    region's stream; returns how many were deleted.

    With ``session`` and ``tables`` that record personal messages, the recorded sequences are
    deleted and their records removed in the caller's transaction, and only the part of the
    stream below the watermark is scanned (see the module docstring); otherwise every message
    on ``nzr.<region>.priv.<producer>.>`` is read. Idempotent: a message deleted already is
    skipped, so a failed transaction can be retried.
    """
    stream = region_stream_name(region)
    records = tables.personal_messages if tables is not None else None
    watermarks = tables.personal_message_watermarks if tables is not None else None
    if session is None or records is None or watermarks is None:
        return await _scan_and_erase(
            js, stream, region, producer, person_id, None, batch_size=batch_size, fetch_timeout=fetch_timeout
        )
    recorded = [
        sequence
        for sequence in await session.scalars(
            select(records.c.stream_sequence).where(
                records.c.person_id == person_id, records.c.stream == stream
            )
        )
    ]
    deleted = 0
    for sequence in recorded:
        deleted += await _delete_message(js, stream, sequence)
    if recorded:
        await session.execute(
            delete(records).where(records.c.person_id == person_id, records.c.stream == stream)
        )
    watermark = await session.scalar(select(watermarks.c.first_sequence).where(watermarks.c.stream == stream))
    if watermark is None:
        scanned = await _scan_and_erase(
            js, stream, region, producer, person_id, None, batch_size=batch_size, fetch_timeout=fetch_timeout
        )
        return deleted + scanned
    try:
        first = (await js.stream_info(stream)).state.first_seq
    except NotFoundError:
        return deleted
    if first >= watermark:
        return deleted  # nothing older than the records is left in the stream
    scanned = await _scan_and_erase(
        js,
        stream,
        region,
        producer,
        person_id,
        (watermark, watermark - first),
        batch_size=batch_size,
        fetch_timeout=fetch_timeout,
    )
    return deleted + scanned


async def _delete_message(js: JetStreamContext, stream: str, sequence: int) -> int:
    try:
        await js.delete_msg(stream, sequence)
    except NotFoundError:
        return 0  # deleted by an earlier attempt of this erasure, or expired
    return 1


async def _scan_and_erase(
    js: JetStreamContext,
    stream: str,
    region: str,
    producer: str,
    person_id: str,
    below: tuple[int, int] | None,
    *,
    batch_size: int,
    fetch_timeout: float,
) -> int:
    """Read the producer's private messages once, up to the count pending at the start, and
    delete the person's. ``below`` is (watermark, at most this many messages below it): only
    messages with a smaller sequence are read."""
    subject = f"{SUBJECT_ROOT}.{region}.{Visibility.PRIVATE.value}.{producer}.>"
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        filter_subject=subject,
        inactive_threshold=60.0,
        mem_storage=True,
    )
    try:
        pull = await js.pull_subscribe(subject, stream=stream, config=config)
    except NotFoundError:
        return 0  # no stream yet: nothing was ever published there
    deleted = 0
    try:
        remaining = (await pull.consumer_info()).num_pending or 0
        if below is not None:
            remaining = min(remaining, below[1])
        while remaining > 0:
            messages = await pull.fetch(batch=min(batch_size, remaining), timeout=fetch_timeout)
            for message in messages:
                remaining -= 1
                sequence = message.metadata.sequence.stream
                if below is not None and sequence >= below[0]:
                    return deleted  # recorded from here on
                headers = json.dumps(message.headers or {})
                if mentions_person(person_id, message.data, headers):
                    deleted += await _delete_message(js, stream, sequence)
            if messages and messages[-1].metadata.num_pending == 0:
                break
    finally:
        await pull.unsubscribe()
    return deleted


class MessagingEraser:
    """Erases a person from one service's messaging plumbing through the service's broker (give
    it ``runtime.broker`` in the bootstrap; it connects when the service starts)."""

    def __init__(
        self, tables: MessagingTables, *, producer: str, broker: NatsConnection | None = None
    ) -> None:
        self.tables = tables
        self.producer = producer
        self._broker = broker

    async def erase_person(self, session: AsyncSession, *, region: str, person_id: str) -> ErasedCopies:
        """Outbox rows and dead letters (in the caller's transaction) and the stream messages."""
        outbox_rows, letters = await _erase_rows(session, self.tables, person_id)
        if self._broker is None:
            raise RuntimeError("MessagingEraser has no broker: build it with the runtime's broker")
        js = self._broker.connection.jetstream()
        messages = await erase_from_stream(
            js,
            region=region,
            producer=self.producer,
            person_id=person_id,
            session=session,
            tables=self.tables,
        )
        messages += await erase_dead_lettered_messages(js, letters)
        copies = ErasedCopies(outbox_rows, len(letters), messages)
        log.info("erased person %s from %s's messaging: %s", person_id, self.producer, copies)
        return copies
