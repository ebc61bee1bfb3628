"""The searchable catalogue held in memory by each process, refreshed from the read model.

Every projecting transaction (a consumer batch) takes the next catalogue version and stamps the
rows it changes with it (``seq``); a reader asks the database for the current version (one tiny
query, at most every ``refresh_seconds``) and loads only rows changed since then, so every
worker process picks up a change. Search, facets and matching then run over these facts and
their ``CatalogueIndex`` (built once per version) in Python, so SQLite and PostgreSQL give the
same answers.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_funding.catalogue import rules as catalogue_rules
from nzr_funding.catalogue.models import ProgrammeRow, ProjectionStateRow
from nzr_funding.catalogue.taxonomy import value_labels
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.search import compounds
from nzr_funding.search.rules import Entry

if TYPE_CHECKING:
    from nzr_funding.search.index import CatalogueIndex

CATALOGUE = "catalogue"
T = TypeVar("T")


def entry_from_row(row: ProgrammeRow, intern: dict[Any, Any] | None = None) -> Entry:
    """The cached form of a read-model row; equal facts are shared through ``intern`` so that
    matching can judge them once (``matching_rules.best_matches`` keys its memo by identity)."""
    shared: dict[Any, Any] = intern if intern is not None else {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    deadline = one(deadline_rules.deadline_from_data(row.deadline))
    facts = catalogue_rules.ProgrammeFacts(
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
        legal_forms=one(frozenset(row.legal_forms or ())),
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
    record["legal_forms"] = list(row.legal_forms or ())
    name_tokens = _stored(row.name_doc) or compounds.document_tokens(row.name)
    return Entry(facts, one(name_tokens), _stored(row.search_doc) or _document(row), record)


def programme_document(
    name: str, summary: str, funder: str, topics: list[str], areas: list[str], eligible: list[str]
) -> tuple[str, ...]:
    """The searchable text of a programme: name, summary, funder and the labels of its topics,
    areas and eligible applicants, each word with the parts of a compound."""
    labels = value_labels()
    return compounds.document_tokens(
        name,
        summary,
        funder,
        *(labels["topic"].get(t, "") for t in topics),
        *(labels["area"].get(a, "") for a in areas),
        *(labels["eligible"].get(e, "") for e in eligible),
    )


def stored_document(document: tuple[str, ...]) -> str:
    """A document's tokens as the read model stores them (``name_doc``, ``search_doc``), marked
    with the version of the analysis that made them."""
    return " ".join((compounds.ANALYSIS_VERSION, *document))


def _stored(column: str) -> tuple[str, ...] | None:
    """The stored tokens when the current analysis made them (rows projected before it are
    analysed again when loaded)."""
    parts = column.split()
    return tuple(parts[1:]) if parts and parts[0] == compounds.ANALYSIS_VERSION else None


def _document(row: ProgrammeRow) -> tuple[str, ...]:
    return programme_document(row.name, row.summary, row.funder, row.topics, row.areas, row.eligible)


@contextmanager
def _no_gc_pause() -> Iterator[None]:
    """No cyclic garbage collection while building (no awaits inside): the build allocates
    many objects, and each collection it would trigger walks the whole catalogue in memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_index(entries: list[Entry]) -> CatalogueIndex:
    # Imported by the first search or match: the index brings numpy (~12 MB resident), which an
    # idle process does not need (issue #20).
    from nzr_funding.search.index import CatalogueIndex

    with _no_gc_pause():
        return CatalogueIndex(entries)


class CatalogueCache:
    """The live programmes of this service's read model, by id."""

    def __init__(self, *, refresh_seconds: float = 0.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._checked_at = float("-inf")
        self.version = -1
        self.entries: dict[str, Entry] = {}
        self._intern: dict[Any, Any] = {}
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._index: CatalogueIndex | None = None
        self._lock = asyncio.Lock()

    @property
    def index(self) -> CatalogueIndex:
        """The search and matching index of the current entries, built once per version."""
        if self._index is None:
            self._index = _build_index(list(self.entries.values()))
        return self._index

    async def indexed(self) -> CatalogueIndex:
        """The index of the current entries, built off the event loop when none is yet (the
        first search or match after start-up; an idle service does not hold it)."""
        if self._index is None:
            async with self._lock:
                if self._index is None:
                    entries = self.entries
                    index = await asyncio.to_thread(_build_index, list(entries.values()))
                    if entries is self.entries:  # not replaced meanwhile
                        self._index = index
                    else:
                        return index
        return self._index

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

    async def refreshed(self, sessions: async_sessionmaker[AsyncSession]) -> dict[str, Entry]:
        """``current``, opening a session only when the read model is due to be asked."""
        if time.monotonic() - self._checked_at < self.refresh_seconds:
            return self.entries
        async with sessions() as session:
            return await self.current(session)

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
        rows = (await session.scalars(query)).all()
        with _no_gc_pause():
            for row in rows:
                if row.withdrawn:
                    entries.pop(row.id, None)
                else:
                    entries[row.id] = entry_from_row(row, self._intern)
        # Built off the event loop: requests meanwhile are answered by the previous index and
        # entries, which are swapped together once the new index is ready. Before the first
        # search or match there is no index to keep current: it waits for ``indexed``.
        index = (
            await asyncio.to_thread(_build_index, list(entries.values())) if self._index is not None else None
        )
        self.entries, self._index = entries, index
        self._answers.clear()
        self.version = version
