"""pages and statistics: subscriber language, per-list tracking switch, aggregate open/click
counters and the tracked links of a campaign, digest items with place and link, complaints

Revision ID: 0005_nlpages
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_nlpages"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="de"))
    with op.batch_alter_table("mailing_lists") as batch:
        batch.add_column(
            sa.Column("tracking_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("tracked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("tracked_links", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("opens", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("digest_items") as batch:
        batch.add_column(sa.Column("place", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("link", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("bounces") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=4), type_=sa.String(length=10))


def downgrade() -> None:
    with op.batch_alter_table("bounces") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=10), type_=sa.String(length=4))
    with op.batch_alter_table("digest_items") as batch:
        batch.drop_column("link")
        batch.drop_column("place")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("clicks")
        batch.drop_column("opens")
        batch.drop_column("tracked_links")
        batch.drop_column("tracked")
    with op.batch_alter_table("mailing_lists") as batch:
        batch.drop_column("tracking_enabled")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("language")
