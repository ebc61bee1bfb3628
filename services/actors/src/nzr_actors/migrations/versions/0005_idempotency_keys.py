"""claimed Idempotency-Keys and their stored answers

``idempotency_keys`` holds one row per (caller, key, route) of a creating request sent with an
``Idempotency-Key`` header: the request's hash, the claim, and once the route answered, the
answer to send again (see ``nzr_common.idempotency``). Rows expire and are pruned.
The table comes from the shared ``plumbing`` branch (plumbing_0003), which creates it only
where this revision did not already.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing any more: the table comes from the shared ``plumbing`` branch (plumbing_0003)."""


def downgrade() -> None:
    """Nothing: the ``plumbing`` branch owns the table."""
