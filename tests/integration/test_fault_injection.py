"""Fault injection with real processes: nats-server, the five services as their own OS
processes and a private PostgreSQL cluster. While a flow of about 10,000 events runs through
the services, each service is killed with SIGKILL and restarted, the NATS server is restarted
and the database is stopped for 10 s. Afterwards every projection holds exactly the expected
counts, and no service needed more than being started again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import nats
import pytest
from nats.js.api import StreamConfig
from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.auth import issue_token
from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.db import create_engine, create_sessionmaker, new_metadata
from nzr_common.messaging import EventHandlers, consume_forever, plan_subscriptions
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.databases import create_postgres_database
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.testing.processes import PostgresCluster, ServiceProcess, postgres_cluster_available

pytestmark = pytest.mark.timeout(480)

log = logging.getLogger(__name__)

SERVICES = ("actors", "events", "newsletter", "funding", "reporting")
DRESDEN, LEIPZIG = "14612000", "14713000"

ACTORS = 3750  # CSV import → ActorRegistered
COOPERATIONS = 1850  # POST /cooperations → CooperationRecorded
AGREEMENTS = 1200  # AgreementRecorded → (actors) CooperationRecorded
REGISTRATIONS = 500  # RegistrationConfirmed → (newsletter) SubscriptionRequested
IMPORTED_SUBSCRIBERS = 1000  # newsletter import → SubscriptionRequested
DATABASE_OUTAGE_SECONDS = 10.0
CONVERGE_SECONDS = 150.0


@dataclass
class Platform:
    region: str
    workdir: Path
    cluster: PostgresCluster
    nats: NatsServerProcess
    services: dict[str, ServiceProcess]
    database_urls: dict[str, str]

    def url(self, service: str) -> str:
        return self.services[service].url

    def headers(self, *roles: str) -> dict[str, str]:
        token = issue_token(DEVELOPMENT_SECRET, region=self.region, roles=list(roles))
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    region = f"fi{uuid.uuid4().hex[:8]}"
    cluster = PostgresCluster()
    nats_server = NatsServerProcess(tmp_path / "nats")
    services: dict[str, ServiceProcess] = {}
    try:
        await asyncio.to_thread(cluster.init)
        await asyncio.to_thread(cluster.start)
        nats_server.start()
        urls = {name: await create_postgres_database(cluster.admin_url, name) for name in SERVICES}
        for name in SERVICES:
            services[name] = ServiceProcess(
                name,
                env={
                    "REGION": region,
                    "MODE": "region",
                    "DATABASE_URL": urls[name],
                    "NATS_URL": nats_server.url,
                    "SMTP_SINK_DIR": str(tmp_path / "mail"),
                    "DEADLINE_WATCH_FIRST_SECONDS": "3600",
                    "CONSUMER_MAX_DELIVER": "5",
                    # 500 anonymous registrations from one address are this test's load, not abuse.
                    "RATE_LIMIT_ENABLED": "false",
                },
                workdir=tmp_path,
            )
        await asyncio.gather(*(asyncio.to_thread(s.migrate) for s in services.values()))
        for service in services.values():
            service.start()
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready, 90.0) for s in services.values()))
        yield Platform(region, tmp_path, cluster, nats_server, services, urls)
    finally:
        for service in services.values():
            service.terminate()
        nats_server.stop()
        cluster.destroy()


class WriteGate:
    """Holds the writers to one service back while a fault hits it, so no request to it is in
    flight at the moment of the kill (whether such a request committed is the client's
    question, not the platform's). Writers to the other services go on meanwhile."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._in_flight = 0
        self._idle = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def passage(self) -> AsyncIterator[None]:
        await self._open.wait()
        self._in_flight += 1
        try:
            yield
        finally:
            async with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    @contextlib.asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        self._open.clear()
        async with self._idle:
            await self._idle.wait_for(lambda: self._in_flight == 0)
        try:
            yield
        finally:
            self._open.set()


@dataclass
class Writer:
    """Sends the flow's requests; retries only what certainly did not happen (refused
    connections, 5xx while a dependency is down, 429)."""

    client: httpx.AsyncClient
    platform: Platform
    gates: dict[str, WriteGate]
    retries: int = 0

    async def send(
        self, service: str, method: str, path: str, *, expect: int, not_yet: int | None = None, **request: Any
    ) -> Any:
        """Send until the expected status; ``not_yet`` is a status that means "the service has
        not heard of it from the stream yet" (retried like a 5xx)."""
        url = f"{self.platform.url(service)}{path}"
        deadline = time.monotonic() + 90.0
        while True:
            async with self.gates[service].passage():
                try:
                    response = await self.client.request(method, url, **request)
                except httpx.ConnectError:
                    response = None
            if response is not None and response.status_code == expect:
                return response.json()
            if (
                response is not None
                and response.status_code < 500
                and response.status_code not in (429, not_yet)
            ):
                raise AssertionError(f"{method} {url} → {response.status_code}: {response.text[:500]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url} did not succeed within 90 s")
            self.retries += 1
            wait = float(response.headers.get("Retry-After", 0.3)) if response is not None else 0.3
            await asyncio.sleep(min(wait, 5.0))


async def _in_parallel(count: int, make: Callable[[int], Awaitable[Any]], concurrency: int = 6) -> list[Any]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Any:
        async with semaphore:
            return await make(index)

    return await asyncio.gather(*(one(i) for i in range(count)))


async def run_flow(platform: Platform, writer: Writer, event_id: str, list_id: str) -> dict[str, int]:
    """About 10,000 events across the services through their bulk paths; returns what was sent."""
    editor, admin = platform.headers("editor"), platform.headers("admin")
    tag = uuid.uuid4().hex[:6]

    async def import_actors() -> list[str]:
        ids: list[str] = []
        chunk = 250
        for start in range(0, ACTORS, chunk):
            lines = ["external_id;name;kind;sector;district;municipality;topics;public_profile"]
            for n in range(start, start + chunk):
                sector, kind = (
                    ("wirtschaft", "unternehmen") if n % 3 == 0 else ("zivilgesellschaft", "verein")
                )
                district, place = (DRESDEN, "Dresden") if n % 2 else (LEIPZIG, "Leipzig")
                lines.append(f"{tag}-{n};Akteur {tag} Nr. {n};{kind};{sector};{district};{place};bne;ja")
            report = await writer.send(
                "actors",
                "POST",
                "/api/v1/actors/import",
                expect=200,
                content=("\n".join(lines) + "\n").encode(),
                headers={**editor, "content-type": "text/csv"},
            )
            assert report["imported"] == chunk and not report["errors"], report
            ids += report["created_ids"]
        return ids

    async def cooperate(ids: list[str]) -> None:
        today = date.today().isoformat()
        await _in_parallel(
            COOPERATIONS,
            lambda k: writer.send(
                "actors",
                "POST",
                "/api/v1/cooperations",
                expect=201,
                headers=editor,
                json={"actor_a": ids[2 * k], "actor_b": ids[2 * k + 1], "type": "projekt", "since": today},
            ),
        )

    async def agree(ids: list[str]) -> None:
        await _in_parallel(
            AGREEMENTS,
            lambda k: writer.send(
                "events",
                "POST",
                f"/api/v1/events/{event_id}/agreements",
                expect=201,
                not_yet=422,  # events knows the actors once their ActorRegistered reached it
                headers=editor,
                json={"text": f"Vereinbarung {k}", "party_actor_ids": [ids[k], ids[k + 3]]},
            ),
        )

    async def register() -> None:
        await _in_parallel(
            REGISTRATIONS,
            lambda k: writer.send(
                "events",
                "POST",
                f"/api/v1/events/{event_id}/registrations",
                expect=202,
                json={
                    "name": f"Teilnehmende {k}",
                    "email": f"anmeldung-{tag}-{k}@example.org",
                    "data_use_consent": True,
                    "newsletter_consent": True,
                },
            ),
        )

    async def import_subscribers() -> None:
        chunk = 100
        for start in range(0, IMPORTED_SUBSCRIBERS, chunk):
            report = await writer.send(
                "newsletter",
                "POST",
                "/api/v1/newsletter/subscribers/import",
                expect=200,
                headers=admin,
                json={
                    "list_ids": [list_id],
                    "consent_text_version": "2026-01",
                    "rows": [{"email": f"abo-{tag}-{n}@example.org"} for n in range(start, start + chunk)],
                },
            )
            assert report["invited"] == chunk and not report["errors"], report

    async def actors_and_their_cooperations() -> None:
        ids = await import_actors()
        await asyncio.gather(cooperate(ids), agree(ids))

    await asyncio.gather(actors_and_their_cooperations(), register(), import_subscribers())
    return {
        "actors": ACTORS,
        "cooperations": COOPERATIONS,
        "agreements": AGREEMENTS,
        "registrations": REGISTRATIONS,
        "subscribers": REGISTRATIONS + IMPORTED_SUBSCRIBERS,
    }


@dataclass
class FaultLog:
    rows: list[tuple[str, float]] = field(default_factory=list)

    def record(self, what: str, seconds: float) -> None:
        log.warning("fault %s: recovered in %.1f s", what, seconds)
        self.rows.append((what, seconds))


async def inject_faults(platform: Platform, gates: dict[str, WriteGate], faults: FaultLog) -> None:
    """Kill -9 and restart each service in turn, restart NATS, stop the database for 10 s.
    The backlog is what the consumers had not acknowledged when the service was back."""

    async def kill_and_restart(name: str) -> None:
        service = platform.services[name]
        async with gates[name].closed():
            unsent = await _count(platform.database_urls[name], "outbox", "sent_at IS NULL")
            service.kill()
        started = time.monotonic()
        service.start()
        await asyncio.to_thread(service.wait_ready, 90.0)
        back = time.monotonic() - started
        faults.record(f"kill -9 {name} (unsent {unsent}, backlog {await _backlog(platform)})", back)

    async def restart_nats() -> None:
        started = time.monotonic()
        await asyncio.to_thread(platform.nats.restart)
        await _until_all_ready(platform)
        back = time.monotonic() - started
        faults.record(f"restart nats-server (backlog {await _backlog(platform)})", back)

    async def stop_database() -> None:
        async with contextlib.AsyncExitStack() as all_closed:
            for gate in gates.values():
                await all_closed.enter_async_context(gate.closed())
            await asyncio.to_thread(platform.cluster.stop)
            await asyncio.sleep(DATABASE_OUTAGE_SECONDS)
            started = time.monotonic()
            await asyncio.to_thread(platform.cluster.start)
            await _until_all_ready(platform)
            back = time.monotonic() - started
        faults.record(
            f"database down {DATABASE_OUTAGE_SECONDS:.0f} s (backlog {await _backlog(platform)})", back
        )

    await asyncio.sleep(2.0)
    for name in ("reporting", "funding"):
        await kill_and_restart(name)
        await asyncio.sleep(1.0)
    await stop_database()
    await asyncio.sleep(1.0)
    await kill_and_restart("actors")
    await asyncio.sleep(1.0)
    await restart_nats()
    for name in ("newsletter", "events"):
        await asyncio.sleep(1.0)
        await kill_and_restart(name)


async def _backlog(platform: Platform) -> int:
    """Events not yet acknowledged by the consumers at this moment (shows a fault hit mid-flow)."""
    with contextlib.suppress(Exception):
        connection = await nats.connect(platform.nats.url, max_reconnect_attempts=0)
        try:
            consumers = await connection.jetstream().consumers_info(region_stream_name(platform.region))
            return sum(c.num_pending + c.num_ack_pending for c in consumers)
        finally:
            await connection.close()
    return -1


async def _until_all_ready(platform: Platform, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        for name in SERVICES:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    # "ok", not only 200: a NATS outage leaves a service ready but degraded.
                    if (await client.get(f"{platform.url(name)}/readyz")).json()["status"] == "ok":
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} not ready {timeout:.0f} s after the fault")
                await asyncio.sleep(0.2)


async def _projections(platform: Platform, client: httpx.AsyncClient, event_id: str) -> dict[str, int]:
    """What the services hold now, read over their HTTP APIs (and the read models without a
    counting endpoint straight from the owning service's database)."""
    editor, admin = platform.headers("editor"), platform.headers("admin")
    report = (
        await client.get(f"{platform.url('reporting')}/api/v1/reports/indicators", headers=editor)
    ).json()
    latest = {
        indicator["id"]: (indicator["values"][-1]["value"] if indicator["values"] else 0)
        for indicator in report["indicators"]
    }
    cooperations = (
        await client.get(f"{platform.url('actors')}/api/v1/cooperations", headers=editor, params={"limit": 1})
    ).json()
    actors = (
        await client.get(f"{platform.url('actors')}/api/v1/actors", headers=editor, params={"limit": 1})
    ).json()
    registrations = (
        await client.get(
            f"{platform.url('events')}/api/v1/events/{event_id}/registrations",
            headers=admin,
            params={"limit": 1},
        )
    ).json()
    subscribers = (
        await client.get(
            f"{platform.url('newsletter')}/api/v1/newsletter/subscribers", headers=admin, params={"limit": 1}
        )
    ).json()
    return {
        "reporting actors_total": int(latest.get("actors_total", 0)),
        "reporting cooperations_active": int(latest.get("cooperations_active", 0)),
        "reporting cooperations_from_gatherings": int(latest.get("cooperations_from_gatherings", 0)),
        "actors actors": actors["total"],
        "actors cooperations": cooperations["total"],
        "events registrations": registrations["total"],
        "newsletter subscribers": subscribers["total"],
        "funding actor read model": await _count(platform.database_urls["funding"], "actors"),
        "newsletter event copies": await _count(
            platform.database_urls["newsletter"], "digest_items", "kind = 'event'"
        ),
    }


async def _count(url: str, table: str, where: str = "true") -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(f"SELECT count(*) FROM {table} WHERE {where}")
    finally:
        await connection.close()


async def _dead_letters(platform: Platform, client: httpx.AsyncClient) -> dict[str, int]:
    admin = platform.headers("admin")
    totals = {}
    for name in SERVICES:
        page = await client.get(f"{platform.url(name)}/api/v1/admin/{name}/dead-letters", headers=admin)
        totals[name] = page.json()["total"]
    return totals


async def _stream_counts(platform: Platform) -> dict[str, int]:
    connection = await nats.connect(platform.nats.url)
    try:
        info = await connection.jetstream().stream_info(
            region_stream_name(platform.region), subjects_filter=">"
        )
        prefix = f"nzr.{platform.region}."
        return {subject.removeprefix(prefix): n for subject, n in (info.state.subjects or {}).items()}
    finally:
        await connection.close()


@pytest.mark.skipif(not postgres_cluster_available(), reason="needs initdb/pg_ctl (PostgreSQL 15)")
async def test_projections_are_exact_after_kills_a_nats_restart_and_a_database_outage(platform: Platform):
    editor = platform.headers("editor")
    # No keep-alive: a request sent on a pooled connection just as uvicorn's 5 s keep-alive
    # closes it fails with a read error that looks like a crash, and on a loaded machine the
    # client's own idle clock lags the server's by seconds (an expiry of 1 s was not enough).
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        listing = await client.post(
            f"{platform.url('newsletter')}/api/v1/newsletter/lists",
            headers=editor,
            json={"name": "Netzwerk-Newsletter", "registration_default": True},
        )
        assert listing.status_code == 201, listing.text
        starts = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) + timedelta(days=30)
        event = await client.post(
            f"{platform.url('events')}/api/v1/events",
            headers=editor,
            json={
                "format": "netzwerkkonferenz",
                "title": "Netzwerkkonferenz unter Störungen",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=6)).isoformat(),
                "district": DRESDEN,
                "topics": ["bne"],
                "capacity": REGISTRATIONS * 2,
            },
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]
        published = await client.post(
            f"{platform.url('events')}/api/v1/events/{event_id}/publish", headers=editor
        )
        assert published.status_code == 200, published.text

        gates, faults = {name: WriteGate() for name in SERVICES}, FaultLog()
        writer = Writer(client, platform, gates)
        flow_started = time.monotonic()
        sent, _ = await asyncio.gather(
            run_flow(platform, writer, event_id, listing.json()["id"]), inject_faults(platform, gates, faults)
        )
        flow_seconds = time.monotonic() - flow_started

        expected = {
            "reporting actors_total": sent["actors"],
            "reporting cooperations_active": sent["cooperations"] + sent["agreements"],
            "reporting cooperations_from_gatherings": sent["agreements"],
            "actors actors": sent["actors"],
            "actors cooperations": sent["cooperations"] + sent["agreements"],
            "events registrations": sent["registrations"],
            "newsletter subscribers": sent["subscribers"],
            "funding actor read model": sent["actors"],
            "newsletter event copies": 1,
        }
        deadline = time.monotonic() + CONVERGE_SECONDS
        held = await _projections(platform, client, event_id)
        while held != expected and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            held = await _projections(platform, client, event_id)
        converged_seconds = time.monotonic() - flow_started - flow_seconds
        await asyncio.sleep(2.0)  # a late duplicate would show up now
        held = await _projections(platform, client, event_id)
        dead_letters = await _dead_letters(platform, client)

    stream = await _stream_counts(platform)
    expected_stream = {
        "pub.actors.actor_registered.v1": sent["actors"],
        "pub.actors.cooperation_recorded.v1": sent["cooperations"] + sent["agreements"],
        "pub.events.event_published.v1": 1,
        "pub.events.agreement_recorded.v1": sent["agreements"],
        "priv.events.registration_confirmed.v1": sent["registrations"],
        "priv.newsletter.subscription_requested.v1": sent["subscribers"],
    }
    print(
        f"\nflow of {sum(stream.values())} events in {flow_seconds:.1f} s, converged "
        f"{converged_seconds:.1f} s later; {writer.retries} client retries; faults: "
        + ", ".join(f"{what} ({seconds:.1f} s)" for what, seconds in faults.rows)
    )
    print("stream:", stream)
    print("projections:", held)
    print("dead letters:", dead_letters)
    assert len(faults.rows) == len(SERVICES) + 2
    assert all(platform.services[name].starts == 2 for name in SERVICES)
    assert held == expected
    assert {subject: stream.get(subject, 0) for subject in expected_stream} == expected_stream
    assert sum(expected_stream.values()) >= 10_000
    assert dead_letters == dict.fromkeys(SERVICES, 0)


# The two runtime behaviours the fault test depends on, each on its own (real NATS, real database).

metadata = new_metadata()
tables = add_messaging_tables(metadata)
effects = Table(
    "fault_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
)


def registered() -> ActorRegistered:
    return ActorRegistered(
        actor_id=str(uuid.uuid4()),
        name="Bürgerenergie Zschopautal eG",
        kind="verein",
        sector="zivilgesellschaft",
        district="14521000",
        registered_at=datetime.now(ZoneInfo("UTC")),
    )


@contextlib.asynccontextmanager
async def _sessions(databases):  # type: ignore[no-untyped-def]
    engine = create_engine(await databases.new("faults"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_relay_gives_up_waiting_for_an_ack_that_never_comes_and_publishes_again(nats_url, databases):
    region = f"f{uuid.uuid4().hex[:10]}"
    connection = await nats.connect(nats_url)
    js = connection.jetstream()

    # Something answers nothing on the region's subjects: the publish reaches the server, the
    # ack never comes back (as when the server restarts with the publish in flight).
    async def answer_nothing(_message: Any) -> None:
        return None

    black_hole = await connection.subscribe(f"nzr.{region}.>", cb=answer_nothing)
    async with _sessions(databases) as sessions:
        async with sessions() as session, session.begin():
            await Outbox(tables, region=region, service="actors").add(session, registered())
        relay = OutboxRelay(sessions, tables, js, publish_timeout_seconds=0.5)

        with pytest.raises(RuntimeError, match="acknowledged 0 of 1"):
            await asyncio.wait_for(relay.relay_once(), 15)
        async with sessions() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(tables.outbox).where(tables.outbox.c.sent_at.is_(None))
            )
        assert unsent == 1

        await black_hole.unsubscribe()
        stream = region_stream_name(region)
        await js.add_stream(StreamConfig(name=stream, subjects=region_stream_subjects(region)))
        try:
            assert await asyncio.wait_for(relay.relay_once(), 15) == 1
            assert (await js.stream_info(stream)).state.messages == 1
        finally:
            await js.delete_stream(stream)
    await connection.close()


def _from_asyncpg(error: asyncpg.PostgresError) -> DBAPIError:
    """The error SQLAlchemy's asyncpg dialect raises for ``error`` (its own translation)."""
    dbapi = AsyncAdapt_asyncpg_dbapi(asyncpg)
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, error)
    except dbapi.Error as translated:
        return DBAPIError.instance("INSERT", None, translated, dbapi.Error)
    raise AssertionError("not translated")


OUTAGE_ERRORS = {
    "connection refused": lambda: OperationalError(
        "INSERT", None, ConnectionRefusedError(111, "Connection refused")
    ),
    # Seen in the fault test while the database came back: a plain DBAPIError (SQLSTATE 57P03)
    # that once counted as the message's fault, so a message redelivered through the outage
    # was dead-lettered on its first delivery after it.
    "starting up": lambda: _from_asyncpg(
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    ),
    "shutting down": lambda: _from_asyncpg(
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")
    ),
    "too many connections": lambda: _from_asyncpg(
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
    ),
}


@pytest.mark.parametrize("outage_error", OUTAGE_ERRORS)
async def test_database_failures_beyond_the_delivery_bound_are_retried_not_dead_lettered(
    nats_url, databases, outage_error
):
    region = f"f{uuid.uuid4().hex[:10]}"
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    stream = region_stream_name(region)
    await js.add_stream(StreamConfig(name=stream, subjects=region_stream_subjects(region)))
    envelope = Envelope.wrap(registered(), region=region, service="actors")
    await js.publish(envelope.nats_subject(), envelope.to_json())
    outage = {"failures_left": 6}  # more than max_deliver=2 deliveries
    handlers = EventHandlers(consumer="reporting")

    @handlers.on(ActorRegistered)
    async def project(_deps: object, session: AsyncSession, received: Envelope[ActorRegistered]) -> None:
        if outage["failures_left"]:
            outage["failures_left"] -= 1
            raise OUTAGE_ERRORS[outage_error]()
        await session.execute(effects.insert().values(event_id=received.id))

    async with _sessions(databases) as sessions:
        [subscription] = plan_subscriptions(
            handlers=handlers,
            deps=None,
            sessions=sessions,
            tables=tables,
            stream_name=stream,
            subject_region=region,
            max_deliver=2,
        )
        task = asyncio.create_task(consume_forever(js, subscription, fetch_timeout=0.2, retry_delay=0.1))
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                async with sessions() as session:
                    handled = await session.scalar(select(func.count()).select_from(effects))
                if handled:
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with sessions() as session:
            dead = await session.scalar(select(func.count()).select_from(tables.dead_letters))
    await js.delete_stream(stream)
    await connection.close()
    assert outage["failures_left"] == 0
    assert handled == 1
    assert dead == 0 and subscription.batch.stats.dead_lettered == 0
