"""``/readyz`` and the messaging it reports on, with a throwaway service built from the real
runtime on real NATS servers: a consumer whose stream is not there yet keeps retrying and the
service is not ready until it is bound; a NATS outage only degrades a ready service."""

from __future__ import annotations

import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js.api import StreamConfig, StreamSource
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.db import create_engine, new_metadata
from nzr_common.messaging import EventHandlers
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_common.settings import ServiceSettings
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.databases import sqlite_url
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.testing.services import RunningService
from nzr_common.testing.waiting import eventually

metadata = new_metadata()
tables = add_messaging_tables(metadata)


def definition(handled: list[str]) -> ServiceDefinition:
    """A service that consumes ``ActorRegistered`` and remembers the ids it handled."""
    handlers = EventHandlers(consumer="probe")

    @handlers.on(ActorRegistered)
    async def remember(_deps: object, session: AsyncSession, envelope: Envelope[Any]) -> None:
        handled.append(envelope.id)

    return ServiceDefinition(
        name="probe",
        title="NZR probe",
        description="readiness probe",
        metadata=metadata,
        tables=tables,
        routers=[],
        bootstrap=lambda runtime: runtime,
        handlers=handlers,
    )


def registered() -> ActorRegistered:
    return ActorRegistered(
        actor_id=str(uuid.uuid4()),
        name="Energiegenossenschaft Mittelsachsen",
        kind="verein",
        sector="zivilgesellschaft",
        district="14522000",
        registered_at=datetime.now(UTC),
    )


@asynccontextmanager
async def probe_service(
    nats_url: str, handled: list[str], *, create_tables: bool = True, **settings: Any
) -> AsyncIterator[RunningService]:
    folder = Path(tempfile.mkdtemp(prefix="nzr-readiness-"))
    values: dict[str, Any] = {
        "region": f"r{uuid.uuid4().hex[:10]}",
        "nats_url": nats_url,
        "database_url": sqlite_url(folder, "probe"),
        "nats_connect_wait_seconds": 1.0,
        **settings,
    }
    if create_tables:
        engine = create_engine(values["database_url"])
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        await engine.dispose()
    app = create_service_app(definition(handled), ServiceSettings(**values))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield RunningService(app=app, client=client)


async def ready(service: RunningService) -> dict[str, Any] | None:
    response = await service.client.get("/readyz")
    return response.json() if response.status_code == 200 else None


async def metric(service: RunningService, line_start: str) -> float:
    text = (await service.client.get("/metrics")).text
    return float(next(line for line in text.splitlines() if line.startswith(line_start)).rsplit(" ", 1)[1])


async def test_service_is_not_ready_until_its_stream_exists_and_then_recovers_without_restart(nats_url):
    # State mode creates no stream itself: it reads the hub's aggregate, provisioned elsewhere.
    stream = f"T_AGGREGATE_{uuid.uuid4().hex[:8].upper()}"
    region = f"r{uuid.uuid4().hex[:10]}"
    handled: list[str] = []
    async with probe_service(nats_url, handled, mode="state", consumer_stream=stream) as service:

        async def waiting_for_stream() -> dict[str, Any] | None:
            response = await service.client.get("/readyz")
            body = response.json()
            return (
                body
                if response.status_code == 503 and "stream not found" in body["checks"]["consumers"]
                else None
            )

        body = await eventually(waiting_for_stream, what="503 naming the missing stream")
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["consumers"].startswith("waiting: probe__pub_actors (stream not found")
        assert await metric(service, 'nzr_consumer_bound{consumer="probe__pub_actors"}') == 0

        connection = await nats.connect(nats_url)
        try:
            js = connection.jetstream()
            await js.add_stream(
                StreamConfig(name=region_stream_name(region), subjects=region_stream_subjects(region))
            )
            source = StreamSource(name=region_stream_name(region), filter_subject=f"nzr.{region}.pub.>")
            await js.add_stream(StreamConfig(name=stream, sources=[source]))
            created = time.monotonic()
            body = await eventually(lambda: ready(service), what="ready after the stream was created")
            print(f"ready {time.monotonic() - created:.1f} s after the stream was created")
            assert body == {"status": "ok", "checks": {"database": "ok", "nats": "ok", "consumers": "ok"}}
            assert await metric(service, 'nzr_consumer_bound{consumer="probe__pub_actors"}') == 1

            # The consumer that waited is the live one: it handles what the stream gets now.
            envelope = Envelope.wrap(registered(), region=region, service="actors")
            await js.publish(envelope.nats_subject(), envelope.to_json())
            await eventually(lambda: envelope.id in handled, what="event handled by the late-bound consumer")
        finally:
            for name in (stream, region_stream_name(region)):
                await js.delete_stream(name)
            await connection.close()


async def test_service_waits_for_jetstream_of_its_account_and_creates_its_stream_once_it_answers():
    server = NatsServerProcess(extra_args=["-js=false"]).start()  # the account has no JetStream yet
    handled: list[str] = []
    try:
        async with probe_service(server.url, handled) as service:

            async def waiting_for_jetstream() -> dict[str, Any] | None:
                response = await service.client.get("/readyz")
                body = response.json()
                return (
                    body
                    if response.status_code == 503 and "no JetStream" in body["checks"]["consumers"]
                    else None
                )

            body = await eventually(waiting_for_jetstream, what="503 naming JetStream")
            assert body["checks"]["nats"] == "ok"

            server.stop()
            server.extra_args = []
            server.start()  # same port, now with JetStream
            body = await eventually(lambda: ready(service), what="ready once JetStream answers")
            assert body["status"] == "ok"
            async with service.runtime.sessions() as session, session.begin():
                (written,) = await service.runtime.outbox.add(session, registered())
            await eventually(
                lambda: written.id in handled, what="event through the stream the runtime created"
            )
    finally:
        server.stop()


async def test_deleted_consumer_degrades_the_service_and_is_bound_again(nats_url):
    handled: list[str] = []
    async with probe_service(nats_url, handled) as service:
        await eventually(lambda: ready(service), what="ready")
        runtime = service.runtime
        subscription = runtime.subscriptions[0]
        connection = await nats.connect(nats_url)
        try:
            js = connection.jetstream()
            assert subscription.binding.binds == 1
            await js.delete_consumer(subscription.stream, subscription.durable)
            await eventually(lambda: subscription.binding.binds == 2, what="consumer bound again")
            info = await js.consumer_info(subscription.stream, subscription.durable)
            assert info.config.filter_subject == subscription.subject
            assert (await service.client.get("/readyz")).status_code == 200
        finally:
            await connection.close()
    await js_cleanup(nats_url, runtime.settings.region)


async def test_nats_outage_leaves_the_service_ready_and_degraded_and_writes_wait_in_the_outbox():
    server = NatsServerProcess().start()
    handled: list[str] = []
    try:
        async with probe_service(server.url, handled) as service:
            await eventually(lambda: ready(service), what="ready")
            runtime = service.runtime
            server.stop(kill=True)

            async def degraded() -> dict[str, Any] | None:
                body = await ready(service)
                return body if body and body["checks"]["nats"] != "ok" else None

            body = await eventually(degraded, what="NATS reported degraded")
            assert body["status"] == "degraded"
            assert body["checks"]["nats"] == "degraded: disconnected"
            assert body["checks"]["database"] == "ok"
            assert await metric(service, "nzr_nats_connected ") == 0

            async with runtime.sessions() as session, session.begin():
                (written,) = await runtime.outbox.add(session, registered())
            async with runtime.sessions() as session:
                assert (
                    await session.scalar(
                        select(tables.outbox.c.sent_at).where(tables.outbox.c.event_id == written.id)
                    )
                    is None
                )

            server.start()  # same port and store
            await eventually(
                lambda: written.id in handled, what="outbox row published and handled after NATS"
            )
            body = await eventually(lambda: ready(service), what="ready")
            assert body["status"] == "ok"
            assert await metric(service, "nzr_nats_connected ") == 1
    finally:
        server.stop()


async def test_service_started_before_nats_keeps_trying_and_binds_once_nats_is_there():
    server = NatsServerProcess().start()
    server.stop(kill=True)  # its port is known; nothing listens on it yet
    handled: list[str] = []
    try:
        async with probe_service(server.url, handled) as service:
            answer = await service.client.get("/readyz")
            assert answer.status_code == 503, answer.text
            assert answer.json()["checks"]["nats"] == "degraded: disconnected"
            server.start()
            body = await eventually(lambda: ready(service), what="ready once NATS is there")
            assert body["checks"]["nats"] == "ok"
    finally:
        server.stop()


async def test_service_without_its_database_is_unavailable(nats_url):
    handled: list[str] = []
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{probe.getsockname()[1]}/nzr"
    async with probe_service(nats_url, handled, database_url=unreachable, create_tables=False) as service:
        response = await service.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"].startswith("failed: ")


def test_readiness_response_is_documented_in_openapi():
    app = create_service_app(definition([]), ServiceSettings(database_url="sqlite+aiosqlite:///:memory:"))
    document = app.openapi()
    responses = document["paths"]["/readyz"]["get"]["responses"]
    assert responses["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"
    }
    health = document["components"]["schemas"]["Health"]
    assert health["properties"]["status"]["$ref"] == "#/components/schemas/HealthStatus"
    assert document["components"]["schemas"]["HealthStatus"]["enum"] == ["ok", "degraded", "unavailable"]
    assert "consumers" in health["properties"]["checks"]["description"]


async def js_cleanup(nats_url: str, region: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().delete_stream(region_stream_name(region))
    finally:
        await connection.close()
