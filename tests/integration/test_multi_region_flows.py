"""Whole flows across the hub and two leaf regions with the real services: personal data stays
in its region, and the state's funding catalogue reaches the regions and stays usable offline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import nats
import pytest

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service
from nzr_common.testing.topology import LocalTopology
from nzr_common.testing.waiting import eventually
from nzr_common.topology import AGGREGATE_STREAM
from nzr_events.app import create_app as create_events
from nzr_events.settings import EventsSettings
from nzr_funding.app import create_app as create_funding
from nzr_funding.reference import SEED_PATH
from nzr_funding.settings import FundingSettings
from nzr_newsletter.app import create_app as create_newsletter
from nzr_newsletter.settings import NewsletterSettings
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

REGIONS = ["leipzig", "erzgebirge"]


@pytest.fixture
async def topology():
    running = await LocalTopology(REGIONS).start()
    yield running
    await running.stop()


def bearer(region: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=region, roles=list(roles))}


async def all_stream_bytes(url: str) -> tuple[int, bytes]:
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


async def test_after_a_full_flow_no_email_or_person_name_exists_in_the_hubs_streams(topology, databases):
    region = "leipzig"
    person = f"Erika Mustermann-{uuid.uuid4().hex[:5]}"
    emails = [f"{kind}.{uuid.uuid4().hex[:8]}@example.org" for kind in ("kontakt", "anmeldung", "abo")]
    async with contextlib.AsyncExitStack() as stack:

        async def start(create, settings_class, package, name, **extra):  # type: ignore[no-untyped-def]
            settings = settings_class(
                region=region, nats_url=topology.url(region), database_url=await databases.new(name), **extra
            )
            return (await stack.enter_async_context(running_service(create, settings, package))).client

        actors = await start(create_actors, ActorsSettings, "nzr_actors", "actors")
        events = await start(create_events, EventsSettings, "nzr_events", "events")
        newsletter = await start(create_newsletter, NewsletterSettings, "nzr_newsletter", "newsletter")
        state = ReportingSettings(
            region="state",
            mode="state",
            nats_url=topology.url("state"),
            consumer_stream=AGGREGATE_STREAM,
            database_url=await databases.new("reporting_state"),
        )
        reporting = (
            await stack.enter_async_context(running_service(create_reporting, state, "nzr_reporting"))
        ).client

        actor = await actors.post(
            "/api/v1/actors?confirm_duplicates=true",
            headers=bearer(region, "editor"),
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
            headers=bearer(region, "admin"),
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
            headers=bearer(region, "editor"),
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
            headers=bearer(region, "editor"),
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
        assert (
            await events.post(f"/api/v1/events/{event_id}/publish", headers=bearer(region, "editor"))
        ).status_code == 200
        registration = await events.post(
            f"/api/v1/events/{event_id}/registrations",
            json={"name": person, "email": emails[1], "data_use_consent": True, "newsletter_consent": True},
        )
        assert registration.status_code == 202, registration.text

        async def hub_has_the_shareable_events():  # type: ignore[no-untyped-def]
            report = (
                await reporting.get("/api/v1/reports/indicators", headers=bearer("state", "state"))
            ).json()
            return report["freshness"].get(region)

        await eventually(hub_has_the_shareable_events)
        await asyncio.sleep(2.0)  # let every private event reach the region stream too

    _, region_bytes = await all_stream_bytes(topology.url(region))
    hub_count, hub_bytes = await all_stream_bytes(topology.url("state"))
    assert hub_count > 0
    for secret in (*emails, person):
        assert secret.encode() in region_bytes, f"{secret} should be in the region's own stream"
        assert secret.encode() not in hub_bytes, f"{secret} reached the hub"


async def test_a_catalogue_change_at_the_state_reaches_a_region_whose_lookup_works_without_the_hub(
    topology, databases
):
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    programmes = seed["programmes"] if isinstance(seed, dict) and "programmes" in seed else seed
    marker = f"Klimawerkstatt{uuid.uuid4().hex[:6]}"
    record = {
        **programmes[0],
        "id": f"test-{uuid.uuid4().hex[:8]}",
        "name": f"{marker} Förderprogramm für Klimaschutzprojekte",
    }
    state_settings = FundingSettings(
        region="state", nats_url=topology.url("state"), database_url=await databases.new("funding_state")
    )
    region_settings = FundingSettings(
        catalogue_writes=False,
        region="erzgebirge",
        nats_url=topology.url("erzgebirge"),
        database_url=await databases.new("funding_erzgebirge"),
    )
    async with (
        running_service(create_funding, state_settings, "nzr_funding") as state,
        running_service(create_funding, region_settings, "nzr_funding") as region,
    ):
        imported = await state.client.post(
            "/api/v1/funding/programs/import", headers=bearer("state", "state"), json=[record]
        )
        assert imported.status_code == 200, imported.text

        async def found():  # type: ignore[no-untyped-def]
            page = (await region.client.get("/api/v1/funding/programs", params={"q": marker})).json()
            return page["total"] == 1 and page["items"][0]["programme"]["id"] == record["id"]

        await eventually(found)
        refused = await region.client.post(
            "/api/v1/funding/programs/import", headers=bearer("state", "state"), json=[record]
        )
        assert refused.status_code == 409  # a region's catalogue is a replica of the state's
        topology.stop_hub()
        try:
            await asyncio.sleep(1.0)
            assert await found()  # the region's copy answers while the hub is away
            matched = await region.client.post(
                "/api/v1/funding/matches",
                json={"kind": "verein", "district": "14521000", "topics": ["klimaschutz_energie"]},
            )
            assert matched.status_code == 200, matched.text
        finally:
            topology.start_hub()
