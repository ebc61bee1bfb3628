"""Wiring of the events service."""

from fastapi import FastAPI
from starlette.middleware import Middleware

from nzr_common.contracts import events as contracts
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_events.bootstrap import Deps, bootstrap
from nzr_events.calendar import routes as calendar
from nzr_events.feedback import routes as feedback
from nzr_events.gatherings import routes as gatherings
from nzr_events.handlers import handlers
from nzr_events.models import Base, messaging
from nzr_events.outcomes import routes as outcomes
from nzr_events.programme import routes as programme
from nzr_events.public_cache import CACHED_PAGES, PublicPageCacheMiddleware
from nzr_events.registrations import pages
from nzr_events.registrations import routes as registrations
from nzr_events.registrations.reminders import send_reminders_periodically
from nzr_events.series import routes as series
from nzr_events.settings import EventsSettings

DEFINITION: ServiceDefinition[EventsSettings, Deps] = ServiceDefinition(
    name="events",
    title="NZR events",
    description="Gatherings, registration, programmes and outcomes.",
    metadata=Base.metadata,
    tables=messaging,
    # The calendar first: its ``/events/{id}.ics`` would otherwise be read as ``/events/{id}``.
    routers=[
        calendar.router,
        gatherings.router,
        programme.router,
        registrations.router,
        pages.router,
        feedback.router,
        series.router,
        outcomes.router,
    ],
    bootstrap=bootstrap,
    handlers=handlers,
    background=[send_reminders_periodically],
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
        contracts.ParticipantNotice,
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
        Middleware(PublicPageCacheMiddleware, cache=deps.public_pages, paths=CACHED_PAGES)
    )
    return app
