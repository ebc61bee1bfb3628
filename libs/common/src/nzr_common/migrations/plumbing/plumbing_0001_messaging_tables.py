"""plumbing: outbox, relay lease, inbox and dead letters (every service)

The shared branch ``plumbing`` of every service's migrations (``nzr_common.db.alembic_config``
adds this directory to the service's version locations). A table is created only when it is
missing: databases created before the branch existed got these tables from the service's own
first revision.

Revision ID: plumbing_0001
Revises:
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nzr_common.migrations import table_missing

revision: str = "plumbing_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("plumbing",)
depends_on: str | Sequence[str] | None = None

#: SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
_SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if table_missing("dead_letters"):
        op.create_table(
            "dead_letters",
            sa.Column("id", _SEQUENCE, autoincrement=True, nullable=False),
            sa.Column("consumer", sa.String(length=128), nullable=False),
            sa.Column("nats_subject", sa.String(length=255), nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=True),
            sa.Column("event_type", sa.String(length=255), nullable=True),
            sa.Column("stream_sequence", sa.BigInteger(), nullable=True),
            sa.Column("deliveries", sa.Integer(), nullable=False),
            sa.Column("headers", sa.JSON(), nullable=False),
            sa.Column("payload", sa.LargeBinary(), nullable=False),
            sa.Column("error", sa.Text(), nullable=False),
            sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        )
        op.create_index("ix_dead_letters_consumer", "dead_letters", ["consumer"], unique=False)
    if table_missing("inbox"):
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.String(length=128), nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=False),
            sa.Column("event_type", sa.String(length=255), nullable=False),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
        )
    if table_missing("outbox"):
        op.create_table(
            "outbox",
            sa.Column("position", _SEQUENCE, autoincrement=True, nullable=False),
            sa.Column("event_id", sa.String(length=36), nullable=False),
            sa.Column("nats_subject", sa.String(length=255), nullable=False),
            sa.Column("event_type", sa.String(length=255), nullable=False),
            sa.Column("aggregate_id", sa.String(length=255), nullable=False),
            sa.Column("payload", sa.LargeBinary(), nullable=False),
            sa.Column("headers", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("position", name="pk_outbox"),
            sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        )
        op.create_index(
            "ix_outbox_pending",
            "outbox",
            ["position"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )
    if table_missing("outbox_relay_lease"):
        op.create_table(
            "outbox_relay_lease",
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column("holder", sa.String(length=64), nullable=True),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("name", name="pk_outbox_relay_lease"),
        )


def downgrade() -> None:
    op.drop_table("outbox_relay_lease")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_index("ix_dead_letters_consumer", table_name="dead_letters")
    op.drop_table("dead_letters")
