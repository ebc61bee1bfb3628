"""Wiring of the events service."""

from fastapi import FastAPI
from nzr_common.runtime import ServiceDefinition, create_service_app

from nzr_events.handlers import handlers
from nzr_events.settings import EventsSettings
from nzr_events.tables import Base, messaging


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    definition = ServiceDefinition(
        name="events",
        title="NZR events",
        description="Gatherings, registration, programmes and outcomes.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[],
        handlers=handlers,
    )
    return create_service_app(definition, settings)
