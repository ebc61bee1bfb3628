"""What the ``Idempotency-Key`` layer costs, measured against the same requests without it in
the same run.

1. ``GET /api/v1/actors/{id}`` (a route without the layer: only the middleware's look at the
   method and headers): an actors service with the layer on (``IDEMPOTENCY_ENABLED=true``, the
   default) against one with it off, one uvicorn worker each, keep-alive connections.
2. Anonymous registrations for an event, a new person each and every POST with its own
   ``Idempotency-Key`` (the layer claims the key, then keeps the answer: two more short
   transactions, shared by the requests that arrive together): an events service with the
   layer on against one with it off; then, to take the difference between two processes out,
   the same service with a key against without one.

The services run side by side on their own PostgreSQL databases (the actors pair on one, read
only). On and off are measured in turns of short slices, since the other work on this machine
changes by the second; median of ``--runs``. Target (issue 15): the layer costs at most 10 % of
either throughput (ratio on/off >= 0.90). Nothing is asserted; exit code 1 only when a run
failed. ``.venv/bin/python bench/idempotency.py --help``; PostgreSQL from ``BENCH_DATABASE_URL``
or ``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
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
import tempfile
import time
import uuid
from collections.abc import Callable
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
    log = Path(tempfile.gettempdir()) / f"nzr-bench-idempotency-{service}-{port}.log"
    with log.open("wb") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", f"nzr_{service}", "serve"], env=env, stdout=output, stderr=output
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


def registration_requests(path: str, n: int, *, key: bool = True) -> list[bytes]:
    """N registrations of different people, each with its own Idempotency-Key (or none)."""
    requests = []
    for i in range(n):
        tag = uuid.uuid4().hex
        body = json.dumps(
            {"name": f"Teilnehmerin {i}", "email": f"p{tag[:12]}@example.org", "data_use_consent": True}
        ).encode()
        header = f"Idempotency-Key: {tag}\r\n" if key else ""
        requests.append(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"{header}Content-Length: {len(body)}\r\n\r\n".encode()
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


Side = tuple[subprocess.Popen[bytes], int, Callable[[int], list[bytes]]]  # server, port, n -> requests
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User and system CPU time the server process has used so far."""
    fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def compare(name: str, on: Side, off: Side, args: argparse.Namespace) -> bool:
    """Runs of interleaved short slices, on and off in turn; print each run and the medians of
    the throughput ratio and of the server's CPU time per answer. True when a run had answers
    other than 2xx.

    The other work on this machine changes by the second, which moves the throughput of either
    side; the CPU time the server process spends per answer moves much less, and with one worker
    its inverse is the throughput the service reaches when it has the CPU to itself."""
    failed = False
    ratios, cpu_ratios = [], []
    sides = {True: on, False: off}
    slice_seconds = args.seconds / args.slices
    for _, port, make_requests in sides.values():  # warm-up
        load(port, make_requests(args.connections * 20), connections=args.connections, seconds=1)
    for run in range(args.runs):
        answered = {True: 0.0, False: 0.0}
        cpu = {True: 0.0, False: 0.0}
        for turn in range(args.slices):
            for layer in (True, False) if turn % 2 == 0 else (False, True):
                server, port, make_requests = sides[layer]
                requests = make_requests(int(args.requests / args.slices))
                before = cpu_seconds(server)
                rate, bad = load(port, requests, connections=args.connections, seconds=slice_seconds)
                cpu[layer] += cpu_seconds(server) - before
                answered[layer] += rate * slice_seconds
                failed |= bool(bad)
                if bad:
                    print(f"   run {run + 1}: {bad} answers were not 2xx ({'on' if layer else 'off'})")
        rate_on, rate_off = answered[True] / args.seconds, answered[False] / args.seconds
        per_on, per_off = cpu[True] / answered[True], cpu[False] / answered[False]
        ratios.append(rate_on / rate_off)
        cpu_ratios.append(per_off / per_on)
        print(
            f"   run {run + 1}: on {rate_on:,.0f} req/s, off {rate_off:,.0f} req/s, "
            f"ratio {rate_on / rate_off:.2f}; "
            f"server CPU per answer on {per_on * 1e6:,.0f} µs, off {per_off * 1e6:,.0f} µs, "
            f"ratio off/on {per_off / per_on:.2f}"
        )
    ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
    print(
        f"   {name}: median throughput ratio on/off {ratio:.2f} "
        f"({'met' if ratio >= TARGET_RATIO else 'NOT met'}); median CPU-per-answer ratio off/on "
        f"{cpu_ratio:.2f} ({'met' if cpu_ratio >= TARGET_RATIO else 'NOT met'}); target >= {TARGET_RATIO:.2f}"
    )
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
            await wait_ready(f"http://127.0.0.1:{port}/readyz", within=120)
        token = issue_token(DEVELOPMENT_SECRET, region=REGION, roles=["editor"])
        editor = {"Authorization": f"Bearer {token}"}
        actor_id = await public_actor(f"http://127.0.0.1:{actors[True]}", editor)
        event_ids = {
            on: await published_event(f"http://127.0.0.1:{port}", editor) for on, port in events.items()
        }
        print(
            "Idempotency-Key layer benchmark — PostgreSQL, one uvicorn worker per service, "
            f"{args.connections} keep-alive connections; per run {args.seconds:.0f} s each, on and off "
            f"alternating in {args.slices} slices; {args.runs} runs"
        )
        get_actor = f"/api/v1/actors/{actor_id}"
        print("\n1. GET /api/v1/actors/{id} (anonymous, public profile): layer on against layer off")
        failed |= compare(
            "GET actor",
            (servers[0], actors[True], lambda n: get_requests(get_actor, n)),
            (servers[1], actors[False], lambda n: get_requests(get_actor, n)),
            args,
        )

        def registrations(layer: bool, *, key: bool = True) -> Side:
            path = f"/api/v1/events/{event_ids[layer]}/registrations"
            server = servers[2] if layer else servers[3]
            return server, events[layer], lambda n: registration_requests(path, n, key=key)

        print(
            "\n2. POST /api/v1/events/{id}/registrations (anonymous, a new person each), every POST "
            "with its own Idempotency-Key: layer on against layer off"
        )
        failed |= compare("registration", registrations(True), registrations(False), args)
        print(
            "\n   the same, in the same process: with a key (the layer claims it and keeps the answer) "
            "against without a key (the layer stays out)"
        )
        failed |= compare(
            "registration, same process", registrations(True), registrations(True, key=False), args
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
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per run and layer")
    parser.add_argument(
        "--requests", type=int, default=100_000, help="prepared requests per run (upper bound)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slices", type=int, default=5, help="on/off turns per run")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
