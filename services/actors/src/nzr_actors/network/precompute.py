"""Suggestions kept ready per network version, computed off the event loop.

Per scope (region, district or Stadtteil) the cache holds the ``SuggestionIndex`` of the network's
current version (``reads.network_version``) and, once the region-wide list was asked for, the
best ``REGION_LIMIT`` pairs (plain and surprising-only). A request reads the version (two indexed
aggregates), and answers from the cache when it is current:

* one actor's partners: one row of vector operations in a thread (milliseconds);
* the region's pairs: a slice of the kept list.

After a change the index (with the kept lists asked for so far) is rebuilt: for a network of
``worker_from`` actors or more entirely in a worker process — it reads the network on its own
connection, indexes and ranks it (``ProcessPoolExecutor``, spawned at start-up when the region
has that many actors, ending with its service) — so this process's event loop and GIL stay
free for other requests; smaller networks (milliseconds), and big ones while the worker is
still starting, are read here and indexed in a thread.

``keep_fresh`` (a background loop of the service) polls the versions of the scopes used in the
last ``KEEP_SECONDS`` and, once a change has settled for one poll (debounce, at most
``SETTLE_SECONDS``), rebuilds the index and the kept lists the same way, so the
next request after a change finds them ready. Several replicas each keep their own cache; the
version read on every request makes each of them exact.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_actors.network import reads
from nzr_actors.network.reads import Reader, Scope, Version
from nzr_common.db import create_engine

if TYPE_CHECKING:
    # Imported where suggestions are computed: scoring brings numpy (~16 MB resident), which an
    # idle process or one that is never asked for suggestions does not need (issue #20).
    from nzr_actors.network import scoring

log = logging.getLogger(__name__)

REGION_LIMIT = 500
KEEP_SECONDS = 3600.0
SETTLE_SECONDS = 10.0


@dataclass
class _Entry:
    version: Version
    index: scoring.SuggestionIndex
    used: float
    #: surprising_only → the best REGION_LIMIT pairs of this version
    region: dict[bool, list[scoring.Suggestion]] = field(default_factory=dict)
    region_wanted: set[bool] = field(default_factory=set)


class SuggestionCache:
    """Suggestion indexes and region-wide lists per scope, for the current network version."""

    def __init__(
        self,
        *,
        database_url: str = "",
        clock: Callable[[], date] = date.today,
        poll_seconds: float = 1.0,
        worker_from: int = 1000,
    ) -> None:
        self._database_url = database_url
        self._clock = clock
        self._poll = poll_seconds
        self._worker_from = worker_from
        self._entries: dict[Scope, _Entry] = {}
        self._locks: dict[Scope, asyncio.Lock] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[int] = Future()
        self._changing: dict[Scope, tuple[Version, float]] = {}

    def _lock(self, scope: Scope) -> asyncio.Lock:
        return self._locks.setdefault(scope, asyncio.Lock())

    def _start_worker(self) -> None:
        """Spawn the worker process (it takes seconds: imports numpy and igraph) in the background."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            self._ready = self._pool.submit(int)

    async def _current(self, reader: Reader, scope: Scope) -> _Entry:
        version = await reads.network_version(reader, scope, today=self._clock())
        entry = self._entries.get(scope)
        if entry is None or entry.version != version:
            async with self._lock(scope):
                entry = self._entries.get(scope)
                if entry is None or entry.version != version:
                    entry = await self._rebuild(
                        reader, scope, version, wanted=entry.region_wanted if entry else set()
                    )
        entry.used = time.monotonic()
        return entry

    async def _rebuild(self, reader: Reader, scope: Scope, version: Version, *, wanted: set[bool]) -> _Entry:
        """Build the scope's index — with the kept lists asked for so far. A big network is read
        and indexed entirely in the worker process (its own connection), so this process only
        waits; a small one is read here and indexed in a thread."""
        big = version[0] >= self._worker_from
        if big:
            self._start_worker()
        loop = asyncio.get_running_loop()
        if big and self._database_url and self._pool is not None and self._ready.done():
            job = partial(_read_and_index, self._database_url, scope, version[-1], tuple(sorted(wanted)))
            index, lists = await loop.run_in_executor(self._pool, job)
        else:
            actor_rows, edge_rows = await reads.load_network_rows(reader, scope)
            rows = ([tuple(r) for r in actor_rows], [tuple(r) for r in edge_rows])
            index, lists = await asyncio.to_thread(_index_and_lists, rows, version[-1], tuple(sorted(wanted)))
        entry = _Entry(
            version=version, index=index, used=time.monotonic(), region=lists, region_wanted=set(wanted)
        )
        self._entries[scope] = entry
        return entry

    async def for_actor(
        self, reader: Reader, scope: Scope, actor_id: str, *, limit: int, surprising_only: bool
    ) -> tuple[scoring.SuggestionIndex, list[scoring.Suggestion]] | None:
        """The actor's best partners (None when the actor is not in ``scope``)."""
        from nzr_actors.network import scoring

        entry = await self._current(reader, scope)
        if actor_id not in entry.index.position:
            return None
        found = await asyncio.to_thread(
            scoring.for_actor, entry.index, actor_id, limit=limit, surprising_only=surprising_only
        )
        return entry.index, found

    async def for_region(
        self, reader: Reader, scope: Scope, *, limit: int, surprising_only: bool
    ) -> tuple[scoring.SuggestionIndex, list[scoring.Suggestion]]:
        """The best pairs of the scope (at most ``REGION_LIMIT``)."""
        entry = await self._current(reader, scope)
        entry.region_wanted.add(surprising_only)
        if surprising_only not in entry.region:
            async with self._lock(scope):
                if surprising_only not in entry.region:
                    entry.region[surprising_only] = await self._region(entry.index, surprising_only)
        return entry.index, entry.region[surprising_only][:limit]

    async def _region(
        self, index: scoring.SuggestionIndex, surprising_only: bool
    ) -> list[scoring.Suggestion]:
        from nzr_actors.network import scoring

        call = partial(scoring.for_region, index, limit=REGION_LIMIT, surprising_only=surprising_only)
        if len(index.nodes) < self._worker_from or self._pool is None or not self._ready.done():
            return await asyncio.to_thread(call)  # small, or the worker is still starting
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def keep_fresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Rebuild what changed, once the change has settled (runs as long as the service)."""
        try:
            async with sessions() as session:
                if await reads.actor_count(session) >= self._worker_from:
                    self._start_worker()  # a big network: have the worker ready for its first request
        except Exception:  # the worker then starts with the first big network
            log.exception("counting the actors failed")
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.refresh(sessions)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed round is retried at the next poll
                log.exception("keeping the network suggestions fresh failed")

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """One round of ``keep_fresh``: forget idle scopes, rebuild the changed ones that settled."""
        now = time.monotonic()
        for scope, entry in list(self._entries.items()):
            if now - entry.used > KEEP_SECONDS:
                self._entries.pop(scope, None)
                continue
            async with sessions() as session:
                version = await reads.network_version(session, scope, today=self._clock())
                if version == entry.version:
                    self._changing.pop(scope, None)
                    continue
                seen = self._changing.get(scope)
                if seen is None or (seen[0] != version and now - seen[1] < SETTLE_SECONDS):
                    self._changing[scope] = (version, seen[1] if seen else now)
                    continue  # still changing: wait for it to settle
                self._changing.pop(scope, None)
                async with self._lock(scope):
                    current = self._entries.get(scope)
                    if current is not None and current.version == version:
                        continue  # a request rebuilt it meanwhile
                    fresh = await self._rebuild(session, scope, version, wanted=entry.region_wanted)
                fresh.used = entry.used

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _index_and_lists(
    rows: tuple[list[Any], list[Any]], on: date, wanted: tuple[bool, ...]
) -> tuple[scoring.SuggestionIndex, dict[bool, list[scoring.Suggestion]]]:
    """The suggestion index of the rows read and its kept lists (in the worker or a thread)."""
    from nzr_actors.network import scoring

    nodes, edges = reads.network_of(*rows)
    index = scoring.build_index(nodes, edges, on=on)
    lists = {s: scoring.for_region(index, limit=REGION_LIMIT, surprising_only=s) for s in wanted}
    return index, lists


def _read_and_index(
    database_url: str, scope: Scope, on: date, wanted: tuple[bool, ...]
) -> tuple[scoring.SuggestionIndex, dict[bool, list[scoring.Suggestion]]]:
    """Read the scope's network on a connection of its own and index it (in the worker process)."""

    async def read() -> tuple[list[Any], list[Any]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                actor_rows, edge_rows = await reads.load_network_rows(connection, scope)
                return [tuple(r) for r in actor_rows], [tuple(r) for r in edge_rows]
        finally:
            await engine.dispose()

    return _index_and_lists(asyncio.run(read()), on, wanted)


def _exit_with_parent(parent: int) -> None:
    """In the worker: end when the service process is gone (killed without shutting the pool
    down), instead of waiting for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
