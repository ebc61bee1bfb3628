"""The reporting service's dependencies, built once at start-up from the runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.messaging import Subscription
from nzr_common.outbox import Outbox
from nzr_common.regions import District, Region, load_districts
from nzr_common.runtime import Runtime, deps_of
from nzr_reporting.indicators.scope import ReportCache
from nzr_reporting.settings import ReportingSettings


def _now() -> datetime:
    return datetime.now(UTC)


def _no_subscriptions() -> list[Subscription]:
    return []


@dataclass(frozen=True)
class Deps:
    """Everything the routes, handlers and loops of the reporting service use, typed."""

    settings: ReportingSettings
    region: Region
    #: Every known district (AGS code → district), for population figures and district names.
    districts: dict[str, District]
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    report_cache: ReportCache
    #: The live consumers (known once the runtime has started them), for the status page.
    subscriptions: Callable[[], list[Subscription]] = _no_subscriptions
    clock: Callable[[], datetime] = _now


def build_deps(
    settings: ReportingSettings,
    *,
    region: Region,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    subscriptions: Callable[[], list[Subscription]] = _no_subscriptions,
) -> Deps:
    """The deps from their parts (the service's start-up, or the rebuild command)."""
    return Deps(
        settings=settings,
        region=region,
        districts=load_districts(settings.districts_file),
        sessions=sessions,
        outbox=outbox,
        report_cache=ReportCache(),
        subscriptions=subscriptions,
    )


def bootstrap(runtime: Runtime[ReportingSettings]) -> Deps:
    """Build the deps of one reporting process (called once by ``create_service_app``)."""
    return build_deps(
        runtime.settings,
        region=runtime.region,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        subscriptions=lambda: runtime.subscriptions,
    )


#: The deps in a route: ``async def route(deps: DepsDep) -> ...``.
DepsDep = Annotated[Deps, Depends(deps_of(Deps))]
