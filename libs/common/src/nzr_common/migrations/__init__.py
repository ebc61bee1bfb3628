"""The body of every service's Alembic ``env.py``: online (async engine) and offline modes."""

from __future__ import annotations

import asyncio

from alembic import context
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
