"""Partner suggestions of a 5,000-actor district against the pair-by-pair computation, measured in one run.

What it does (deterministic synthetic district: ``actors_api.make_data``, one district, 1–3 of
10 topics and 0–2 resources per actor, ~3 cooperations per actor over five years, a fifth ended):

1. **The computation alone** (in this process): building the suggestion index, all pairs' best
   500 (``scoring.for_region``) and one actor's top 20 (``scoring.for_actor``, p95 over actors),
   against the **baseline** (all pairs: on a 1,000-actor sub-district, as it takes minutes at
   5,000; one actor: on the whole district): the same definition computed pair by pair in plain Python — the
   algorithm the service ran before (candidate pairs from shared topics, resource matches and
   common partners; Adamic-Adar summed over common partners per pair, as networkx's
   ``adamic_adar_index`` does; ``score_pair`` for each; sort). networkx itself is no longer a
   dependency (issue #20: one graph library), so the baseline is that algorithm without it.
2. **The service** (``python -m nzr_actors serve`` on PostgreSQL, data loaded with COPY): the
   region-wide list after a change (cold: version read, load, index, worker process) and
   unchanged (warm), one actor's top 20 over HTTP (p95), and the actor search
   (``GET /api/v1/actors?q=…``) p95 idle against its p95 while the suggestions are recomputed
   (a cooperation is recorded, then the region-wide list is requested; searches are sent one
   after the other until it is back; repeated).

Targets (issue #18): all pairs < 2 s, one actor's top 20 p95 < 100 ms, search during a
recomputation p95 <= 2x idle p95. Nothing is asserted. ``.venv/bin/python bench/network_suggestions.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import actors_api as shared

from nzr_actors.network import scoring
from nzr_actors.network.analysis import Edge, Node, active_pairs
from nzr_common.auth import issue_token
from nzr_common.db import migrate
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess

TODAY = date.today()


def district(n_actors: int, n_cooperations: int):  # type: ignore[no-untyped-def]
    """The synthetic district as database rows and as analysis nodes and edges."""
    data = shared.make_data(n_actors, n_cooperations, n_actors)
    actors, topics, resources, cooperations = data
    rng = random.Random(3)
    ended = []
    for row in cooperations:
        until = row[6] + timedelta(days=rng.randrange(30, 900)) if rng.random() < 0.2 else None
        ended.append((*row[:7], until, *row[8:]))
    nodes = [
        Node(
            id=a["id"],
            name=a["name"],
            kind=a["kind"],
            sector=a["sector"],
            district=a["district"],
            topics=tuple(a["topics"]),
            offers=frozenset(r["kind"] for r in a["resources"] if r["direction"] == "offered"),
            needs=frozenset(r["kind"] for r in a["resources"] if r["direction"] == "needed"),
        )
        for a in actors
    ]
    edges = [Edge(c[0], c[1], c[2], c[3], c[6], c[7]) for c in ended]
    return (actors, topics, resources, ended), nodes, edges


# --- the baseline: the definition pair by pair --------------------------------------------------


def pair_by_pair(
    nodes: list[Node], edges: list[Edge], *, actor_id: str | None, limit: int
) -> list[scoring.Suggestion]:
    """The previous algorithm (candidates, per-pair Adamic-Adar, ``score_pair``, sort)."""
    by_id = {n.id: n for n in nodes}
    now = active_pairs(edges, on=TODAY, members=set(by_id))
    ever = active_pairs(edges, on=None, members=set(by_id))
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in now:
        neighbours[a].add(b)
        neighbours[b].add(a)
    by_topic, offers, needs = defaultdict(list), defaultdict(list), defaultdict(list)
    for n in nodes:
        for t in n.topics:
            by_topic[t].append(n.id)
        for k in n.offers:
            offers[k].append(n.id)
        for k in n.needs:
            needs[k].append(n.id)
    pairs: set[tuple[str, str]] = set()

    def add(a: str, b: str) -> None:
        if a != b:
            pair = (a, b) if a < b else (b, a)
            if pair not in ever:
                pairs.add(pair)

    if actor_id is not None:
        focus = by_id[actor_id]
        for t in focus.topics:
            for other in by_topic[t]:
                add(actor_id, other)
        for k in focus.offers:
            for other in needs[k]:
                add(actor_id, other)
        for k in focus.needs:
            for other in offers[k]:
                add(actor_id, other)
        for hub in neighbours[actor_id]:
            for other in neighbours[hub]:
                add(actor_id, other)
    else:
        for members in by_topic.values():
            for a, b in combinations(members, 2):
                add(a, b)
        for k, offering in offers.items():
            for a in offering:
                for b in needs.get(k, ()):
                    add(a, b)
        for hub in list(neighbours):
            for a, b in combinations(neighbours[hub], 2):
                add(a, b)
    ranked = []
    for a, b in pairs:
        aa = sum(1 / math.log(len(neighbours[w])) for w in neighbours[a] & neighbours[b])
        first, second = (a, b) if actor_id is None or a == actor_id else (b, a)
        ranked.append(scoring.score_pair(by_id[first], by_id[second], aa))
    ranked.sort(key=lambda s: (-s.score, s.actor_id, s.partner_id))
    return ranked[:limit]


def p95(values: list[float]) -> float:
    """p95 in milliseconds."""
    return shared.p95(values)


def line(label: str, figure: str, baseline: str, ratio: str, target: str, verdict: bool | None) -> None:
    shared.line(label, figure, baseline, ratio, target, verdict)


def region_times(nodes: list[Node], edges: list[Edge]) -> tuple[float, float, list[scoring.Suggestion]]:
    """(index build, median all-pairs time, the best pairs) of our computation."""
    began = time.perf_counter()
    index = scoring.build_index(nodes, edges, on=TODAY)
    built = time.perf_counter() - began
    times = []
    for _ in range(3):
        began = time.perf_counter()
        ours = scoring.for_region(index, limit=scoring_limit())
        times.append(time.perf_counter() - began)
    return built, statistics.median(times), ours


def computation(nodes: list[Node], edges: list[Edge], samples: int, baseline_actors: int) -> None:
    # The pair-by-pair baseline of all pairs is quadratic in Python (~8 min for 5,000 actors on
    # the development machine): it runs on a sub-district of ``baseline_actors``, ours on both.
    small = nodes[:baseline_actors]
    built, ours_s, ours = region_times(small, edges)
    began = time.perf_counter()
    theirs = pair_by_pair(small, edges, actor_id=None, limit=scoring_limit())
    baseline_s = time.perf_counter() - began
    same = [(s.actor_id, s.partner_id, s.score) for s in ours] == [
        (s.actor_id, s.partner_id, s.score) for s in theirs
    ]
    print(f"  best {scoring_limit()} pairs of {len(small):,} actors equal the baseline's: {same}")
    line(
        f"all pairs, {len(small):,} actors",
        f"{ours_s + built:.2f} s",
        f"{baseline_s:.2f} s (pair by pair)",
        f"{(ours_s + built) / baseline_s:.3f}x",
        "(incl. building the index)",
        None,
    )
    built, region_s, _ = region_times(nodes, edges)
    print(f"  suggestion index of {len(nodes):,} actors built in {built * 1000:.0f} ms")
    line(
        f"all pairs, {len(nodes):,} actors",
        f"{region_s:.2f} s",
        "-",
        "-",
        "< 2 s",
        region_s < 2,
    )
    line(
        "  same incl. building the index",
        f"{region_s + built:.2f} s",
        "-",
        "-",
        "< 2 s (after a change)",
        region_s + built < 2,
    )
    index = scoring.build_index(nodes, edges, on=TODAY)
    rng = random.Random(5)
    chosen = rng.sample(nodes, min(samples, len(nodes)))
    ours_times, base_times = [], []
    agree = True
    for k, node in enumerate(chosen):
        began = time.perf_counter()
        mine = scoring.for_actor(index, node.id, limit=20)
        ours_times.append(time.perf_counter() - began)
        if k < 50:
            began = time.perf_counter()
            reference = pair_by_pair(nodes, edges, actor_id=node.id, limit=20)
            base_times.append(time.perf_counter() - began)
            agree &= [(s.partner_id, s.score) for s in mine] == [(s.partner_id, s.score) for s in reference]
    print(f"  one actor's top 20 equal the baseline's for {min(50, len(chosen))} actors: {agree}")
    line(
        f"one actor's top 20 of {len(nodes):,}, p95",
        f"{p95(ours_times):.2f} ms",
        f"{p95(base_times):.1f} ms (pair by pair)",
        f"{p95(ours_times) / p95(base_times):.3f}x",
        "< 100 ms",
        p95(ours_times) < 100,
    )


def scoring_limit() -> int:
    return 500


# --- the service ---------------------------------------------------------------------------------


async def service(args: argparse.Namespace, data, nodes: list[Node]) -> None:  # type: ignore[no-untyped-def]
    admin = await shared.find_postgres(args.postgres_url)
    if admin is None:
        print("  (no PostgreSQL reachable: service part skipped)")
        return
    workdir = Path(tempfile.mkdtemp(prefix="nzr-bench-network-"))
    url = await create_postgres_database(admin, "nzr_bench_network")
    nats_server = NatsServerProcess(workdir / "nats").start()
    server = None
    try:
        await asyncio.to_thread(migrate, "nzr_actors", url)
        began = time.perf_counter()
        await shared.load_postgres(url, data)
        print(
            f"  {len(nodes):,} actors and {len(data[3]):,} cooperations loaded"
            f" in {time.perf_counter() - began:.1f} s"
        )
        port = shared.free_port()
        server = shared.start_server(
            [sys.executable, "-m", "nzr_actors", "serve"],
            {"DATABASE_URL": url, "NATS_URL": nats_server.url, "REGION": shared.REGION, "PORT": str(port)},
            port,
            workdir / "actors.log",
        )
        editor = {
            "Authorization": "Bearer "
            + issue_token(DEVELOPMENT_SECRET, region=shared.REGION, roles=["editor"])
        }
        scope = {"district": shared.BIG_DISTRICT}
        rng = random.Random(9)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, headers=editor
        ) as client:
            for _ in range(100):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)

            async def region() -> float:
                began = time.perf_counter()
                answer = await client.get("/api/v1/network/suggestions", params={**scope, "limit": 100})
                answer.raise_for_status()
                return time.perf_counter() - began

            cold = await region()
            warm = statistics.median([await region() for _ in range(5)])
            line(
                "service: all pairs, first request",
                f"{cold:.2f} s",
                "-",
                "-",
                "(right after start-up: the worker process may still be starting)",
                None,
            )
            line("service: all pairs, unchanged", f"{warm * 1000:.1f} ms", "-", "-", "(kept list)", None)

            actor_times = []
            for node in rng.sample(nodes, args.samples):
                began = time.perf_counter()
                answer = await client.get(
                    "/api/v1/network/suggestions", params={**scope, "actor_id": node.id, "limit": 20}
                )
                actor_times.append(time.perf_counter() - began)
                answer.raise_for_status()
            line(
                "service: one actor's top 20, p95",
                f"{p95(actor_times):.1f} ms",
                "-",
                "-",
                "< 100 ms (HTTP)",
                p95(actor_times) < 100,
            )

            terms = [shared.RARE_TERMS[rng.randrange(len(shared.RARE_TERMS))] for _ in range(args.samples)]

            async def search(term: str) -> float:
                began = time.perf_counter()
                answer = await client.get(
                    "/api/v1/actors", params={"q": term, "district": shared.BIG_DISTRICT}
                )
                answer.raise_for_status()
                return time.perf_counter() - began

            for term in terms[:30]:
                await search(term)
            idle = [await search(t) for t in terms]
            during: list[float] = []
            recomputations = []
            ids = [n.id for n in nodes]
            start_day = date(2020, 1, 1)
            for k in range(args.recomputations):
                a, b = rng.sample(ids, 2)
                recorded = await client.post(
                    "/api/v1/cooperations",
                    json={
                        "actor_a": a,
                        "actor_b": b,
                        "type": "austausch",
                        "since": (start_day + timedelta(days=k)).isoformat(),
                    },
                )
                recorded.raise_for_status()
                task = asyncio.create_task(region())
                i = 0
                while not task.done():
                    during.append(await search(terms[i % len(terms)]))
                    i += 1
                recomputations.append(await task)
            idle_p95, during_p95 = p95(idle), p95(during)
            after_change = statistics.median(recomputations)
            line(
                "service: all pairs after a change",
                f"{after_change:.2f} s",
                "-",
                "-",
                f"< 2 s (median of {len(recomputations)}: read, index, score in the worker)",
                after_change < 2,
            )
            line("service: actor search idle, p95", f"{idle_p95:.1f} ms", "-", "-", "", None)
            line(
                "  same during recomputation, p95",
                f"{during_p95:.1f} ms",
                f"{idle_p95:.1f} ms (idle)",
                f"{during_p95 / idle_p95:.2f}x",
                "<= 2x idle p95",
                during_p95 <= 2 * idle_p95,
            )
            print(
                f"    ({len(during)} searches during {len(recomputations)} recomputations"
                " of the region-wide list"
                f" after a change, median {statistics.median(recomputations):.2f} s each)"
            )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        nats_server.stop()
        await drop_postgres_database(admin, url)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actors", type=int, default=5_000)
    parser.add_argument("--cooperations", type=int, default=15_000)
    parser.add_argument("--samples", type=int, default=200, help="requests per latency figure")
    parser.add_argument("--recomputations", type=int, default=5)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_DATABASE_URL", shared.DEFAULT_POSTGRES_URL)
    )
    parser.add_argument(
        "--baseline-actors", type=int, default=1_000, help="sub-district of the all-pairs baseline"
    )
    parser.add_argument("--no-service", action="store_true", help="only the computation alone")
    args = parser.parse_args()
    data, nodes, edges = district(args.actors, args.cooperations)
    print(
        f"network suggestions benchmark: {len(nodes):,} actors, {len(edges):,} cooperations "
        f"({sum(1 for e in edges if e.until and e.until < TODAY):,} ended), district {shared.BIG_DISTRICT}"
    )
    print("\nthe computation alone (figure vs baseline measured in this run):")
    computation(nodes, edges, args.samples, args.baseline_actors)
    if not args.no_service:
        print("\nthe service over HTTP (PostgreSQL):")
        asyncio.run(service(args, data, nodes))


if __name__ == "__main__":
    main()
