"""The plumbing tables come from the shared ``plumbing`` branch of nzr_common: every service's
database gets them with its own migrations, and a database whose plumbing tables its service's
old first revision created (recorded without the branch) migrates to the same schema."""

import importlib
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from nzr_common.db import create_engine, migrate_async

SERVICES = ["actors", "events", "funding", "newsletter", "reporting"]
PLUMBING = {"outbox", "outbox_relay_lease", "inbox", "dead_letters"}
PERSONAL = {"personal_messages", "personal_message_watermarks"}
#: Tables and columns the services keep outside their ORM metadata on purpose (actors' full-text
#: index on SQLite, its stored search vector on PostgreSQL).
OUTSIDE_METADATA = ("actors_fts", "search_vector")


async def _inspect(url: str, metadata: sa.MetaData) -> tuple[dict[str, Any], list[str], list[Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def read(conn: sa.Connection) -> tuple[dict[str, Any], list[str], list[Any]]:
                inspector = sa.inspect(conn)
                schema = {
                    table: (
                        [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                        inspector.get_pk_constraint(table)["constrained_columns"],
                        sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
                    )
                    for table in inspector.get_table_names()
                    if table != "alembic_version"
                }
                versions = sorted(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                drift = [d for d in compare_metadata(context, metadata) if not _outside(d)]
                return schema, versions, drift

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def _outside(difference: Any) -> bool:
    return any(name in repr(difference) for name in OUTSIDE_METADATA)


async def _forget_plumbing(url: str) -> None:
    """Make the database look like one the old revisions migrated: the tables are there, the
    version table knows only the service's own head."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("DELETE FROM alembic_version WHERE version_num LIKE 'plumbing%'")
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_plumbing_comes_from_the_shared_branch_and_old_databases_keep_migrating(databases, service):
    package = f"nzr_{service}"
    metadata = importlib.import_module(f"{package}.tables").Base.metadata
    fresh, old = await databases.new(service), await databases.new(service)

    await migrate_async(package, fresh)
    schema, versions, drift = await _inspect(fresh, metadata)
    assert PLUMBING <= set(schema)
    assert (PERSONAL <= set(schema)) == (PERSONAL <= set(metadata.tables))
    assert not PERSONAL & set(schema) - set(metadata.tables)
    assert len(versions) == 2 and any(v.startswith("plumbing_") for v in versions)
    assert drift == []

    await migrate_async(package, old)
    await _forget_plumbing(old)
    await migrate_async(package, old)  # the shared branch runs and finds its tables there
    assert await _inspect(old, metadata) == (schema, versions, [])


def test_the_plumbing_branch_is_one_of_two_heads_of_each_service():
    from alembic.script import ScriptDirectory

    from nzr_common.db import alembic_config

    for service in SERVICES:
        script = ScriptDirectory.from_config(alembic_config(f"nzr_{service}", "sqlite://"))
        heads = script.get_heads()
        plumbing = script.get_revision("plumbing@head")
        assert plumbing is not None and len(heads) == 2 and plumbing.revision in heads, (service, heads)
