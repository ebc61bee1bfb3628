"""A running actors service per test module (real NATS, real database) and small helpers."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import nats
import nats.js.errors
import pytest

from nzr_actors.app import create_app
from nzr_actors.settings import ActorsSettings
from nzr_common.testing.services import RunningService, running_service

DRESDEN = "14612000"
LEIPZIG = "14713000"


@dataclass
class Actors:
    """The service under test with the tokens of its region."""

    running: RunningService
    region: str
    nats_url: str
    editor: dict[str, str]
    admin: dict[str, str]

    @property
    def client(self):  # type: ignore[no-untyped-def]
        return self.running.client

    async def create(self, **fields) -> dict:  # type: ignore[no-untyped-def]
        body = {
            "name": f"Verein {uuid.uuid4().hex[:6]}",
            "kind": "verein",
            "sector": "zivilgesellschaft",
            "district": DRESDEN,
            "municipality": f"Ort {uuid.uuid4().hex[:6]}",
            "topics": ["energie_klimaschutz"],
            **fields,
        }
        response = await self.client.post(
            "/api/v1/actors?confirm_duplicates=true", json=body, headers=self.editor
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def events(
        self, *, expected: Callable[[list[dict]], bool], wait_seconds: float = 30.0
    ) -> list[dict]:
        """Envelopes on the region's stream, read until ``expected`` holds (or time is up)."""
        connection = await nats.connect(self.nats_url)
        try:
            js = connection.jetstream()
            stream = f"NZR_{self.region.upper()}"
            deadline = asyncio.get_running_loop().time() + wait_seconds
            while True:
                info = await js.stream_info(stream)
                envelopes = []
                for seq in range(max(1, info.state.first_seq), info.state.last_seq + 1):
                    try:
                        message = await js.get_msg(stream, seq)
                    except nats.js.errors.NotFoundError:
                        continue  # deleted (an erasure removes the messages about a person)
                    envelopes.append({**json.loads(message.data), "nats_subject": message.subject})
                if expected(envelopes) or asyncio.get_running_loop().time() > deadline:
                    return envelopes
                await asyncio.sleep(0.1)
        finally:
            await connection.close()


async def start_actors(nats_url, databases, token_for) -> AsyncIterator[Actors]:  # type: ignore[no-untyped-def]
    region = f"r{uuid.uuid4().hex[:8]}"
    settings = ActorsSettings(region=region, nats_url=nats_url, database_url=await databases.new("actors"))
    async with running_service(create_app, settings, "nzr_actors") as running:
        for _ in range(200):
            if (await running.client.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield Actors(
            running, region, nats_url, token_for("editor", region=region), token_for("admin", region=region)
        )


@pytest.fixture(scope="module")
async def actors(nats_url, databases, token_for) -> AsyncIterator[Actors]:  # type: ignore[no-untyped-def]
    async for service in start_actors(nats_url, databases, token_for):
        yield service


def _assert_problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if field is not None:
        assert field in [p["name"] for p in body.get("invalid_params") or []], body
    return body


@pytest.fixture(scope="session")
def assert_problem():  # type: ignore[no-untyped-def]
    """``assert_problem(response, 422, "district")``: a problem+json answer naming the field."""
    return _assert_problem
