"""Database engines and sessions for SQLite and PostgreSQL, and per-service Alembic migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import DateTime, Dialect, Index, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import Connection, CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.compiler import DDLCompiler

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Table
    from sqlalchemy.dialects.postgresql import Insert as PostgreSQLInsert
    from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert


def new_metadata() -> MetaData:
    """A MetaData with stable constraint names, so migrations are the same on every database."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy's "begin" hook below emit BEGIN instead of the driver.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin_immediate(conn: Connection) -> None:
            # Writers take the lock up front so concurrent transactions queue instead of
            # failing with "database is locked" on upgrade from a read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def dialect_insert(dialect: str, table: Table | type[Any]) -> PostgreSQLInsert | SQLiteInsert:
    """``INSERT`` into ``table`` in the SQL of ``dialect`` (the name of a connection's dialect),
    with that dialect's ``ON CONFLICT`` clauses. The dialect's module is imported here, on first
    use: a process on SQLite never loads SQLAlchemy's PostgreSQL dialect (about 5 MB, with every
    driver's module; issue #20)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


#: ``Index.info`` key of a partial index's condition (``partial_index``).
_PARTIAL_WHERE = "nzr_partial_where"


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows matching ``where`` (SQL), on SQLite and PostgreSQL alike.

    The condition is added when the index's DDL is compiled for the database at hand
    (``_create_partial_index``). Declared up front as ``sqlite_where`` and ``postgresql_where``,
    it would make SQLAlchemy import both dialects whole to check the arguments (the PostgreSQL
    one about 4 MB with every driver's module, SQLite's with aiosqlite about 1.5 MB), in every
    process whichever database it uses (issue #20)."""
    return Index(name, *columns, unique=unique, info={_PARTIAL_WHERE: where})


@compiles(CreateIndex, "postgresql")
@compiles(CreateIndex, "sqlite")
def _create_partial_index(create: CreateIndex, compiler: DDLCompiler, **kw: Any) -> str:
    """``CREATE INDEX`` with the condition of a ``partial_index`` (whichever way the DDL is run:
    ``create_all``, ``CreateIndex``, ``Index.create``); the dialect compiling it is loaded by now."""
    index = create.element
    where = index.info.get(_PARTIAL_WHERE)
    if where is not None:
        index.dialect_options[compiler.dialect.name]["where"] = text(where)
    return compiler.visit_create_index(create, **kw)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


#: The shared branch ``plumbing`` (outbox, inbox, dead letters, personal message records):
#: applied with every service's own migrations.
PLUMBING_VERSIONS = "nzr_common:migrations/plumbing"


def alembic_config(migrations_package: str, url: str) -> Config:
    """Alembic configuration for a service whose migrations live in ``<package>/migrations``:
    its own versions and the shared ``plumbing`` branch (two heads: upgrade to ``heads``).
    Alembic (with Mako, about 12 MB) is imported here, not with the module: a serving process
    that does not migrate never loads it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", f"{migrations_package}:migrations")
    config.set_main_option("path_separator", "space")
    config.set_main_option(
        "version_locations", f"{migrations_package}:migrations/versions {PLUMBING_VERSIONS}"
    )
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(migrations_package: str, url: str, revision: str = "heads") -> None:
    """Upgrade the service's database to ``revision`` (default: the heads of its own branch and
    the plumbing branch; blocking, runs its own event loop)."""
    from alembic import command

    command.upgrade(alembic_config(migrations_package, url), revision)


async def migrate_async(migrations_package: str, url: str) -> None:
    await asyncio.to_thread(migrate, migrations_package, url)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (``execute`` is typed as returning a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount or 0
