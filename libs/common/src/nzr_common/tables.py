"""The plumbing tables every service has next to its own: outbox, relay lease, inbox, dead letters,
claimed ``Idempotency-Key``s with their answers (``nzr_common.idempotency``), and, in services
that publish personal data on region-private subjects, the record of which stream messages name
which person (``record_personal=True``; see ``nzr_common.erasure``).

They are added to each service's own MetaData (services never share a database); their DDL
is the shared Alembic branch ``plumbing`` (``nzr_common/migrations/plumbing``), which every
service's migrations apply next to its own (``nzr_common.db.alembic_config``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from nzr_common.db import UTCDateTime, partial_index
from nzr_common.idempotency import add_idempotency_table

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Sequence64 = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    relay_lease: Table
    inbox: Table
    dead_letters: Table
    # (person id, stream, stream sequence) of every region-private message naming the person,
    # and per stream the first sequence from which every such message is recorded.
    personal_messages: Table | None = None
    personal_message_watermarks: Table | None = None
    #: Claimed ``Idempotency-Key``s and their answers (``nzr_common.idempotency``).
    idempotency: Table | None = None


def add_messaging_tables(metadata: MetaData, *, record_personal: bool = False) -> MessagingTables:
    """Define the plumbing tables on ``metadata`` and return them.

    ``record_personal`` adds ``personal_messages`` and ``personal_message_watermarks``, which
    let an erasure delete a person's stream messages without reading the stream; services that
    publish no region-private events (funding, reporting) leave it off and need no migration.
    """
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
        partial_index("ix_outbox_pending", "position", where="sent_at IS NULL"),
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
    idempotency = add_idempotency_table(metadata)
    if not record_personal:
        return MessagingTables(outbox, relay_lease, inbox, dead_letters, idempotency=idempotency)
    personal_messages = Table(
        "personal_messages",
        metadata,
        Column("person_id", String(36), primary_key=True),
        Column("stream", String(64), primary_key=True),
        Column("stream_sequence", BigInteger, primary_key=True, autoincrement=False),
    )
    watermarks = Table(
        "personal_message_watermarks",
        metadata,
        Column("stream", String(64), primary_key=True),
        Column("first_sequence", BigInteger, nullable=False),
    )
    return MessagingTables(
        outbox, relay_lease, inbox, dead_letters, personal_messages, watermarks, idempotency=idempotency
    )
