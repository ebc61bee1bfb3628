"""Helpers shared by the events service tests: request bodies and the running service."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import nats
from sqlalchemy import delete, select

from nzr_common.contracts.actors import ActorRegistered, ActorRemoved
from nzr_common.contracts.base import Envelope, IntegrationEvent
from nzr_events.times import BERLIN


@dataclass
class EventsService:
    client: httpx.AsyncClient
    running: Any
    region: str
    editor: dict[str, str]
    admin: dict[str, str]

    async def empty_tables(self) -> None:
        """Delete every row, children first (the outbox relay tolerates vanished rows).

        The outbox goes first: the relay, still running, locks outbox rows and then writes the
        personal-message records in one transaction; taking the locks in the same order keeps the
        two from deadlocking on PostgreSQL."""
        metadata = self.running.runtime.definition.metadata
        outbox = self.running.runtime.tables.outbox
        tables = [outbox] + [
            t for t in reversed(metadata.sorted_tables) if t.name not in {"outbox_relay_lease", outbox.name}
        ]
        async with self.running.runtime.sessions() as session, session.begin():
            for table in tables:
                await session.execute(delete(table))

    async def announced(self, event_type_suffix: str | None = None) -> list[dict[str, Any]]:
        """Envelopes in the outbox (sent or not), oldest first, optionally of one type."""
        outbox = self.running.runtime.tables.outbox
        async with self.running.runtime.sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.nats_subject, outbox.c.payload).order_by(outbox.c.position)
                )
            ).all()
        envelopes = [{**json.loads(payload), "nats_subject": subject} for subject, payload in rows]
        if event_type_suffix:
            envelopes = [e for e in envelopes if e["type"].endswith(f".{event_type_suffix}.v1")]
        return envelopes

    async def actors_announced(self, nats_url: str, *actor_ids: str, removed: bool = False) -> None:
        """Publish ActorRegistered (or ActorRemoved) on the region's stream, as actors does, and
        wait until the events service has taken it into its projection."""
        connection = await nats.connect(nats_url)
        try:
            for actor_id in actor_ids:
                event: IntegrationEvent = (
                    ActorRemoved(actor_id=actor_id, removed_at=datetime.now(UTC))
                    if removed
                    else ActorRegistered(
                        actor_id=actor_id,
                        name=f"Akteur {actor_id}",
                        kind="verein",
                        sector="zivilgesellschaft",
                        district="14522000",
                        registered_at=datetime.now(UTC),
                    )
                )
                envelope = Envelope.wrap(event, region=self.region, service="actors")
                await connection.jetstream().publish(
                    envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
                )
        finally:
            await connection.close()
        known = self.running.runtime.definition.metadata.tables["known_actors"]
        for _ in range(400):
            async with self.running.runtime.sessions() as session:
                rows = (
                    await session.execute(
                        select(known.c.actor_id).where(
                            known.c.actor_id.in_(actor_ids), known.c.removed.is_(removed)
                        )
                    )
                ).all()
            if len(rows) == len(actor_ids):
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"events did not take in the actors {actor_ids}")

    async def published_event(self, **overrides: Any) -> dict[str, Any]:
        """Create and publish an event a month from now."""
        created = await self.client.post("/api/v1/events", json=event_body(**overrides), headers=self.editor)
        assert created.status_code == 201, created.text
        published = await self.client.post(
            f"/api/v1/events/{created.json()['id']}/publish", headers=self.editor
        )
        assert published.status_code == 200, published.text
        return published.json()

    async def register(self, event_id: str, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/events/{event_id}/registrations", json=registration_body(**overrides)
        )

    async def registered(self, event_id: str, **overrides: Any) -> dict[str, Any]:
        """Register and return what the mail to the address tells (from the RegistrationReceived
        event): id, status, waiting position and the personal cancellation link and token."""
        body = registration_body(**overrides)
        response = await self.client.post(f"/api/v1/events/{event_id}/registrations", json=body)
        assert response.status_code == 202, response.text
        return (await self.mailed(body["email"]))[-1]

    async def mailed(self, email: str) -> list[dict[str, Any]]:
        """What the RegistrationReceived events for this address tell its owner, oldest first."""
        address = email.strip().lower()
        told = []
        for envelope in await self.announced("registration_received"):
            data = envelope["data"]
            if data["email"] != address:
                continue
            registration = data["registration"]
            told.append(
                {
                    "id": registration["registration_id"],
                    "status": registration["status"],
                    "waiting_position": registration["waiting_position"],
                    "cancellation_url": registration["manage_url"],
                    "cancellation_token": parse_qs(urlparse(registration["manage_url"]).query)["token"][0],
                    "already_registered": data["already_registered"],
                    "language": data["language"],
                }
            )
        return told


def in_berlin(days: int, hour: int = 10) -> datetime:
    """A naive Berlin wall-clock time ``days`` from today."""
    base = datetime.now(BERLIN).replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)
    return base + timedelta(days=days)


def event_body(**overrides: Any) -> dict[str, Any]:
    starts = in_berlin(30)
    body = {
        "format": "workshop",
        "title": "Werkstatt Klimaschutz im Ehrenamt",
        "description": "Ideen für kommunale Wärmeplanung",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "venue_name": "Bürgerhaus",
        "venue_address": "Markt 1, 09111 Chemnitz",
        "district": "14511000",
        "topics": ["energie_klimaschutz", "natur_umwelt"],
        "capacity": 20,
        "fee_note": "kostenfrei",
        "accessibility": "Rollstuhlgerecht, induktive Höranlage",
    }
    body.update(overrides)
    return body


def registration_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Erika Musterfrau",
        "email": f"erika.{uuid.uuid4().hex[:8]}@example.org",
        "data_use_consent": True,
        "newsletter_consent": False,
    }
    body.update(overrides)
    return body


async def walk(
    client: httpx.AsyncClient, url: str, params: dict[str, Any], headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every item of a list, page by page through ``next``; each page's ``Link`` header must be
    its ``next`` (none on the last page)."""
    items: list[dict[str, Any]] = []
    response = await client.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next"] is None:
            assert "link" not in response.headers
            assert page["total"] == len(items)
            return items
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        response = await client.get(page["next"], headers=headers)
