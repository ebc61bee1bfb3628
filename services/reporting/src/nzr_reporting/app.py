"""Wiring of the reporting service."""

import asyncio
import logging
from datetime import UTC, datetime

from fastapi import FastAPI

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged, RegionHeartbeat
from nzr_common.runtime import Runtime, ServiceDefinition, create_service_app
from nzr_reporting import api
from nzr_reporting.indicators import ReportCache
from nzr_reporting.projections import handlers
from nzr_reporting.settings import ReportingSettings
from nzr_reporting.tables import Base, messaging

log = logging.getLogger(__name__)


async def _announce_heartbeats(runtime: Runtime) -> None:
    """Region mode: every ``heartbeat_seconds`` a RegionHeartbeat through the outbox, so the
    state sees a quiet region as current and a cut-off one as stale."""
    interval = runtime.settings.heartbeat_seconds  # type: ignore[attr-defined]
    while True:
        # The first beat after one interval: a region that just started has nothing to tell.
        await asyncio.sleep(interval)
        try:
            async with runtime.sessions() as session, session.begin():
                await runtime.outbox.add(
                    session, RegionHeartbeat(region=runtime.settings.region, sent_at=datetime.now(UTC))
                )
        except Exception:  # the database may be down for a moment; the next beat tries again
            log.warning("could not record a region heartbeat", exc_info=True)


async def _start_heartbeats(runtime: Runtime) -> None:
    if runtime.settings.mode == "region" and runtime.settings.heartbeat_seconds > 0:  # type: ignore[attr-defined]
        runtime.tasks.append(asyncio.create_task(_announce_heartbeats(runtime), name="heartbeat"))


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    definition = ServiceDefinition(
        name="reporting",
        title="NZR reporting",
        description="Indicators, goals and measures, state dashboard and open data, from events only.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.router],
        handlers=handlers,
        publishes=[GoalDefined, MeasureStatusChanged, RegionHeartbeat],
        on_startup=[_start_heartbeats],
    )
    app = create_service_app(definition, settings)
    app.state.report_cache = ReportCache()
    return app
