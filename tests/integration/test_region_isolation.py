"""The region boundary, enforced by NATS (accounts, credentials, mutual TLS), tried the way an
attacker with a plain NATS client would: real nats-server processes for the hub and two leaf
regions, the real services for a whole flow with personal data (DESIGN §2, issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import nats
import pytest

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.auth import issue_token
from nzr_common.connection import NatsConnection, NotConnected
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service
from nzr_common.testing.topology import LocalTopology, Server, free_port
from nzr_common.testing.waiting import eventually
from nzr_common.topology import (
    AGGREGATE_STREAM,
    CLIENT_USER,
    STATE,
    RegionNode,
    leaf_config,
    provision_region,
)
from nzr_common.topology_secrets import CertificateAuthority, UserNkey
from nzr_events.app import create_app as create_events
from nzr_events.settings import EventsSettings
from nzr_newsletter.app import create_app as create_newsletter
from nzr_newsletter.settings import NewsletterSettings
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

REGIONS = ["leipzig", "erzgebirge"]
REGION, OTHER = REGIONS


@pytest.fixture
async def topology():
    running = await LocalTopology(list(REGIONS)).start()
    yield running
    await running.stop()


def bearer(region: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=region, roles=list(roles))}


def login(topology: LocalTopology, node: str, user: str = "nzr") -> str:
    """URL of ``node`` for the services' user, or for ``sys`` (the system account)."""
    if user == "nzr":
        return topology.url(node)
    return topology.url(node, credentials=False).replace(
        "nats://", f"nats://sys:{topology.secrets.sys_password}@"
    )


@dataclass
class Watcher:
    """Passive subscribers on ``>``, ``_INBOX.>`` and ``$JS.>`` of one account: what they see."""

    label: str
    url: str
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    async def __aenter__(self) -> Watcher:
        self.connection = await nats.connect(self.url)
        for subject in (">", "_INBOX.>", "$JS.>"):

            async def record(message, subject=subject) -> None:  # type: ignore[no-untyped-def]
                headers = json.dumps(message.headers or {}).encode()
                self.seen.append((message.subject, message.data + b"\n" + headers))

            await self.connection.subscribe(subject, cb=record)
        await self.connection.flush()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.connection.close()

    def private(self, secrets: list[str]) -> list[str]:
        """Messages that are region-private: a private subject or any personal datum in them."""
        return [
            subject
            for subject, payload in self.seen
            if f".{REGION}.priv." in subject or any(secret.encode() in payload for secret in secrets)
        ]


async def stream_bytes(url: str) -> tuple[int, bytes]:
    """Every message (headers and data) of every stream on the server, concatenated."""
    connection = await nats.connect(url)
    chunks: list[bytes] = []
    count = 0
    try:
        js = connection.jetstream()
        for info in await js.streams_info():
            if not info.state.messages:
                continue
            sub = await js.subscribe(">", stream=info.config.name, ordered_consumer=True)
            try:
                for _ in range(info.state.messages):
                    message = await sub.next_msg(timeout=5)
                    chunks += [message.data, json.dumps(message.headers or {}).encode()]
                    count += 1
            finally:
                await sub.unsubscribe()
    finally:
        await connection.close()
    return count, b"\n".join(chunks)


async def shareable_counts(url: str, stream: str) -> int:
    connection = await nats.connect(url)
    try:
        info = await connection.jetstream().stream_info(stream, subjects_filter=f"nzr.{REGION}.pub.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await connection.close()


async def full_flow(topology: LocalTopology, databases, person: str, emails: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Contacts, a newsletter subscription and an event registration in Leipzig, with the state's
    reporting reading the hub's aggregate; returns once the hub has Leipzig's shareable events."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(create, settings_class, package, name, **extra):  # type: ignore[no-untyped-def]
            settings = settings_class(
                region=REGION, nats_url=topology.url(REGION), database_url=await databases.new(name), **extra
            )
            return (await stack.enter_async_context(running_service(create, settings, package))).client

        actors = await start(create_actors, ActorsSettings, "nzr_actors", "actors")
        events = await start(create_events, EventsSettings, "nzr_events", "events")
        newsletter = await start(create_newsletter, NewsletterSettings, "nzr_newsletter", "newsletter")
        # The state's reporting logs in through the settings (NATS_USER / NATS_PASSWORD).
        state = ReportingSettings(
            region=STATE,
            mode="state",
            nats_url=topology.url(STATE, credentials=False),
            nats_user="nzr",
            nats_password=topology.secrets.client_password(STATE),
            consumer_stream=AGGREGATE_STREAM,
            database_url=await databases.new("reporting_state"),
        )
        reporting = (
            await stack.enter_async_context(running_service(create_reporting, state, "nzr_reporting"))
        ).client

        actor = await actors.post(
            "/api/v1/actors?confirm_duplicates=true",
            headers=bearer(REGION, "editor"),
            json={
                "name": "Umweltbildung Leipzig e.V.",
                "kind": "verein",
                "sector": "zivilgesellschaft",
                "district": "14713000",
                "topics": ["bne"],
            },
        )
        assert actor.status_code == 201, actor.text
        contact = await actors.post(
            f"/api/v1/actors/{actor.json()['id']}/contacts",
            headers=bearer(REGION, "admin"),
            json={
                "name": person,
                "email": emails[0],
                "role": "Vorstand",
                "consent_purpose": "Kontakt im Netzwerk",
                "consent_source": "Gespräch",
            },
        )
        assert contact.status_code == 201, contact.text
        listing = await newsletter.post(
            "/api/v1/newsletter/lists",
            headers=bearer(REGION, "editor"),
            json={"name": "Netzwerk-Newsletter Leipzig", "registration_default": True},
        )
        assert listing.status_code == 201, listing.text
        subscribed = await newsletter.post(
            "/api/v1/newsletter/subscriptions",
            json={
                "email": emails[2],
                "name": person,
                "list_ids": [listing.json()["id"]],
                "consent_text_version": "2026-01",
            },
        )
        assert subscribed.status_code == 202, subscribed.text
        starts = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) + timedelta(days=20)
        event = await events.post(
            "/api/v1/events",
            headers=bearer(REGION, "editor"),
            json={
                "format": "workshop",
                "title": "Werkstatt Bildung für nachhaltige Entwicklung",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=4)).isoformat(),
                "district": "14713000",
                "topics": ["bne"],
                "capacity": 30,
            },
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]
        published = await events.post(f"/api/v1/events/{event_id}/publish", headers=bearer(REGION, "editor"))
        assert published.status_code == 200, published.text
        registration = await events.post(
            f"/api/v1/events/{event_id}/registrations",
            json={"name": person, "email": emails[1], "data_use_consent": True, "newsletter_consent": True},
        )
        assert registration.status_code == 202, registration.text

        async def hub_has_the_shareable_events() -> bool:
            report = (
                await reporting.get("/api/v1/reports/indicators", headers=bearer(STATE, "state"))
            ).json()
            return bool(report["freshness"].get(REGION))

        await eventually(hub_has_the_shareable_events)
        await asyncio.sleep(2.0)  # every private event consumed in the region meanwhile


async def test_in_a_full_flow_nothing_private_is_seen_outside_the_region_and_every_shareable_event_arrives(
    topology, databases
):
    person = f"Erika Mustermann-{uuid.uuid4().hex[:5]}"
    emails = [f"{kind}.{uuid.uuid4().hex[:8]}@example.org" for kind in ("kontakt", "anmeldung", "abo")]
    secrets = [*emails, person]
    async with contextlib.AsyncExitStack() as stack:
        watchers = [
            await stack.enter_async_context(Watcher(label, url))
            for label, url in (
                ("hub STATE", login(topology, STATE)),
                ("hub SYS", login(topology, STATE, "sys")),
                (f"{OTHER} APP", login(topology, OTHER)),
                (f"{OTHER} SYS", login(topology, OTHER, "sys")),
            )
        ]
        own = await stack.enter_async_context(Watcher(f"{REGION} APP", login(topology, REGION)))
        await full_flow(topology, databases, person, emails)

    for watcher in watchers:
        assert watcher.private(secrets) == [], f"{watcher.label} saw region-private messages"
    # The watchers were listening: the region's own sees its private traffic, the hub the shareable.
    assert own.private(secrets), "the region's own subscriber should see its private messages"
    assert any(subject.startswith(f"nzr.{REGION}.pub.") for subject, _ in watchers[0].seen)

    _, region_bytes = await stream_bytes(topology.url(REGION))
    hub_count, hub_bytes = await stream_bytes(topology.url(STATE))
    assert hub_count > 0
    for secret in secrets:
        assert secret.encode() in region_bytes, f"{secret} should be in the region's own stream"
        assert secret.encode() not in hub_bytes, f"{secret} reached the hub"
    shareable = await shareable_counts(topology.url(REGION), f"NZR_{REGION.upper()}")
    assert shareable > 0
    assert await shareable_counts(topology.url(STATE), AGGREGATE_STREAM) == shareable


ATTACKS = [
    ("INFO", b""),
    ("STREAM.LIST", b""),
    ("STREAM.INFO.{stream}", b""),
    ("STREAM.MSG.GET.{stream}", b'{"seq": 1}'),
    ("DIRECT.GET.{stream}", b'{"seq": 1}'),
    ("STREAM.CREATE.NZR_SPY", b'{"name": "NZR_SPY", "subjects": ["spy.>"]}'),
    ("STREAM.DELETE.{stream}", b""),
    ("STREAM.PURGE.{stream}", b""),
    (
        "CONSUMER.CREATE.{stream}",
        b'{"stream_name": "{stream}", "config": {"filter_subject": "nzr.{r}.priv.>"}}',
    ),
    (
        "CONSUMER.CREATE.{stream}.spy.nzr.{r}.priv.>",
        b'{"stream_name": "{stream}", "config": {"name": "spy", "filter_subject": "nzr.{r}.priv.>"}}',
    ),
    ("CONSUMER.LIST.{stream}", b""),
    ("CONSUMER.DELETE.{stream}.to-state", b""),
]


async def refused(connection: nats.NATS, subject: str, body: bytes) -> bool:
    """No responders, or no answer at all (a region's request to the hub's API that is not
    exported crosses the link and vanishes)."""
    try:
        await connection.request(subject, body, timeout=1.0)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
        return True
    return False


async def test_the_hub_and_the_other_region_cannot_use_a_regions_jetstream_api(topology):
    stream = f"NZR_{REGION.upper()}"
    region = await nats.connect(topology.url(REGION))
    try:
        await region.jetstream().publish(f"nzr.{REGION}.priv.contacts.v1", b'{"email": "x@example.org"}')
        before = await region.jetstream().stream_info(stream)
        for outsider in (STATE, OTHER):
            connection = await nats.connect(topology.url(outsider))
            try:
                for call, body in ATTACKS:
                    subject = f"$JS.{REGION}.API." + call.format(stream=stream, r=REGION)
                    payload = body.replace(b"{stream}", stream.encode()).replace(b"{r}", REGION.encode())
                    assert await refused(connection, subject, payload), f"{outsider} may call {subject}"
                # nor reach the state's API beyond its own catalogue consumer
                if outsider == OTHER:
                    for call in ("STREAM.INFO.NZR_AGGREGATE", "STREAM.MSG.GET.NZR_AGGREGATE"):
                        assert await refused(connection, f"$JS.{STATE}.API.{call}", b'{"seq": 1}')
            finally:
                await connection.close()
        # nothing was written into the region's domain
        after = await region.jetstream().stream_info(stream)
        assert after.state.messages == before.state.messages
        assert {s.config.name for s in await region.jetstream().streams_info()} == {stream, "NZR_STATE"}
        assert [c.name for c in await region.jetstream().consumers_info(stream)] == ["to-state"]
    finally:
        await region.close()


@pytest.mark.parametrize("node", [STATE, REGION])
async def test_a_client_without_or_with_a_wrong_password_is_refused(topology, node):
    for url in (
        topology.url(node, credentials=False),
        topology.url(node, credentials=False).replace("nats://", "nats://nzr:falsch@"),
    ):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)


async def test_the_services_connection_fails_on_a_wrong_password_instead_of_retrying_silently(topology):
    """What the runtime's retry loop needs from :class:`NatsConnection`: a refused password ends
    ``start`` with the server's reason (so the service logs it and /readyz says so), the right one
    connects, and ``stop`` drains and forgets the connection."""
    plain = topology.url(REGION, credentials=False)
    wrong = NatsConnection(plain, user=CLIENT_USER, password="falsch")
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await asyncio.wait_for(wrong.start(), 10)
    assert not wrong.is_connected
    right = NatsConnection(plain, user=CLIENT_USER, password=topology.secrets.client_password(REGION))
    await right.start()
    try:
        assert right.is_connected
        assert await right.connection.request("$JS.API.INFO", b"", timeout=5)
    finally:
        await right.stop()
    assert not right.is_connected
    with pytest.raises(NotConnected):
        right.connection  # noqa: B018


@dataclass
class RogueLeaf:
    """A leaf node somebody points at the hub's leaf port with the wrong credentials."""

    name: str
    domain: str
    tls: Path | None
    environment: dict[str, str]


def _rogue_config(topology: LocalTopology, rogue: RogueLeaf) -> Path:
    node = RegionNode(
        rogue.domain, free_port(), str(topology.workdir / rogue.name), tls_dir=str(rogue.tls or "/nowhere")
    )
    config = leaf_config(node, f"nats-leaf://127.0.0.1:{topology.hub.leaf_port}")
    config = config.replace(f"server_name: nzr-{rogue.domain}", f"server_name: {rogue.name}")
    if rogue.tls is None:
        config = re.sub(r"tls \{[^}]*\}", "", config)
    path = topology.workdir / f"{rogue.name}.conf"
    path.write_text(config)
    return path


async def try_rogue(topology: LocalTopology, rogue: RogueLeaf) -> tuple[set[str], str]:
    """Run the rogue leaf for a few seconds; the leaf names the hub accepted, and the hub's log."""
    log = topology.workdir / "state.log"
    offset = log.stat().st_size
    server = Server(rogue.name, _rogue_config(topology, rogue), topology.workdir / f"{rogue.name}.log")
    server.environment = rogue.environment
    server.start()
    try:
        accepted: set[str] = set()
        for _ in range(30):  # the leaf retries every second; watch three attempts
            await asyncio.sleep(0.1)
            accepted |= await leaf_names(topology)
        return accepted, log.read_bytes()[offset:].decode(errors="replace")
    finally:
        server.stop()


async def leaf_names(topology: LocalTopology) -> set[str]:
    return set(await topology.leaf_links())


def credentials(topology: LocalTopology, region: str, **changes: str) -> dict[str, str]:
    return {**topology.secrets.environment(region), **changes}


async def test_leaf_links_without_tls_with_a_foreign_or_expired_certificate_or_an_unknown_nkey_are_refused(
    topology,
):
    rogue_ca = CertificateAuthority("rogue CA")
    foreign = rogue_ca.issue(f"leaf-{REGION}").write(topology.workdir / "rogue-tls")
    # a foreign client certificate, but the real CA to trust the hub: the hub must refuse it
    (foreign / "ca.crt").write_bytes((topology.tls_dir(REGION) / "ca.crt").read_bytes())
    expired = topology.secrets.authority.issue(f"leaf-{REGION}", valid_days=-1).write(
        topology.workdir / "old-tls"
    )
    cases = {
        "plaintext": (
            RogueLeaf("rogue-plain", REGION, None, credentials(topology, REGION)),
            "TLS leafnode handshake error",
        ),
        "foreign CA": (
            RogueLeaf("rogue-ca", REGION, foreign, credentials(topology, REGION)),
            "TLS leafnode handshake error",
        ),
        "expired": (RogueLeaf("rogue-expired", REGION, expired, credentials(topology, REGION)), "expired"),
        "unknown nkey": (
            RogueLeaf(
                "rogue-nkey",
                "vogtland",
                topology.tls_dir(REGION),
                credentials(topology, REGION, NZR_LEAF_SEED=UserNkey.generate().seed),
            ),
            "authentication error",
        ),
    }
    for case, (rogue, reason) in cases.items():
        accepted, log = await try_rogue(topology, rogue)
        assert rogue.name not in accepted, f"{case}: the hub accepted the leaf"
        assert reason in log, f"{case}: the hub's log says nothing about it:\n{log}"
        print(f"{case}: {next(line for line in log.splitlines() if reason in line)}")
    assert await leaf_names(topology) == {f"nzr-{r}" for r in REGIONS}


async def test_a_plaintext_connection_to_the_leaf_port_gets_no_further_than_the_tls_demand(topology):
    reader, writer = await asyncio.open_connection("127.0.0.1", topology.hub.leaf_port)
    try:
        info = json.loads((await reader.readline()).decode().removeprefix("INFO "))
        assert info["tls_required"] is True
        writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)  # until the hub closes it
        assert b"PONG" not in answer
    finally:
        writer.close()


async def test_a_region_claiming_another_regions_name_lands_in_its_own_account_and_reaches_nothing_else(
    topology,
):
    """A node that calls itself Erzgebirge (domain, stream, source consumer) but holds Leipzig's
    credentials: the hub binds it to Leipzig's account, where its fake Erzgebirge events go nowhere."""
    other_stream = f"NZR_{OTHER.upper()}"
    hub = await nats.connect(topology.url(STATE))
    try:
        aggregate_before = (await hub.jetstream().stream_info(AGGREGATE_STREAM)).state.messages
        rogue = RogueLeaf("rogue-name", OTHER, topology.tls_dir(REGION), credentials(topology, REGION))
        server = Server(rogue.name, _rogue_config(topology, rogue), topology.workdir / "rogue-name.log")
        server.environment = rogue.environment
        server.start()
        try:
            await eventually(lambda: _has_leaf(topology, rogue.name))
            assert (await topology.leaf_links())[rogue.name] == REGION.upper()
            url = f"nats://nzr:{rogue.environment['NZR_APP_PASSWORD']}@127.0.0.1:{_port(server.config_path)}"
            fake = await nats.connect(url)
            try:
                await provision_region(fake, OTHER)  # its own stream and "to-state" consumer
                for i in range(5):
                    await fake.jetstream().publish(
                        f"nzr.{OTHER}.pub.actors.registered.v1", f"fake {i}".encode()
                    )
                await asyncio.sleep(3.0)
            finally:
                await fake.close()
        finally:
            server.stop()
        aggregate = await hub.jetstream().stream_info(AGGREGATE_STREAM)
        assert aggregate.state.messages == aggregate_before
    finally:
        await hub.close()
    real = await nats.connect(topology.url(OTHER))
    try:
        assert (await real.jetstream().stream_info(other_stream)).state.messages == 0
    finally:
        await real.close()


async def _has_leaf(topology: LocalTopology, name: str) -> bool:
    return name in await leaf_names(topology)


def _port(config: Path) -> int:
    return int(re.search(r"listen: [\d.]+:(\d+)", config.read_text()).group(1))
