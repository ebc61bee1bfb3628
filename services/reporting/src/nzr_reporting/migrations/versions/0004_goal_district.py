"""the district of a region's goal as its GoalDefined announces it (state mode measures it there)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("goal_facts") as batch:
        batch.add_column(sa.Column("district", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goal_facts") as batch:
        batch.drop_column("district")
