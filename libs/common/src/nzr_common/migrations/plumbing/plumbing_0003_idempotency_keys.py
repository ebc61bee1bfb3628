"""plumbing: claimed Idempotency-Keys and their stored answers

``idempotency_keys`` holds one row per (caller, key, route) of a creating request sent with an
``Idempotency-Key`` header: the request's hash, the claim, and once the route answered, the
answer to send again (see ``nzr_common.idempotency``). Rows expire and are pruned. Created only
for services whose tables have it, and only when it is missing (databases whose service
revision created it before this branch existed).

Revision ID: plumbing_0003
Revises: plumbing_0002
Create Date: 2026-12-03 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nzr_common.migrations import table_wanted

revision: str = "plumbing_0003"
down_revision: str | None = "plumbing_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not table_wanted("idempotency_keys"):
        return
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effect_committed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("caller", "key", "route", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"], unique=False)


def downgrade() -> None:
    if not op.get_context().as_sql and sa.inspect(op.get_bind()).has_table("idempotency_keys"):
        op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
        op.drop_table("idempotency_keys")
