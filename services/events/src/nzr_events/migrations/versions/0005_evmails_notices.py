"""participant notices: event sequence and reminder, registration language, feedback

``events.sequence`` (iCalendar SEQUENCE) grows with every change participants are told of;
``events.reminder_days`` says when the reminder goes out (default 2 days before);
``registrations.language`` keeps the language of the registrant's mails and
``registrations.reminder_sent_at`` records the reminder so that a restart never resends it;
``registration_feedback`` holds one editable feedback (rating 1–5, text) per registration.

Revision ID: 0004_evmails_notices
Revises: 0004_ev_series
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_evmails_notices"
down_revision: str | None = "0004_ev_series"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("reminder_days", sa.Integer(), nullable=True))
    op.execute("UPDATE events SET reminder_days = 2")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), server_default="de", nullable=False))
        batch_op.add_column(sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "registration_feedback",
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_registration_feedback_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_feedback_registration_id_registrations"),
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_registration_feedback")),
    )
    with op.batch_alter_table("registration_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_feedback_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_feedback_event_id"))
    op.drop_table("registration_feedback")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("reminder_sent_at")
        batch_op.drop_column("language")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("reminder_days")
        batch_op.drop_column("sequence")
