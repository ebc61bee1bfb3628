"""Outcomes reach the network, across the real stream: actors announces its actors, events
accepts agreements only between them, and an agreement done ends the cooperations it created."""

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.testing.services import running_service
from nzr_events.app import create_app as create_events
from nzr_events.settings import EventsSettings

MITTELSACHSEN = "14522000"


async def _until(check, seconds: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_an_agreement_between_known_actors_becomes_a_cooperation_that_ends_when_done(
    nats_url, databases, token_for
):
    region = f"r{uuid.uuid4().hex[:8]}"
    editor = token_for("editor", region=region)
    async with (
        running_service(
            create_actors,
            ActorsSettings(region=region, nats_url=nats_url, database_url=await databases.new("actors")),
            "nzr_actors",
        ) as actors,
        running_service(
            create_events,
            EventsSettings(region=region, nats_url=nats_url, database_url=await databases.new("events")),
            "nzr_events",
        ) as events,
    ):
        ids = []
        for name, kind, sector in (
            ("Energiegenossenschaft Freiberg eG", "unternehmen", "wirtschaft"),
            ("Umweltzentrum Mittelsachsen e.V.", "verein", "zivilgesellschaft"),
        ):
            created = await actors.client.post(
                "/api/v1/actors?confirm_duplicates=true",
                headers=editor,
                json={"name": name, "kind": kind, "sector": sector, "district": MITTELSACHSEN},
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        start = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None, microsecond=0) + timedelta(
            days=7
        )
        event = (
            await events.client.post(
                "/api/v1/events",
                headers=editor,
                json={
                    "format": "initiativkreis",
                    "title": "Initiativkreis Energiewende",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=2)).isoformat(),
                    "district": MITTELSACHSEN,
                },
            )
        ).json()
        assert (
            await events.client.post(f"/api/v1/events/{event['id']}/publish", headers=editor)
        ).status_code == 200
        url = f"/api/v1/events/{event['id']}/agreements"

        async def agreed():  # type: ignore[no-untyped-def]
            response = await events.client.post(
                url,
                headers=editor,
                json={"text": "Gemeinsames Solardach für das Vereinsheim", "party_actor_ids": ids},
            )
            return response.json() if response.status_code == 201 else None  # 422 until events knows them

        agreement = await _until(agreed)
        assert agreement, "events never learnt of the actors"

        # Only now events surely knows ids[0] (asked earlier, a loaded machine may not have
        # projected it yet and both parties would be named).
        stranger = str(uuid.uuid4())
        unknown = await events.client.post(
            url, headers=editor, json={"text": "Solardach", "party_actor_ids": [ids[0], stranger]}
        )
        assert unknown.status_code == 422
        problems = unknown.json()["invalid_params"]
        assert [p["name"] for p in problems] == ["party_actor_ids"]
        assert stranger in problems[0]["reason"]

        async def cooperation():  # type: ignore[no-untyped-def]
            listed = (
                await actors.client.get("/api/v1/cooperations", params={"actor_id": ids[0]}, headers=editor)
            ).json()["items"]
            return [c for c in listed if c["origin_id"] == agreement["id"]]

        (created,) = await _until(cooperation)
        assert created["until"] is None and created["type"] == "vereinbarung"

        done = await events.client.post(
            f"/api/v1/agreements/{agreement['id']}/progress",
            headers=editor,
            json={"moved": "Anlage läuft", "status": "umgesetzt"},
        )
        assert done.status_code == 201, done.text

        async def ended():  # type: ignore[no-untyped-def]
            return [c for c in await cooperation() if c["until"] is not None]

        (finished,) = await _until(ended)
        assert finished["until"] == datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
