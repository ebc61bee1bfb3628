"""Test databases: a SQLite file, and PostgreSQL when ``TEST_DATABASE_URL`` points at a server
(a fresh database per run, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

TEST_DATABASE_URL_ENV = "TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    """The PostgreSQL URL CI provides, normalised to the asyncpg driver; None when unset."""
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if not url:
        return None
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgres"):
        return None
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def database_kinds() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_admin_url() else ["sqlite"]


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{folder / (name + '.db')}"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database(admin_url: str, prefix: str) -> str:
    """Create an empty database next to the admin one and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
