"""Wiring of the reporting service."""

from fastapi import FastAPI

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged, RegionHeartbeat
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_reporting.bootstrap import Deps, bootstrap
from nzr_reporting.dashboard import routes as dashboard
from nzr_reporting.exports import routes as exports
from nzr_reporting.goals import routes as goals
from nzr_reporting.handlers import handlers
from nzr_reporting.indicators import routes as indicators
from nzr_reporting.settings import ReportingSettings
from nzr_reporting.state import routes as state
from nzr_reporting.state.service import announce_heartbeats
from nzr_reporting.tables import Base, messaging

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
