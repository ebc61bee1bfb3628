"""plumbing: which region-private stream messages name which person

``personal_messages`` holds (person id, stream, stream sequence), written by the outbox relay when
JetStream acknowledges a region-private event, so a GDPR erasure deletes exactly those messages;
``personal_message_watermarks`` holds per stream the first sequence recorded (see
``nzr_common.erasure``). Only services whose tables record them
(``add_messaging_tables(record_personal=True)``) get them; created only when missing.

Revision ID: plumbing_0002
Revises: plumbing_0001
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nzr_common.migrations import table_wanted

revision: str = "plumbing_0002"
down_revision: str | None = "plumbing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if table_wanted("personal_messages"):
        op.create_table(
            "personal_messages",
            sa.Column("person_id", sa.String(length=36), nullable=False),
            sa.Column("stream", sa.String(length=64), nullable=False),
            sa.Column("stream_sequence", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.PrimaryKeyConstraint("person_id", "stream", "stream_sequence", name="pk_personal_messages"),
        )
    if table_wanted("personal_message_watermarks"):
        op.create_table(
            "personal_message_watermarks",
            sa.Column("stream", sa.String(length=64), nullable=False),
            sa.Column("first_sequence", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("stream", name="pk_personal_message_watermarks"),
        )


def downgrade() -> None:
    if not op.get_context().as_sql:
        present = sa.inspect(op.get_bind()).get_table_names()
        for name in ("personal_message_watermarks", "personal_messages"):
            if name in present:
                op.drop_table(name)
