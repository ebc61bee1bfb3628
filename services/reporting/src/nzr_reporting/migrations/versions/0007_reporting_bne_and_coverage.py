"""Bildungskommune figures and densities over every district of a region: gathering facts
learn whether an event is on education for sustainable development (topic ``bne``) and its
participants by target group; ``region_coverage`` keeps the districts each region's heartbeat
names (state mode). Both are projections: ``nzr reporting rebuild`` fills them from the stream.

The daily and monthly summaries are computed afresh (they now count gatherings and their
agreements on the event's start and the BNE and education measures) by the latest revision that
changes what they count, 0008_reporting_pairs.

Revision ID: 0007_reporting_bne
Revises: 0006_reporting_goals
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reporting_bne"
down_revision: str | None = "0006_reporting_goals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gathering_facts") as batch:
        batch.add_column(sa.Column("bne", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("by_target_group", sa.JSON(), nullable=True))
    op.create_table(
        "region_coverage",
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", name=op.f("pk_region_coverage")),
    )
    # The summaries are computed afresh by 0008_reporting_pairs (it changes what they count).


def downgrade() -> None:
    op.drop_table("region_coverage")
    with op.batch_alter_table("gathering_facts") as batch:
        batch.drop_column("by_target_group")
        batch.drop_column("bne")
