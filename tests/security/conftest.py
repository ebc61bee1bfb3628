"""The five services running in-process against the session's NATS server and SQLite, and the
callers the security tests knock with."""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
from fastapi import APIRouter, FastAPI
from nats.js.api import StreamConfig, StreamSource
from sqlalchemy import MetaData, func, inspect, select, table

from nzr_common.auth import issue_token
from nzr_common.contracts.base import region_stream_name, region_stream_subjects
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings
from nzr_common.tables import add_messaging_tables
from nzr_common.testing.databases import sqlite_url
from nzr_common.testing.services import RunningService, running_service

SERVICES = ("actors", "events", "newsletter", "funding", "reporting")

#: Settings that keep background work (seeding aside) quiet while a test counts rows.
QUIET = {
    "funding": {"deadline_watch_seconds": 3600, "deadline_watch_first_seconds": 3600},
    "reporting": {"heartbeat_seconds": 3600},
    "newsletter": {"digest_check_seconds": 3600},
}


def load(service: str) -> tuple[Any, type]:
    """The service's ``create_app`` and its settings class."""
    app_module = importlib.import_module(f"nzr_{service}.app")
    settings_module = importlib.import_module(f"nzr_{service}.settings")
    settings_class = next(
        v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    return app_module.create_app, settings_class


def new_region() -> str:
    return f"sec{uuid.uuid4().hex[:8]}"


def settings_for(service: str, nats_url: str, **overrides: Any) -> Any:
    """Settings of a fresh instance: own random region, own SQLite file, quiet background work."""
    _, settings_class = load(service)
    folder = Path(tempfile.mkdtemp(prefix=f"nzr-sec-{service}-"))
    values: dict[str, Any] = {
        "region": new_region(),
        "nats_url": nats_url,
        "database_url": sqlite_url(folder, service),
        **QUIET.get(service, {}),
    }
    if service == "newsletter":
        values["smtp_sink_dir"] = folder / "mail"
    return settings_class(**{**values, **overrides})


async def _state_stream(nats_url: str) -> str:
    """An aggregate stream for a state-mode instance (sourcing one region, like the hub's)."""
    region = new_region()
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await js.add_stream(
            StreamConfig(name=region_stream_name(region), subjects=region_stream_subjects(region))
        )
        name = f"SEC_AGGREGATE_{uuid.uuid4().hex[:8].upper()}"
        source = StreamSource(name=region_stream_name(region), filter_subject=f"nzr.{region}.pub.>")
        await js.add_stream(StreamConfig(name=name, sources=[source]))
        return name
    finally:
        await connection.close()


@asynccontextmanager
async def started(service: str, nats_url: str, **overrides: Any) -> AsyncIterator[RunningService]:
    """Run one instance and wait until it is ready (database and NATS)."""
    create_app, _ = load(service)
    if overrides.get("mode") == "state":
        overrides.setdefault("consumer_stream", await _state_stream(nats_url))
    settings = settings_for(service, nats_url, **overrides)
    async with running_service(create_app, settings, f"nzr_{service}") as running:
        for _ in range(200):
            if (await running.client.get("/readyz")).status_code == 200 and running.runtime.relay:
                break
            await asyncio.sleep(0.05)
        yield running


async def row_counts(running: RunningService) -> dict[str, int]:
    """Rows per table of the service's database."""
    async with running.runtime.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        counts = {}
        for name in sorted(names):
            result = await connection.execute(select(func.count()).select_from(table(name)))
            counts[name] = result.scalar_one()
    return counts


def throwaway_service(router: APIRouter, **settings: Any) -> FastAPI:
    """A service app with the shared runtime and middleware around ``router`` alone, on an
    in-memory database: for routes made up by a test."""
    metadata = MetaData()
    definition = ServiceDefinition(
        name="throwaway",
        title="throwaway",
        description="",
        metadata=metadata,
        tables=add_messaging_tables(metadata),
        routers=[router],
        bootstrap=lambda runtime: runtime,
    )
    settings.setdefault("database_url", "sqlite+aiosqlite:///:memory:")
    return create_service_app(definition, ServiceSettings(**settings))


async def settled_row_counts(running: RunningService, within: float = 20.0) -> dict[str, int]:
    """Row counts once start-up work (seeding, projections) has come to rest."""
    previous = await row_counts(running)
    stable = 0
    for _ in range(int(within / 0.2)):
        await asyncio.sleep(0.2)
        current = await row_counts(running)
        stable = stable + 1 if current == previous else 0
        if stable >= 3:
            return current
        previous = current
    return previous


# ------------------------------------------------------------------------------------ callers


@dataclass(frozen=True)
class Caller:
    """Someone knocking: no token, a valid token of some region and roles, or a broken token."""

    name: str
    roles: frozenset[str] = frozenset()
    region: str | None = None  # None: the service's own region
    broken: str | None = None  # "expired", "bad-signature", "alg-none"

    @property
    def anonymous(self) -> bool:
        return not self.roles and self.broken is None

    def headers(self, own_region: str) -> dict[str, str]:
        if self.anonymous:
            return {}
        region = self.region or own_region
        roles = sorted(self.roles)
        if self.broken == "expired":
            token = issue_token(DEVELOPMENT_SECRET, region=region, roles=roles, ttl=timedelta(seconds=-30))
        elif self.broken == "bad-signature":
            token = issue_token("an-attacker-secret-of-sufficient-length!", region=region, roles=roles)
        elif self.broken == "alg-none":
            token = unsigned_token({"sub": "mallory", "region": region, "roles": roles, "exp": 4102444800})
        else:
            token = issue_token(DEVELOPMENT_SECRET, region=region, roles=roles, subject=f"{self.name}-user")
        return {"Authorization": f"Bearer {token}"}


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with ``alg: none`` and no signature (RFC 7519 §6), built by hand."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


CALLERS = (
    Caller("anonymous"),
    Caller("editor", frozenset({"editor"})),
    Caller("admin", frozenset({"admin"})),
    Caller("state", frozenset({"state"}), region="state"),
    Caller("editor-of-another-region", frozenset({"editor"}), region="elsewhere"),
    Caller("admin-of-another-region", frozenset({"admin"}), region="elsewhere"),
    # The broken tokens carry every role of the own region: only the token's flaw keeps them out.
    Caller("expired-token", frozenset({"editor", "admin", "state"}), broken="expired"),
    Caller("bad-signature", frozenset({"editor", "admin", "state"}), broken="bad-signature"),
    Caller("alg-none", frozenset({"editor", "admin", "state"}), broken="alg-none"),
)
