"""Summaries of cooperating pairs and of cooperations with education institutions: the state
overview reads the network density and the cooperations with education partners from the
daily and monthly summaries too (no join of the cooperations with the actors per request).
Indexes find an actor's and a pair's cooperations, which the summaries recount when an actor
or a cooperation changes.

The daily and monthly summaries are computed afresh from the projections here; a later
revision that changes what they count moves this step to itself.

Revision ID: 0008_reporting_pairs
Revises: 0007_reporting_bne
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.orm import Session

revision: str = "0008_reporting_pairs"
down_revision: str | None = "0007_reporting_bne"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cooperation_facts") as batch:
        batch.create_index("ix_cooperation_facts_actor_a", ["region", "actor_a", "actor_b"], unique=False)
        batch.create_index("ix_cooperation_facts_actor_b", ["region", "actor_b"], unique=False)
    from nzr_reporting.indicators import summaries

    session = Session(bind=op.get_bind())
    summaries.recompute(session)
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table("cooperation_facts") as batch:
        batch.drop_index("ix_cooperation_facts_actor_b")
        batch.drop_index("ix_cooperation_facts_actor_a")
