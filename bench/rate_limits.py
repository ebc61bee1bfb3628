"""What the rate limiter costs: ``GET /api/v1/actors/{id}`` and event registrations per second
with the limiter on and off, measured in the same run.

Each service runs twice in this process (SQLite, one NATS server), once with
``RATE_LIMIT_ENABLED=true`` (limits so high that nothing is refused: the cost of counting, not
of refusing) and once with ``false``. Requests go straight to the ASGI app (no HTTP client or
server in the way, so the middleware's share is not diluted), C at a time, in interleaved rounds
of S seconds (on, off, on, off, ...) so that the machine's drift hits both alike. Throughput is
requests per CPU second of this process: on a machine shared with other work, wall-clock rates
swing several-fold between rounds, CPU time per request does not. The median round is
reported. The actor read is anonymous and with an editor's token; the registration is
anonymous (it is counted by address, the limiter's busiest path). Target (issue #15): the
limiter costs at most 10 % of the throughput.

``.venv/bin/python bench/rate_limits.py --help``. No assertion: figures and verdicts are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import sqlite_url
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.testing.services import RunningService, running_service

TARGET_COST = 0.10
HIGH = "100000000/minute"
NO_REFUSALS = {f"rate_limit_{name}": HIGH for name in ("search", "sign_up", "subscription", "writes")}


async def call(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    client: str = "198.51.100.1",
) -> int:
    """One request straight through the ASGI app; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-length", str(len(body)).encode()), *headers],
        "client": (client, 40000),
        "server": ("bench", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


Request = Callable[[int], tuple[str, str, list[tuple[bytes, bytes]], bytes]]


def _address(n: int) -> str:
    """One of 256 client addresses: many people, each with a short history in the counters."""
    return f"198.51.100.{n % 256}"


async def round_of(app: Any, request: Request, *, concurrency: int, seconds: float) -> tuple[float, int]:
    """Requests per CPU second of this process (its threads included) for ``seconds`` with
    ``concurrency`` in flight, and the non-2xx count."""
    deadline = time.perf_counter() + seconds
    cpu = time.process_time()
    done = failed = 0
    counter = iter(range(10**9))

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < deadline:
            n = next(counter)
            method, path, headers, body = request(n)
            status = await call(app, method, path, headers, body, client=_address(n))
            done += 1
            failed += not 200 <= status < 300

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.process_time() - cpu), failed


@contextlib.asynccontextmanager
async def service(name: str, nats_url: str, folder: Path, **overrides: Any) -> AsyncIterator[RunningService]:
    app_module = __import__(f"nzr_{name}.app", fromlist=["create_app"])
    settings_module = __import__(f"nzr_{name}.settings", fromlist=["x"])
    settings_class = next(
        v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    database = folder / uuid.uuid4().hex[:8]
    database.mkdir()
    settings = settings_class(
        region="bench",
        nats_url=nats_url,
        database_url=sqlite_url(database, name),
        environment="test",
        **overrides,
    )
    async with running_service(app_module.create_app, settings, f"nzr_{name}") as running:
        yield running


def _editor() -> list[tuple[bytes, bytes]]:
    token = issue_token(DEVELOPMENT_SECRET, region="bench", roles=["editor"], subject="bench-editor")
    return [(b"authorization", f"Bearer {token}".encode())]


async def actor_reads(nats_url: str, folder: Path, args: argparse.Namespace) -> None:
    async with (
        service("actors", nats_url, folder, rate_limit_enabled=True, **NO_REFUSALS) as on,
        service("actors", nats_url, folder, rate_limit_enabled=False) as off,
    ):
        actor = {
            "name": "Energiegenossenschaft Bench",
            "kind": "verein",
            "sector": "zivilgesellschaft",
            "district": "14713000",
            "public_profile": True,
        }
        paths = []
        for running in (on, off):
            editor = {"Authorization": _editor()[0][1].decode()}
            created = await running.client.post("/api/v1/actors", json=actor, headers=editor)
            created.raise_for_status()
            paths.append(f"/api/v1/actors/{created.json()['id']}")
        for who, headers in (("anonymous", []), ("editor token", _editor())):
            on_path, off_path = paths

            def make(path: str, headers: list[tuple[bytes, bytes]] = headers) -> Request:
                return lambda n: ("GET", path, headers, b"")

            await compare_apps(f"GET /actors/{{id}} ({who})", on, off, make(on_path), make(off_path), args)


async def compare_apps(
    label: str, on: RunningService, off: RunningService, on_request: Request, off_request: Request, args: Any
) -> None:
    """Throughput of the app with the limiter and of the one without, in interleaved rounds
    after a warm-up of each; each app gets requests for its own ids."""

    async def run_round(app: Any, request: Request, seconds: float) -> tuple[float, int]:
        return await round_of(app, request, concurrency=args.concurrency, seconds=seconds)

    rates: dict[str, list[float]] = {"on": [], "off": []}
    failures = 0
    await run_round(on.app, on_request, args.seconds / 2)
    await run_round(off.app, off_request, args.seconds / 2)
    for _ in range(args.rounds):
        for name, app, request in (("on", on.app, on_request), ("off", off.app, off_request)):
            rate, failed = await run_round(app, request, args.seconds)
            rates[name].append(rate)
            failures += failed
    report(label, rates, failures)


#: Median requests per CPU second without the limiter, per label, for the limiter-alone shares.
BASELINE_RATES: dict[str, float] = {}


def report(label: str, rates: dict[str, list[float]], failures: int) -> None:
    ours, baseline = statistics.median(rates["on"]), statistics.median(rates["off"])
    BASELINE_RATES[label] = baseline
    cost = 1 - ours / baseline
    verdict = "OK" if cost <= TARGET_COST else "OVER TARGET"
    print(
        f"{label:<36} ours (limiter on) {ours:7.0f} req/CPU-s | baseline (off) {baseline:7.0f} req/CPU-s | "
        f"ratio {ours / baseline:5.3f} | cost {cost:+6.1%} (target <= {TARGET_COST:.0%}) {verdict}"
        + (f" | {failures} non-2xx" if failures else "")
    )
    print(f"{'':<36} rounds on:  {', '.join(f'{r:.0f}' for r in rates['on'])}")
    print(f"{'':<36} rounds off: {', '.join(f'{r:.0f}' for r in rates['off'])}")


async def registrations(nats_url: str, folder: Path, args: argparse.Namespace) -> None:
    async with (
        service("events", nats_url, folder, rate_limit_enabled=True, **NO_REFUSALS) as on,
        service("events", nats_url, folder, rate_limit_enabled=False) as off,
    ):
        editor = {"Authorization": _editor()[0][1].decode()}
        starts = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=30)
        event = {
            "format": "workshop",
            "title": "Werkstatt Bench",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": 100_000,
        }
        paths = []
        for running in (on, off):
            created = await running.client.post("/api/v1/events", json=event, headers=editor)
            created.raise_for_status()
            event_id = created.json()["id"]
            (
                await running.client.post(f"/api/v1/events/{event_id}/publish", headers=editor)
            ).raise_for_status()
            paths.append(f"/api/v1/events/{event_id}/registrations")
        json_type = [(b"content-type", b"application/json")]

        def make(path: str) -> Request:
            def request(n: int) -> Any:
                body = {"name": f"Gast {n}", "email": f"gast{n}-{uuid.uuid4().hex[:8]}@example.org"}
                return "POST", path, json_type, json.dumps({**body, "data_use_consent": True}).encode()

            return request

        await compare_apps("POST /events/{id}/registrations", on, off, make(paths[0]), make(paths[1]), args)


async def middleware_alone(iterations: int) -> None:
    """The limiter's own time per request, around an app that answers at once: the part of the
    figures above that is the limiter's, without the noise of the database and the machine."""
    from nzr_actors.app import create_app as actors_app
    from nzr_actors.settings import ActorsSettings
    from nzr_common.access import api_routes, route_access
    from nzr_common.auth import TokenVerifier
    from nzr_common.settings import ServiceSettings
    from nzr_common.web import RateLimits
    from nzr_events.app import create_app as events_app
    from nzr_events.settings import EventsSettings

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-alone-"))
    verifier = TokenVerifier(ServiceSettings())
    cases = []
    actor, registration = "/api/v1/actors/x", "/api/v1/events/x/registrations"
    for label, create, settings_class, method, path, headers in (
        ("GET /actors/{id} (anonymous)", actors_app, ActorsSettings, "GET", actor, []),
        ("GET /actors/{id} (editor token)", actors_app, ActorsSettings, "GET", actor, _editor()),
        ("POST /events/{id}/registrations", events_app, EventsSettings, "POST", registration, []),
        ("  … with an editor token", events_app, EventsSettings, "POST", registration, _editor()),
    ):
        service_app = create(settings_class(database_url=sqlite_url(folder, uuid.uuid4().hex[:6])))
        routes = [(r, n) for r in api_routes(service_app) if (n := route_access(r).rate_limit)]
        limited = RateLimits(
            answer,
            routes=lambda routes=routes: routes,
            limits_by_name={name: HIGH for name in ("search", "sign_up", "subscription", "writes")},
            authenticate=verifier.principal_of,
        )
        cases.append((label, limited, method, path, headers))
    for label, limited, method, path, headers in cases:
        timings: dict[str, float] = {}
        for side, app in (("off", answer), ("on", limited)):
            best = float("inf")
            for _ in range(5):
                start = time.process_time()
                for n in range(iterations):
                    await call(app, method, path, headers, b"", client=_address(n))
                    await asyncio.sleep(0)  # the counters' background expiry gets its turn
                best = min(best, (time.process_time() - start) / iterations)
            timings[side] = best
        added = timings["on"] - timings["off"]
        baseline = BASELINE_RATES.get(
            label.replace("  … with an editor token", "POST /events/{id}/registrations")
        )
        share = f" = {added * baseline:.1%} of the baseline's CPU per request" if baseline else ""
        print(
            f"{label:<36} limiter alone: {added * 1e6:6.1f} µs per request{share} (best of 5 × {iterations})"
        )


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-rate-limits-"))
    nats = NatsServerProcess(folder / "nats").start()
    try:
        print(
            f"rate limiter cost — in-process ASGI calls, SQLite, {args.concurrency} in flight, "
            f"{args.rounds} interleaved rounds of {args.seconds:g} s per side, median round"
        )
        if "actors" in args.only:
            await actor_reads(nats.url, folder, args)
        if "registrations" in args.only:
            await registrations(nats.url, folder, args)
        if "alone" in args.only:
            await middleware_alone(args.iterations)
    finally:
        nats.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds per side (median reported)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--only",
        nargs="+",
        default=["actors", "registrations", "alone"],
        choices=["actors", "registrations", "alone"],
    )
    parser.add_argument("--iterations", type=int, default=5000, help="calls per timing of the limiter alone")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
