"""Funding search and matching on PostgreSQL against baselines measured in the same run.

One run starts a nats-server, a fresh PostgreSQL database, the funding service (``python -m
nzr_funding serve`` in its own process, one uvicorn worker) and a bare FastAPI app with a constant
endpoint (same server settings). It imports the 44 seed programmes plus generated ones through
``POST /api/v1/funding/programs/import`` (state token), waits until the catalogue events are
projected, then measures:

* **search latency**: ``GET /api/v1/funding/programs`` with one or two terms, three filters
  (level, eligible, topic) and facet counts, sequentially; p50/p95 against the **raw** ranked
  full-text query (``ts_rank`` over ``to_tsvector('simple', search_doc)`` with a GIN index the
  benchmark creates for it — the service itself searches its in-memory index — top 20) sent
  with asyncpg to the same database.
* **matching latency**: ``POST /api/v1/funding/matches`` for an ad-hoc profile against every
  programme (including the outbox write of FundingMatchRequested); baseline: fetching the
  matching columns of all programmes with raw asyncpg.
* **search throughput**: the search endpoint vs the bare FastAPI constant endpoint, driven by
  the same keep-alive load generator (raw asyncio HTTP/1.1) in separate processes (``wrk`` is
  not installed here); besides req/s, requests per CPU-second the server process got (from
  ``/proc``), which a machine shared with other jobs disturbs less. The service runs with
  ``RATE_LIMIT_ENABLED=false``: the load comes from one address.

Issue targets: search p95 < 20 ms, matching p95 < 50 ms, search throughput >= 15% of the bare
endpoint. No timing is asserted; the figures and ratios are printed.
``.venv/bin/python bench/funding_search.py --programmes 10000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import _dsn, create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess
from nzr_common.text import tokens
from nzr_funding.reference import SEED_PATH, load_taxonomy

BASELINE_APP = """
from fastapi import FastAPI
app = FastAPI()
PAYLOAD = {"status": "ok", "items": [], "total": 0}

@app.get("/const")
async def const():
    return PAYLOAD
"""

WORDS = (
    "Klimaschutz Energiewende Radverkehr Naturschutz Artenvielfalt Umweltbildung Dorfentwicklung "
    "Bürgerenergie Gemeinwohl Jugendbegegnung Nachbarschaft Ehrenamt Demokratie Solarenergie "
    "Wärmenetz Streuobstwiese Moorschutz Regionalvermarktung Kreislaufwirtschaft Mobilitätswende "
    "Bildung Partnerschaft Kultur Sport Landwirtschaft Gewässerschutz Stadtgrün Inklusion "
    "Integration Klimaanpassung Wasserstoff Holzbau Reparatur Lastenrad Genossenschaft"
).split()
TOPICS = (
    "klimaschutz_energie klimaanpassung mobilitaet naturschutz_biodiversitaet "
    "landwirtschaft_laendlicher_raum nachhaltiges_wirtschaften entwicklungszusammenarbeit "
    "bne_globales_lernen demokratie_zivilgesellschaft ehrenamt_engagement "
    "grenzueberschreitende_zusammenarbeit europa_jugend"
).split()
DEADLINES = [
    "laufend",
    "laufend bis 31.12.2027",
    "jährlich 31.03.",
    "jährlich 30.09. und 31.01.",
    "Frist 15.02.2027",
    "Frist 30.06.2025",
    None,
    "quartalsweise: 31.03., 30.06., 30.09., 31.12.",
]
REGIONS = [
    "bundesweit",
    "sachsen",
    "ostdeutsche Bundesländer und Berlin",
    "Grenzraum: LK Görlitz und LK Bautzen",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generated_programmes(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    facets = {name: [v["key"] for v in f["values"]] for name, f in load_taxonomy()["facets"].items()}
    programmes = []
    for i in range(count):
        words = rng.sample(WORDS, 3)
        low = rng.choice([None, 500, 1000, 5000])
        high = rng.choice([None, 5000, 20000, 100000, 500000])
        if low and high and low > high:
            low, high = high, low
        programmes.append(
            {
                "id": f"gen-{i:05d}",
                "name": f"Förderprogramm {words[0]} und {words[1]} {i}",
                "funder": rng.choice(["Bund", "Freistaat Sachsen", "Europäische Union", "Stiftung Zukunft"]),
                "level": rng.choice(["bund", "land", "eu", "stiftung"]),
                "region": rng.choice(REGIONS),
                "funding_types": ["zuschuss"],
                "areas": rng.sample(facets["foerderbereich"], 2),
                "eligible": rng.sample(facets["foerderberechtigte"], rng.randint(1, 4)),
                "topics": rng.sample(TOPICS, rng.randint(1, 3)),
                "summary": f"Unterstützt Vorhaben zu {words[0]}, {words[1]} und {words[2]} in Vereinen, "
                f"Kommunen und Initiativen; gefördert werden Maßnahmen, Personal und Sachkosten.",
                "amount_min_eur": low,
                "amount_max_eur": high,
                "funding_rate_percent": rng.choice([None, 50, 75, 80, 90, 100]),
                "deadline": rng.choice(DEADLINES),
                "url": f"https://example.org/programm/{i}",
                "source_url": f"https://example.org/quelle/{i}",
                "verified_on": "2026-11-21",
            }
        )
    return programmes


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, env={**os.environ, **env}, stdout=open(log, "ab"), stderr=subprocess.STDOUT
    )


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _load_worker(urls: list[str], seconds: float, concurrency: int, queue) -> None:  # type: ignore[no-untyped-def]
    """A minimal keep-alive HTTP/1.1 GET loop on raw asyncio streams (httpx itself would be
    the bottleneck): ``concurrency`` connections, each sending its next request on a reply."""
    parsed = httpx.URL(urls[0])
    requests = [
        (
            f"GET {httpx.URL(url).raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
            f"Connection: keep-alive\r\n\r\n"
        ).encode()
        for url in urls
    ]

    async def connection(stop: float, offset: int) -> int:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        done = 0
        try:
            while time.monotonic() < stop:
                writer.write(requests[(done + offset) % len(requests)])
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    done += 1
        finally:
            writer.close()
        return done

    async def run() -> int:
        stop = time.monotonic() + seconds
        spread = max(len(requests) // concurrency, 1)
        return sum(
            await asyncio.gather(*(connection(stop, os.getpid() + i * spread) for i in range(concurrency)))
        )

    queue.put(asyncio.run(run()))


def throughput(urls: list[str], seconds: float, processes: int, concurrency: int) -> float:
    """Requests per second from ``processes`` load generators (separate processes)."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_load_worker, args=(urls, seconds, concurrency, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


async def main(args: argparse.Namespace) -> None:
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin_url = admin_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    database_url = await create_postgres_database(admin_url, "nzr_bench_funding")
    workdir = Path(tempfile.mkdtemp(prefix="nzr-bench-funding-"))
    nats_server = NatsServerProcess(workdir / "nats").start()
    processes: list[subprocess.Popen] = []
    python = sys.executable
    try:
        port, base_port = free_port(), free_port()
        env = {
            "DATABASE_URL": database_url,
            "NATS_URL": nats_server.url,
            "REGION": "bench",
            "PORT": str(port),
            "CONSUMER_BATCH_SIZE": "500",
            "DEADLINE_WATCH_SECONDS": "86400",
            # One load generator address would hit the anonymous per-address limit at once.
            "RATE_LIMIT_ENABLED": "false",
        }
        await asyncio.to_thread(
            subprocess.run, [python, "-m", "nzr_funding", "migrate"], env={**os.environ, **env}, check=True
        )
        processes.append(start_process([python, "-m", "nzr_funding", "serve"], env, workdir / "funding.log"))
        (workdir / "bench_baseline_app.py").write_text(BASELINE_APP)
        processes.append(
            start_process(
                [
                    python,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(workdir),
                    "bench_baseline_app:app",
                    "--port",
                    str(base_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                {},
                workdir / "base.log",
            )
        )
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz")
        wait_http(f"http://127.0.0.1:{base_port}/const")
        token = issue_token(DEVELOPMENT_SECRET, region="state", roles=["state"])
        state = {"Authorization": f"Bearer {token}"}

        seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))["programmes"]
        records = seed + generated_programmes(max(args.programmes - len(seed), 0))
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, timeout=120.0) as client:
            for i in range(0, len(records), 400):
                response = await client.post(
                    "/api/v1/funding/programs/import",
                    json={"programmes": records[i : i + 400]},
                    headers=state,
                )
                assert response.status_code == 200, response.text
                assert not response.json()["rejected"], response.json()["rejected"][:2]
            while True:
                total = (await client.get("/api/v1/funding/programs", params={"limit": 1})).json()["total"]
                if total >= len(records):
                    break
                if time.perf_counter() - started > args.load_timeout:
                    raise SystemExit(f"only {total} of {len(records)} programmes projected in time")
                await asyncio.sleep(0.5)
            load_seconds = time.perf_counter() - started
            print(
                f"catalogue: {len(records)} programmes imported and projected in {load_seconds:.1f} s "
                f"({len(records) / load_seconds:.0f}/s)"
            )
            # The raw baseline's index (the service searches its in-memory index instead), and
            # what autovacuum does after a bulk load; without statistics the planner scans.
            connection = await asyncpg.connect(_dsn(database_url))
            await connection.execute(
                "CREATE INDEX IF NOT EXISTS bench_search_doc_fts ON programmes "
                "USING gin (to_tsvector('simple', search_doc))"
            )
            await connection.execute("ANALYZE programmes")
            await connection.close()

            queries = [
                "Klimaschutz",
                "Radverkehr Lastenrad",
                "Naturschutz",
                "Bürgerenergie Genossenschaft",
                "Umweltbildung",
                "Demokratie Ehrenamt",
            ]
            filters = [
                {"level": "land", "eligible": "verband_vereinigung", "topic": "klimaschutz_energie"},
                {"level": "bund", "eligible": "kommune", "topic": "mobilitaet"},
                {
                    "level": "stiftung",
                    "eligible": "verband_vereinigung",
                    "topic": "naturschutz_biodiversitaet",
                },
            ]
            for _ in range(20):  # warm up the catalogue cache and connections
                await client.get("/api/v1/funding/programs", params={"q": "Klimaschutz", **filters[0]})
            search_ms, cached_search_ms = [], []
            hits = []
            for i in range(args.requests):
                # A distinct amount_min per request: every search is computed, none is cached.
                params = {"q": queries[i % len(queries)], **filters[i % len(filters)], "amount_min": i}
                t0 = time.perf_counter()
                response = await client.get("/api/v1/funding/programs", params=params)
                search_ms.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
                hits.append(response.json()["total"])
                t0 = time.perf_counter()
                response = await client.get("/api/v1/funding/programs", params=params)
                cached_search_ms.append((time.perf_counter() - t0) * 1000)
            match_ms = []
            profiles = [
                {
                    "kind": "verein",
                    "district": "14626000",
                    "topics": ["energie_klimaschutz"],
                    "amount_needed_eur": 10000,
                    "own_share_available_eur": 3000,
                },
                {
                    "kind": "kommune",
                    "district": "14713000",
                    "topics": ["mobilitaet"],
                    "amount_needed_eur": 80000,
                },
            ]
            for _ in range(5):
                await client.post("/api/v1/funding/matches", json=profiles[0])
            cached_match_ms = []
            for i in range(args.requests // 2):
                profile = {**profiles[i % 2], "amount_needed_eur": 1000 + i}  # distinct: computed
                t0 = time.perf_counter()
                response = await client.post("/api/v1/funding/matches", json=profile)
                match_ms.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text
                t0 = time.perf_counter()
                response = await client.post("/api/v1/funding/matches", json=profile)
                cached_match_ms.append((time.perf_counter() - t0) * 1000)

        connection = await asyncpg.connect(_dsn(database_url))
        raw_search_ms, raw_match_ms = [], []
        try:
            for i in range(args.requests):
                terms = " & ".join(tokens(queries[i % len(queries)]))
                t0 = time.perf_counter()
                await connection.fetch(
                    "SELECT id, name, ts_rank(to_tsvector('simple', search_doc), q) AS rank "
                    "FROM programmes, to_tsquery('simple', $1) q "
                    "WHERE NOT withdrawn AND to_tsvector('simple', search_doc) @@ q "
                    "ORDER BY rank DESC LIMIT 20",
                    terms,
                )
                raw_search_ms.append((time.perf_counter() - t0) * 1000)
            for _ in range(args.requests // 2):
                t0 = time.perf_counter()
                await connection.fetch(
                    "SELECT id, eligible, territories, districts, topics, areas, amount_min_eur, "
                    "amount_max_eur, funding_rate_percent, deadline FROM programmes WHERE NOT withdrawn"
                )
                raw_match_ms.append((time.perf_counter() - t0) * 1000)
        finally:
            await connection.close()

        def line(name: str, ours: list[float], raw: list[float], target: float) -> None:
            p95, raw95 = percentile(ours, 95), percentile(raw, 95)
            print(
                f"{name:<10} p50 {statistics.median(ours):7.2f} ms  p95 {p95:7.2f} ms  "
                f"(target < {target:.0f} ms: {'met' if p95 < target else 'NOT met'})  |  raw baseline "
                f"p50 {statistics.median(raw):6.2f} ms  p95 {raw95:6.2f} ms  |  "
                f"ratio p95 {p95 / raw95:5.1f}x"
            )

        print(
            f"search: terms + 3 filters + 7 facets, mean hits {statistics.mean(hits):.0f}; "
            f"{args.requests} sequential requests"
        )
        line("search", search_ms, raw_search_ms, 20)
        line("  again", cached_search_ms, raw_search_ms, 20)
        line("matching", match_ms, raw_match_ms, 50)
        line("  again", cached_match_ms, raw_match_ms, 50)
        print(
            "('again' = the same request repeated: answered from the catalogue cache until the "
            "catalogue changes)"
        )

        search_url = (
            f"{base}/api/v1/funding/programs?q=Klimaschutz&level=land"
            f"&eligible=verband_vereinigung&topic=klimaschutz_energie"
        )
        targets = {
            "bare FastAPI /const": [f"http://127.0.0.1:{base_port}/const"],
            "search, computed": [f"{search_url}&amount_min={i}" for i in range(5000)],
            "search, repeated": [search_url],
        }
        server = {"bare FastAPI /const": processes[1].pid}
        rates, per_cpu = {}, {}
        for name, urls in targets.items():
            pid = server.get(name, processes[0].pid)
            cpu_before = cpu_seconds(pid)
            rates[name] = throughput(urls, args.seconds, args.load_processes, args.concurrency)
            per_cpu[name] = rates[name] * args.seconds / max(cpu_seconds(pid) - cpu_before, 1e-9)
        bare, bare_cpu = rates["bare FastAPI /const"], per_cpu["bare FastAPI /const"]
        print(
            f"throughput ({args.load_processes} load processes x {args.concurrency} keep-alive "
            f"connections, "
            f"{args.seconds:.0f} s each): bare FastAPI {bare:.0f} req/s, "
            f"{bare_cpu:.0f} req per server CPU-second"
        )
        for name in ("search, computed", "search, repeated"):
            ratio = rates[name] / bare
            print(
                f"  {name:<17} {rates[name]:7.0f} req/s  ->  ratio {ratio:6.1%} "
                f"(target >= 15%: {'met' if ratio >= 0.15 else 'NOT met'})  |  "
                f"{per_cpu[name]:5.0f} req per server CPU-second -> ratio {per_cpu[name] / bare_cpu:6.1%}"
            )
        print(
            "(req per server CPU-second: requests answered per second of CPU the server process "
            "got, from /proc; on a machine shared with other jobs it is steadier than req/s)"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        nats_server.stop()
        await drop_postgres_database(admin_url, database_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programmes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--load-timeout", type=float, default=600.0)
    asyncio.run(main(parser.parse_args()))
