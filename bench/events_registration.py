"""Events service under load, each figure next to a baseline measured in the same run.

1. **Registration rush**: N (500) concurrent registrations to one published event with C (200)
   seats, over HTTP against the events service (uvicorn, one worker, PostgreSQL). Reported: the
   wall time, confirmed/waiting/error counts (must be exactly C confirmed, the rest waiting,
   no errors), and the time of N concurrent POSTs to a bare FastAPI endpoint with the same
   client as the baseline.
2. **Published-events list**: the first page of ``GET /api/v1/events?district=...`` with 10,000
   published events in the database, against a bare FastAPI endpoint returning a constant
   JSON page, under the same load generator (``wrk`` if installed, else a keep-alive HTTP/1.1
   generator in a separate process). Target (issue): at least 20% of the baseline's req/s.

No assertion: the figures and verdicts are printed, exit code 0 (1 when a run failed).
``.venv/bin/python bench/events_registration.py --help``; PostgreSQL from ``BENCH_DATABASE_URL``
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
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from nzr_common.auth import issue_token
from nzr_common.db import create_engine, migrate_async
from nzr_common.regions import load_districts
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess

REGION = "bench"
REGISTRATION_TARGET_SECONDS = 5.0
LIST_TARGET_RATIO = 0.20
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def baseline_app():  # type: ignore[no-untyped-def]
    """Bare FastAPI: a constant JSON page (GET) and a constant receipt (POST)."""
    from fastapi import FastAPI

    app = FastAPI()
    page = {
        "items": [{"id": str(i), "title": "Werkstatt", "district": "14713000"} for i in range(20)],
        "total": 770,
        "limit": 20,
        "offset": 0,
    }

    @app.get("/const")
    async def constant() -> dict:  # type: ignore[type-arg]
        return page

    @app.post("/const", status_code=201)
    async def constant_post(body: dict) -> dict:  # type: ignore[type-arg]
        return {"status": "confirmed", "email": body.get("email")}

    return app


def start_baseline(port: int) -> subprocess.Popen[bytes]:
    code = (
        f"import sys, uvicorn; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import events_registration as b; uvicorn.run(b.baseline_app(), host='127.0.0.1', "
        f"port={port}, log_level='warning', access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def start_events_service(
    port: int,
    database_url: str,
    nats_url: str,
    *,
    cache_seconds: float = 1.0,
    command: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PUBLIC_CACHE_SECONDS": str(cache_seconds),
        # One load generator is one client address: the anonymous rate limit would answer 429.
        "RATE_LIMIT_ENABLED": "false",
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "REGION": REGION,
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    return subprocess.Popen(
        command or [sys.executable, "-m", "nzr_events", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


# ---------------------------------------------------------------- registration rush


async def post_json(url: str, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    """One POST on its own connection (as 500 different people would send it)."""
    parsed = httpx.URL(url)
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    try:
        writer.write(
            f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + payload
        )
        answer = await reader.read(-1)
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(content) if content.startswith(b"{") else {}


async def rush(url: str, n: int) -> tuple[float, list[tuple[int, dict] | BaseException]]:  # type: ignore[type-arg]
    """N POSTs at once, each on its own connection; the wall time until the last answer."""

    def body(i: int) -> dict:  # type: ignore[type-arg]
        email = f"person{i}.{uuid.uuid4().hex[:6]}@example.org"
        return {"name": f"Teilnehmerin {i}", "email": email, "data_use_consent": True}

    started = time.perf_counter()
    answers = await asyncio.gather(*(post_json(url, body(i)) for i in range(n)), return_exceptions=True)
    return time.perf_counter() - started, answers


async def registration_round(
    base: str, baseline: str, n: int, seats: int, editor: dict[str, str]
) -> dict[str, float | int]:
    async with httpx.AsyncClient(timeout=60) as client:
        starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        created = await client.post(
            f"{base}/api/v1/events",
            headers=editor,
            json={
                "format": "regionalkonferenz",
                "title": "Regionalkonferenz Zukunft",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=8)).isoformat(),
                "district": "14713000",
                "capacity": seats,
            },
        )
        created.raise_for_status()
        event_id = created.json()["id"]
        (await client.post(f"{base}/api/v1/events/{event_id}/publish", headers=editor)).raise_for_status()
        await rush(f"{baseline}/const", 50)  # warm-up
        base_seconds, _ = await rush(f"{baseline}/const", n)
        seconds, answers = await rush(f"{base}/api/v1/events/{event_id}/registrations", n)
        # The answer is the same for every registration (no enumeration): the outcome per person
        # goes by mail, so the stored counters tell confirmed and waiting.
        accepted = [isinstance(a, tuple) and a[0] == 202 for a in answers]
        shown = (await client.get(f"{base}/api/v1/events/{event_id}")).json()
    return {
        "seconds": seconds,
        "baseline_seconds": base_seconds,
        "confirmed": shown["confirmed_count"] if all(accepted) else 0,
        "waiting": shown["waiting_count"] if all(accepted) else 0,
        "errors": accepted.count(False),
        "stored_confirmed": shown["confirmed_count"],
        "stored_waiting": shown["waiting_count"],
    }


# ---------------------------------------------------------------- list throughput


async def seed_events(database_url: str, n: int) -> str:
    """N published events spread over the districts; returns the district to filter by."""
    from nzr_events.gatherings.models import EventRow
    from nzr_events.times import BERLIN

    districts = sorted(load_districts())
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        starts = (datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN) + timedelta(hours=7 * i)).astimezone(UTC)
        topics = [["klima", "energie"], ["mobilitaet"], ["bne", "landwirtschaft"]][i % 3]
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "status": "published",
                "format": ["workshop", "kick_off", "fachtag", "jour_fixe"][i % 4],
                "title": f"Veranstaltung {i}",
                "description": "Netzwerktreffen mit Impulsen und Austausch " * 3,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "venue_name": "Bürgerhaus",
                "venue_address": "Markt 1",
                "district": districts[i % len(districts)],
                "topics": topics,
                "topic_tags": "|" + "|".join(topics) + "|",
                "organiser_actor_ids": [],
                "capacity": 40,
                "confirmed_count": 0,
                "waiting_count": 0,
                "attended_count": 0,
                "next_position": 1,
                "version": 2,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with engine.begin() as connection:
        for chunk in range(0, n, 1000):
            await connection.execute(insert(EventRow), rows[chunk : chunk + 1000])
        if make_url(database_url).get_backend_name().startswith("postgres"):
            await connection.exec_driver_sql("ANALYZE events")
    await engine.dispose()
    return districts[3]


async def _keepalive_load(
    host: str, port: int, path: str, connections: int, seconds: float
) -> tuple[int, int]:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()
    done = 0
    failed = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    done += 1
                else:
                    failed += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done, failed


def _load_process(host: str, port: int, path: str, connections: int, seconds: float, out) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    out.send(asyncio.run(_keepalive_load(host, port, path, connections, seconds)))


def load(url: str, *, connections: int, seconds: float) -> tuple[float, int]:
    """Requests per second (and failures) for GET url under a fixed number of connections."""
    parsed = httpx.URL(url)
    target = parsed.raw_path.decode()
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
        return rate, int(bad.group(1)) if bad else 0
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=_load_process, args=(parsed.host, parsed.port, target, connections, seconds, child)
    )
    process.start()
    done, failed = parent.recv()
    process.join()
    return done / seconds, failed


# ---------------------------------------------------------------- main


def admin_url() -> str:
    url = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or ("postgresql://postgres@127.0.0.1:5432/test")
    )
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def main(args: argparse.Namespace) -> int:
    admin = admin_url()
    database_url = await create_postgres_database(admin, "nzr_bench_events")
    await migrate_async("nzr_events", database_url)
    nats_server = NatsServerProcess().start()
    service_port, baseline_port = free_port(), free_port()
    service = start_events_service(service_port, database_url, nats_server.url)
    baseline = start_baseline(baseline_port)
    base, base_line = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{baseline_port}"
    failed = False
    try:
        await wait_ready(f"{base}/readyz")
        await wait_ready(f"{base_line}/const")
        editor = {
            "Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region=REGION, roles=['editor'])}"
        }
        print(
            f"events service benchmark — PostgreSQL {make_url(admin).host}, one uvicorn worker each, "
            f"{'wrk' if shutil.which('wrk') else 'keep-alive load generator in a separate process'}"
        )
        print(
            f"\n1. {args.registrations} concurrent registrations, {args.seats} seats "
            f"(median of {args.runs}; baseline: same POSTs to a bare FastAPI endpoint)"
        )
        rounds = []
        for run in range(args.runs):
            result = await registration_round(base, base_line, args.registrations, args.seats, editor)
            rounds.append(result)
            exact = (result["confirmed"], result["stored_confirmed"]) == (args.seats, args.seats)
            failed |= not exact or bool(result["errors"])
            print(
                f"   run {run + 1}: {result['seconds']:.2f} s (baseline {result['baseline_seconds']:.2f} s, "
                f"ratio {result['seconds'] / result['baseline_seconds']:.1f}x)  "
                f"confirmed={result['confirmed']} waiting={result['waiting']} errors={result['errors']}  "
                f"stored: "
                f"{result['stored_confirmed']} confirmed / {result['stored_waiting']} waiting"
            )
        median = statistics.median(r["seconds"] for r in rounds)
        median_base = statistics.median(r["baseline_seconds"] for r in rounds)
        verdict = "met" if median < REGISTRATION_TARGET_SECONDS and not failed else "NOT met"
        print(
            f"   median {median:.2f} s vs baseline {median_base:.2f} s (ratio {median / median_base:.1f}x); "
            f"target < {REGISTRATION_TARGET_SECONDS:.0f} s with exactly {args.seats} confirmed: {verdict}"
        )

        district = await seed_events(database_url, args.events)
        path = f"/api/v1/events?district={district}"
        async with httpx.AsyncClient() as client:
            first = (await client.get(f"{base}{path}")).json()
        print(
            f"\n2. published-events list, {args.events} events, first page filtered by district "
            f"({first['total']} matches, {len(first['items'])} on the page), {args.connections} connections, "
            f"{args.seconds:.0f} s each, median of {args.runs}"
        )
        load(f"{base}{path}", connections=args.connections, seconds=1)  # warm-up
        ratios = []
        for run in range(args.runs):
            ours, ours_failed = load(f"{base}{path}", connections=args.connections, seconds=args.seconds)
            bare, _ = load(f"{base_line}/const", connections=args.connections, seconds=args.seconds)
            ratios.append(ours / bare)
            failed |= bool(ours_failed)
            print(
                f"   run {run + 1}: list {ours:,.0f} req/s, bare FastAPI {bare:,.0f} req/s, "
                f"ratio {ours / bare:.2f} (failed responses: {ours_failed})"
            )
        ratio = statistics.median(ratios)
        print(
            f"   median ratio {ratio:.2f}; target >= {LIST_TARGET_RATIO:.2f}: "
            f"{'met' if ratio >= LIST_TARGET_RATIO else 'NOT met'}"
        )
        # For comparison: the same list rendered from the database on every request.
        uncached_port = free_port()
        uncached = start_events_service(uncached_port, database_url, nats_server.url, cache_seconds=0)
        try:
            await wait_ready(f"http://127.0.0.1:{uncached_port}/readyz")
            url = f"http://127.0.0.1:{uncached_port}{path}"
            load(url, connections=args.connections, seconds=1)
            ours, _ = load(url, connections=args.connections, seconds=args.seconds)
            bare, _ = load(f"{base_line}/const", connections=args.connections, seconds=args.seconds)
            print(
                f"   without the public-page cache (PUBLIC_CACHE_SECONDS=0, one run): "
                f"list {ours:,.0f} req/s, "
                f"bare FastAPI {bare:,.0f} req/s, ratio {ours / bare:.2f}"
            )
        finally:
            stop(uncached)
    except Exception as error:  # a failed run is reported, not hidden
        print(f"benchmark failed: {error!r}")
        failed = True
    finally:
        stop(service)
        stop(baseline)
        nats_server.stop()
        await drop_postgres_database(admin, database_url)
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=500)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(asyncio.run(main(parse_args())))
