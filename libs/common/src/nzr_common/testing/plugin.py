"""pytest plugin (loaded from the root configuration): a real NATS server per test session,
databases for SQLite and PostgreSQL, and tokens."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import (
    create_postgres_database,
    database_kinds,
    drop_postgres_database,
    postgres_admin_url,
    sqlite_url,
)
from nzr_common.testing.nats import NatsServerProcess, docker_engine_available


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """URL of a real JetStream-enabled NATS server for the whole test session."""
    if docker_engine_available():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer(jetstream=True) as container:
            yield container.nats_uri()
        return
    server = NatsServerProcess().start()
    try:
        yield server.url
    finally:
        server.stop()


class DatabaseFactory:
    """Hands out empty databases of one kind and removes the PostgreSQL ones at the end."""

    def __init__(self, kind: str, folder: Path, admin_url: str | None = None) -> None:
        self.kind = kind
        self.folder = folder
        self.admin_url = admin_url
        self.created: list[str] = []

    async def new(self, prefix: str) -> str:
        if self.kind == "sqlite":
            return sqlite_url(self.folder, f"{prefix}-{uuid.uuid4().hex[:10]}")
        url = await create_postgres_database(self.admin_url or "", f"nzr_test_{prefix}")
        self.created.append(url)
        return url

    async def cleanup(self) -> None:
        for url in self.created:
            with contextlib.suppress(Exception):
                await drop_postgres_database(self.admin_url or "", url)


def _kinds() -> list[str]:
    if postgres_admin_url() or docker_engine_available():
        return ["sqlite", "postgresql"]
    return database_kinds()


@pytest.fixture(scope="session", params=_kinds())
async def databases(request: pytest.FixtureRequest) -> AsyncIterator[DatabaseFactory]:
    """Parametrised over SQLite and PostgreSQL: the server TEST_DATABASE_URL names, or a
    testcontainers PostgreSQL when a Docker engine answers."""
    folder = Path(tempfile.mkdtemp(prefix="nzr-db-"))
    if request.param == "postgresql" and postgres_admin_url() is None:
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as container:
            factory = DatabaseFactory("postgresql", folder, container.get_connection_url())
            yield factory
            await factory.cleanup()
        return
    factory = DatabaseFactory(request.param, folder, postgres_admin_url())
    yield factory
    await factory.cleanup()


@pytest.fixture(scope="session")
def token_for() -> Callable[..., dict[str, str]]:
    """Issue a development token: ``token_for("admin", region="demo")``."""

    def issue(*roles: str, region: str = "demo") -> dict[str, str]:
        token = issue_token(DEVELOPMENT_SECRET, region=region, roles=list(roles))
        return {"Authorization": f"Bearer {token}"}

    return issue
