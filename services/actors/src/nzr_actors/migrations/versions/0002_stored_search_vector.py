"""stored search vector and covering duplicate index

PostgreSQL: ``actors.search_vector`` is a stored generated ``tsvector`` of ``search_text``
with its own GIN index. The expression index of 0001 had to recompute ``to_tsvector`` for
every candidate row (recheck and ``ts_rank``); the stored column is computed once per write.
SQLite keeps its FTS5 table.

Both: ``ix_actors_place_name`` covers the duplicate check (``place_key`` → ``name_key``, ``id``),
so it reads the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_actors_place_name", "actors", ["place_key", "name_key", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE actors ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_actors_search_vector ON actors USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_actors_search")


def downgrade() -> None:
    op.drop_index("ix_actors_place_name", table_name="actors")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_actors_search ON actors USING gin (to_tsvector('simple'::regconfig, search_text))"
    )
    op.execute("DROP INDEX IF EXISTS ix_actors_search_vector")
    op.execute("ALTER TABLE actors DROP COLUMN search_vector")
