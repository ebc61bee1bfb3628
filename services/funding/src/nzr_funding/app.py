"""Wiring of the funding service."""

import asyncio
import logging
from datetime import UTC, datetime

from fastapi import FastAPI

from nzr_common.contracts.funding import (
    FundingDeadlineApproaching,
    FundingMatchRequested,
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
)
from nzr_common.runtime import Runtime, ServiceDefinition, create_service_app
from nzr_funding import api, service
from nzr_funding.catalogue import CatalogueCache
from nzr_funding.handlers import build_handlers
from nzr_funding.settings import FundingSettings
from nzr_funding.tables import Base, messaging

log = logging.getLogger(__name__)


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()
    catalogue = CatalogueCache(refresh_seconds=settings.catalogue_refresh_seconds)

    async def start_deadline_watch(runtime: Runtime) -> None:
        runtime.tasks.append(asyncio.create_task(_watch_deadlines(runtime, catalogue), name="deadline watch"))

    definition = ServiceDefinition(
        name="funding",
        title="NZR funding",
        description="Funding programme catalogue, search and eligibility matching.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.search_router, api.router],
        handlers=build_handlers(catalogue_region=settings.catalogue_region),
        publishes=[
            FundingProgramPublished,
            FundingProgramUpdated,
            FundingProgramWithdrawn,
            FundingDeadlineApproaching,
            FundingMatchRequested,
        ],
        extra_stream_regions=[settings.catalogue_region],
        on_startup=[start_deadline_watch],
    )
    app = create_service_app(definition, settings)
    app.state.catalogue = catalogue
    return app


async def _watch_deadlines(runtime: Runtime, catalogue: CatalogueCache) -> None:
    """Look for approaching deadlines every ``deadline_watch_seconds`` until cancelled."""
    settings: FundingSettings = runtime.settings  # type: ignore[assignment]
    await asyncio.sleep(settings.deadline_watch_first_seconds)
    while True:
        try:
            announced = await service.watch_deadlines(
                sessions=runtime.sessions,
                catalogue=catalogue,
                outbox=runtime.outbox,
                today=datetime.now(UTC).date(),
                thresholds=settings.deadline_thresholds,
            )
            if announced:
                log.info("announced %d approaching deadlines", len(announced))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline watch failed; trying again next round")
        await asyncio.sleep(settings.deadline_watch_seconds)
