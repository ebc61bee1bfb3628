"""Wiring of the newsletter service."""

from fastapi import FastAPI
from nzr_common.runtime import ServiceDefinition, create_service_app

from nzr_newsletter.handlers import handlers
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.tables import Base, messaging


def create_app(settings: NewsletterSettings | None = None) -> FastAPI:
    settings = settings or NewsletterSettings()
    definition = ServiceDefinition(
        name="newsletter",
        title="NZR newsletter",
        description="Consent-based lists, campaigns and SMTP delivery.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[],
        handlers=handlers,
    )
    return create_service_app(definition, settings)
