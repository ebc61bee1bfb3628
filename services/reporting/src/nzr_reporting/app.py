"""Wiring of the reporting service."""

import asyncio
import logging

from fastapi import FastAPI

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged, RegionHeartbeat
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_reporting.bootstrap import Deps, bootstrap
from nzr_reporting.dashboard import routes as dashboard
from nzr_reporting.exports import routes as exports
from nzr_reporting.goals import routes as goals
from nzr_reporting.indicators import routes as indicators
from nzr_reporting.indicators.handlers import handlers
from nzr_reporting.settings import ReportingSettings
from nzr_reporting.state import routes as state
from nzr_reporting.tables import Base, messaging

log = logging.getLogger(__name__)


async def announce_heartbeats(deps: Deps) -> None:
    """Region mode: every ``heartbeat_seconds`` a RegionHeartbeat through the outbox, so the
    state sees a quiet region as current and a cut-off one as stale."""
    settings = deps.settings
    if settings.mode != "region" or settings.heartbeat_seconds <= 0:
        return
    while True:
        # The first beat after one interval: a region that just started has nothing to tell.
        await asyncio.sleep(settings.heartbeat_seconds)
        try:
            async with deps.sessions() as session, session.begin():
                await deps.outbox.add(session, RegionHeartbeat(region=settings.region, sent_at=deps.clock()))
        except Exception:  # the database may be down for a moment; the next beat tries again
            log.warning("could not record a region heartbeat", exc_info=True)


DEFINITION: ServiceDefinition[ReportingSettings, Deps] = ServiceDefinition(
    name="reporting",
    title="NZR reporting",
    description="Indicators, goals and measures, state dashboard and open data, from events only.",
    metadata=Base.metadata,
    tables=messaging,
    routers=[indicators.router, exports.router, state.router, goals.router, dashboard.router],
    bootstrap=bootstrap,
    handlers=handlers,
    publishes=[GoalDefined, MeasureStatusChanged, RegionHeartbeat],
    background=[announce_heartbeats],
)


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or ReportingSettings())
