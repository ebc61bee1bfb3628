"""The searchable catalogue held in memory by each process, refreshed from the read model.

Every change of the ``programmes`` read model takes the next ``seq`` value; a reader asks the
database for the current version (one tiny query) and loads only rows changed since then.
Search (after the database's full-text index picked the candidates), facets and matching
then run over these facts in Python, so SQLite and PostgreSQL give the same answers.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_funding import domain
from nzr_funding.tables import ProgrammeRow, ProjectionStateRow

CATALOGUE = "catalogue"
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    facts: domain.ProgrammeFacts
    name_tokens: tuple[str, ...]
    doc_tokens: tuple[str, ...]
    record: dict[str, Any]


def entry_from_row(row: ProgrammeRow, intern: dict[Any, Any] | None = None) -> Entry:
    """The cached form of a read-model row; equal facts are shared through ``intern`` so that
    matching can judge them once (``domain.best_matches`` keys its memo by identity)."""
    shared: dict[Any, Any] = intern if intern is not None else {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    deadline = one(domain.deadline_from_data(row.deadline))
    facts = domain.ProgrammeFacts(
        id=row.id,
        name=row.name,
        level=row.level,
        eligible=one(frozenset(row.eligible)),
        territories=one(frozenset(row.territories)),
        districts=one(frozenset(row.districts)),
        districts_exhaustive=row.districts_exhaustive,
        topics=one(frozenset(row.topics)),
        areas=one(frozenset(row.areas)),
        funding_types=one(frozenset(row.funding_types)),
        amount_min=row.amount_min_eur,
        amount_max=row.amount_max_eur,
        rate=row.funding_rate_percent,
        deadline=deadline,
    )
    record = {
        column: getattr(row, column)
        for column in (
            "id",
            "revision",
            "name",
            "funder",
            "level",
            "region",
            "territories",
            "districts",
            "districts_exhaustive",
            "funding_types",
            "areas",
            "eligible",
            "topics",
            "summary",
            "amount_min_eur",
            "amount_max_eur",
            "funding_rate_percent",
            "url",
            "source_url",
            "additional_sources",
            "verified_on",
            "taxonomy_source",
            "notes",
        )
    }
    return Entry(facts, tuple(row.name_doc.split()), tuple(row.search_doc.split()), record)


class CatalogueCache:
    """The live programmes of this service's read model, by id."""

    def __init__(self, *, refresh_seconds: float = 0.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._checked_at = float("-inf")
        self.version = -1
        self.entries: dict[str, Entry] = {}
        self._intern: dict[Any, Any] = {}
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = asyncio.Lock()

    def cached(self, key: Hashable) -> Any | None:
        """A result remembered for ``key`` since the catalogue last changed, or None."""
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        return None

    def remember(self, key: Hashable, value: T, *, keep: int = 512) -> T:
        """Keep a result that depends only on the catalogue and ``key`` (a search page, a
        ranking) until the catalogue changes."""
        self._answers[key] = value
        if len(self._answers) > keep:
            self._answers.popitem(last=False)
        return value

    async def current(self, session: AsyncSession) -> dict[str, Entry]:
        """The entries as of now (at most ``refresh_seconds`` old); loads what changed."""
        now = time.monotonic()
        if now - self._checked_at < self.refresh_seconds:
            return self.entries
        self._checked_at = now
        version = (
            await session.scalar(
                select(ProjectionStateRow.version).where(ProjectionStateRow.name == CATALOGUE)
            )
            or 0
        )
        if version != self.version:
            async with self._lock:
                if version != self.version:
                    await self._load_changes(session, version)
        return self.entries

    async def _load_changes(self, session: AsyncSession, version: int) -> None:
        query = select(ProgrammeRow)
        if self.version >= 0:
            query = query.where(ProgrammeRow.seq > self.version)
        entries = dict(self.entries)
        for row in (await session.scalars(query)).all():
            if row.withdrawn:
                entries.pop(row.id, None)
            else:
                entries[row.id] = entry_from_row(row, self._intern)
        self.entries = entries
        self._answers.clear()
        self.version = version
