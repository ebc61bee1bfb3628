"""Actors service API benchmark: figures printed next to a baseline measured in the same run.

What it does:

* loads N actors (default 100,000; one district holds ``--region-actors`` of them, default 5,000)
  and M cooperations (default 300,000) straight into the actors database (PostgreSQL when
  reachable, otherwise SQLite), then starts the real service (``python -m nzr_actors serve``)
  and, as the HTTP baseline, a bare FastAPI app with one endpoint returning a constant, both
  with one uvicorn worker;
* ``GET /api/v1/actors/{id}`` throughput against the constant endpoint, measured by the same
  load generator (``wrk`` when installed, otherwise a raw keep-alive HTTP/1.1 client in a
  separate process) with the same number of connections;
* search with one term and two filters (p95 over HTTP) against the same two SQL statements run
  directly on the database (raw asyncpg, or sqlite3);
* duplicate check (p95 over HTTP) against its SQL statement run directly;
* network metrics of the ``--region-actors`` district over HTTP against the computation alone
  (igraph) on the same graph: the first request (load and analysis) is the figure; the repeated
  ones show the unchanged network answered without a second analysis.

Targets (issue 3; search: issue 18): search p95 < 10 ms at 100,000 actors, duplicate check
p95 < 50 ms, metrics of a 5,000-actor region < 2 s, GET throughput ≥ 25 % of the bare endpoint.
Nothing is asserted; exit code 0.
``.venv/bin/python bench/actors_api.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from nzr_actors.actors import rules as domain
from nzr_actors.cooperations.rules import cooperation_pair
from nzr_actors.network import analysis as network
from nzr_common.auth import issue_token
from nzr_common.db import migrate
from nzr_common.regions import load_districts
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BIG_DISTRICT = "14521000"
REGION = "bench"
KINDS = [
    "verein",
    "initiative",
    "kommune",
    "unternehmen",
    "bildungseinrichtung",
    "religionsgemeinschaft",
    "stiftung",
    "verwaltung",
    "sonstige",
]
SECTORS = ["zivilgesellschaft", "wirtschaft", "verwaltung_politik", "bildung_wissenschaft"]
TOPICS = [
    "energie_klimaschutz",
    "mobilitaet",
    "landwirtschaft_ernaehrung",
    "nachhaltiges_wirtschaften",
    "entwicklungszusammenarbeit",
    "bne",
    "demokratie_teilhabe",
    "natur_umwelt",
    "soziales",
    "kultur",
]
RESOURCES = ["geld", "sachleistung", "personal", "raeume", "wissen"]
PREFIXES = [
    "Verein",
    "Initiative",
    "Bürgerenergie",
    "Netzwerk",
    "Förderverein",
    "Genossenschaft",
    "Tafel",
    "Werkstatt",
    "Bündnis",
    "Arbeitskreis",
    "Stadtwerke",
    "Schule",
    "Kirchgemeinde",
    "Agenda",
]
SYLLABLES = [
    "al",
    "ber",
    "cho",
    "dor",
    "el",
    "fa",
    "gun",
    "hel",
    "ing",
    "jo",
    "ka",
    "lin",
    "mor",
    "nes",
    "ost",
    "pra",
    "quin",
    "ros",
    "sel",
    "tor",
    "ul",
    "ven",
    "wal",
    "xa",
    "yor",
    "zen",
]
COMMON_WORDS = (
    "wir engagieren uns regional fuer klimaschutz bildung nachhaltigkeit gemeinschaft projekte "
    "ehrenamt energie garten fahrrad landwirtschaft kultur jugend senioren nachbarschaft wald "
    "wasser handwerk schule kirche markt solar wind holz bienen streuobst repair cafe"
).split()
RARE_TERMS = [
    f"{a}{b}{c}"
    for a in ("sol", "win", "lehm", "moor", "hanf")
    for b in ("ar", "ek", "ul", "iz")
    for c in ("tag", "werk", "hof", "feld", "bau")
][:100]


# ---------------------------------------------------------------------------------------------
# data


def make_data(n_actors: int, n_cooperations: int, region_actors: int, seed: int = 1):  # type: ignore[no-untyped-def]
    """Actors and cooperations as plain rows (ids, fields, derived keys)."""
    rng = random.Random(seed)
    districts = [d for d in load_districts() if d != BIG_DISTRICT]
    now = datetime.now(UTC)
    actors, topics, resources = [], [], []
    for i in range(n_actors):
        district = BIG_DISTRICT if i < region_actors else districts[i % len(districts)]
        municipality = f"Gemeinde {district[2:5]}-{rng.randrange(40)}"
        word = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
        name = f"{rng.choice(PREFIXES)} {word} {i}"
        actor_topics = rng.sample(TOPICS, rng.randint(1, 3))
        words = [*rng.choices(COMMON_WORDS, k=rng.randint(8, 15)), RARE_TERMS[i % len(RARE_TERMS)]]
        description = " ".join(words).capitalize() + "."
        actor_resources = [
            {
                "id": str(uuid.uuid4()),
                "kind": rng.choice(RESOURCES),
                "direction": rng.choice(["offered", "needed"]),
                "description": "",
                "amount": None,
                "capacity": None,
            }
            for _ in range(rng.randint(0, 2))
        ]
        website = f"https://{word.lower()}-{i}.example.org/"
        actor = {
            "id": str(uuid.uuid4()),
            "external_id": None,
            "name": name,
            "name_key": domain.name_key(name),
            "kind": rng.choice(KINDS),
            "sector": rng.choice(SECTORS),
            "district": district,
            "municipality": municipality,
            "place_key": domain.place_key(municipality, district),
            "topics": actor_topics,
            "resources": actor_resources,
            "website": website,
            "website_key": domain.website_key(website),
            "description": description,
            "public_profile": rng.random() < 0.8,
            "search_text": domain.actor_search_document(
                name=name, description=description, topics=actor_topics, municipality=municipality
            ),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        actors.append(actor)
        topics += [(t, actor["id"]) for t in actor_topics]
        resources += [(r["id"], actor["id"], r["kind"], r["direction"]) for r in actor_resources]
    cooperations = []
    in_region = min(n_cooperations, region_actors * 3)
    others = n_actors - region_actors
    for j in range(n_cooperations):
        if j < in_region or others < 2:
            a, b = rng.sample(range(min(region_actors, n_actors)), 2)
        else:
            a, b = rng.sample(range(region_actors, n_actors), 2)
        first, second = cooperation_pair(actors[a]["id"], actors[b]["id"])
        since = date(2020, 1, 1) + timedelta(days=rng.randrange(1800))
        cooperations.append(
            (
                str(uuid.uuid4()),
                first,
                second,
                rng.choice(["projekt", "austausch", "vereinbarung"]),
                None,
                None,
                since,
                None,
                "manual",
                None,
                now,
            )
        )
    return actors, topics, resources, cooperations


ACTOR_COLUMNS = [
    "id",
    "external_id",
    "name",
    "name_key",
    "kind",
    "sector",
    "district",
    "municipality",
    "place_key",
    "topics",
    "resources",
    "website",
    "website_key",
    "description",
    "public_profile",
    "search_text",
    "version",
    "created_at",
    "updated_at",
]
COOPERATION_COLUMNS = [
    "id",
    "actor_a",
    "actor_b",
    "type",
    "topic",
    "description",
    "since",
    "until",
    "origin",
    "origin_id",
    "created_at",
]


def _actor_record(actor: dict) -> tuple:
    return tuple(json.dumps(actor[c]) if c in ("topics", "resources") else actor[c] for c in ACTOR_COLUMNS)


async def load_postgres(url: str, data) -> None:  # type: ignore[no-untyped-def]
    actors, topics, resources, cooperations = data
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        await connection.execute("DROP INDEX IF EXISTS ix_actors_search_vector")
        await connection.copy_records_to_table(
            "actors", records=[_actor_record(a) for a in actors], columns=ACTOR_COLUMNS
        )
        await connection.copy_records_to_table("actor_topics", records=topics, columns=["topic", "actor_id"])
        await connection.copy_records_to_table(
            "actor_resources", records=resources, columns=["id", "actor_id", "kind", "direction"]
        )
        await connection.copy_records_to_table(
            "cooperations", records=cooperations, columns=COOPERATION_COLUMNS
        )
        await connection.execute("CREATE INDEX ix_actors_search_vector ON actors USING gin (search_vector)")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def load_sqlite(path: str, data) -> None:  # type: ignore[no-untyped-def]
    actors, topics, resources, cooperations = data
    connection = sqlite3.connect(path)
    with connection:
        marks = ",".join("?" * len(ACTOR_COLUMNS))
        connection.executemany(
            f"INSERT INTO actors ({','.join(ACTOR_COLUMNS)}) VALUES ({marks})",
            [
                tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in _actor_record(a))
                for a in actors
            ],
        )
        connection.executemany("INSERT INTO actor_topics (topic, actor_id) VALUES (?, ?)", topics)
        connection.executemany(
            "INSERT INTO actor_resources (id, actor_id, kind, direction) VALUES (?,?,?,?)", resources
        )
        marks = ",".join("?" * len(COOPERATION_COLUMNS))
        connection.executemany(
            f"INSERT INTO cooperations ({','.join(COOPERATION_COLUMNS)}) VALUES ({marks})",
            [tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in c) for c in cooperations],
        )
    connection.execute("ANALYZE")
    connection.close()


# ---------------------------------------------------------------------------------------------
# servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/constant")
async def constant() -> dict:
    return {"id": "00000000-0000-0000-0000-000000000000", "name": "Konstante", "version": 1}
"""


def start_server(args: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        args, env={**os.environ, **env}, stdout=open(log, "wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)
    process.terminate()  # given up: do not leave it running
    process.wait(timeout=20)
    raise RuntimeError(f"server on {port} did not start: {log.read_text()[-2000:]}")


# ---------------------------------------------------------------------------------------------
# load generator (separate process)

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


async def _client(
    port: int, paths: list[bytes], headers: bytes, deadline: float, start: int, latencies: list[float] | None
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = errors = 0
    i = start
    try:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            writer.write(
                b"GET " + paths[i % len(paths)] + b" HTTP/1.1\r\nHost: bench\r\n" + headers + b"\r\n"
            )
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            if match:
                await reader.readexactly(int(match.group(1)))
            if head[9:10] in (b"2", b"3"):
                done += 1
            else:
                errors += 1
            if latencies is not None:
                latencies.append(time.perf_counter() - began)
    finally:
        writer.close()
    return done, errors


def _generate(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    connections: int,
    seconds: float,
    record_latency: bool,
    pipe,
) -> None:  # type: ignore[no-untyped-def]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    raw_paths = [p.encode() for p in paths]
    raw_headers = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())

    async def run() -> dict:
        latencies: list[float] | None = [] if record_latency else None
        deadline = time.perf_counter() + seconds
        results = await asyncio.gather(
            *(
                _client(port, raw_paths, raw_headers, deadline, k * 7919, latencies)
                for k in range(connections)
            )
        )
        return {
            "requests": sum(r[0] for r in results),
            "errors": sum(r[1] for r in results),
            "seconds": seconds,
            "latencies": latencies or [],
        }

    pipe.send(asyncio.run(run()))


def load(
    port: int,
    paths: list[str],
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    record_latency: bool = False,
) -> dict:
    """Run the load generator in its own process; wrk when installed (throughput only)."""
    if shutil.which("wrk") and not record_latency and len(paths) == 1 and not headers:
        out = subprocess.run(
            ["wrk", f"-c{connections}", "-t1", f"-d{int(seconds)}s", f"http://127.0.0.1:{port}{paths[0]}"],
            capture_output=True,
            text=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
        return {"requests": int(rate * seconds), "errors": 0, "seconds": seconds, "latencies": []}
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_generate, args=(port, paths, headers or {}, connections, seconds, record_latency, send)
    )
    process.start()
    send.close()  # so that recv() fails instead of waiting forever when the generator dies
    try:
        result = receive.recv()
    except EOFError:
        raise RuntimeError("the load generator failed (see its traceback above)") from None
    finally:
        process.join()
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] * 1000 if len(values) >= 20 else max(values) * 1000


# ---------------------------------------------------------------------------------------------
# direct database baselines


async def time_statements(url: str, statements: list[tuple[str, list]], kind: str) -> list[float]:
    """Run each (sql, params) directly on the database; returns wall times."""
    times = []
    if kind == "postgresql":
        connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        try:
            for sql, params in statements:
                began = time.perf_counter()
                await connection.fetch(sql, *params)
                times.append(time.perf_counter() - began)
        finally:
            await connection.close()
        return times
    connection = sqlite3.connect(make_url(url).database)
    for sql, params in statements:
        began = time.perf_counter()
        connection.execute(re.sub(r"\$\d+", "?", sql), params).fetchall()
        times.append(time.perf_counter() - began)
    connection.close()
    return times


def search_sql(kind: str) -> tuple[str, str]:
    if kind == "postgresql":
        match = "search_vector @@ to_tsquery('simple'::regconfig, $1)"
        return (
            f"SELECT count(*) FROM actors WHERE {match} AND public_profile AND kind = $2 AND district = $3",
            f"SELECT * FROM actors WHERE {match} AND public_profile AND kind = $2 AND district = $3 "
            "ORDER BY ts_rank(search_vector, to_tsquery('simple'::regconfig, $1)) DESC, name_key LIMIT 20",
        )
    match = "id IN (SELECT actor_id FROM actors_fts WHERE actors_fts MATCH $1)"
    return (
        f"SELECT count(*) FROM actors WHERE {match} AND public_profile AND kind = $2 AND district = $3",
        f"SELECT * FROM actors WHERE {match} AND public_profile AND kind = $2 AND district = $3 "
        "ORDER BY name_key LIMIT 20",
    )


# ---------------------------------------------------------------------------------------------


async def find_postgres(url: str) -> str | None:
    try:
        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()
    except Exception:
        return None
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def line(label: str, figure: str, baseline: str, ratio: str, target: str, verdict: bool | None) -> None:
    mark = "" if verdict is None else ("  ok" if verdict else "  MISSED")
    print(f"  {label:<34} {figure:>14}   baseline {baseline:>14}   ratio {ratio:>8}   target {target}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--cooperations", type=int, default=300_000)
    parser.add_argument("--region-actors", type=int, default=5_000)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even when PostgreSQL is reachable")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each throughput run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--samples", type=int, default=300, help="requests per latency figure")
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="nzr-bench-actors-"))
    admin = None if args.sqlite else await find_postgres(args.postgres_url)
    kind = "postgresql" if admin else "sqlite"
    url = (
        await create_postgres_database(admin, "nzr_bench_actors")
        if admin
        else f"sqlite+aiosqlite:///{workdir / 'actors.db'}"
    )
    print(
        f"actors API benchmark on {kind}: {args.actors:,} actors, {args.cooperations:,} cooperations, "
        f"{args.region_actors:,} actors in district {BIG_DISTRICT}"
    )
    nats_server = NatsServerProcess(workdir / "nats").start()
    servers: list[subprocess.Popen] = []
    try:
        began = time.perf_counter()
        data = make_data(args.actors, args.cooperations, args.region_actors)
        generated = time.perf_counter() - began
        await asyncio.to_thread(migrate, "nzr_actors", url)
        began = time.perf_counter()
        if kind == "postgresql":
            await load_postgres(url, data)
        else:
            await asyncio.to_thread(load_sqlite, make_url(url).database, data)
        print(f"  data generated in {generated:.1f} s, loaded in {time.perf_counter() - began:.1f} s")
        actors = data[0]

        service_port, bare_port = free_port(), free_port()
        (workdir / "bench_bare.py").write_text(BARE_APP)
        servers.append(
            start_server(
                [sys.executable, "-m", "nzr_actors", "serve"],
                {
                    "DATABASE_URL": url,
                    "NATS_URL": nats_server.url,
                    "REGION": REGION,
                    "PORT": str(service_port),
                },
                service_port,
                workdir / "actors.log",
            )
        )
        servers.append(
            start_server(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(workdir),
                    "bench_bare:app",
                    "--port",
                    str(bare_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                {},
                bare_port,
                workdir / "bare.log",
            )
        )
        editor = {
            "Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=REGION, roles=["editor"])
        }
        rng = random.Random(2)
        public_ids = [a["id"] for a in actors if a["public_profile"]]
        get_paths = [f"/api/v1/actors/{i}" for i in rng.sample(public_ids, min(5000, len(public_ids)))]

        print("\nresults (figure vs baseline measured in this run):")
        # warm up both servers (connection pools, caches)
        load(service_port, get_paths, connections=8, seconds=2)
        load(bare_port, ["/constant"], connections=8, seconds=1)
        ours = load(service_port, get_paths, connections=args.connections, seconds=args.seconds)
        bare = load(bare_port, ["/constant"], connections=args.connections, seconds=args.seconds)
        ours_rate, bare_rate = ours["requests"] / ours["seconds"], bare["requests"] / bare["seconds"]
        line(
            "GET /actors/{id} throughput",
            f"{ours_rate:,.0f} req/s",
            f"{bare_rate:,.0f} req/s",
            f"{ours_rate / bare_rate:.0%}",
            ">= 25% of bare FastAPI",
            ours_rate / bare_rate >= 0.25,
        )
        if ours["errors"]:
            print(f"    ({ours['errors']} non-2xx answers)")
        # The shared plumbing (telemetry, metrics, security headers, body limit) alone: the
        # service's /healthz under the same load is the ceiling any route of the service can reach.
        plumbing = load(service_port, ["/healthz"], connections=args.connections, seconds=args.seconds)
        plumbing_rate = plumbing["requests"] / plumbing["seconds"]
        line(
            "  same service's /healthz",
            f"{plumbing_rate:,.0f} req/s",
            f"{bare_rate:,.0f} req/s",
            f"{plumbing_rate / bare_rate:.0%}",
            "(ceiling set by the shared plumbing)",
            None,
        )
        line(
            "  GET /actors/{id} vs /healthz",
            f"{ours_rate:,.0f} req/s",
            f"{plumbing_rate:,.0f} req/s",
            f"{ours_rate / plumbing_rate:.0%}",
            "(cost of the lookup itself)",
            None,
        )

        combos = [
            (
                RARE_TERMS[rng.randrange(len(RARE_TERMS))],
                rng.choice(KINDS),
                rng.choice([d for d in load_districts() if d != BIG_DISTRICT]),
            )
            for _ in range(args.samples)
        ]
        search_paths = [f"/api/v1/actors?q={t}&kind={k}&district={d}" for t, k, d in combos]
        load(service_port, search_paths[:50], connections=1, seconds=1)
        searched = load(
            service_port,
            search_paths,
            connections=1,
            seconds=max(3.0, args.samples * 0.02),
            record_latency=True,
        )
        count_sql, page_sql = search_sql(kind)
        direct = []
        for t, k, d in combos:
            term = t if kind == "postgresql" else f'"{t}"'
            direct += [(count_sql, [term, k, d]), (page_sql, [term, k, d])]
        raw_times = await time_statements(url, direct, kind)
        raw_pairs = [a + b for a, b in zip(raw_times[::2], raw_times[1::2], strict=True)]
        ours_p95, raw_p95 = p95(searched["latencies"]), p95(raw_pairs)
        line(
            "search 1 term + 2 filters, p95",
            f"{ours_p95:.1f} ms",
            f"{raw_p95:.1f} ms (SQL)",
            f"{ours_p95 / raw_p95:.1f}x",
            "< 10 ms",
            ours_p95 < 10,
        )

        sample = rng.sample(actors, min(args.samples, len(actors)))
        dup_paths = [
            f"/api/v1/actors/duplicates?name={quote(a['name'] + 'x')}&district={a['district']}"
            f"&municipality={quote(a['municipality'])}"
            for a in sample
        ]
        load(service_port, dup_paths[:50], connections=1, seconds=1, headers=editor)
        duplicates = load(
            service_port,
            dup_paths,
            connections=1,
            seconds=max(3.0, args.samples * 0.02),
            headers=editor,
            record_latency=True,
        )

        # The check's own statement: the district's names sharing a block with the name.
        def dup_statement(actor: dict) -> tuple[str, list]:  # type: ignore[type-arg]
            patterns = domain.block_patterns(domain.name_key(actor["name"] + "x"))
            likes = " OR ".join(f"name_key LIKE ${i + 2}" for i in range(len(patterns)))
            return f"SELECT id, name_key FROM actors WHERE district = $1 AND ({likes})", [
                actor["district"],
                *patterns,
            ]

        dup_raw = await time_statements(url, [dup_statement(a) for a in sample], kind)
        ours_p95, raw_p95 = p95(duplicates["latencies"]), p95(dup_raw)
        line(
            "duplicate check, p95",
            f"{ours_p95:.1f} ms",
            f"{raw_p95:.1f} ms (SQL)",
            f"{ours_p95 / raw_p95:.1f}x",
            "< 50 ms",
            ours_p95 < 50,
        )

        metric_times = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service_port}", timeout=120) as client:
            for _ in range(3):
                began = time.perf_counter()
                answer = await client.get(
                    "/api/v1/network/metrics", params={"district": BIG_DISTRICT}, headers=editor
                )
                metric_times.append(time.perf_counter() - began)
                answer.raise_for_status()
        region = [a for a in actors if a["district"] == BIG_DISTRICT]
        ids = {a["id"] for a in region}
        members = [(a["id"], a["name"], a["sector"]) for a in region]
        pairs = {(c[1], c[2]) for c in data[3] if c[1] in ids and c[2] in ids}
        compute = []
        for _ in range(3):
            began = time.perf_counter()
            network.metrics(members, pairs)
            compute.append(time.perf_counter() - began)
        cold, warm, raw_s = metric_times[0], statistics.median(metric_times[1:]), statistics.median(compute)
        line(
            f"network metrics, {len(region):,} actors",
            f"{cold:.2f} s",
            f"{raw_s:.2f} s (igraph)",
            f"{cold / raw_s:.2f}x",
            "< 2 s (first request: load + compute)",
            cold < 2,
        )
        line(
            "  same, network unchanged",
            f"{warm:.2f} s",
            f"{raw_s:.2f} s (igraph)",
            f"{warm / raw_s:.2f}x",
            "(load only; the analysis is reused)",
            None,
        )
        generator = "wrk" if shutil.which("wrk") else "raw keep-alive HTTP/1.1 client"
        print(
            f"\n  load generator: {generator} in its own process, {args.connections} connections,"
            f" {args.seconds:.0f} s per throughput run; latency figures are sequential requests"
            f" (one connection), {args.samples} samples"
        )
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        nats_server.stop()
        if admin:
            await drop_postgres_database(admin, url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
