"""The plumbing tables every service has next to its own: outbox, relay lease, inbox, dead letters.

They are added to each service's own MetaData (services never share a database), so each
service's Alembic migrations create them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from nzr_common.db import UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Sequence64 = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    relay_lease: Table
    inbox: Table
    dead_letters: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define the plumbing tables on ``metadata`` and return them."""
    outbox = Table(
        "outbox",
        metadata,
        Column("position", Sequence64, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("nats_subject", String(255), nullable=False),
        Column("event_type", String(255), nullable=False),
        Column("aggregate_id", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True),
        Index(
            "ix_outbox_pending",
            "position",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )
    relay_lease = Table(
        "outbox_relay_lease",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("holder", String(64), nullable=True),
        Column("expires_at", UTCDateTime(), nullable=True),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(255), nullable=False),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", Sequence64, primary_key=True, autoincrement=True),
        Column("consumer", String(128), nullable=False, index=True),
        Column("nats_subject", String(255), nullable=False),
        Column("event_id", String(64), nullable=True),
        Column("event_type", String(255), nullable=True),
        Column("stream_sequence", BigInteger, nullable=True),
        Column("deliveries", Integer, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("failed_at", UTCDateTime(), nullable=False),
        Column("replayed_at", UTCDateTime(), nullable=True),
    )
    return MessagingTables(outbox, relay_lease, inbox, dead_letters)
