"""Sorting of the lists: ``sort`` is a field name, ascending, or ``-field``, descending (a named
enum per list, e.g. ``RegistrationSort``); empty values sort last either way and the id always
breaks ties (ascending), so the order is total and ``cursor`` pages never repeat or skip a row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import SQLColumnExpression

SORT_DESCRIPTION = "Order of the list: `field` ascending, `-field` descending; ties by id."


def order_by(
    sort: str,
    keys: Mapping[str, SQLColumnExpression[Any]],
    tie: SQLColumnExpression[Any],
    then: Sequence[SQLColumnExpression[Any]] = (),
) -> list[SQLColumnExpression[Any]]:
    """The ORDER BY of ``sort`` over the list's sortable ``keys``, then the ``then`` keys
    (ascending, e.g. the creation time among equal due dates), then ``tie`` (the id)."""
    descending = sort.startswith("-")
    key = keys[sort.removeprefix("-")]
    return [(key.desc() if descending else key.asc()).nulls_last(), *then, tie.asc()]
