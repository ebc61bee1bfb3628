"""A service's deps are built once by its bootstrap and reach routes, start-up hooks and
background loops; the background loops end with the app."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from nzr_common.access import PUBLIC
from nzr_common.db import new_metadata
from nzr_common.runtime import Runtime, ServiceDefinition, create_service_app, deps_of
from nzr_common.settings import ServiceSettings
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.databases import sqlite_url

metadata = new_metadata()
tables = add_messaging_tables(metadata)


@dataclass(frozen=True)
class Deps:
    settings: ServiceSettings
    greeting: str
    seen: list[str]


DepsDep = Annotated[Deps, Depends(deps_of(Deps))]
router = APIRouter(dependencies=[PUBLIC])


@router.get("/greeting", operation_id="greeting")
async def greeting(deps: DepsDep) -> dict[str, str]:
    return {"greeting": deps.greeting, "region": deps.settings.region}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_bootstrap_builds_the_deps_once_for_routes_hooks_and_loops() -> None:
    built: list[Runtime[ServiceSettings]] = []
    stopped = asyncio.Event()

    def bootstrap(runtime: Runtime[ServiceSettings]) -> Deps:
        built.append(runtime)
        return Deps(settings=runtime.settings, greeting="Glück auf", seen=[])

    async def on_startup(deps: Deps) -> None:
        deps.seen.append("startup")

    async def loop(deps: Deps) -> None:
        deps.seen.append("loop")
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    definition: ServiceDefinition[ServiceSettings, Deps] = ServiceDefinition(
        name="probe",
        title="NZR probe",
        description="deps probe",
        metadata=metadata,
        tables=tables,
        routers=[router],
        bootstrap=bootstrap,
        on_startup=[on_startup],
        background=[loop],
    )
    settings = ServiceSettings(
        region="demo",
        nats_url=f"nats://127.0.0.1:{_closed_port()}",
        database_url=sqlite_url(Path(tempfile.mkdtemp(prefix="nzr-deps-")), "probe"),
        nats_connect_wait_seconds=0.1,
    )
    app = create_service_app(definition, settings)
    deps = app.state.deps
    with TestClient(app) as client:
        assert client.get("/greeting").json() == {"greeting": "Glück auf", "region": "demo"}
        assert deps.seen[0] == "startup"
        for _ in range(100):
            if "loop" in deps.seen:
                break
            client.get("/healthz")
    assert deps.seen == ["startup", "loop"]
    assert len(built) == 1 and built[0] is app.state.runtime
    assert stopped.is_set()
