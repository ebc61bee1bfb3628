"""GDPR across services: one person is a contact person in actors, a registrant in events and a
subscriber in newsletter. The Art. 15 exports of the three services together hold everything
stored about them; after the Art. 17 erasure in actors, nothing of the address or the name is
left in any table of the five services' databases or in any message of any JetStream stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import nats
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import RegistrationConfirmed
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.testing.services import RunningService, running_service
from nzr_common.testing.waiting import eventually
from nzr_events.app import create_app as create_events
from nzr_events.settings import EventsSettings
from nzr_funding.app import create_app as create_funding
from nzr_funding.settings import FundingSettings
from nzr_newsletter.app import create_app as create_newsletter
from nzr_newsletter.settings import NewsletterSettings
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

CHEMNITZ = "14511000"
ERASURE_DEADLINE_SECONDS = 5.0  # the bound, not a performance figure
NEWSLETTER = "/api/v1/newsletter"
# Tables that hold copies for delivery only (outbox until a day after sending, dead letters until
# an operator acts); the exports cover the data itself.
PLUMBING_TABLES = {"outbox", "dead_letters"}


@dataclass
class MailCatcher:
    """A real SMTP server that keeps what it is given (the newsletter's confirmation mails)."""

    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def confirmation_token(self, address: str) -> str | None:
        for raw in self.messages:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if address not in str(message["To"]).lower():
                continue
            body = message.get_body(preferencelist=("plain",))
            found = re.search(r"/confirm\?token=(\S+)", body.get_content() if body else "")
            if found:
                return unquote(found.group(1))
        return None


@dataclass
class Platform:
    region: str
    services: dict[str, RunningService]
    database_urls: dict[str, str]
    nats: NatsServerProcess
    mail: MailCatcher

    @property
    def nats_url(self) -> str:
        return self.nats.url


@pytest.fixture
async def platform(databases) -> AsyncIterator[Platform]:  # type: ignore[no-untyped-def]
    """All five services of one region, each with its real runtime and database, on a NATS
    server of their own (so that its JetStream store on disk can be searched too)."""
    server = NatsServerProcess().start()
    nats_url = server.url
    region = f"g{uuid.uuid4().hex[:8]}"
    mail = MailCatcher()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTPServer(mail, hostname="sink"), host="127.0.0.1", port=0)
    smtp_port = smtp.sockets[0].getsockname()[1]
    urls = {
        name: await databases.new(name) for name in ("actors", "events", "newsletter", "funding", "reporting")
    }
    common = {"region": region, "nats_url": nats_url, "relay_poll_seconds": 0.02}
    plans = {
        "actors": (create_actors, ActorsSettings, {}),
        "events": (create_events, EventsSettings, {}),
        "newsletter": (
            create_newsletter,
            NewsletterSettings,
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "delivery_poll_seconds": 0.05,
                "sender": "Netzwerk <newsletter@nzr.example>",
                "public_base_url": "https://nzr.example",
            },
        ),
        "funding": (
            create_funding,
            FundingSettings,
            {"catalogue_region": f"{region}-state", "deadline_watch_first_seconds": 3600},
        ),
        "reporting": (create_reporting, ReportingSettings, {}),
    }
    async with contextlib.AsyncExitStack() as stack:
        services = {}
        for name, (create, settings_class, extra) in plans.items():
            settings = settings_class(database_url=urls[name], **common, **extra)
            services[name] = await stack.enter_async_context(running_service(create, settings, f"nzr_{name}"))
        yield Platform(region, services, urls, server, mail)
    smtp.close()
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


# --- scanning every database and every stream ---------------------------------------------------


class DatabaseScan:
    """Reads every row of every table of the services' databases (no service code involved)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.engines: dict[str, AsyncEngine] = {name: create_async_engine(url) for name, url in urls.items()}
        self.schemas: dict[str, MetaData] = {}  # every table, reflected once the services have migrated

    async def find(self, *needles: str) -> set[tuple[str, str]]:
        """(service, table) of every table where a row contains one of ``needles`` (any column)."""
        wanted = [n.lower() for n in needles]
        found = set()
        for service, engine in self.engines.items():
            async with engine.connect() as connection:
                if service not in self.schemas:
                    self.schemas[service] = MetaData()
                    await connection.run_sync(self.schemas[service].reflect)
                for table in self.schemas[service].sorted_tables:
                    for row in await connection.execute(select(table)):
                        text = " ".join(_as_text(value) for value in row).lower()
                        if any(n in text for n in wanted):
                            found.add((service, table.name))
                            break
        return found

    async def close(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()


def _as_text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def streams_containing(nats_url: str, *needles: str) -> dict[str, int]:
    """Stream name → number of stored messages whose raw bytes (payload or headers) contain one
    of ``needles``, over every stream on the server."""
    wanted = [n.lower().encode() for n in needles]
    connection = await nats.connect(nats_url)
    found: dict[str, int] = {}
    try:
        js = connection.jetstream()
        for info in await js.streams_info():
            name = info.config.name
            if not info.state.messages:
                continue
            config = ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.ALL,
                mem_storage=True,
                inactive_threshold=30,
            )
            pull = await js.pull_subscribe(">", stream=name, config=config)
            try:
                remaining = (await pull.consumer_info()).num_pending
                while remaining > 0:
                    for message in await pull.fetch(batch=min(remaining, 1000), timeout=5):
                        remaining -= 1
                        raw = (message.data + json.dumps(message.headers or {}).encode()).lower()
                        if any(n in raw for n in wanted):
                            found[name] = found.get(name, 0) + 1
            finally:
                await pull.unsubscribe()
    finally:
        await connection.close()
    return found


def store_files_containing(folder: Path, *needles: str) -> list[str]:
    """Files of the JetStream store on disk whose bytes contain one of ``needles``."""
    wanted = [n.encode() for n in needles]
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and any(n in path.read_bytes() for n in wanted)
    )


# --- the flow ----------------------------------------------------------------------------------


async def test_erasing_a_person_leaves_no_trace_in_any_database_or_stream(platform, token_for):
    region = platform.region
    actors, events, newsletter = (platform.services[n].client for n in ("actors", "events", "newsletter"))
    admin, editor = token_for("admin", region=region), token_for("editor", region=region)
    token = uuid.uuid4().hex[:8]
    email = f"wiebke.quast.{token}@example.org"
    name = f"Wiebke Quast{token}"

    # actors: a contact person with the consent she gave
    actor = await actors.post(
        "/api/v1/actors",
        json={
            "name": f"Solarverein {token}",
            "kind": "verein",
            "sector": "zivilgesellschaft",
            "district": CHEMNITZ,
        },
        headers=editor,
    )
    assert actor.status_code == 201, actor.text
    contact = await actors.post(
        f"/api/v1/actors/{actor.json()['id']}/contacts",
        json={
            "name": name,
            "email": email,
            "role": "Vorstand",
            "consent_purpose": "Kontakt im Netzwerk",
            "consent_source": "Anmeldeformular",
        },
        headers=admin,
    )
    assert contact.status_code == 201, contact.text

    # events: she registers for a gathering and agrees to join the mailing list
    created = await events.post(
        "/api/v1/events",
        json={
            "format": "workshop",
            "title": f"Werkstatt Wärmeplanung {token}",
            "starts_at": "2031-03-10T10:00:00",
            "ends_at": "2031-03-10T16:00:00",
            "district": CHEMNITZ,
            "capacity": 20,
        },
        headers=editor,
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    assert (await events.post(f"/api/v1/events/{event_id}/publish", headers=editor)).status_code == 200
    registered = await events.post(
        f"/api/v1/events/{event_id}/registrations",
        json={
            "name": name,
            "email": email,
            "data_use_consent": True,
            "newsletter_consent": True,
            "accessibility_needs": "Rollstuhl",
        },
    )
    assert registered.status_code == 202, registered.text

    # newsletter: she also signs up on a list through the form and confirms by the mail's link
    listed = await newsletter.post(f"{NEWSLETTER}/lists", json={"name": f"Energie {token}"}, headers=editor)
    assert listed.status_code == 201, listed.text
    signed_up = await newsletter.post(
        f"{NEWSLETTER}/subscriptions",
        json={
            "email": email,
            "name": name,
            "list_ids": [listed.json()["id"]],
            "consent_text_version": "2026-01",
        },
    )
    assert signed_up.status_code == 202, signed_up.text
    confirm = await eventually(lambda: platform.mail.confirmation_token(email), what="the confirmation mail")
    assert (await newsletter.post(f"{NEWSLETTER}/confirm", params={"token": confirm})).status_code == 200

    # a malformed message naming her, dead-lettered by the newsletter's consumer
    poison = Envelope.wrap(
        RegistrationConfirmed(
            registration_id=str(uuid.uuid4()),
            event_id=event_id,
            name=name,
            email=email,
            confirmed_at="2031-03-01T10:00:00Z",
        ),
        region=region,
        service="events",
    ).model_dump(mode="json")
    del poison["data"]["confirmed_at"]
    await _publish_raw(platform.nats_url, f"nzr.{region}.priv.events.registration_confirmed.v1", poison)

    async def newsletter_export() -> dict:
        response = await newsletter.post(
            f"{NEWSLETTER}/subscribers/export", json={"email": email}, headers=admin
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def subscribed_twice_and_dead_lettered() -> bool:
        export = await newsletter_export()
        subscriptions = (export["subscriber"] or {}).get("subscriptions", [])
        letters = await newsletter.get("/api/v1/admin/newsletter/dead-letters", headers=admin)
        return len(subscriptions) == 2 and letters.json()["total"] == 1

    await eventually(
        subscribed_twice_and_dead_lettered, what="the registration's consent and the dead letter"
    )

    async def exports() -> dict[str, dict]:
        """Art. 15: what each service holds about the person with this address."""
        return {
            "actors": (
                await actors.post("/api/v1/persons/export", json={"email": email}, headers=admin)
            ).json(),
            "events": (
                await events.post("/api/v1/registrations/export", json={"email": email}, headers=admin)
            ).json(),
            "newsletter": await newsletter_export(),
        }

    # Art. 15: the three exports together hold everything the databases hold about her
    held = await exports()
    assert [(c["name"], c["email"], c["consent_purpose"]) for c in held["actors"]["contacts"]] == [
        (name, email, "Kontakt im Netzwerk")
    ]
    [registration] = held["events"]["registrations"]
    assert (registration["name"], registration["email"], registration["event_id"]) == (name, email, event_id)
    assert registration["newsletter_consent"] and registration["accessibility_needs"] == "Rollstuhl"
    subscriber = held["newsletter"]["subscriber"]
    assert (subscriber["email"], subscriber["name"]) == (email, name)
    assert {s["source"] for s in subscriber["subscriptions"]} == {"form", "event_registration"}
    # the double opt-in link and the registration's own mail (newsletter sends it for events)
    assert {m["purpose"] for m in held["newsletter"]["mails"]} == {"confirm", "registration"}
    assert held["actors"]["person_id"] == held["events"]["person_id"] == held["newsletter"]["person_id"]
    # Every table holding the address is one an export covers (a new one fails here until its
    # service's export covers it too).
    exported_tables = {
        ("actors", "contacts"),  # "contacts"
        ("events", "registrations"),  # "registrations"
        ("newsletter", "subscribers"),  # "subscriber" (with its subscriptions, kept by id)
        ("newsletter", "mail_queue"),  # "mails"
    }
    scan = DatabaseScan(platform.database_urls)
    try:
        before = await scan.find(email)
        assert {t for t in before if t[1] not in PLUMBING_TABLES} == exported_tables, before
        assert ("newsletter", "dead_letters") in before and ("events", "outbox") in before
        assert await streams_containing(platform.nats_url, email), "the stream holds the events before"
        assert store_files_containing(platform.nats.workdir, email), "and so does the store on disk"

        # Art. 17
        erased = await actors.post("/api/v1/persons/erase", json={"email": email}, headers=admin)
        assert erased.status_code == 200, erased.text
        assert erased.json()["erased_contacts"] == 1

        async def held_by_services() -> dict:
            """What the three services still hand out about her, and what the streams hold."""
            left: dict[str, object] = {}
            for service, export in (await exports()).items():
                if export.get("contacts") or export.get("registrations") or export.get("subscriber"):
                    left[service] = export
                if export.get("mails"):
                    left[f"{service} mails"] = export["mails"]
            if streams := await streams_containing(platform.nats_url, email, name):
                left["streams"] = streams
            return left

        # Every service has done its part within the 5 s (handlers commit after deleting
        # their stream messages, so an empty export means the stream work is done too).
        started = asyncio.get_running_loop().time()
        while (
            await held_by_services()
            and asyncio.get_running_loop().time() < started + ERASURE_DEADLINE_SECONDS
        ):
            await asyncio.sleep(0.05)
        assert await held_by_services() == {}
        print(
            f"erased everywhere {asyncio.get_running_loop().time() - started:.2f}s after the request returned"
        )

        # Then the full search: every row of every table of the five databases, every message of
        # every stream, every file of the JetStream store on disk; for the address and the name.
        assert await scan.find(email, name) == set()
        assert await streams_containing(platform.nats_url, email, name) == {}
        assert store_files_containing(platform.nats.workdir, email, name) == []
    finally:
        await scan.close()

    # the facts stay without the person: her seat stays taken, the registration is anonymous
    shown = (await events.get(f"/api/v1/events/{event_id}", headers=editor)).json()
    assert shown["confirmed_count"] == 1
    [anonymised] = (await events.get(f"/api/v1/events/{event_id}/registrations", headers=admin)).json()[
        "items"
    ]
    assert anonymised["name"] == "[gelöscht]" and anonymised["email"].endswith("@invalid")


async def _publish_raw(nats_url: str, subject: str, document: dict) -> None:
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().publish(subject, json.dumps(document).encode())
    finally:
        await connection.close()
