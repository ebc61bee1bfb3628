"""record which region-private stream messages name which person

``personal_messages`` holds (person id, stream, stream sequence), written by the outbox relay when
JetStream acknowledges a region-private event, so a GDPR erasure deletes exactly those messages;
``personal_message_watermarks`` holds per stream the first sequence recorded (messages below it
are found by reading the stream, see ``nzr_common.erasure``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:45:00
"""

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing any more: the tables come from the shared ``plumbing`` branch (plumbing_0002),
    which creates them only where this revision did not already."""


def downgrade() -> None:
    """Nothing: the ``plumbing`` branch owns the tables."""
