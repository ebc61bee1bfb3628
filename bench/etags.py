"""Cost of the shared ETag middleware (``nzr_common.etags.EntityTags``) on a GET.

The same FastAPI app answering a page of 20 events (about 14 kB of JSON, the size of
``GET /api/v1/events``) is called in-process through its ASGI interface, once bare (the baseline)
and once wrapped in ``EntityTags``; a third run sends ``If-None-Match`` and gets 304. Printed:
requests per second of each (median of interleaved rounds) and the ratio. About ten seconds;
nothing is asserted.
``.venv/bin/python bench/etags.py``
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import FastAPI

from nzr_common.etags import EntityTags

SECONDS = 0.5
ROUNDS = 7
EVENT = {
    "id": "3f6c2a7e-9b1d-4c58-a0e2-5d7f8b9c1e24",
    "format": "workshop",
    "title": "Werkstatt Klimaanpassung im Erzgebirge",
    "description": "Kommunen, Vereine und Betriebe tauschen sich zu Hitzeschutz und Starkregenvorsorge aus. "
    * 3,
    "starts_at": "2027-03-12T09:30:00+01:00",
    "ends_at": "2027-03-12T12:30:00+01:00",
    "venue_name": "Kulturbahnhof Grimma",
    "venue_address": "Bahnhofstraße 1, 04668 Grimma",
    "district": "14729000",
    "topics": ["energiewende", "klimaanpassung"],
}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/events")
    async def events() -> dict[str, Any]:
        return {"items": [EVENT] * 20, "total": 20, "next": None}

    return app


async def rate(app: Any, headers: list[tuple[bytes, bytes]]) -> tuple[float, int]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/events",
        "raw_path": b"/events",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        for _ in range(100):
            await app(dict(scope), receive, send)
        count += 100
    return count / (time.perf_counter() - started), status


async def main() -> None:
    bare = make_app()
    tagged = EntityTags(make_app())
    etag_of: dict[str, str] = {}

    async def grab(message: dict[str, Any]) -> None:
        for key, value in message.get("headers", []):
            if key == b"etag":
                etag_of["tag"] = value.decode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/events",
        "raw_path": b"/events",
        "query_string": b"",
        "headers": [],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    await tagged(scope, receive, grab)
    # Interleaved short rounds, so load from elsewhere on the machine hits all three alike.
    runs: dict[str, list[float]] = {"base": [], "ours": [], "cached": []}
    for _ in range(ROUNDS):
        runs["base"].append((await rate(bare, []))[0])
        ours_rate, status = await rate(tagged, [])
        runs["ours"].append(ours_rate)
        cached_rate, status_304 = await rate(tagged, [(b"if-none-match", etag_of["tag"].encode())])
        runs["cached"].append(cached_rate)
    base, ours, cached = (sorted(runs[k])[ROUNDS // 2] for k in ("base", "ours", "cached"))
    print(f"GET page of 20 events, bare app (baseline): {base:9.0f} req/s")
    print(f"GET with EntityTags (ETag computed, {status}):  {ours:9.0f} req/s  ratio {ours / base:.2f}")
    print(f"GET with If-None-Match ({status_304}):            {cached:9.0f} req/s  ratio {cached / base:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
