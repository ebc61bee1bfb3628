"""The hot read path: one actor by id in one statement, without ORM session or transaction.

On PostgreSQL a small asyncpg pool runs a prepared ``SELECT`` (one round trip; the
SQLAlchemy session path costs a ping, BEGIN, SELECT and ROLLBACK); on SQLite the engine
runs the same statement through SQLAlchemy Core.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from nzr_actors.tables import ActorRow
from nzr_common.db import is_sqlite

COLUMNS = (
    "id",
    "name",
    "kind",
    "sector",
    "district",
    "municipality",
    "topics",
    "website",
    "description",
    "resources",
    "public_profile",
    "external_id",
    "version",
    "created_at",
    "updated_at",
)
SQL = f"SELECT {', '.join(COLUMNS)} FROM actors WHERE id = $1"


class ActorReader:
    """Looks actors up by id; connections open on first use and close with the app."""

    def __init__(self, database_url: str, engine: AsyncEngine, *, pool_size: int = 10) -> None:
        self.engine = engine
        self.pool_size = pool_size
        self._dsn = (
            None
            if is_sqlite(database_url)
            else make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self.pool_size)
        return self._pool

    async def actor(self, actor_id: str) -> dict[str, Any] | None:
        """The actor's stored fields, or None."""
        if self._dsn is None:
            statement = select(*(ActorRow.__table__.c[c] for c in COLUMNS)).where(ActorRow.id == actor_id)
            async with self.engine.connect() as connection:
                row = (await connection.execute(statement)).mappings().first()
            return dict(row) if row is not None else None
        row = await (await self._connections()).fetchrow(SQL, actor_id)
        if row is None:
            return None
        found = dict(row)
        found["topics"] = json.loads(found["topics"])
        found["resources"] = json.loads(found["resources"])
        return found

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
