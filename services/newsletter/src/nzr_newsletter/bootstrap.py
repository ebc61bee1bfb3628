"""The live dependencies of the newsletter's own code (tokens, links, wake-ups, SMTP target),
built once at start-up and reachable from routes, event handlers and the sender."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from nzr_common.outbox import Outbox
from nzr_common.regions import Region
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.tokens import Purpose, Tokens

if TYPE_CHECKING:
    from nzr_newsletter.sink import MailSink

API = "/api/v1/newsletter"


@dataclass
class Links:
    base_url: str

    def confirm(self, token: str) -> str:
        return f"{self.base_url}{API}/confirm?token={quote(token)}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}{API}/unsubscribe?token={quote(token)}"

    def preferences(self, token: str) -> str:
        return f"{self.base_url}{API}/preferences?token={quote(token)}"


@dataclass
class Dependencies:
    settings: NewsletterSettings
    tokens: Tokens
    links: Links
    region: Region | None = None
    outbox: Outbox | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    sink: MailSink | None = None
    mail_pending: asyncio.Event = field(default_factory=asyncio.Event)
    campaigns_pending: asyncio.Event = field(default_factory=asyncio.Event)
    template_workers: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    @classmethod
    def from_settings(cls, settings: NewsletterSettings) -> Dependencies:
        tokens = Tokens(
            settings.signing_secret(),
            max_age_days={
                Purpose.CONFIRM: settings.confirm_token_days,
                Purpose.UNSUBSCRIBE: settings.unsubscribe_token_days,
                Purpose.PREFERENCES: settings.preferences_token_days,
            },
        )
        return cls(
            settings=settings,
            tokens=tokens,
            links=Links(settings.public_base_url.rstrip("/")),
            smtp_host=settings.smtp_host or "127.0.0.1",
            smtp_port=settings.smtp_port,
            template_workers=asyncio.Semaphore(max(settings.template_workers, 1)),
        )

    def unsubscribe_url(self, subscriber_id: str, list_id: str, campaign_id: str | None) -> str:
        return self.links.unsubscribe(
            self.tokens.issue(Purpose.UNSUBSCRIBE, {"s": subscriber_id, "l": list_id, "c": campaign_id})
        )

    def preferences_url(self, subscriber_id: str) -> str:
        return self.links.preferences(self.tokens.issue(Purpose.PREFERENCES, {"s": subscriber_id}))
