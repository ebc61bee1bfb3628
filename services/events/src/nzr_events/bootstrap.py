"""The events service's dependencies, built once at start-up from the runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.erasure import MessagingEraser
from nzr_common.outbox import Outbox
from nzr_common.regions import Region
from nzr_common.runtime import Runtime, deps_of
from nzr_events.public_cache import PublicPageCache
from nzr_events.registrations.batches import RegistrationBatches
from nzr_events.registrations.links import RegistrationLinks, registration_links
from nzr_events.settings import EventsSettings
from nzr_events.web import Pages


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything the routes, handlers and loops of the events service use, typed."""

    settings: EventsSettings
    region: Region
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    eraser: MessagingEraser
    links: RegistrationLinks
    registrations: RegistrationBatches
    public_pages: PublicPageCache
    pages: Pages
    clock: Callable[[], datetime] = _now


def bootstrap(runtime: Runtime[EventsSettings]) -> Deps:
    """Build the deps of one events process (called once by ``create_service_app``)."""
    settings = runtime.settings
    links = registration_links(settings)
    return Deps(
        settings=settings,
        region=runtime.region,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        eraser=MessagingEraser(runtime.tables, producer="events", broker=runtime.broker),
        links=links,
        registrations=RegistrationBatches(
            runtime.sessions, runtime.outbox, consent_text_version=settings.consent_text_version, links=links
        ),
        public_pages=PublicPageCache(settings.public_cache_seconds),
        pages=Pages(settings.region_name),
    )


#: The deps in a route: ``async def route(deps: DepsDep) -> ...``.
DepsDep = Annotated[Deps, Depends(deps_of(Deps))]
