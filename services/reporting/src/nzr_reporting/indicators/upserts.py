"""Upserts of projection rows, buffered per transaction and written just before it commits.

A handler's upsert is queued on the session; right before the transaction commits, the queue is
written with one ``executemany`` per table and statement shape, in the order the handlers
queued them per table (tables are independent, so only the order within a table matters). A
batch of a thousand events thus costs a few round trips instead of a thousand. A rolled-back
transaction drops its queue. Values to keep only when newer (a region's last event time) are
merged in memory first and written once per row. The monthly and daily summaries of the
rows a transaction touches are brought up to date in the same step (see ``summaries``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from nzr_common.db import dialect_insert
from nzr_reporting.indicators import summaries
from nzr_reporting.indicators.bulk import Update, upsert_distinct

_INFO_KEY = "nzr_reporting_upserts"
#: session.info flag (the rebuild's batches): write each table's queue set-based (PostgreSQL)
BULK_INFO_KEY = "nzr_reporting_bulk_upserts"
#: (table, value columns, update) of a queued upsert
Shape = tuple[Table, tuple[str, ...], Update | None]


@cache
def _statement(dialect: str, table: Table, columns: tuple[str, ...], update: Update | None) -> Any:
    """INSERT … ON CONFLICT (primary key) DO UPDATE/NOTHING on SQLite and PostgreSQL alike."""
    statement = dialect_insert(dialect, table)
    keys = [column.name for column in table.primary_key.columns]
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded, table.c))


def _write_set_based(
    session: Session, table: Table, operations: list[tuple[Any, dict[str, Any], Shape]]
) -> None:
    """Write a table's queued upserts with one statement per shape and generation: the n-th
    upsert of a row goes in generation n, so every row's upserts keep their order while rows
    of one generation, all distinct, are written together."""
    keys = [column.name for column in table.primary_key.columns]
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    generations: list[dict[Shape, list[dict[str, Any]]]] = []
    for _, values, shape in operations:
        row = tuple(values[k] for k in keys)
        generation = seen[row]
        seen[row] += 1
        if generation == len(generations):
            generations.append(defaultdict(list))
        generations[generation][shape].append(values)
    for shapes in generations:
        for (shape_table, columns, update), rows in shapes.items():
            upsert_distinct(session, shape_table, columns, rows, update)


@cache
def _bump_version(dialect: str) -> Any:
    from nzr_reporting.indicators.models import ProjectionVersion

    table = ProjectionVersion.__table__
    statement = dialect_insert(dialect, ProjectionVersion).values(name="projections", version=1)
    return statement.on_conflict_do_update(index_elements=["name"], set_={"version": table.c.version + 1})


async def bump_version(session: AsyncSession) -> None:
    """Mark the projections as changed (every queued write does it; so must a wholesale delete)."""
    await session.execute(_bump_version(session.get_bind().dialect.name))


@dataclass
class _Queue:
    dialect: str
    by_table: dict[str, list[tuple[Any, dict[str, Any], Shape]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    latest: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table, values: dict[str, Any], update: Update | None) -> None:
        columns = tuple(values)
        statement = _statement(self.dialect, table, columns, update)
        self.by_table[table.name].append((statement, values, (table, columns, update)))
        self.tables[table.name] = table

    def add_latest(self, table: Table, values: dict[str, Any], update: Update, newer: str) -> None:
        key = (table.name, *(values[c.name] for c in table.primary_key.columns))
        known = self.latest.get(key)
        if known is None or values[newer] > known[1][newer]:
            self.latest[key] = (_statement(self.dialect, table, tuple(values), update), values)

    def write(self, session: Session) -> None:
        if not self.by_table and not self.latest:
            return
        session.execute(_bump_version(self.dialect))
        keep_summaries = not session.info.get(summaries.SKIP_INFO_KEY)
        if keep_summaries:
            touched = summaries.affected(self.by_table)
            changes: summaries.Contributions = {}
            if touched:
                summaries.lock(session)
                touched = summaries.with_agreements_of_gatherings(session, touched)
                touched = summaries.with_cooperation_dependants(session, touched, self.by_table)
                summaries.contributions_of(session, touched, changes, -1.0)
        set_based = self.dialect == "postgresql" and session.info.get(BULK_INFO_KEY)
        for name, operations in self.by_table.items():
            if set_based and len(operations) > 1:
                _write_set_based(session, self.tables[name], operations)
                continue
            run: list[dict[str, Any]] = []
            current: Any = None
            for statement, values, _ in operations:
                if statement is not current and run:
                    session.execute(current, run)
                    run = []
                current = statement
                run.append(values)
            if run:
                session.execute(current, run)
        latest: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for statement, values in self.latest.values():
            latest[statement].append(values)
        for statement, rows in latest.items():
            session.execute(statement, rows)
        if keep_summaries and touched:
            summaries.contributions_of(session, touched, changes, 1.0)
            summaries.add(session, changes)
        self.clear()

    def clear(self) -> None:
        self.by_table.clear()
        self.latest.clear()
        self.tables.clear()


def _write_before_commit(session: Session) -> None:
    queue = session.info.get(_INFO_KEY)
    if queue is not None:
        queue.write(session)


def _drop_after_rollback(session: Session) -> None:
    queue = session.info.get(_INFO_KEY)
    if queue is not None:
        queue.clear()


def _queue(session: AsyncSession) -> _Queue:
    sync = session.sync_session
    queue = sync.info.get(_INFO_KEY)
    if queue is None:
        queue = sync.info[_INFO_KEY] = _Queue(dialect=session.get_bind().dialect.name)
        event.listen(sync, "before_commit", _write_before_commit)
        event.listen(sync, "after_rollback", _drop_after_rollback)
    return queue


async def upsert(
    session: AsyncSession, model: type, values: dict[str, Any], update: Update | None = None
) -> None:
    """Queue an upsert of one row; ``update(excluded, current)`` gives the SET clause on conflict
    (``None``: keep the stored row). ``update`` must be a long-lived function (it keys a cache)."""
    _queue(session).add(model.__table__, values, update)  # type: ignore[attr-defined]  # any mapped class


async def upsert_latest(
    session: AsyncSession, model: type, values: dict[str, Any], update: Update, *, newer: str
) -> None:
    """Queue an upsert that only matters when ``values[newer]`` is the largest seen for the row."""
    _queue(session).add_latest(model.__table__, values, update, newer)  # type: ignore[attr-defined]  # any mapped class
