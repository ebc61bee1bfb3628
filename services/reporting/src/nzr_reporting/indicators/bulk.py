"""Set-based upserts on PostgreSQL: many rows of distinct keys in one ``INSERT … SELECT
unnest(…) … ON CONFLICT`` (used by the queued upserts and by the summaries alike)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import JSON, Table, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

Update = Callable[[Any, Any], dict[str, Any]]


@cache
def unnest_statement(table: Table, columns: tuple[str, ...], update: Update | None) -> Any:
    """PostgreSQL: the same upsert for many rows in one statement, ``INSERT … SELECT
    unnest(:column_values), … ON CONFLICT …``, one array per column (JSON as text, cast back).
    The rows must have distinct keys (a row cannot be upserted twice by one statement); the
    PostgreSQL dialect is imported here, so a process on SQLite never loads it."""
    from sqlalchemy.dialects.postgresql import ARRAY, insert

    values = []
    for name in columns:
        column = table.c[name]
        if isinstance(column.type, JSON):
            values.append(cast(func.unnest(bindparam(name, type_=ARRAY(Text()))), column.type).label(name))
        else:
            values.append(func.unnest(bindparam(name, type_=ARRAY(column.type))).label(name))
    statement = insert(table).from_select(list(columns), select(*values))
    keys = [column.name for column in table.primary_key.columns]
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded, table.c))


def upsert_distinct(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    update: Update | None,
) -> None:
    """PostgreSQL: upsert rows of distinct keys with one statement (``unnest_statement``)."""
    arrays: dict[str, list[Any]] = {}
    for name in columns:
        column = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            column = [json.dumps(value) for value in column]
        arrays[name] = column
    session.execute(unnest_statement(table, columns, update), arrays)
