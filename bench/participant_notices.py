"""Participant notices at scale, each figure next to a floor measured in the same run.

For an event with N (2,000) confirmed registrations on PostgreSQL:

1. **Event changed**: ``update_event`` moving the venue, which raises the sequence and writes one
   ``ParticipantNotice`` per registration into the outbox in the same transaction.
2. **Reminders**: one round of ``send_due_reminders`` that announces N reminders and records
   them on the registrations.

Floor: the same N prebuilt ``ParticipantNotice`` events written with ``Outbox.add`` in one
transaction (what any design must pay to announce N mails through the outbox). Printed: the
median of the runs, the floor, and their ratio. No assertion; exit code 0.

``.venv/bin/python bench/participant_notices.py [--registrations N] [--runs R]``; PostgreSQL from
``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from nzr_common.db import create_engine, migrate_async
from nzr_common.outbox import Outbox
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_events.gatherings.models import EventRow
from nzr_events.gatherings.schemas import EventCreate, EventUpdate
from nzr_events.gatherings.service import new_event_row, update_event
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.notices import notices_to_everyone
from nzr_events.registrations.reminders import send_due_reminders
from nzr_events.tables import messaging

REGION = "bench"
LINKS = RegistrationLinks("bench-secret", "https://events.example", region=REGION, region_name="Bench")


def admin_url() -> str:
    url = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/test"
    )
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def seeded_event(sessions: async_sessionmaker, registrations: int) -> str:  # type: ignore[type-arg]
    """A published event three days ahead with ``registrations`` confirmed, registered long ago."""
    starts = datetime.now(UTC) + timedelta(days=3)
    data = EventCreate(
        format="regionalkonferenz",
        title="Regionalkonferenz Klimaschutz",
        starts_at=starts,
        ends_at=starts + timedelta(hours=7),
        venue_name="Alte Mensa",
        capacity=registrations + 10,
    )
    row = new_event_row(data, status="published")
    row.confirmed_count = registrations
    row.next_position = registrations + 1
    long_ago = datetime.now(UTC) - timedelta(days=30)
    async with sessions() as session, session.begin():
        session.add(row)
        await session.flush()
        if registrations:
            await session.execute(
                insert(RegistrationRow),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "event_id": row.id,
                        "position": i + 1,
                        "status": "confirmed",
                        "name": f"Teilnehmerin {i}",
                        "email": f"person{i}.{uuid.uuid4().hex[:6]}@example.org",
                        "data_use_consent": True,
                        "newsletter_consent": False,
                        "session_ids": [],
                        "registered_at": long_ago,
                        "confirmed_at": long_ago,
                        "language": "de",
                    }
                    for i in range(registrations)
                ],
            )
    return row.id


async def timed(coroutine) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await coroutine
    return time.perf_counter() - started


async def floor(sessions: async_sessionmaker, outbox: Outbox, event_id: str) -> float:  # type: ignore[type-arg]
    """Writing the same notices, prebuilt, with Outbox.add in one transaction."""
    async with sessions() as session:
        event = await session.get(EventRow, event_id)
        assert event is not None
        prebuilt = await notices_to_everyone(
            session, kind="event_changed", event=event, links=LINKS, sessions={}, now=datetime.now(UTC)
        )

    async def write() -> None:
        async with sessions() as session, session.begin():
            await outbox.add(session, *prebuilt)

    return await timed(write())


async def main(args: argparse.Namespace) -> None:
    admin = admin_url()
    database_url = await create_postgres_database(admin, "nzr_bench_notices")
    await migrate_async("nzr_events", database_url)
    engine = create_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    outbox = Outbox(messaging, region=REGION, service="events")
    n = args.registrations
    print(
        f"participant notices — PostgreSQL {make_url(admin).host}, {n} confirmed registrations, "
        f"median of {args.runs}"
    )
    try:
        changed, reminded, floors = [], [], []
        for run in range(args.runs):
            event_id = await seeded_event(sessions, n)
            floors.append(await floor(sessions, outbox, event_id))

            async def change(event_id: str = event_id, run: int = run) -> None:
                async with sessions() as session:
                    await update_event(
                        session=session,
                        outbox=outbox,
                        links=LINKS,
                        event_id=event_id,
                        data=EventUpdate(venue_name=f"Kulturhaus {run}"),
                        region_districts=set(),
                    )

            changed.append(await timed(change()))
            starts = datetime.now(UTC) + timedelta(days=3)
            counted: list[int] = []

            async def remind(counted: list[int] = counted, starts: datetime = starts) -> None:
                counted.append(
                    await send_due_reminders(
                        sessions=sessions, outbox=outbox, links=LINKS, now=starts - timedelta(days=1)
                    )
                )

            reminded.append(await timed(remind()))
            print(
                f"   run {run + 1}: event changed {changed[-1] * 1000:.0f} ms, "
                f"reminders {reminded[-1] * 1000:.0f} ms "
                f"({counted[0]} sent), floor {floors[-1] * 1000:.0f} ms"
            )
        base = statistics.median(floors)
        for label, figures in (("event changed → notices", changed), ("reminder round", reminded)):
            ours = statistics.median(figures)
            print(
                f"{label:<24} {ours * 1000:7.0f} ms for {n} ({n / ours:,.0f} notices/s); "
                f"floor Outbox.add {base * 1000:.0f} ms ({n / base:,.0f}/s); ratio {ours / base:.2f}x"
            )
    finally:
        await engine.dispose()
        await drop_postgres_database(admin, database_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
