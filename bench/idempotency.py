"""What the ``Idempotency-Key`` layer costs: the same requests against the same service with the
layer on (``IDEMPOTENCY_ENABLED=true``, the default) and off, in the same run.

1. ``GET /api/v1/actors/{id}`` (a route without the layer: only the middleware's look at the
   method and headers), actors service with one uvicorn worker each, keep-alive connections.
2. Anonymous registrations for an event, every POST with its own ``Idempotency-Key`` (the layer
   claims the key, then stores the answer: two more short transactions per request), events
   service with one uvicorn worker each, keep-alive connections; each registration a new person.

The on and off services run side by side on their own PostgreSQL databases (the actors pair on
one, read only) and are measured alternately, median of ``--runs``. Target (issue 15): the
layer costs at most 10 % of either throughput (ratio on/off >= 0.90). Nothing is asserted; exit
code 1 only when a run failed. ``.venv/bin/python bench/idempotency.py --help``; PostgreSQL from
``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from events_registration import admin_url, free_port, stop, wait_ready

from nzr_common.auth import issue_token
from nzr_common.db import migrate_async
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess

REGION = "bench"
TARGET_RATIO = 0.90


def start_service(
    service: str, port: int, database_url: str, nats_url: str, *, layer: bool
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IDEMPOTENCY_ENABLED": "true" if layer else "false",
        # One load generator is one client address: the anonymous rate limit would answer 429.
        "RATE_LIMIT_ENABLED": "false",
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "REGION": REGION,
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", f"nzr_{service}", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _keepalive(
    host: str, port: int, requests: list[bytes], connections: int, seconds: float
) -> tuple[int, int]:
    """Send the prepared requests round-robin over keep-alive connections for ``seconds``;
    (answers 2xx, other answers). Each request is sent at most once."""
    done = failed = 0
    pending = iter(requests)
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = next(pending, None)
                if request is None:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                if head[9:10] == b"2":
                    done += 1
                else:
                    failed += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done, failed


def _load_process(host: str, port: int, requests: list[bytes], connections: int, seconds: float, out) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    started = time.perf_counter()
    done, failed = asyncio.run(_keepalive(host, port, requests, connections, seconds))
    out.send((done, failed, time.perf_counter() - started))


def load(port: int, requests: list[bytes], *, connections: int, seconds: float) -> tuple[float, int]:
    """Answers per second (2xx) and the number of other answers, from a separate process."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=_load_process, args=("127.0.0.1", port, requests, connections, seconds, child)
    )
    process.start()
    done, failed, elapsed = parent.recv()
    process.join()
    return done / elapsed, failed


def get_requests(path: str, n: int) -> list[bytes]:
    return [f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n".encode()] * n


def registration_requests(path: str, n: int) -> list[bytes]:
    """N registrations of different people, each with its own Idempotency-Key."""
    requests = []
    for i in range(n):
        tag = uuid.uuid4().hex
        body = json.dumps(
            {"name": f"Teilnehmerin {i}", "email": f"p{tag[:12]}@example.org", "data_use_consent": True}
        ).encode()
        requests.append(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Idempotency-Key: {tag}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return requests


async def published_event(base: str, editor: dict[str, str]) -> str:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    async with httpx.AsyncClient(timeout=30) as client:
        created = await client.post(
            f"{base}/api/v1/events",
            headers=editor,
            json={
                "format": "regionalkonferenz",
                "title": "Regionalkonferenz Zukunft",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=8)).isoformat(),
                "district": "14713000",
            },
        )
        created.raise_for_status()
        event_id = created.json()["id"]
        (await client.post(f"{base}/api/v1/events/{event_id}/publish", headers=editor)).raise_for_status()
    return event_id


async def public_actor(base: str, editor: dict[str, str]) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        created = await client.post(
            f"{base}/api/v1/actors?confirm_duplicates=true",
            headers=editor,
            json={
                "name": "Energiegenossenschaft Bench",
                "kind": "verein",
                "sector": "zivilgesellschaft",
                "district": "14713000",
                "municipality": "Leipzig",
                "topics": ["energie_klimaschutz"],
                "public_profile": True,
            },
        )
        created.raise_for_status()
        return created.json()["id"]


def compare(
    name: str,
    ports: dict[bool, int],
    make_requests,
    args: argparse.Namespace,  # type: ignore[no-untyped-def]
) -> bool:
    """Alternate on/off runs; print each and the median ratio; True when a run had failures."""
    failed = False
    ratios = []
    for layer in (True, False):  # warm-up
        load(
            ports[layer], make_requests(layer, args.connections * 20), connections=args.connections, seconds=1
        )
    for run in range(args.runs):
        rates = {}
        for layer in (True, False) if run % 2 == 0 else (False, True):
            requests = make_requests(layer, args.requests)
            rate, bad = load(ports[layer], requests, connections=args.connections, seconds=args.seconds)
            rates[layer] = rate
            failed |= bool(bad)
            if bad:
                print(f"   run {run + 1}: {bad} answers were not 2xx (layer {'on' if layer else 'off'})")
        ratios.append(rates[True] / rates[False])
        print(
            f"   run {run + 1}: layer on {rates[True]:,.0f} req/s, off {rates[False]:,.0f} req/s, "
            f"ratio {rates[True] / rates[False]:.2f}"
        )
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"   {name}: median ratio on/off {ratio:.2f}; target >= {TARGET_RATIO:.2f}: {verdict}")
    return failed


async def main(args: argparse.Namespace) -> int:
    admin = admin_url()
    databases = {
        "actors": await create_postgres_database(admin, "nzr_bench_idem_actors"),
        "events_on": await create_postgres_database(admin, "nzr_bench_idem_events"),
        "events_off": await create_postgres_database(admin, "nzr_bench_idem_events"),
    }
    await migrate_async("nzr_actors", databases["actors"])
    await migrate_async("nzr_events", databases["events_on"])
    await migrate_async("nzr_events", databases["events_off"])
    nats_server = NatsServerProcess().start()
    actors = {layer: free_port() for layer in (True, False)}
    events = {layer: free_port() for layer in (True, False)}
    servers = [
        *(
            start_service("actors", port, databases["actors"], nats_server.url, layer=on)
            for on, port in actors.items()
        ),
        *(
            start_service(
                "events", port, databases["events_on" if on else "events_off"], nats_server.url, layer=on
            )
            for on, port in events.items()
        ),
    ]
    failed = False
    try:
        for port in (*actors.values(), *events.values()):
            await wait_ready(f"http://127.0.0.1:{port}/readyz")
        token = issue_token(DEVELOPMENT_SECRET, region=REGION, roles=["editor"])
        editor = {"Authorization": f"Bearer {token}"}
        actor_id = await public_actor(f"http://127.0.0.1:{actors[True]}", editor)
        event_ids = {
            on: await published_event(f"http://127.0.0.1:{port}", editor) for on, port in events.items()
        }
        print(
            "Idempotency-Key layer benchmark — PostgreSQL, one uvicorn worker per service, "
            f"{args.connections} keep-alive connections, {args.seconds:.0f} s per run, {args.runs} runs"
        )
        print("\n1. GET /api/v1/actors/{id} (anonymous, public profile)")
        failed |= compare(
            "GET actor", actors, lambda _layer, n: get_requests(f"/api/v1/actors/{actor_id}", n), args
        )
        print("\n2. POST /api/v1/events/{id}/registrations with an Idempotency-Key each (anonymous)")
        failed |= compare(
            "registration",
            events,
            lambda layer, n: registration_requests(f"/api/v1/events/{event_ids[layer]}/registrations", n),
            args,
        )
    except Exception as error:  # a failed run is reported, not hidden
        print(f"benchmark failed: {error!r}")
        failed = True
    finally:
        for server in servers:
            stop(server)
        nats_server.stop()
        for url in databases.values():
            await drop_postgres_database(admin, url)
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--requests", type=int, default=100_000, help="prepared requests per run (upper bound)"
    )
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
