"""Run a service in-process against a real NATS server and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from nzr_common.db import migrate_async
from nzr_common.runtime import Runtime
from nzr_common.settings import ServiceSettings


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime


@asynccontextmanager
async def running_service(
    create_app: Callable[[ServiceSettings], FastAPI],
    settings: ServiceSettings,
    migrations_package: str,
) -> AsyncIterator[RunningService]:
    """Migrate the database, start the app's lifespan and yield an HTTP client bound to it."""
    await migrate_async(migrations_package, settings.database_url)
    app = create_app(settings)
    # The app's own lifespan context, entered directly: it survives being entered and left
    # from different tasks (pytest fixtures do that).
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield RunningService(app=app, client=client)
