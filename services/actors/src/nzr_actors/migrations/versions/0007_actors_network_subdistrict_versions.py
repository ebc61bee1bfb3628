"""Stadtteil of an actor; version and last change of a cooperation

``actors.subdistrict`` is the Stadtteil/Ortsteil below the municipality (checked against the
region's ``SUBDISTRICTS`` setting), indexed with the district for the network filters.
``cooperations.version`` is the ETag of a cooperation (corrections send ``If-Match``);
``cooperations.updated_at`` is its last change, indexed so that the network's version (count and
last change of actors and cooperations) is read without a scan.

Revision ID: 0006_actors_network
Revises: 0006_actorsdata_legal_form
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_actors_network"
down_revision: str | None = "0006_actorsdata_legal_form"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subdistrict", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_actors_district_subdistrict", ["district", "subdistrict"])
    with op.batch_alter_table("cooperations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cooperations SET updated_at = created_at")
    with op.batch_alter_table("cooperations", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        )
        batch_op.create_index("ix_cooperations_updated_at", ["updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("cooperations", schema=None) as batch_op:
        batch_op.drop_index("ix_cooperations_updated_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("version")
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.drop_index("ix_actors_district_subdistrict")
        batch_op.drop_column("subdistrict")
