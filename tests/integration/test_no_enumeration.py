"""No enumeration, tried from outside: events and newsletter running together with a real SMTP
server. A stranger who registers or subscribes an address, or asks for its links, gets the same
answer whether the address is known or not; the owner of the address finds a mail instead."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service
from nzr_common.testing.waiting import eventually
from nzr_events.app import create_app as create_events
from nzr_events.settings import EventsSettings
from nzr_newsletter.app import create_app as create_newsletter
from nzr_newsletter.settings import NewsletterSettings

NEWSLETTER = "/api/v1/newsletter"


@dataclass
class Mailbox:
    """A real SMTP server keeping what it accepts, parsed with the ``email`` package."""

    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        raw = envelope.original_content or envelope.content
        self.received.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if str(m["To"]).lower() == address]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    return next(word for word in text_of(message).split() if path in word)


@dataclass
class Region:
    events: httpx.AsyncClient
    newsletter: httpx.AsyncClient
    mailbox: Mailbox
    editor: dict[str, str]


@pytest.fixture
async def region(nats_url, databases) -> AsyncIterator[Region]:  # type: ignore[no-untyped-def]
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTPServer(mailbox, hostname="sink"), host="127.0.0.1", port=0)
    name = f"x{uuid.uuid4().hex[:8]}"
    common = {"region": name, "nats_url": nats_url, "relay_poll_seconds": 0.02}
    events_settings = EventsSettings(
        database_url=await databases.new("events"), public_base_url="https://events.example", **common
    )
    newsletter_settings = NewsletterSettings(
        database_url=await databases.new("newsletter"),
        smtp_host="127.0.0.1",
        smtp_port=smtp.sockets[0].getsockname()[1],
        delivery_poll_seconds=0.05,
        sender="Netzwerk <newsletter@nzr.example>",
        public_base_url="https://nzr.example",
        **common,
    )
    async with contextlib.AsyncExitStack() as stack:
        events = await stack.enter_async_context(
            running_service(create_events, events_settings, "nzr_events")
        )
        newsletter = await stack.enter_async_context(
            running_service(create_newsletter, newsletter_settings, "nzr_newsletter")
        )
        token = issue_token(DEVELOPMENT_SECRET, region=name, roles=["editor"], subject="organiser")
        yield Region(events.client, newsletter.client, mailbox, {"Authorization": f"Bearer {token}"})
    smtp.close()


async def published_event(region: Region) -> str:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    body = {
        "format": "workshop",
        "title": "Werkstatt Wärmeplanung",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=4)).isoformat(),
        "venue_name": "Bürgerhaus",
        "capacity": 10,
    }
    created = await region.events.post("/api/v1/events", json=body, headers=region.editor)
    event_id = str(created.json()["id"])
    await region.events.post(f"/api/v1/events/{event_id}/publish", headers=region.editor)
    return event_id


def same_answer(*answers: httpx.Response) -> None:
    first = answers[0]
    for answer in answers[1:]:
        assert (answer.status_code, answer.text) == (first.status_code, first.text)
        assert answer.headers.keys() == first.headers.keys()
    assert "location" not in first.headers


async def test_a_stranger_cannot_tell_a_registered_address_and_its_owner_gets_the_link(region):
    event_id = await published_event(region)
    url = f"/api/v1/events/{event_id}/registrations"
    person = {"name": "Ida Beispiel", "email": "ida@example.org", "data_use_consent": True}
    first = await region.events.post(url, json=person)
    again = await region.events.post(url, json={**person, "name": "Ein Fremder"})
    unknown = await region.events.post(url, json={**person, "email": "neu@example.org"})
    same_answer(first, again, unknown)
    asked = await region.events.post("/api/v1/registrations/links", json={"email": "ida@example.org"})
    nobody = await region.events.post("/api/v1/registrations/links", json={"email": "niemand@example.org"})
    same_answer(asked, nobody)

    await eventually(lambda: len(region.mailbox.to("ida@example.org")) == 3, within=30)
    # several SMTP connections send at once: the order of arrival is not the order of sending
    mails = {str(m["Subject"]): m for m in region.mailbox.to("ida@example.org")}
    confirmed = mails["Anmeldung bestätigt: Werkstatt Wärmeplanung"]
    already = mails["Sie sind bereits angemeldet: Werkstatt Wärmeplanung"]
    assert "Ihre Anmeldungen und Links" in mails
    assert "hier ist Ihr Link zum Ändern oder Abmelden" in text_of(already)
    assert "Ein Fremder" not in text_of(already) and text_of(already).startswith("Hallo Ida Beispiel,")
    assert region.mailbox.to("niemand@example.org") == []
    cancel = link_in(already, "/registrations/manage?token=")
    assert cancel == link_in(confirmed, "/registrations/manage?token=")
    assert cancel.startswith("https://events.example/")
    cancelled = await region.events.post("/api/v1/registrations/cancel?" + cancel.partition("?")[2])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


async def test_the_mail_is_english_when_the_registration_asked_for_it(region):
    event_id = await published_event(region)
    english = {"Accept-Language": "en-US,en;q=0.9"}
    person = {"name": "Sam Example", "email": "sam@example.org", "data_use_consent": True}
    for _ in range(2):
        answer = await region.events.post(
            f"/api/v1/events/{event_id}/registrations", json=person, headers=english
        )
        assert answer.status_code == 202 and answer.json()["detail"].startswith("Thank you")
    await eventually(lambda: len(region.mailbox.to("sam@example.org")) == 2, within=30)
    subjects = sorted(str(m["Subject"]) for m in region.mailbox.to("sam@example.org"))
    assert subjects == [
        "Registration confirmed: Werkstatt Wärmeplanung",
        "You are already registered: Werkstatt Wärmeplanung",
    ]


async def test_a_stranger_cannot_tell_a_subscribed_address_and_its_owner_gets_the_link(region):
    listed = await region.newsletter.post(
        f"{NEWSLETTER}/lists", json={"name": "Energie"}, headers=region.editor
    )
    sign_up = {"email": "lena@example.org", "list_ids": [listed.json()["id"]], "consent_text_version": "v1"}
    first = await region.newsletter.post(f"{NEWSLETTER}/subscriptions", json=sign_up)
    await eventually(lambda: region.mailbox.to("lena@example.org"), within=30)
    confirm = link_in(region.mailbox.to("lena@example.org")[0], "/confirm?token=")
    assert (
        await region.newsletter.post(f"{NEWSLETTER}/confirm?" + confirm.partition("?")[2])
    ).status_code == 200
    again = await region.newsletter.post(f"{NEWSLETTER}/subscriptions", json=sign_up)
    unknown = await region.newsletter.post(
        f"{NEWSLETTER}/subscriptions", json={**sign_up, "email": "neu@example.org"}
    )
    same_answer(first, again, unknown)
    await eventually(lambda: len(region.mailbox.to("lena@example.org")) == 2, within=30)
    already = region.mailbox.to("lena@example.org")[1]
    assert str(already["Subject"]) == "Sie sind bereits angemeldet"
    preferences = link_in(already, "/preferences?token=")
    shown = await region.newsletter.get(f"{NEWSLETTER}/preferences?" + preferences.partition("?")[2])
    assert shown.json()["subscriptions"][0]["status"] == "confirmed"
