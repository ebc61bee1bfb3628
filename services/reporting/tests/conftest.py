"""A reporting service on a real NATS server and a real database, fed with events published
as the other services publish them (CloudEvents envelopes with ``Nats-Msg-Id``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamSource

from nzr_common.contracts.base import Envelope, IntegrationEvent, region_stream_name, region_stream_subjects
from nzr_common.testing.services import RunningService, running_service
from nzr_common.testing.waiting import eventually
from nzr_reporting.app import create_app
from nzr_reporting.settings import ReportingSettings


def new_region(prefix: str = "r") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def ensure_stream(js: JetStreamContext, region: str) -> None:
    try:
        await js.stream_info(region_stream_name(region))
    except nats.js.errors.NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=region_stream_name(region),
                subjects=region_stream_subjects(region),
                duplicate_window=120.0,
            )
        )


async def aggregate_stream(js: JetStreamContext, *regions: str) -> str:
    """A stand-in for the hub's aggregate stream: the regions' streams (created if need be)
    sourced with their shareable subjects only; returns its name."""
    for region in regions:
        await ensure_stream(js, region)
    name = f"AGG_{uuid.uuid4().hex[:8].upper()}"
    sources = [StreamSource(name=region_stream_name(r), filter_subject=f"nzr.{r}.pub.>") for r in regions]
    await js.add_stream(StreamConfig(name=name, subjects=[], sources=sources))
    return name


async def publish(
    js: JetStreamContext, region: str, *events: IntegrationEvent, at: datetime | None = None
) -> list[Envelope[Any]]:
    """Publish events of ``region`` as its services' outbox relays would."""
    envelopes = []
    for event in events:
        envelope = Envelope.wrap(event, region=region, service=event.subject.producer)
        if at is not None:
            envelope = envelope.model_copy(update={"time": at})
        await js.publish(envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})
        envelopes.append(envelope)
    return envelopes


@dataclass
class Reporting:
    """A running reporting service and the stream it reads."""

    region: str
    settings: ReportingSettings
    running: RunningService
    js: JetStreamContext
    published: int = 0
    envelopes: list[Envelope[Any]] = field(default_factory=list)

    @property
    def client(self):  # type: ignore[no-untyped-def]
        return self.running.client

    async def publish(
        self, *events: IntegrationEvent, region: str | None = None, at: datetime | None = None
    ) -> list[Envelope[Any]]:
        envelopes = await publish(self.js, region or self.region, *events, at=at)
        self.published += len(envelopes)
        self.envelopes += envelopes
        return envelopes

    async def publish_raw(self, subject: str, payload: bytes) -> None:
        await self.js.publish(subject, payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})
        self.published += 1

    def consumed(self) -> int:
        return sum(
            s.batch.stats.handled
            + s.batch.stats.duplicates
            + s.batch.stats.ignored
            + s.batch.stats.dead_lettered
            for s in self.running.runtime.subscriptions
        )

    async def settled(self, within: float = 60.0) -> None:
        """Wait until every published message has been consumed."""

        async def done() -> bool:
            return self.consumed() >= self.published

        await eventually(done, within=within)

    async def get(self, path: str, **kwargs: Any) -> Any:
        response = await self.client.get(f"/api/v1/reports{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def nats_js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    yield connection.jetstream()
    await connection.close()


@asynccontextmanager
async def start_reporting(
    nats_url: str, databases: Any, js: JetStreamContext, **settings: Any
) -> AsyncIterator[Reporting]:
    region = settings.pop("region", None) or new_region()
    if settings.get("mode", "region") == "region":
        await ensure_stream(js, region)
    config = ReportingSettings(
        region=region,
        nats_url=nats_url,
        environment="test",
        database_url=await databases.new("reporting"),
        consumer_batch_size=200,
        **settings,
    )
    async with running_service(create_app, config, "nzr_reporting") as running:

        async def ready() -> bool:
            # Stopping a service in the middle of its NATS connect costs the shutdown grace time.
            return (await running.client.get("/readyz")).status_code == 200 and bool(running.runtime.relay)

        await eventually(ready)
        yield Reporting(region=region, settings=config, running=running, js=js)


def start_state_reporting(
    nats_url: str, databases: Any, js: JetStreamContext, aggregate: str, **settings: Any
) -> Any:
    """Reporting in state mode over ``aggregate`` (see :func:`aggregate_stream`)."""
    state = {"region": new_region("state"), "mode": "state", "consumer_stream": aggregate}
    return start_reporting(nats_url, databases, js, **state, **settings)


@pytest.fixture
async def reporting(nats_url: str, databases: Any, nats_js: JetStreamContext) -> AsyncIterator[Reporting]:
    """A region-mode reporting service for a fresh random region."""
    async with start_reporting(nats_url, databases, nats_js) as service:
        yield service
