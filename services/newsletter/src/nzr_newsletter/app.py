"""Wiring of the newsletter service."""

from fastapi import FastAPI

from nzr_common.contracts.newsletter import (
    CampaignSent,
    ListReachChanged,
    SubscriptionConfirmed,
    SubscriptionRequested,
    Unsubscribed,
)
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_newsletter import api
from nzr_newsletter.bootstrap import Deps, bootstrap
from nzr_newsletter.delivery import send_mail
from nzr_newsletter.digests import send_digests
from nzr_newsletter.handlers import handlers
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.sink import serve_mail_sink, start_mail_sink
from nzr_newsletter.tables import Base, messaging

DEFINITION: ServiceDefinition[NewsletterSettings, Deps] = ServiceDefinition(
    name="newsletter",
    title="NZR newsletter",
    description="Consent-based lists (double opt-in), campaigns and reliable SMTP delivery.",
    metadata=Base.metadata,
    tables=messaging,
    routers=[api.router],
    bootstrap=bootstrap,
    handlers=handlers,
    publishes=[
        SubscriptionRequested,
        SubscriptionConfirmed,
        Unsubscribed,
        ListReachChanged,
        CampaignSent,
    ],
    on_startup=[start_mail_sink],
    background=[serve_mail_sink, send_mail, send_digests],
)


def create_app(settings: NewsletterSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or NewsletterSettings())
