"""Searches counted for reporting (``FundingSearchPerformed``) without slowing them down.

A search only appends its anonymous facts (filters, district, number of hits; never the
typed text, which may name a person) to an in-memory list; a background loop writes what has
gathered to the outbox in one transaction every ``search_events_flush_seconds`` (and once more
when the service stops). A search therefore costs no database write; what a crash loses is at
most one interval's usage figures, never a programme or a match.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.contracts.funding import FundingSearchPerformed
from nzr_common.outbox import Outbox
from nzr_funding.search.schemas import SearchQuery

#: The search parameters reported as filters (the free text ``q`` is not: it may name people).
_REPORTED = ("funding_type", "area", "territory", "eligible", "level", "topic", "state")


def reported_filters(query: SearchQuery) -> dict[str, list[str]]:
    """The filters of a search as reporting counts them (dimension → chosen values)."""
    filters = {name: sorted(getattr(query, name)) for name in _REPORTED if getattr(query, name)}
    if query.open_now:
        filters["open_now"] = ["true"]
    if query.deadline_before is not None:
        filters["deadline_before"] = [query.deadline_before.isoformat()]
    for name in ("amount_min", "amount_max"):
        value = getattr(query, name)
        if value is not None:
            filters[name] = [f"{value:g}"]
    if query.q and query.q.strip():
        filters["text"] = ["true"]  # that there was a text, not what it said
    return filters


class SearchUsage:
    """The searches performed since the last flush."""

    def __init__(self, *, max_pending: int = 50_000) -> None:
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: list[FundingSearchPerformed] = []

    def record(self, query: SearchQuery, hits: int) -> None:
        """Count one search (a list append; beyond ``max_pending`` unflushed ones it is dropped
        and counted in ``dropped``, so a stalled database cannot exhaust memory)."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(
            FundingSearchPerformed(
                search_id=str(uuid.uuid4()),
                filters=reported_filters(query),
                district=query.district,
                hits=hits,
                performed_at=datetime.now(UTC),
            )
        )

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> int:
        """Write the gathered events to the outbox in one transaction; how many."""
        events, self._pending = self._pending, []
        if not events:
            return 0
        try:
            async with sessions() as session, session.begin():
                await outbox.add(session, *events)
        except Exception:
            self._pending[:0] = events  # kept for the next round
            raise
        return len(events)
