"""What JSON logging and tracing cost: ``GET /api/v1/actors/{id}`` throughput of the actors
service with them on against the same service with them off, measured in the same run.

* **on**: the defaults with an exporter — ``LOG_FORMAT=json``, a server span per request and
  the default sampler (``parentbased_ratelimiting``: at most 100 new traces a second per process
  recorded, the rest carry ids that propagate but are not recorded), batched and sent over
  OTLP/HTTP to a sink in this process (which answers 200 and counts the spans' bytes);
* **off**: ``LOG_FORMAT=text`` and ``OTEL_SDK_DISABLED=true`` (no tracer provider, no
  instrumentation);
* **every span**: as on, with ``OTEL_TRACES_SAMPLER=parentbased_always_on`` — every request
  recorded and exported, whatever the load (what the defaults were before);
* **unexported**: JSON logs and every span recorded, no ``OTEL_EXPORTER_OTLP_ENDPOINT``.

The servers (``python -m nzr_actors serve``, one uvicorn worker each) run at once on one NATS
server, each on a database of its own holding the same number of actors (registered over HTTP
first); they are loaded one after the other, alternately, ``--rounds`` times, and the medians are
compared. A database per server because on a shared one the first server started (``off``) held
the outbox relay's lease and the three others polled for it (two transactions every 100 ms):
work that has nothing to do with logging or tracing, charged to every mode but ``off``. Next to
the throughput each mode's server CPU time per request (user + system of the server process while
it was loaded, from ``/proc``) is printed: on a machine shared with other work it moves much less
than req/s.
Target (issue 20): on costs at most 10 % (ratio on/off ≥ 0.90). Nothing is asserted; exit code 0.
``.venv/bin/python bench/observability.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from actors_api import DEFAULT_POSTGRES_URL, find_postgres, free_port, load, start_server

from nzr_common.auth import issue_token
from nzr_common.db import migrate
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import (
    create_postgres_database,
    drop_postgres_database,
    sqlite_url,
)
from nzr_common.testing.nats import NatsServerProcess

REGION = "bench"
DISTRICTS = ["14522000", "14523000", "14612000", "14625000", "14626000"]


class Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that accepts every export and counts what it got; it keeps the
    exporter's connection open as a collector does (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    exports = 0
    spans: dict[str, int] = {}
    received_bytes = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Sink.exports += 1
        Sink.received_bytes += len(body)
        for spans in ExportTraceServiceRequest.FromString(body).resource_spans:
            resource = {a.key: a.value.string_value for a in spans.resource.attributes}
            mode = resource.get("bench.mode", "")
            Sink.spans[mode] = Sink.spans.get(mode, 0) + sum(len(scope.spans) for scope in spans.scope_spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def register_actors(port: int, count: int, editor: dict[str, str]) -> list[str]:
    ids = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=editor, timeout=30) as client:
        for i in range(count):
            response = client.post(
                "/api/v1/actors",
                json={
                    "name": f"{uuid.uuid4().hex} e.V.",
                    "kind": "verein",
                    "sector": "zivilgesellschaft",
                    "district": DISTRICTS[i % len(DISTRICTS)],
                    "topics": ["energie_klimaschutz"],
                },
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actors", type=int, default=200, help="actors registered, then read")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of every mode (medians)")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    workdir = Path(tempfile.mkdtemp(prefix="nzr-bench-observability-"))
    postgres = await find_postgres(os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL))
    urls: dict[str, str] = {}
    servers = []
    nats_server = NatsServerProcess(workdir / "nats").start()
    try:
        # One hash seed for every server: with a random one each process lays out its dicts
        # differently, which moved its CPU time per request by several per cent between processes.
        common = {"NATS_URL": nats_server.url, "REGION": REGION, "PYTHONHASHSEED": "0"}
        sink_url = f"http://127.0.0.1:{sink.server_address[1]}"
        json_logs = {"LOG_FORMAT": "json", "OTEL_SDK_DISABLED": "false", "OTEL_TRACES_SAMPLER": ""}
        always_on = {"OTEL_TRACES_SAMPLER": "parentbased_always_on"}
        exported = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink_url}
        modes = {
            "off": ("text logs, OTEL_SDK_DISABLED", {"LOG_FORMAT": "text", "OTEL_SDK_DISABLED": "true"}),
            "on": ("JSON logs, OTLP, default sampling", {**json_logs, **exported}),
            "every span": (
                "JSON logs, every span over OTLP",
                {**json_logs, **exported, **always_on},
            ),
            "unexported": ("JSON logs, every span, no exporter", {**json_logs, **always_on}),
        }
        for name in modes:
            own = await create_postgres_database(postgres, "bench_obs") if postgres else None
            urls[name] = own or sqlite_url(workdir, name)
            await asyncio.to_thread(migrate, "nzr_actors", urls[name])
        ports = {name: free_port() for name in modes}
        command = [sys.executable, "-m", "nzr_actors", "serve"]
        pids = {}
        for name, (_, env) in modes.items():
            server_env = {
                **common,
                **env,
                "DATABASE_URL": urls[name],
                "PORT": str(ports[name]),
                "OTEL_RESOURCE_ATTRIBUTES": f"bench.mode={name}",
            }
            server = start_server(command, server_env, ports[name], workdir / f"{name}.log")
            servers.append(server)
            pids[name] = server.pid
        editor = {
            "Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=REGION, roles=["editor"])
        }
        registered = await asyncio.gather(
            *(asyncio.to_thread(register_actors, port, args.actors, editor) for port in ports.values())
        )
        paths = {
            name: [f"/api/v1/actors/{i}" for i in ids] for name, ids in zip(ports, registered, strict=True)
        }
        kind = "PostgreSQL" if postgres else "SQLite"
        print(f"database: {kind}, one per mode; {args.actors} actors registered in each")
        served = {name: args.actors for name in modes}  # every request a server answered
        for name, port in ports.items():  # warm up: connection pools, caches
            served[name] += load(port, paths[name], connections=4, seconds=2, headers=editor)["requests"]
        rates: dict[str, list[float]] = {name: [] for name in modes}
        cpu: dict[str, list[float]] = {name: [] for name in modes}
        errors = 0
        for _ in range(args.rounds):
            for name, port in ports.items():
                before = cpu_seconds(pids[name])
                result = load(
                    port, paths[name], connections=args.connections, seconds=args.seconds, headers=editor
                )
                rates[name].append(result["requests"] / result["seconds"])
                served[name] += result["requests"]
                cpu[name].append((cpu_seconds(pids[name]) - before) / max(1, result["requests"]) * 1e6)
                errors += result["errors"]
        medians = {name: statistics.median(values) for name, values in rates.items()}
        cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
        print(
            f"\nGET /api/v1/actors/{{id}}, one uvicorn worker each, {args.connections} connections, medians "
            f"(load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}):"
        )
        for name, (label, _) in modes.items():
            ratio = medians[name] / medians["off"]
            verdict = "  target >= 90 %: " + ("met" if ratio >= 0.90 else "NOT met") if name == "on" else ""
            print(f"  {name:<10} {label:<34} {medians[name]:7,.0f} req/s  {ratio:6.1%} of off{verdict}")
            print(f"  {'':<10} rounds: {fmt(rates[name])}")
            cpu_ratio = cpu_medians["off"] / cpu_medians[name]
            print(
                f"  {'':<10} server CPU {cpu_medians[name]:6.0f} µs/request "
                f"(rounds: {fmt(cpu[name])}); off/this {cpu_ratio:6.1%}"
            )
        spans = ", ".join(
            f"{name} {count:,} of {served[name]:,} requests" for name, count in sorted(Sink.spans.items())
        )
        print(f"  OTLP sink: {Sink.exports} exports, {Sink.received_bytes / 1e6:.1f} MB; spans: {spans}")
        print(f"  non-2xx answers: {errors}")
        malformed = {**editor, "traceparent": "00-not-a-trace-01"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['on']}") as client:
            answer = await client.get(paths["on"][0], headers=malformed)
        print(f"  a malformed traceparent: {answer.status_code} (ignored, a new trace)")
        log_lines = (workdir / "on.log").read_text().splitlines()
        print(f"  a JSON log line (on): {log_lines[-1][:300] if log_lines else '(none)'}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        sink.shutdown()
        nats_server.stop()
        if postgres:
            for url in urls.values():
                await drop_postgres_database(postgres, url)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


if __name__ == "__main__":
    main()
