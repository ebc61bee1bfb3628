"""series that end, consent timing on registrations, the actors events knows

- Every series' RRULE ends. A series stored without ``COUNT`` or ``UNTIL`` gets
  ``UNTIL`` = the start of its last scheduled occurrence (the occurrences that exist as
  events stay exactly as they are, and calendars stop repeating after them); a series
  without any occurrence ends one year after its first start.
- ``registrations.newsletter_consent_timing``: when a mailing-list consent given with a
  registration is handed to newsletter (``on_confirmation`` for every existing row).
- ``known_actors``: the actors of the region as announced on the stream (ActorRegistered,
  ActorUpdated, ActorRemoved), so agreements name only actors that exist. It fills itself
  from the stream: the new durable consumer reads the actors' events from the beginning.

Revision ID: 0004_ev_series
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004_ev_series"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upgrade() -> None:
    op.add_column(
        "registrations",
        sa.Column(
            "newsletter_consent_timing", sa.String(20), nullable=False, server_default="on_confirmation"
        ),
    )
    op.create_table(
        "known_actors",
        sa.Column("actor_id", sa.String(36), primary_key=True),
        sa.Column("removed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    connection = op.get_bind()
    series = connection.execute(sa.text("SELECT id, rrule, first_starts_at FROM series")).all()
    for series_id, rule, first_start in series:
        parts = [p for p in rule.split(";") if p]
        if any(p.upper().startswith(("COUNT=", "UNTIL=")) for p in parts):
            continue
        last = connection.execute(
            sa.text("SELECT max(occurrence_starts_at) FROM events WHERE series_id = :id"), {"id": series_id}
        ).scalar()
        until = _utc(last) if last is not None else _utc(first_start) + timedelta(days=365)
        ending = ";".join([*parts, f"UNTIL={until:%Y%m%dT%H%M%SZ}"])
        connection.execute(
            sa.text("UPDATE series SET rrule = :rule WHERE id = :id"), {"rule": ending, "id": series_id}
        )


def downgrade() -> None:
    op.drop_table("known_actors")
    op.drop_column("registrations", "newsletter_consent_timing")
