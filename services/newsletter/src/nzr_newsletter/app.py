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
from nzr_newsletter import dev_mail
from nzr_newsletter.bootstrap import Deps, bootstrap
from nzr_newsletter.bounces import routes as bounces
from nzr_newsletter.campaigns import routes as campaigns
from nzr_newsletter.delivery.sender import send_mail
from nzr_newsletter.digests import routes as digests
from nzr_newsletter.digests.service import send_digests
from nzr_newsletter.handlers import handlers
from nzr_newsletter.lists import routes as lists
from nzr_newsletter.metadata import Base, messaging
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.subscribers import routes as subscribers
from nzr_newsletter.subscriptions import routes as subscriptions
from nzr_newsletter.tracking import routes as tracking
from nzr_newsletter.transactional import routes as transactional

DEFINITION: ServiceDefinition[NewsletterSettings, Deps] = ServiceDefinition(
    name="newsletter",
    title="NZR newsletter",
    description="Consent-based lists (double opt-in), campaigns and reliable SMTP delivery.",
    metadata=Base.metadata,
    tables=messaging,
    routers=[
        lists.router,
        subscriptions.router,
        subscribers.router,
        campaigns.router,
        bounces.router,
        digests.router,
        tracking.router,
        transactional.router,
        dev_mail.router,
    ],
    bootstrap=bootstrap,
    handlers=handlers,
    publishes=[
        SubscriptionRequested,
        SubscriptionConfirmed,
        Unsubscribed,
        ListReachChanged,
        CampaignSent,
    ],
    on_startup=[dev_mail.start_mail_sink],
    background=[dev_mail.serve_mail_sink, send_mail, send_digests],
)


def create_app(settings: NewsletterSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings or NewsletterSettings())
