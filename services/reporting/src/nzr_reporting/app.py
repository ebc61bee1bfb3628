"""Wiring of the reporting service."""

from fastapi import FastAPI

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_reporting import api
from nzr_reporting.indicators import ReportCache
from nzr_reporting.projections import handlers
from nzr_reporting.settings import ReportingSettings
from nzr_reporting.tables import Base, messaging


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
        publishes=[GoalDefined, MeasureStatusChanged],
    )
    app = create_service_app(definition, settings)
    app.state.report_cache = ReportCache()
    return app
