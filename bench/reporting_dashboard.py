"""The dashboard page against the JSON report it is built from, measured in the same run.

One run starts a nats-server and the reporting service in-process (SQLite, ASGI client, no
network), publishes ``--actors`` actors spread over the 13 Saxon districts plus completed events,
waits until they are projected, then requests sequentially:

* **dashboard**: ``GET /api/v1/reports/dashboard`` (German; map, two matplotlib charts, tables),
  and with filters (a district, a theme, a 24-month period);
* **baseline**: ``GET /api/v1/reports/indicators`` (the same figures as JSON, from the same
  cache) in the same run.

Prints p50/p95 of each and the ratio dashboard/baseline. No timing is asserted anywhere.
``.venv/bin/python bench/reporting_dashboard.py --requests 40``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nats
from nats.js.api import StreamConfig

from nzr_common.contracts.base import Envelope, region_stream_name, region_stream_subjects
from nzr_common.regions import load_districts
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.testing.services import running_service
from nzr_reporting.app import create_app
from nzr_reporting.settings import ReportingSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services/reporting"))
from tests.events import actor, gathering_completed  # the test suite's event factories

REGION = "bench"


async def timed(client, url: str, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return durations


def figures(name: str, durations: list[float]) -> tuple[float, float]:
    p50 = statistics.median(durations)
    p95 = statistics.quantiles(durations, n=20)[18]
    print(f"{name:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (n={len(durations)})")
    return p50, p95


def ratio(name: str, ours: tuple[float, float], baseline: tuple[float, float]) -> None:
    print(f"ratio {name:<20} p50 {ours[0] / baseline[0]:6.1f}x   p95 {ours[1] / baseline[1]:6.1f}x")


async def main(actors: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = NatsServerProcess(Path(folder) / "nats").start()
        try:
            await measure(server.url, folder, actors, requests)
        finally:
            server.stop()


async def measure(nats_url: str, folder: str, actors: int, requests: int) -> None:
    codes = list(load_districts())
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    await js.add_stream(
        StreamConfig(name=region_stream_name(REGION), subjects=region_stream_subjects(REGION))
    )
    events = [actor(district=codes[i % len(codes)]) for i in range(actors)]
    events += [
        gathering_completed(district=codes[i % len(codes)], participants=12) for i in range(actors // 10)
    ]
    for event in events:
        envelope = Envelope.wrap(event, region=REGION, service=event.subject.producer)
        await js.publish(envelope.nats_subject(), envelope.to_json())
    await connection.close()
    settings = ReportingSettings(
        region=REGION,
        nats_url=nats_url,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{folder}/reporting.db",
        rate_limit_enabled=False,
    )
    async with running_service(create_app, settings, "nzr_reporting") as running:
        client = running.client
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = (await client.get("/api/v1/reports/status")).json()
            if sum(c["handled"] for c in status["consumers"]) >= len(events):
                break
            await asyncio.sleep(0.2)
        report = (await client.get("/api/v1/reports/indicators")).json()
        total = next(i for i in report["indicators"] if i["id"] == "actors_total")["values"][0]["value"]
        print(f"{len(events)} events projected; actors_total = {total:g}")
        base = "/api/v1/reports"
        today = date.today()
        two_years_ago = f"{today.year - 2 + (today.month == 12)}-{today.month % 12 + 1:02d}"
        filtered_url = f"{base}/dashboard?district=14612000&theme=Veranstaltungen&from={two_years_ago}"
        started = time.perf_counter()
        await client.get(f"{base}/dashboard")
        print(f"first GET /dashboard (charts drawn): {(time.perf_counter() - started) * 1000:.1f} ms")
        baseline = figures(
            "baseline GET /indicators (JSON)", await timed(client, f"{base}/indicators", requests)
        )
        page = figures("GET /dashboard", await timed(client, f"{base}/dashboard", requests))
        filtered = figures(
            "GET /dashboard?district&theme&from (24 mo)", await timed(client, filtered_url, requests)
        )
        ratio("dashboard/baseline", page, baseline)
        ratio("filtered/baseline", filtered, baseline)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.actors, arguments.requests))
