"""Wiring of the events service."""

from fastapi import FastAPI
from starlette.middleware import Middleware

from nzr_common.contracts import events as contracts
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_events import api
from nzr_events.bootstrap import Deps, bootstrap
from nzr_events.handlers import handlers
from nzr_events.public_cache import PublicPageCacheMiddleware
from nzr_events.settings import EventsSettings
from nzr_events.tables import Base, messaging

DEFINITION: ServiceDefinition[EventsSettings, Deps] = ServiceDefinition(
    name="events",
    title="NZR events",
    description="Gatherings, registration, programmes and outcomes.",
    metadata=Base.metadata,
    tables=messaging,
    routers=[api.router],
    bootstrap=bootstrap,
    handlers=handlers,
    publishes=[
        contracts.EventPublished,
        contracts.EventUpdated,
        contracts.EventCancelled,
        contracts.EventCompleted,
        contracts.AttendanceRecorded,
        contracts.RegistrationConfirmed,
        contracts.RegistrationCancelled,
        contracts.RegistrationReceived,
        contracts.RegistrationLinksRequested,
        contracts.AgreementRecorded,
        contracts.AgreementStatusChanged,
        contracts.RecommendationRecorded,
    ],
)


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    app = create_service_app(DEFINITION, settings or EventsSettings())
    deps: Deps = app.state.deps
    # Innermost (appended, not inserted): the platform's metrics, headers and tracing still apply.
    app.user_middleware.append(
        Middleware(PublicPageCacheMiddleware, cache=deps.public_pages, paths=api.CACHED_PAGES)
    )
    return app
