"""Dialect-specific SQL without loading the PostgreSQL dialect up front (issue #20): partial
indexes (``partial_index``) and ``INSERT … ON CONFLICT`` (``dialect_insert``) on SQLite and
PostgreSQL alike."""

import pytest
from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex

from nzr_common.db import create_engine, dialect_insert, new_metadata, partial_index

metadata = new_metadata()
seats = Table(
    "seats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event", String(20), nullable=False),
    Column("email", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    partial_index("uq_seats_active", "event", "email", unique=True, where="status != 'cancelled'"),
)


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=lambda d: d.name)
def test_a_partial_index_has_its_condition_in_either_dialect(dialect):
    (index,) = seats.indexes
    ddl = str(CreateIndex(index).compile(dialect=dialect))
    assert ddl == ("CREATE UNIQUE INDEX uq_seats_active ON seats (event, email) WHERE status != 'cancelled'")


async def test_a_partial_unique_index_and_upserts_work_on_the_database(databases):
    engine = create_engine(await databases.new("dialects"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            dialect = connection.dialect.name
            seat = {"event": "e1", "email": "a@example.org"}
            await connection.execute(seats.insert(), [{**seat, "status": "cancelled"}] * 2)
            await connection.execute(seats.insert(), {**seat, "status": "active"})
            await connection.execute(
                dialect_insert(dialect, seats).on_conflict_do_nothing(), {"id": 1, **seat, "status": "x"}
            )
            statuses = await connection.scalars(select(seats.c.status).order_by(seats.c.id))
            assert list(statuses) == ["cancelled", "cancelled", "active"]
        with pytest.raises(IntegrityError):  # only rows matching the condition are unique
            async with engine.begin() as connection:
                await connection.execute(seats.insert(), {**seat, "status": "active"})
    finally:
        await engine.dispose()
