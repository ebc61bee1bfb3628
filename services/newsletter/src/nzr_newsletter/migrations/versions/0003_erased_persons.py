"""remember erased persons (pseudonymous id and time) so a late event cannot bring them back

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_persons",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_erased_persons")),
    )


def downgrade() -> None:
    op.drop_table("erased_persons")
