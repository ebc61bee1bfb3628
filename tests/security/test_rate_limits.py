"""Anonymous endpoints (sign-up, registration, public searches) are rate limited per client
address with 429 problem+json and Retry-After; other addresses and callers with a token are not
held up, and the limits come from each service's settings."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from nzr_common.auth import TokenVerifier, issue_token
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings
from nzr_common.testing.services import RunningService
from nzr_common.web import RateLimits

from .conftest import load, new_region, started

# (service, method, path, JSON body, limit setting); the ids exist nowhere, the answers below
# the limit are 200/404/422: what matters is whether the limiter let the call through.
LIMITED = [
    pytest.param("actors", "GET", "/api/v1/actors?q=energie", None, "search", id="actors-search"),
    pytest.param("events", "GET", "/api/v1/events", None, "search", id="events-list"),
    pytest.param("funding", "GET", "/api/v1/funding/programs?q=klima", None, "search", id="funding-search"),
    pytest.param(
        "events",
        "POST",
        "/api/v1/events/1/registrations",
        {"name": "Eva Muster", "email": "eva@example.org", "data_use_consent": True},
        "sign_up",
        id="events-registration",
    ),
    pytest.param(
        "newsletter",
        "POST",
        "/api/v1/newsletter/subscriptions",
        {"email": "eva@example.org", "list_ids": ["no-such-list"], "consent_text_version": "2026-01"},
        "subscription",
        id="newsletter-subscribe",
    ),
]


@asynccontextmanager
async def client_from(running: RunningService, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client connecting from another address to the same running service."""
    transport = httpx.ASGITransport(app=running.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(("service", "method", "path", "body", "limit"), LIMITED)
async def test_anonymous_caller_over_the_limit_gets_429_with_retry_after(
    service, method, path, body, limit, nats_url
):
    async with started(service, nats_url, **{f"rate_limit_{limit}": "3/minute"}) as running:
        region = running.runtime.settings.region
        async with client_from(running, "198.51.100.10") as mallory:
            within = [await mallory.request(method, path, json=body) for _ in range(3)]
            over = await mallory.request(method, path, json=body)
            async with client_from(running, "198.51.100.20") as neighbour:
                other_address = await neighbour.request(method, path, json=body)
            token = issue_token(DEVELOPMENT_SECRET, region=region, roles=["editor"])
            with_token = await mallory.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        metrics = (await running.client.get("/metrics")).text

    assert f'nzr_rate_limited_requests_total{{limit="{limit}"}} 1.0' in metrics
    assert [r.status_code for r in within if r.status_code == 429] == []
    assert over.status_code == 429
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["status"] == 429 and over.json()["title"] == "Too Many Requests"
    assert 1 <= int(over.headers["retry-after"]) <= 60  # the window is one minute
    assert over.headers["x-content-type-options"] == "nosniff"
    assert other_address.status_code != 429
    assert with_token.status_code != 429


async def test_cached_public_pages_count_against_the_limit(nats_url):
    # The event list is answered from a page cache before routing; the limit still applies.
    async with started("events", nats_url, rate_limit_search="5/minute", public_cache_seconds=60) as running:
        async with client_from(running, "198.51.100.30") as client:
            answers = [(await client.get("/api/v1/events?topic=bne")).status_code for _ in range(7)]
    assert answers == [200] * 5 + [429] * 2


async def test_limits_are_per_route_family_and_can_be_switched_off(nats_url):
    async with started(
        "events", nats_url, rate_limit_search="2/minute", rate_limit_sign_up="2/minute"
    ) as running:
        async with client_from(running, "198.51.100.40") as client:
            searches = [(await client.get("/api/v1/events")).status_code for _ in range(3)]
            calendar = [(await client.get("/api/v1/events.ics")).status_code for _ in range(3)]
    assert searches[-1] == 429
    assert 429 not in calendar  # the iCalendar feed declares no limit

    async with started("events", nats_url, rate_limit_search="1/minute", rate_limit_enabled=False) as running:
        async with client_from(running, "198.51.100.50") as client:
            unlimited = [(await client.get("/api/v1/events")).status_code for _ in range(5)]
    assert unlimited == [200] * 5


@pytest.mark.parametrize("service", ["actors", "events", "newsletter", "funding", "reporting"])
def test_each_service_reads_its_limits_from_the_environment(service, monkeypatch):
    _, settings_class = load(service)
    monkeypatch.setenv("RATE_LIMIT_SEARCH", "10/second;300/minute")
    monkeypatch.setenv("RATE_LIMIT_SIGN_UP", "5/minute")
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URI", "redis://rate-limits:6379")
    settings = settings_class()
    assert (settings.rate_limit_search, settings.rate_limit_sign_up) == ("10/second;300/minute", "5/minute")
    assert settings.rate_limit_storage_uri == "redis://rate-limits:6379"


def test_a_limit_that_does_not_parse_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="rate_limit_sign_up"):
        ServiceSettings(rate_limit_sign_up="lots")


def test_a_store_that_is_not_supported_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="rate_limit_storage_uri"):
        ServiceSettings(rate_limit_storage_uri="postgres://db/limits")
    assert ServiceSettings(rate_limit_storage_uri="rediss://cache:6380/2").rate_limit_storage_uri


REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server answers on 127.0.0.1:6379")
async def test_replicas_sharing_a_redis_store_count_together(nats_url, caplog):
    # Two replicas of one service (same region): a caller alternating between them is held to
    # one limit, not one per replica. The caller's address is new per run (the window is 1 min).
    region, caller = new_region(), f"203.0.113.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"
    shared = {"region": region, "rate_limit_search": "3/minute", "rate_limit_storage_uri": REDIS_URL}
    async with started("funding", nats_url, **shared) as one, started("funding", nats_url, **shared) as two:
        async with client_from(one, caller) as via_one, client_from(two, caller) as via_two:
            answers = []
            for client in (via_one, via_two, via_one, via_two):
                answers.append((await client.get("/api/v1/funding/programs?q=klima")).status_code)
    assert answers[:3] == [200, 200, 200]
    assert answers[3] == 429
    assert "rate-limit store unreachable" not in caplog.text  # counted in Redis, not per process


async def test_an_unreachable_store_neither_fails_requests_nor_lifts_the_limit(nats_url, caplog):
    # Nothing listens on port 9: the shared store is down. Requests are judged in the process.
    async with started(
        "funding", nats_url, rate_limit_search="3/minute", rate_limit_storage_uri="redis://127.0.0.1:9/0"
    ) as running:
        async with client_from(running, "198.51.100.60") as client:
            answers = [(await client.get("/api/v1/funding/programs?q=klima")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "rate-limit store unreachable" in caplog.text


@pytest.mark.parametrize("retry_seconds", [3600.0, 0.0], ids=["backing-off", "asking-every-time"])
async def test_a_store_that_hangs_is_asked_once_per_retry_window(retry_seconds):
    # A "Redis" that accepts connections and reads commands but never answers: each request
    # that asks it waits for the store timeout. Within the retry window the middleware judges
    # in the process without asking; with no window it asks on every request (the control).
    received: list[bytes] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            received.append(data)
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    route = Route("/search", endpoint=lambda request: PlainTextResponse("ok"))
    app = Starlette(routes=[route])
    limited = RateLimits(
        app,
        routes=lambda: [(route, "search")],
        authenticate=TokenVerifier(ServiceSettings()).principal_of,
        limits_by_name={"search": "3/minute"},
        storage_uri=f"redis://127.0.0.1:{port}/0",
        store_timeout=0.2,
        store_retry_seconds=retry_seconds,
    )
    transport = httpx.ASGITransport(app=limited, client=("198.51.100.61", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = [(await client.get("/search")).status_code]
            await asyncio.sleep(0.2)
            asked_first = len(received)
            answers += [(await client.get("/search")).status_code for _ in range(4)]
            await asyncio.sleep(0.2)
    finally:
        server.close()
    assert answers == [200, 200, 200, 429, 429]  # the limit holds either way
    assert asked_first > 0  # the first request did ask the store
    if retry_seconds:
        assert len(received) == asked_first, "asked the store again inside the retry window"
    else:
        assert len(received) > asked_first
