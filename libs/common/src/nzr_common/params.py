"""Types with sane bounds for the query parameters of every service (and times in bodies).

A query parameter is typed with one of these instead of a bare ``date`` or ``int``, so a value
outside the range is refused with 422 problem+json naming the parameter before the route runs:
without them ``as_of=0001-01-01`` or ``from=9999-12`` reached date arithmetic or the database
and failed there with 500, and an offset of 10^18 overflowed PostgreSQL's bigint.

Use them inside ``Annotated[..., Query(...)]`` or as fields of a query-parameter model::

    as_of: Annotated[QueryDate | None, Query(description="Stichtag")] = None
    offset: Offset = 0
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator

#: The earliest day a query may name: nothing the networks record lies before it.
EARLIEST_DAY = date(1990, 1, 1)
#: How far ahead a query may look (planned events, deadlines, target dates of goals).
YEARS_AHEAD = 10
#: Deepest offset into a list: deeper pages are refused rather than scanned.
MAX_OFFSET = 100_000
#: Largest row id a database takes (64-bit signed).
MAX_ROW_ID = 2**63 - 1


def latest_day(today: date | None = None) -> date:
    """The last day a query may name: ``YEARS_AHEAD`` years after today (UTC)."""
    today = today or datetime.now(UTC).date()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _plausible_day(value: date) -> date:
    latest = latest_day()
    if not EARLIEST_DAY <= value <= latest:
        raise ValueError(f"must lie between {EARLIEST_DAY.isoformat()} and {latest.isoformat()}")
    return value


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _plausible_month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError("expected a month like 2026-01")
    latest = latest_day()
    if not f"{EARLIEST_DAY:%Y-%m}" <= value <= f"{latest:%Y-%m}":
        raise ValueError(f"must lie between {EARLIEST_DAY:%Y-%m} and {latest:%Y-%m}")
    return value


def _plausible_moment(value: datetime) -> datetime:
    _plausible_day(value.date())
    return value


#: A calendar day from 1990-01-01 to ten years after today.
QueryDate = Annotated[date, AfterValidator(_plausible_day)]
#: A moment (naive or with offset) on such a day: for times in request bodies that the service
#: converts or stores (``0001-01-01T00:00:01+00:24`` cannot even be converted to UTC).
PlausibleDateTime = Annotated[datetime, AfterValidator(_plausible_moment)]
#: A month ``YYYY-MM`` from 1990-01 to ten years after today.
QueryMonth = Annotated[str, AfterValidator(_plausible_month)]
#: Rows to skip in a list: 0 to ``MAX_OFFSET``.
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]
#: A numeric row id: 1 to the largest 64-bit signed integer.
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
