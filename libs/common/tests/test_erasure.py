"""GDPR erasure in the plumbing: outbox rows, dead letters and the producer's region-private
messages that name a person go; everything else stays."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import nats.errors
from nats.js.errors import NotFoundError
from sqlalchemy import select

from nzr_common.contracts.actors import ActorRegistered, ContactAdded, PersonErasedV2, person_id_for
from nzr_common.contracts.base import region_stream_name
from nzr_common.deadletter import store_dead_letter
from nzr_common.erasure import (
    erase_dead_lettered_messages,
    erase_from_messaging_tables,
    erase_from_stream,
    person_ids_in,
)
from nzr_common.outbox import OutboxRelay, delete_records_of_removed_messages

ANNA, BERT = "Anna.Quast@Example.org", "bert@example.org"


def contact(email: str) -> ContactAdded:
    return ContactAdded(
        person_id=person_id_for(email),
        actor_id="a-1",
        name=email.split("@")[0],
        email=email,
        consent_purpose="Kontakt",
        consent_at=datetime.now(UTC),
        consent_source="Formular",
    )


def test_an_address_is_found_in_any_bytes_whatever_its_case():
    anna = person_id_for(ANNA)
    assert anna == person_id_for(" anna.quast@example.ORG ")
    assert anna in person_ids_in(b'\xff\x00garbage {"email":"ANNA.QUAST@example.org"} more')
    assert anna in person_ids_in("Schreiben Sie an <anna.quast@example.org>.")
    assert anna in person_ids_in(None, b"", "mailto:anna.quast@example.org.")
    assert person_ids_in(b'{"name": "Anna Quast", "count": 3}') == set()


async def test_erasure_removes_only_the_persons_rows_letters_and_private_messages(pipeline):
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(
            session,
            contact(ANNA),
            contact(BERT),
            ActorRegistered(
                actor_id="a-1",
                name="Verein",
                kind="verein",
                sector="zivilgesellschaft",
                district="14511000",
                registered_at=datetime.now(UTC),
            ),
        )
    assert await pipeline.relay().relay_once() == 3
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA))  # not sent yet
        for address in (ANNA, BERT):
            await store_dead_letter(
                session,
                pipeline.producer.tables,
                consumer="newsletter__priv_events",
                nats_subject=f"nzr.{pipeline.region}.priv.events.registration_confirmed.v1",
                payload=b"\xfe\xff not json " + address.lower().encode(),
                headers={},
                error="payload is not JSON",
                deliveries=1,
                stream_sequence=None,
            )

    anna = person_id_for(ANNA)
    async with pipeline.producer.sessions() as session, session.begin():
        assert await erase_from_messaging_tables(session, pipeline.producer.tables, anna) == (2, 1)
    deleted = await erase_from_stream(pipeline.js, region=pipeline.region, producer="actors", person_id=anna)
    again = await erase_from_stream(pipeline.js, region=pipeline.region, producer="actors", person_id=anna)
    assert (deleted, again) == (1, 0)

    tables = pipeline.producer.tables
    async with pipeline.producer.sessions() as session:
        payloads = list(await session.scalars(select(tables.outbox.c.payload)))
        letters = list(await session.scalars(select(tables.dead_letters.c.payload)))
    assert len(payloads) == 2 and not any(b"anna" in p.lower() for p in payloads)
    assert letters == [b"\xfe\xff not json bert@example.org"]
    stream = region_stream_name(pipeline.region)
    info = await pipeline.js.stream_info(stream)
    kept = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            kept.append((await pipeline.js.get_msg(stream, sequence)).data)
        except NotFoundError:
            continue  # the deleted one
    assert len(kept) == 2 and not any(b"anna" in m.lower() for m in kept)
    assert any(b"bert@example.org" in m for m in kept)


async def stream_payloads(pipeline) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    stream = region_stream_name(pipeline.region)
    info = await pipeline.js.stream_info(stream)
    kept = {}
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            kept[sequence] = (await pipeline.js.get_msg(stream, sequence)).data
        except NotFoundError:
            continue
    return kept


async def records(pipeline) -> set[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    table = pipeline.producer.tables.personal_messages
    async with pipeline.producer.sessions() as session:
        rows = await session.execute(select(table.c.person_id, table.c.stream, table.c.stream_sequence))
        return {tuple(row) for row in rows}


async def watermark(pipeline) -> int | None:  # type: ignore[no-untyped-def]
    table = pipeline.producer.tables.personal_message_watermarks
    async with pipeline.producer.sessions() as session:
        return await session.scalar(
            select(table.c.first_sequence).where(table.c.stream == region_stream_name(pipeline.region))
        )


async def erase_recorded(pipeline, person_id: str) -> int:  # type: ignore[no-untyped-def]
    async with pipeline.producer.sessions() as session, session.begin():
        return await erase_from_stream(
            pipeline.js,
            region=pipeline.region,
            producer="actors",
            person_id=person_id,
            session=session,
            tables=pipeline.producer.tables,
        )


async def test_the_relay_records_who_each_private_message_names_and_erasure_deletes_exactly_those(pipeline):
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(BERT), contact(ANNA), contact(BERT), contact(ANNA))
    assert await pipeline.relay().relay_once() == 4
    stream = region_stream_name(pipeline.region)
    anna, bert = person_id_for(ANNA), person_id_for(BERT)
    before = await stream_payloads(pipeline)
    expected = {
        (person, stream, sequence)
        for sequence, data in before.items()
        for person, address in ((anna, b"anna.quast@example.org"), (bert, b"bert@example.org"))
        if address in data.lower()
    }
    assert len(expected) == 4 and await records(pipeline) == expected
    assert await watermark(pipeline) == min(before)
    # An address in a private message the relay never published (so never recorded) above the
    # watermark stays: the erasure deletes the recorded sequences and reads nothing else.
    subject = f"nzr.{pipeline.region}.priv.actors.contact_added.v1"
    unrecorded = (
        await pipeline.js.publish(subject, b'{"email": "anna.quast@example.org"}', stream=stream)
    ).seq

    assert await erase_recorded(pipeline, anna) == 2
    assert await erase_recorded(pipeline, anna) == 0  # idempotent
    after = await stream_payloads(pipeline)
    anna_sequences = {sequence for person, _, sequence in expected if person == anna}
    assert set(after) == (set(before) - anna_sequences) | {unrecorded}
    assert await records(pipeline) == {r for r in expected if r[0] == bert}

    # A message only a consumer's dead letter knows (a poison message on the subject) goes by
    # the dead letter's stream sequence.
    dead_lettered = [(subject, unrecorded), (f"nzr.{pipeline.region}.pub.actors.x.v1", min(after))]
    assert await erase_dead_lettered_messages(pipeline.js, dead_lettered) == 1  # private only
    assert set(await stream_payloads(pipeline)) == set(after) - {unrecorded}


async def test_messages_published_before_the_records_existed_are_still_found(pipeline):
    """An upgrade: a relay without the records table published first."""
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    old_tables = replace(pipeline.producer.tables, personal_messages=None, personal_message_watermarks=None)
    old_relay = OutboxRelay(pipeline.producer.sessions, old_tables, pipeline.js)
    assert await old_relay.relay_once() == 2
    assert await records(pipeline) == set() and await watermark(pipeline) is None
    legacy = await stream_payloads(pipeline)

    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    assert await pipeline.relay().relay_once() == 2
    assert await watermark(pipeline) == max(legacy) + 1
    assert len(await records(pipeline)) == 2

    anna = person_id_for(ANNA)
    assert await erase_recorded(pipeline, anna) == 2  # one legacy (scanned), one recorded
    kept = await stream_payloads(pipeline)
    assert len(kept) == 2 and all(b"bert@example.org" in data for data in kept.values())
    assert {person for person, _, _ in await records(pipeline)} == {person_id_for(BERT)}


async def test_housekeeping_drops_the_records_of_messages_the_stream_no_longer_holds(pipeline):
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    assert await pipeline.relay().relay_once() == 2
    tables = pipeline.producer.tables
    assert await delete_records_of_removed_messages(pipeline.producer.sessions, tables, pipeline.js) == 0
    stream = region_stream_name(pipeline.region)
    first = min(await stream_payloads(pipeline))
    await pipeline.js.purge_stream(stream, keep=1)  # as retention would: the oldest goes
    assert await delete_records_of_removed_messages(pipeline.producer.sessions, tables, pipeline.js) == 1
    assert {sequence for _, _, sequence in await records(pipeline)} == {first + 1}


def erase_while_publishing(pipeline, relay, email: str) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Make the relay's next publish run into an erasure as actors makes it: the person's unsent
    outbox rows (here: the ones in flight) go and PersonErasedV2 is added, in one transaction,
    after the events went out and before the relay marks them sent. Returns (rows, letters)
    erased, once the relay has published."""
    publish, erased = relay._publish, []
    person_id = person_id_for(email)

    async def publish_then_erase(rows):  # type: ignore[no-untyped-def]
        relay._publish = publish  # once
        acks = await publish(rows)
        async with pipeline.producer.sessions() as session, session.begin():
            erased.append(await erase_from_messaging_tables(session, pipeline.producer.tables, person_id))
            await pipeline.outbox.add(
                session, PersonErasedV2(person_id=person_id, erased_at=datetime.now(UTC))
            )
        return acks

    relay._publish = publish_then_erase
    return erased


async def test_a_message_erased_while_the_relay_published_it_is_deleted_from_the_stream(pipeline):
    """The erasure deletes a person's unsent outbox rows and the messages recorded so far; a row
    the relay had already read and was publishing was neither: the relay, finding the row gone
    when it marks it sent, deletes that message itself and records nothing for it."""
    relay = pipeline.relay()
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(BERT))
    assert await relay.relay_once() == 1  # the stream's records start here (the watermark)
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    erased = erase_while_publishing(pipeline, relay, ANNA)

    assert await relay.relay_once() == 2
    assert erased == [(1, 0)]  # the in-flight row; the stream held nothing recorded for Anna
    kept = await stream_payloads(pipeline)
    assert len(kept) == 2 and all(b"bert@example.org" in data for data in kept.values())
    assert {person for person, _, _ in await records(pipeline)} == {person_id_for(BERT)}


async def test_an_event_added_during_publishing_is_not_marked_sent_in_place_of_an_erased_one(pipeline):
    """SQLite gives the position of a deleted last row to the next row inserted. The erasure
    deletes the person's unsent (here: in flight) row and adds PersonErased in its place: the
    relay, marking what it published, must not take that new row for the erased one."""
    relay = pipeline.relay()
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(BERT), contact(ANNA))
    erase_while_publishing(pipeline, relay, ANNA)

    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 1  # PersonErased is still to be published, and now is
    kept = await stream_payloads(pipeline)
    assert len(kept) == 2 and not any(b"anna.quast@example.org" in data.lower() for data in kept.values())


def failing_deletes(relay, failures: int) -> list[int]:  # type: ignore[no-untyped-def]
    """The relay's stream deletes fail ``failures`` times (as while NATS restarts), then reach
    the real server. Returns the list of attempted sequences."""
    delete, attempted = relay.js.delete_msg, []

    async def flaky_delete(stream: str, seq: int):  # type: ignore[no-untyped-def]
        attempted.append(seq)
        if len(attempted) <= failures:
            raise nats.errors.TimeoutError
        return await delete(stream, seq)

    relay.js = copy.copy(relay.js)
    relay.js.delete_msg = flaky_delete
    return attempted


async def test_deleting_an_in_flight_erased_message_is_tried_again_when_it_fails(pipeline):
    relay = pipeline.relay()
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    erase_while_publishing(pipeline, relay, ANNA)
    attempted = failing_deletes(relay, failures=2)

    assert await relay.relay_once() == 2
    assert len(attempted) == 3 and len(set(attempted)) == 1  # two failures, then deleted
    kept = await stream_payloads(pipeline)
    assert not any(b"anna.quast@example.org" in data.lower() for data in kept.values())


async def test_a_delete_that_keeps_failing_is_logged_and_the_relay_goes_on(pipeline, caplog):
    relay = pipeline.relay()
    relay.delete_attempts = 2
    async with pipeline.producer.sessions() as session, session.begin():
        await pipeline.outbox.add(session, contact(ANNA), contact(BERT))
    erase_while_publishing(pipeline, relay, ANNA)
    attempted = failing_deletes(relay, failures=10)

    assert await relay.relay_once() == 2
    assert len(attempted) == 2
    [sequence] = set(attempted)
    assert f"seq {sequence}) after its row was erased" in caplog.text and "delete it by hand" in caplog.text
    assert await relay.relay_once() == 1  # PersonErasedV2 still goes out
