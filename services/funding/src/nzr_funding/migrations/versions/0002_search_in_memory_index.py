"""search from the in-memory catalogue index: drop the database full-text indexes

Search and matching run over the in-process catalogue index (``nzr_funding.index``, built once
per catalogue version from ``programmes.search_doc``); the SQLite FTS5 table and the PostgreSQL
GIN index are no longer read, and keeping them up to date only slowed the projection down.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS programme_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_programmes_search_doc_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE programme_fts USING fts5(programme_id UNINDEXED, doc)")
        op.execute(
            "INSERT INTO programme_fts (programme_id, doc) "
            "SELECT id, search_doc FROM programmes WHERE NOT withdrawn"
        )
    else:
        op.execute(
            "CREATE INDEX ix_programmes_search_doc_fts ON programmes "
            "USING gin (to_tsvector('simple', search_doc))"
        )
