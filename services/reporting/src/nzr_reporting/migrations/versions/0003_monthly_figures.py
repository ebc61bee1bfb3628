"""daily and monthly summaries of the projections for the state overview

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table, period in (("daily_figures", "day"), ("monthly_figures", "month")):
        op.create_table(
            table,
            sa.Column("region", sa.String(length=64), nullable=False),
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("measure", sa.String(length=40), nullable=False),
            sa.Column("district", sa.String(length=8), nullable=False),
            sa.Column("key", sa.String(length=40), nullable=False),
            sa.Column("amount", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("region", period, "measure", "district", "key", name=op.f(f"pk_{table}")),
        )
    # Projections that exist already are summarised once, by the latest revision that changes
    # what the summaries count (0007_reporting_bne): the summaries are computed with the current
    # code, which reads columns added after this revision.


def downgrade() -> None:
    op.drop_table("monthly_figures")
    op.drop_table("daily_figures")
