"""Fixtures of the newsletter tests: a recording SMTP server (aiosmtpd), the service running
in-process against real NATS, a real database and that SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import nats
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer

from nzr_common.contracts.base import Envelope, IntegrationEvent
from nzr_common.testing.services import running_service
from nzr_newsletter.app import create_app
from nzr_newsletter.settings import NewsletterSettings


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.text())

    def token(self, path: str) -> str:
        link = next(link for link in self.links() if path in link)
        return parse_qs(urlparse(link).query)["token"][0]


@dataclass
class RecordingSink:
    """An SMTP server that keeps every accepted message and can misbehave on request."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address → reply to RCPT, e.g. "550 ..."
    drop_mid_data: set[str] = field(default_factory=set)  # address → close the connection once
    port: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        reply = self.refuse.get(address)
        if reply is not None:
            if reply.startswith("4"):
                self.refuse.pop(address)  # temporary: the next attempt gets through
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if any(r in self.drop_mid_data for r in envelope.rcpt_tos):
            self.drop_mid_data -= set(envelope.rcpt_tos)
            server.transport.close()  # gone before the 250: the mail was never accepted
            return "421 closing"
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content
            )
        )
        self.arrived.set()
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    def count_by_recipient(self) -> Counter[str]:
        return Counter(r for item in self.received for r in item.recipients)

    async def wait_for(self, predicate, within: float = 60.0) -> None:  # type: ignore[no-untyped-def]
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; the sink holds {len(self.received)} messages")
            await asyncio.sleep(0.02)


@pytest.fixture
async def sink():
    recording = RecordingSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTPServer(recording, hostname="test-sink"), host="127.0.0.1", port=0
    )
    recording.port = server.sockets[0].getsockname()[1]
    yield recording
    server.close()


def region_id() -> str:
    return f"n{uuid.uuid4().hex[:10]}"


@dataclass
class Newsletter:
    client: object
    settings: NewsletterSettings
    app: object

    @property
    def deps(self):  # type: ignore[no-untyped-def]
        return self.app.state.deps  # type: ignore[attr-defined]


def newsletter_settings(**overrides) -> NewsletterSettings:  # type: ignore[no-untyped-def]
    values = {
        "region": region_id(),
        "smtp_host": "127.0.0.1",
        "retry_base_seconds": 0.1,
        "delivery_poll_seconds": 0.05,
        "confirm_resend_seconds": 300,
        "sender_lease_seconds": 2.0,
        "sender": "Netzwerk Test <newsletter@nzr.example>",
        "public_base_url": "https://nzr.example",
    }
    return NewsletterSettings(**{**values, **overrides})


@pytest.fixture
async def start_newsletter(nats_url, databases, sink):  # type: ignore[no-untyped-def]
    """Start the service with settings overrides: ``await start_newsletter(rate_per_second=5)``."""
    stack = []

    async def start(**overrides) -> Newsletter:  # type: ignore[no-untyped-def]
        settings = newsletter_settings(
            nats_url=nats_url,
            database_url=await databases.new("newsletter"),
            **{"smtp_port": sink.port, **overrides},
        )
        context = running_service(create_app, settings, "nzr_newsletter")
        running = await context.__aenter__()
        stack.append(context)
        return Newsletter(running.client, settings, running.app)

    yield start
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


@pytest.fixture
async def newsletter(start_newsletter):  # type: ignore[no-untyped-def]
    return await start_newsletter()


@pytest.fixture
async def publish(nats_url):  # type: ignore[no-untyped-def]
    """Publish an integration event into a region's stream as another service would."""
    connection = await nats.connect(nats_url)
    js = connection.jetstream()

    async def send(event: IntegrationEvent, *, region: str, service: str = "events") -> None:
        envelope = Envelope.wrap(event, region=region, service=service)
        for _ in range(100):
            try:
                await js.publish(
                    envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
                )
                return
            except Exception:  # the service has not declared the stream yet
                await asyncio.sleep(0.05)
        raise AssertionError("could not publish")

    yield send
    await connection.close()
