"""The funding service's dependencies, built once at start-up from the runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.outbox import Outbox
from nzr_common.runtime import Runtime, deps_of
from nzr_funding.search.cache import CatalogueCache
from nzr_funding.search.usage import SearchUsage
from nzr_funding.settings import FundingSettings


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything the routes, handlers and the deadline watch of the funding service use, typed.

    ``catalogue`` is the process's in-memory catalogue with its search index (the named
    read-path exception of this service: search and matching run over it, not over SQL)."""

    settings: FundingSettings
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    catalogue: CatalogueCache
    search_usage: SearchUsage
    clock: Callable[[], datetime] = _now

    def today(self, as_of: date | None = None) -> date:
        """``as_of``, or today's date by the clock (UTC)."""
        return as_of or self.clock().date()


def bootstrap(runtime: Runtime[FundingSettings]) -> Deps:
    """Build the deps of one funding process (called once by ``create_service_app``)."""
    settings = runtime.settings
    return Deps(
        settings=settings,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        catalogue=CatalogueCache(refresh_seconds=settings.catalogue_refresh_seconds),
        search_usage=SearchUsage(),
    )


#: The deps in a route: ``async def route(deps: DepsDep) -> ...``.
DepsDep = Annotated[Deps, Depends(deps_of(Deps))]
