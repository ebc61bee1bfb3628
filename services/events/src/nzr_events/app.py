"""Wiring of the events service."""

from fastapi import FastAPI
from starlette.middleware import Middleware

from nzr_common.contracts import events as contracts
from nzr_common.erasure import MessagingEraser
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_events import api
from nzr_events.handlers import build_handlers
from nzr_events.public_cache import PublicPageCache, PublicPageCacheMiddleware
from nzr_events.registration_batches import RegistrationBatches
from nzr_events.service import cancellation_links
from nzr_events.settings import EventsSettings
from nzr_events.tables import Base, messaging


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    eraser = MessagingEraser(messaging, producer="events")
    definition = ServiceDefinition(
        name="events",
        title="NZR events",
        description="Gatherings, registration, programmes and outcomes.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.router],
        handlers=build_handlers(eraser),
        on_startup=[eraser.attach],
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
    app = create_service_app(definition, settings)
    runtime = app.state.runtime
    app.state.registrations = RegistrationBatches(
        runtime.sessions,
        runtime.outbox,
        consent_text_version=settings.consent_text_version,
        links=cancellation_links(settings),
    )
    app.state.public_pages = PublicPageCache(settings.public_cache_seconds)
    # Innermost (appended, not inserted): the platform's metrics, headers and tracing still apply.
    app.user_middleware.append(
        Middleware(PublicPageCacheMiddleware, cache=app.state.public_pages, paths=api.CACHED_PAGES)
    )
    return app
