"""Wiring of the newsletter service."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from nzr_common.contracts.newsletter import (
    CampaignSent,
    ListReachChanged,
    SubscriptionConfirmed,
    SubscriptionRequested,
    Unsubscribed,
)
from nzr_common.erasure import MessagingEraser
from nzr_common.runtime import Runtime, ServiceDefinition, create_service_app
from nzr_newsletter import api, digests
from nzr_newsletter.bootstrap import Dependencies
from nzr_newsletter.delivery import Sender
from nzr_newsletter.handlers import build_handlers
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.sink import MailSink
from nzr_newsletter.tables import Base, messaging

log = logging.getLogger(__name__)


def create_app(settings: NewsletterSettings | None = None) -> FastAPI:
    settings = settings or NewsletterSettings()
    deps = Dependencies.from_settings(settings)
    eraser = MessagingEraser(messaging, producer="newsletter")

    async def start_sending(runtime: Runtime) -> None:
        deps.region, deps.outbox = runtime.region, runtime.outbox
        if settings.uses_sink:
            deps.sink = await MailSink(settings.smtp_sink_dir, settings.smtp_sink_port).start()
            deps.smtp_host, deps.smtp_port = "127.0.0.1", deps.sink.port
            log.info(
                "development mail sink on port %d writes to %s",
                deps.sink.port,
                settings.smtp_sink_dir.resolve(),
            )
        sender = Sender(deps, runtime.sessions, lease_seconds=settings.sender_lease_seconds)
        app.state.sender = sender
        runtime.tasks.append(asyncio.create_task(sender.run(), name="newsletter sender"))
        runtime.tasks.append(
            asyncio.create_task(_digest_schedule(runtime, sender), name="newsletter digests")
        )

    async def _digest_schedule(runtime: Runtime, sender: Sender) -> None:
        try:
            while True:
                await asyncio.sleep(settings.digest_check_seconds)
                if sender.lease_until is None:
                    continue
                try:
                    async with runtime.sessions() as session:
                        await digests.run_digests(session=session, deps=deps)
                except Exception:
                    log.exception("digest run failed; trying again at the next check")
        finally:
            if deps.sink is not None:
                with contextlib.suppress(Exception):
                    await deps.sink.stop()

    definition = ServiceDefinition(
        name="newsletter",
        title="NZR newsletter",
        description="Consent-based lists (double opt-in), campaigns and reliable SMTP delivery.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.router],
        handlers=build_handlers(deps, eraser),
        publishes=[
            SubscriptionRequested,
            SubscriptionConfirmed,
            Unsubscribed,
            ListReachChanged,
            CampaignSent,
        ],
        on_startup=[start_sending, eraser.attach],
    )
    app = create_service_app(definition, settings)
    app.state.newsletter = deps
    return app
