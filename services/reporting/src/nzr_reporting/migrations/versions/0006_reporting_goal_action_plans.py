"""goals as action plans: explicit direction, dated baseline, version and audit trail; measures
with responsible actors, a recommendation to another institution and the events and agreements
that implement them

Existing goals get their direction ONCE from baseline vs target, the way progress was computed
until now: a target at or above the baseline is ``increase``, one below it ``decrease`` (a goal
without target value keeps none). Their baseline date is the day they were created. From now on
the direction is explicit and never guessed again. Goal facts (state mode) get the same columns;
events announced before this revision carry no direction and are read the old way.

Revision ID: 0006_reporting_goals
Revises: 0005
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_reporting_goals"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("goals") as batch:
        batch.add_column(sa.Column("direction", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("baseline_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    goals = sa.table(
        "goals",
        sa.column("direction", sa.String),
        sa.column("baseline_value", sa.Float),
        sa.column("target_value", sa.Float),
        sa.column("baseline_date", sa.Date),
        sa.column("created_at", sa.DateTime),
    )
    op.execute(
        goals.update()
        .where(goals.c.target_value.is_not(None))
        .values(
            direction=sa.case(
                (goals.c.target_value >= sa.func.coalesce(goals.c.baseline_value, 0.0), "increase"),
                else_="decrease",
            )
        )
    )
    op.execute(goals.update().values(baseline_date=sa.func.date(goals.c.created_at)))
    with op.batch_alter_table("measures") as batch:
        batch.add_column(sa.Column("responsible_actor_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("recommendation_to", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("recommendation", sa.Text(), nullable=True))
        batch.add_column(sa.Column("event_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("agreement_ids", sa.JSON(), nullable=True))
    op.execute("UPDATE measures SET responsible_actor_ids = '[]', event_ids = '[]', agreement_ids = '[]'")
    with op.batch_alter_table("measures") as batch:
        for name in ("responsible_actor_ids", "event_ids", "agreement_ids"):
            batch.alter_column(name, existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("goal_facts") as batch:
        batch.add_column(sa.Column("direction", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("baseline_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("baseline_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "goal_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("goal_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_changes")),
    )
    op.create_index(op.f("ix_goal_changes_goal_id"), "goal_changes", ["goal_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_goal_changes_goal_id"), table_name="goal_changes")
    op.drop_table("goal_changes")
    with op.batch_alter_table("goal_facts") as batch:
        for name in ("deleted", "version", "baseline_date", "baseline_value", "direction"):
            batch.drop_column(name)
    with op.batch_alter_table("measures") as batch:
        for name in (
            "agreement_ids",
            "event_ids",
            "recommendation",
            "recommendation_to",
            "responsible_actor_ids",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("goals") as batch:
        for name in ("version", "updated_at", "baseline_date", "direction"):
            batch.drop_column(name)
