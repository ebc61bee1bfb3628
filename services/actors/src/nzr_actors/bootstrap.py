"""The actors service's dependencies, built once at start-up from the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from nzr_actors.actors.reader import ActorReader
from nzr_actors.network.precompute import SuggestionCache
from nzr_actors.settings import ActorsSettings
from nzr_common.erasure import MessagingEraser
from nzr_common.outbox import Outbox
from nzr_common.regions import Region
from nzr_common.runtime import Runtime, deps_of


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything the routes and handlers of the actors service use, typed."""

    settings: ActorsSettings
    region: Region
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    eraser: MessagingEraser
    #: The hot read paths (actor by id, search, duplicate check): see ``nzr_actors.actors.reader``.
    reader: ActorReader
    #: The configured topics (``TOPICS``) an actor or cooperation may name.
    topics: frozenset[str]
    #: Partner suggestions kept ready per network version (``nzr_actors.network.precompute``).
    suggestions: SuggestionCache
    clock: Callable[[], datetime] = _now


def bootstrap(runtime: Runtime[ActorsSettings]) -> Deps:
    """Build the deps of one actors process (called once by ``create_service_app``)."""
    settings = runtime.settings
    return Deps(
        settings=settings,
        region=runtime.region,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        eraser=MessagingEraser(runtime.tables, producer="actors", broker=runtime.broker),
        reader=ActorReader(settings.database_url, runtime.engine),
        topics=frozenset(settings.topics),
        suggestions=SuggestionCache(
            database_url=settings.database_url,
            poll_seconds=settings.network_poll_seconds,
            worker_from=settings.network_worker_from_actors,
        ),
    )


#: The deps in a route: ``async def route(deps: DepsDep) -> ...``.
DepsDep = Annotated[Deps, Depends(deps_of(Deps))]


async def _read_connection(deps: DepsDep) -> AsyncIterator[AsyncConnection]:
    async with deps.reader.engine.connect() as connection:
        yield connection


#: A connection for reads without a transaction (see ``nzr_actors.actors.reader``): one round
#: trip per statement.
ReadDep = Annotated[AsyncConnection, Depends(_read_connection)]
