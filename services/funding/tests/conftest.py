"""Fixtures of the funding service tests: a running service on a real NATS server and a real
database, with its own region and its own catalogue region token, and helpers to wait for
the catalogue events to arrive in the read model."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from nzr_common.testing.services import running_service
from nzr_common.testing.waiting import eventually
from nzr_funding.app import create_app
from nzr_funding.reference import SEED_PATH
from nzr_funding.settings import FundingSettings


def random_token(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class Funding:
    client: httpx.AsyncClient
    region: str
    catalogue_region: str
    state: dict[str, str]
    editor: dict[str, str]
    admin: dict[str, str]
    app: object

    async def import_json(self, records: list[dict], **params) -> httpx.Response:  # type: ignore[no-untyped-def]
        return await self.client.post(
            "/api/v1/funding/programs/import", json={"programmes": records}, headers=self.state, params=params
        )

    async def programme(self, programme_id: str) -> dict | None:
        response = await self.client.get(f"/api/v1/funding/programs/{programme_id}")
        return response.json() if response.status_code == 200 else None

    async def wait_for_revision(self, programme_id: str, revision: int) -> dict:
        async def arrived() -> bool:
            found = await self.programme(programme_id)
            return found is not None and found["revision"] >= revision

        await eventually(arrived)
        return await self.programme(programme_id)  # type: ignore[return-value]

    async def wait_until_gone(self, programme_id: str) -> None:
        async def gone() -> bool:
            return await self.programme(programme_id) is None

        await eventually(gone)


@asynccontextmanager
async def start_funding(
    nats_url: str,
    database_url: str,
    token_for,
    *,  # type: ignore[no-untyped-def]
    catalogue_region: str,
    region: str | None = None,
    **settings,
) -> AsyncIterator[Funding]:
    region = region or random_token("r")
    settings = {
        "deadline_watch_seconds": 3600,
        "deadline_watch_first_seconds": 3600,
        "catalogue_refresh_seconds": 0,
        "relay_poll_seconds": 0.02,
        **settings,
    }
    config = FundingSettings(
        region=region,
        nats_url=nats_url,
        database_url=database_url,
        catalogue_region=catalogue_region,
        **settings,
    )
    async with running_service(create_app, config, "nzr_funding") as running:
        yield Funding(
            client=running.client,
            region=region,
            catalogue_region=catalogue_region,
            state=token_for("state", region=random_token("s")),
            editor=token_for("editor", region=region),
            admin=token_for("admin", region=region),
            app=running.app,
        )


@pytest.fixture
async def funding(nats_url, databases, token_for) -> AsyncIterator[Funding]:  # type: ignore[no-untyped-def]
    """A fresh funding service with an empty catalogue of its own."""
    async with start_funding(
        nats_url, await databases.new("funding"), token_for, catalogue_region=random_token("c")
    ) as service:
        yield service


@pytest.fixture(scope="module")
async def shared(nats_url, databases, token_for) -> AsyncIterator[Funding]:  # type: ignore[no-untyped-def]
    """One funding service for a whole module; tests use random programme ids in it."""
    async with start_funding(
        nats_url, await databases.new("funding"), token_for, catalogue_region=random_token("c")
    ) as service:
        yield service


@pytest.fixture(scope="session")
async def seeded(nats_url, databases, token_for) -> AsyncIterator[Funding]:  # type: ignore[no-untyped-def]
    """A funding service whose catalogue holds the 44 packaged seed programmes (read-only use)."""
    async with start_funding(
        nats_url, await databases.new("funding"), token_for, catalogue_region=random_token("c")
    ) as service:
        seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
        response = await service.client.post(
            "/api/v1/funding/programs/import", json=seed, headers=service.state
        )
        assert response.status_code == 200, response.text
        last = seed["programmes"][-1]["id"]
        await service.wait_for_revision(last, 1)

        async def all_projected() -> bool:
            page = await service.client.get("/api/v1/funding/programs", params={"limit": 1})
            return page.json()["total"] == len(seed["programmes"])

        await eventually(all_projected)
        yield service


def programme(**changes) -> dict:  # type: ignore[no-untyped-def]
    """A valid programme record in the seed format with a random id."""
    record = {
        "id": random_token("test-"),
        "name": "Förderung von Klimaschutzprojekten in Vereinen",
        "funder": "Sächsisches Staatsministerium für Energie, Klimaschutz, Umwelt und Landwirtschaft",
        "level": "land",
        "region": "sachsen",
        "funding_types": ["zuschuss"],
        "areas": ["energieeffizienz_erneuerbare_energien"],
        "eligible": ["verband_vereinigung", "kommune"],
        "topics": ["klimaschutz_energie"],
        "summary": "Zuschüsse für Maßnahmen des Klimaschutzes in gemeinnützigen Vereinen.",
        "amount_min_eur": 1000,
        "amount_max_eur": 50000,
        "funding_rate_percent": 80,
        "deadline": "laufend",
        "url": "https://example.org/programm",
        "source_url": "https://example.org/quelle",
        "verified_on": "2026-11-21",
    }
    record.update(changes)
    return record
