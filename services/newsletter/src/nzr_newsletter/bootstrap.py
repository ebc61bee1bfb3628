"""The newsletter service's dependencies (tokens, links, wake-ups, SMTP target, eraser), built
once at start-up from the runtime and reachable from routes, event handlers and the loops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.erasure import MessagingEraser
from nzr_common.outbox import Outbox
from nzr_common.regions import Region
from nzr_common.runtime import Runtime, deps_of
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.sink import MailSink
from nzr_newsletter.tokens import Purpose, Tokens

API = "/api/v1/newsletter"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Links:
    base_url: str

    def confirm(self, token: str) -> str:
        return f"{self.base_url}{API}/confirm?token={quote(token)}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}{API}/unsubscribe?token={quote(token)}"

    def preferences(self, token: str) -> str:
        return f"{self.base_url}{API}/preferences?token={quote(token)}"

    def open_pixel(self, campaign_id: str) -> str:
        return f"{self.base_url}{API}/t/{quote(campaign_id)}/open.gif"

    def click(self, campaign_id: str, index: int) -> str:
        return f"{self.base_url}{API}/t/{quote(campaign_id)}/links/{index}"


@dataclass
class SenderLease:
    """Until when this process holds the sending lease (``None``: another process sends); the
    sender writes it, the digest schedule reads it."""

    until: datetime | None = None


@dataclass(frozen=True)
class Deps:
    """Everything the routes, handlers and loops of the newsletter service use, typed."""

    settings: NewsletterSettings
    region: Region
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    eraser: MessagingEraser
    tokens: Tokens
    links: Links
    #: The development mail sink whose folder the development mail pages show: run by the
    #: service (without SMTP_HOST; started at start-up) or by a process of its own (SMTP_IS_SINK).
    sink: MailSink | None = None
    mail_pending: asyncio.Event = field(default_factory=asyncio.Event)
    campaigns_pending: asyncio.Event = field(default_factory=asyncio.Event)
    template_workers: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    lease: SenderLease = field(default_factory=SenderLease)
    clock: Callable[[], datetime] = _now

    @property
    def smtp_host(self) -> str:
        return "127.0.0.1" if self.runs_sink else self.settings.smtp_host or "127.0.0.1"

    @property
    def smtp_port(self) -> int:
        return self.sink.port if self.sink is not None and self.runs_sink else self.settings.smtp_port

    @property
    def runs_sink(self) -> bool:
        """The development sink runs in this process (no SMTP_HOST)."""
        return self.sink is not None and self.settings.uses_sink

    def unsubscribe_url(self, subscriber_id: str, list_id: str, campaign_id: str | None) -> str:
        return self.links.unsubscribe(
            self.tokens.issue(Purpose.UNSUBSCRIBE, {"s": subscriber_id, "l": list_id, "c": campaign_id})
        )

    def preferences_url(self, subscriber_id: str) -> str:
        return self.links.preferences(self.tokens.issue(Purpose.PREFERENCES, {"s": subscriber_id}))


def tokens_of(settings: NewsletterSettings) -> Tokens:
    """The signed link tokens with the lifetimes the settings give each purpose."""
    return Tokens(
        settings.signing_secret(),
        max_age_days={
            Purpose.CONFIRM: settings.confirm_token_days,
            Purpose.UNSUBSCRIBE: settings.unsubscribe_token_days,
            Purpose.PREFERENCES: settings.preferences_token_days,
        },
    )


def bootstrap(runtime: Runtime[NewsletterSettings]) -> Deps:
    """Build the deps of one newsletter process (called once by ``create_service_app``)."""
    settings = runtime.settings
    return Deps(
        settings=settings,
        region=runtime.region,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        eraser=MessagingEraser(runtime.tables, producer="newsletter", broker=runtime.broker),
        tokens=tokens_of(settings),
        links=Links(settings.public_base_url.rstrip("/")),
        sink=MailSink(settings.smtp_sink_dir, settings.smtp_sink_port) if settings.shows_sink else None,
        template_workers=asyncio.Semaphore(max(settings.template_workers, 1)),
    )


#: The deps in a route: ``async def route(deps: DepsDep) -> ...``.
DepsDep = Annotated[Deps, Depends(deps_of(Deps))]
