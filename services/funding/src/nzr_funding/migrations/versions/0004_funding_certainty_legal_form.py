"""deadline certainty of programmes, legal forms they require, legal form of actors

``programmes.deadline_certainty`` (fixed / expected / rolling / unknown) is read from the deadline
when a programme is projected; ``programmes.legal_forms`` lists the legal forms a programme
requires (empty: none named); ``actors.legal_form`` comes from ActorRegistered/ActorUpdated.
Rows projected before this revision get their certainty from the deadline when the catalogue is
loaded (NULL here), their legal forms when the programme is next published.

Revision ID: 0004_funding
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_funding"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("programmes", sa.Column("deadline_certainty", sa.String(length=10), nullable=True))
    op.add_column("programmes", sa.Column("legal_forms", sa.JSON(), nullable=True))
    op.add_column("actors", sa.Column("legal_form", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actors") as actors:
        actors.drop_column("legal_form")
    with op.batch_alter_table("programmes") as programmes:
        programmes.drop_column("legal_forms")
        programmes.drop_column("deadline_certainty")
