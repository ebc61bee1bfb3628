"""cooperations with an actor of another region

``cooperations.partner_region`` names the region of ``actor_b`` when it is not this one; such an
``actor_b`` lives in the other region's database, so its foreign key goes (the service deletes
an actor's cooperations itself).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 09:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cooperations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_region", sa.String(length=40), nullable=True))
        batch_op.drop_constraint("fk_cooperations_actor_b_actors", type_="foreignkey")


def downgrade() -> None:
    op.execute("DELETE FROM cooperations WHERE partner_region IS NOT NULL")
    with op.batch_alter_table("cooperations", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_cooperations_actor_b_actors", "actors", ["actor_b"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_column("partner_region")
