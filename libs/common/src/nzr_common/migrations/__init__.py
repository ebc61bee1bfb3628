"""The body of every service's Alembic ``env.py`` (online with the async engine, and offline),
and the two questions the shared ``plumbing`` revisions ask before creating a table."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from nzr_common.db import create_engine, is_sqlite


def run_migrations(metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def apply(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=is_sqlite(url), compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(apply)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(online())


def table_missing(name: str) -> bool:
    """The database has no table ``name`` (always so when writing SQL offline)."""
    return bool(op.get_context().as_sql) or not sa.inspect(op.get_bind()).has_table(name)


def table_wanted(name: str) -> bool:
    """The service's tables (the migration's target metadata) have ``name`` and the database
    does not yet: for plumbing tables only some services have."""
    metadata = op.get_context().opts.get("target_metadata")
    return metadata is not None and name in metadata.tables and table_missing(name)
