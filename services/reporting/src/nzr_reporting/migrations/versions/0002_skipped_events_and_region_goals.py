"""skipped events of unknown type; every region's goals and measures from their events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:45:00
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
        "goal_facts",
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("goal_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("indicator_id", sa.String(length=64), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("defined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", "goal_id", name=op.f("pk_goal_facts")),
    )
    op.create_table(
        "measure_facts",
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("measure_id", sa.String(length=64), nullable=False),
        sa.Column("goal_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", "measure_id", name=op.f("pk_measure_facts")),
    )
    op.create_table(
        "skipped_event_types",
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("last_skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_type", name=op.f("pk_skipped_event_types")),
    )


def downgrade() -> None:
    op.drop_table("skipped_event_types")
    op.drop_table("measure_facts")
    op.drop_table("goal_facts")
