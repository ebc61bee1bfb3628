"""transactional mails name the event they are about (the organiser's view of delivery state)
and the participant notice they answer (a notice announced twice is mailed once)

Revision ID: 0005_nlmails
Revises: 0005_nlpages
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_nlmails"
down_revision: str | None = "0005_nlpages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_queue") as batch:
        batch.add_column(sa.Column("event_id", sa.String(length=36), nullable=True))
        batch.create_index(batch.f("ix_mail_queue_event_id"), ["event_id"])
        batch.add_column(sa.Column("notice_id", sa.String(length=100), nullable=True))
        batch.create_unique_constraint(batch.f("uq_mail_queue_notice_id"), ["notice_id"])


def downgrade() -> None:
    with op.batch_alter_table("mail_queue") as batch:
        batch.drop_constraint(batch.f("uq_mail_queue_notice_id"), type_="unique")
        batch.drop_column("notice_id")
        batch.drop_index(batch.f("ix_mail_queue_event_id"))
        batch.drop_column("event_id")
