"""record which region-private stream messages name which person

``personal_messages`` holds (person id, stream, stream sequence), written by the outbox relay when
JetStream acknowledges a region-private event, so a GDPR erasure deletes exactly those messages;
``personal_message_watermarks`` holds per stream the first sequence recorded (messages below it
are found by reading the stream, see ``nzr_common.erasure``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_messages",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("person_id", "stream", "stream_sequence", name=op.f("pk_personal_messages")),
    )
    op.create_table(
        "personal_message_watermarks",
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("first_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_personal_message_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("personal_message_watermarks")
    op.drop_table("personal_messages")
