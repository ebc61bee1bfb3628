"""The hot read paths: actors by id, searches and duplicate checks without ORM session or transaction.

On PostgreSQL:

* ``actor()`` lookups that arrive in the same event-loop turn are coalesced into one prepared
  ``SELECT ... WHERE id = ANY($1)`` on a small asyncpg pool (under load one round trip serves
  many requests; the SQLAlchemy session path costs a ping, BEGIN, SELECT and ROLLBACK each);
* the JSON document of an actor is cached keyed by ``(id, version)``: every write bumps the
  version (optimistic concurrency), so a cached document is used only when the row just read
  has the same version — the database stays the only source of truth;
* ``engine`` is a second SQLAlchemy engine in autocommit mode without pre-ping, so a search is
  one round trip (a connection that broke is discarded and the next request gets a fresh one).

On SQLite the service's own engine runs the same statements through SQLAlchemy Core.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nzr_actors.actors.models import ActorRow
from nzr_actors.actors.schemas import ActorRead
from nzr_common.db import is_sqlite

if TYPE_CHECKING:
    import asyncpg

COLUMNS = (
    "id",
    "name",
    "kind",
    "sector",
    "legal_form",
    "district",
    "municipality",
    "subdistrict",
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
SQL = f"SELECT {', '.join(COLUMNS)} FROM actors WHERE id = ANY($1::varchar[])"


@dataclass(frozen=True)
class ActorDocument:
    """An actor as served by ``GET /actors/{id}``."""

    version: int
    public_profile: bool
    document: bytes


class ActorReader:
    """Looks actors up by id; connections open on first use and close with the app."""

    def __init__(
        self, database_url: str, engine: AsyncEngine, *, pool_size: int = 10, cache_size: int = 20_000
    ) -> None:
        self.pool_size = pool_size
        self.cache_size = cache_size
        self._sqlite = is_sqlite(database_url)
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.engine = (
            engine
            if self._sqlite
            else create_async_engine(
                database_url,
                pool_size=pool_size,
                max_overflow=0,
                pool_pre_ping=False,
                isolation_level="AUTOCOMMIT",
            )
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._waiting: dict[str, list[asyncio.Future[Any]]] = {}
        self._batches: set[asyncio.Task[None]] = set()
        self._documents: dict[str, ActorDocument] = {}

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    import asyncpg  # here: a process on SQLite never opens the pool (issue #20)

                    self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self.pool_size)
        return self._pool

    async def actor(self, actor_id: str) -> ActorDocument | None:
        """The actor's version, consent and JSON document, or None."""
        row = await (self._sqlite_row(actor_id) if self._sqlite else self._coalesced_row(actor_id))
        if row is None:
            self._documents.pop(actor_id, None)
            return None
        cached = self._documents.get(actor_id)
        if cached is not None and cached.version == row["version"]:
            return cached
        found = dict(row)
        for column in ("topics", "resources"):
            if isinstance(found[column], str):
                found[column] = json.loads(found[column])
        document = ActorDocument(
            version=found["version"],
            public_profile=found["public_profile"],
            document=ActorRead.model_validate(found).model_dump_json().encode(),
        )
        if len(self._documents) >= self.cache_size:
            del self._documents[next(iter(self._documents))]  # the oldest entry
        self._documents[actor_id] = document
        return document

    async def _sqlite_row(self, actor_id: str) -> Any:
        statement = select(*(ActorRow.__table__.c[c] for c in COLUMNS)).where(ActorRow.id == actor_id)
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).mappings().first()

    async def _coalesced_row(self, actor_id: str) -> Any:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._dispatch)
        future = loop.create_future()
        self._waiting.setdefault(actor_id, []).append(future)
        return await future

    def _dispatch(self) -> None:
        batch, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._fetch(batch))
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)

    async def _fetch(self, batch: dict[str, list[asyncio.Future[Any]]]) -> None:
        try:
            rows = await (await self._connections()).fetch(SQL, list(batch))
        except Exception as error:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        found = {row["id"]: row for row in rows}
        for actor_id, futures in batch.items():
            for future in futures:
                if not future.done():
                    future.set_result(found.get(actor_id))

    async def close(self) -> None:
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if not self._sqlite:
            await self.engine.dispose()
