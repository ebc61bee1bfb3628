"""Shadow projection tables: a rebuild writes into ``<table>__rebuild`` beside the live tables
and swaps them in with one transaction, so readers see the old figures until the swap and the
new ones right after it, never empty or half-built ones.

The rebuild's own engine rewrites the names of the projection tables, their constraints and
indexes, and of the inbox, in every statement it sends (handlers, summaries and DDL stay
unaware of it). The swap, on a plain connection: PostgreSQL drops the live tables and renames
the shadow tables, their indexes and primary keys (transactional DDL); SQLite renames the
tables with ``ALTER TABLE … RENAME`` in the same transaction and recreates the secondary
indexes under their own names (SQLite cannot rename an index). In WAL mode SQLite readers keep
reading the old tables until the commit; PostgreSQL readers wait for the swap's lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable

from nzr_reporting.indicators.models import PROJECTION_TABLES
from nzr_reporting.tables import Base, messaging

SUFFIX = "__rebuild"


def tables() -> list[Table]:
    """The tables a rebuild builds anew: every projection table and the inbox."""
    return [cast(Table, model.__table__) for model in PROJECTION_TABLES] + [messaging.inbox]


def _constraint_names(table: Table) -> list[str]:
    names = [str(c.name) for c in table.constraints if c.name]
    return names + [str(i.name) for i in table.indexes if i.name]


def _names() -> list[str]:
    names = {t.name for t in tables()}
    for table in tables():
        names.update(_constraint_names(table))
    return sorted(names, key=len, reverse=True)


_PATTERN = re.compile(r'(?<![\w."])(' + "|".join(map(re.escape, _names())) + r')(?![\w"])')


def shadow_name(name: str) -> str:
    return name + SUFFIX


def _rewrite(statement: str) -> str:
    return _PATTERN.sub(lambda m: shadow_name(m.group(1)), statement)


def _on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> Any:
    return _rewrite(statement), parameters


def redirect(engine: AsyncEngine) -> None:
    """Every statement of ``engine`` reads and writes the shadow tables instead of the live ones."""
    event.listen(engine.sync_engine, "before_cursor_execute", _on_execute, retval=True)


def create(connection: Connection) -> None:
    """(On a redirected connection.) Drop what a crashed rebuild left and create empty shadow
    tables (no existence check: it would ask for the live names). On PostgreSQL without their
    secondary indexes and the inbox without its primary key: ``index`` builds them once the
    stream is read (one sorted build each instead of an index insert per row)."""
    drop(connection)
    if connection.dialect.name != "postgresql":
        Base.metadata.create_all(connection, tables=tables(), checkfirst=False)
        return
    for table in tables():
        connection.execute(CreateTable(table))
        # No autovacuum on the tables being filled (``analyze`` gathers their statistics): its
        # lock would make the swap's NOWAIT lock fail until it ends; ``swap`` turns it back on.
        connection.execute(text(f"ALTER TABLE {table.name} SET (autovacuum_enabled = false)"))
    # The rebuild de-duplicates its inbox rows in memory until ``index`` (``FreshInbox``).
    connection.execute(text(f"ALTER TABLE {messaging.inbox.name} DROP CONSTRAINT {_inbox_key()}"))


def _inbox_key() -> str:
    return str(messaging.inbox.primary_key.name)


def index(connection: Connection) -> None:
    """(On a redirected connection, after the stream is read.) PostgreSQL: build the indexes
    and the inbox's primary key that ``create`` left out."""
    if connection.dialect.name != "postgresql":
        return
    inbox = messaging.inbox
    keys = ", ".join(c.name for c in inbox.primary_key.columns)
    connection.execute(text(f"ALTER TABLE {inbox.name} ADD CONSTRAINT {_inbox_key()} PRIMARY KEY ({keys})"))
    for table in tables():
        for table_index in table.indexes:
            connection.execute(CreateIndex(table_index))


def drop(connection: Connection) -> None:
    """(On a redirected connection.) Drop the shadow tables (a rebuild that did not swap)."""
    for table in tables():
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


def analyze(connection: Connection, only: Iterable[Table] | None = None) -> None:
    """(On a redirected connection.) PostgreSQL: gather the planner statistics of the filled
    shadow tables (``only`` these) before the summaries are computed from them and before they
    are swapped in (the statistics move with a renamed table). Without them the planner takes
    every fresh table for nearly empty and picks nested loops that scan a join partner once per
    row until autovacuum happens to analyze it."""
    if connection.dialect.name == "postgresql":
        for table in tables() if only is None else only:
            connection.execute(text(f"ANALYZE {table.name}"))


def _lock_live(connection: Connection) -> None:
    """PostgreSQL: every live table at once or none (NOWAIT): waiting for one table while holding
    others could deadlock with a reader that holds the one and wants the others; the caller
    retries after the readers' short transactions ended."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables())
        connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT"))


def missing_events(connection: Connection, consumers: Iterable[str]) -> int:
    """Events the live consumers applied that the shadow tables have not (arrived after the
    rebuild read the stream): the rebuild must read on before it swaps."""
    names = list(consumers)
    if not names:
        return 0
    live, shadow = messaging.inbox.name, shadow_name(messaging.inbox.name)
    marks = ", ".join(f":c{i}" for i in range(len(names)))
    return int(
        connection.execute(
            text(
                f"SELECT count(*) FROM {live} i WHERE i.consumer IN ({marks}) AND NOT EXISTS "
                f"(SELECT 1 FROM {shadow} s WHERE s.consumer = i.consumer AND s.event_id = i.event_id)"
            ),
            {f"c{i}": name for i, name in enumerate(names)},
        ).scalar_one()
    )


def lock_and_count_missing(connection: Connection, consumers: list[str]) -> int:
    """Start the swap: lock the live tables (PostgreSQL; SQLite's write lock is taken by the
    transaction) and count the events the shadow tables still lack."""
    _lock_live(connection)
    return missing_events(connection, consumers)


def swap(connection: Connection, consumers: list[str]) -> None:
    """(In the swap's transaction, after ``lock_and_count_missing``.) Replace the live
    projection tables by the shadow ones and the live consumers' inbox rows by the rebuild's."""
    postgres = connection.dialect.name == "postgresql"
    inbox = messaging.inbox
    marks = ", ".join(f":c{i}" for i in range(len(consumers)))
    params = {f"c{i}": name for i, name in enumerate(consumers)}
    # The rebuilt inbox replaces the live one like every projection table; the rows of other
    # consumers than the rebuilt ones (few) move over first. (Copying the rebuilt rows into the
    # live inbox instead wrote every event once more, under the lock that readers wait for.)
    columns = ", ".join(c.name for c in inbox.columns)
    others = f" WHERE consumer NOT IN ({marks})" if consumers else ""
    connection.execute(
        text(
            f"INSERT INTO {shadow_name(inbox.name)} ({columns}) SELECT {columns} FROM {inbox.name}"
            f"{others or ' WHERE true'} ON CONFLICT DO NOTHING"
        ),
        params,
    )
    for table in tables():
        connection.execute(text(f"DROP TABLE {table.name}"))
        connection.execute(text(f"ALTER TABLE {shadow_name(table.name)} RENAME TO {table.name}"))
        if postgres:
            connection.execute(text(f"ALTER TABLE {table.name} RESET (autovacuum_enabled)"))
            for constraint in table.constraints:
                if constraint.name:
                    old, new = shadow_name(str(constraint.name)), constraint.name
                    connection.execute(text(f'ALTER TABLE {table.name} RENAME CONSTRAINT "{old}" TO "{new}"'))
            for index in table.indexes:
                connection.execute(
                    text(f'ALTER INDEX "{shadow_name(str(index.name))}" RENAME TO "{index.name}"')
                )
        else:
            for index in table.indexes:
                connection.execute(text(f'DROP INDEX "{shadow_name(str(index.name))}"'))
                connection.execute(CreateIndex(index))
