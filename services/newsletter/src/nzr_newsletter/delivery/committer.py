"""The group committer: many small delivery updates in few transactions."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.delivery.models import DeliveryRow

log = logging.getLogger(__name__)


Op = Callable[[AsyncSession], Awaitable[Any]]
#: Rows a connection wants to send, and the future that gets the claimed ones with their attempt.
Claim = tuple[list[int], asyncio.Future[dict[int, str]]]


class GroupCommitter:
    """Commits the state changes of all connections together: the "sent" marks and claims that
    piled up while the previous transaction ran go into one transaction, as bulk statements."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.claims: list[Claim] = []
        self.sent: list[tuple[int, str]] = []
        self.ops: list[tuple[Op, asyncio.Future[Any]]] = []
        self.wakeup = asyncio.Event()

    def claim(self, row_ids: list[int]) -> asyncio.Future[dict[int, str]]:
        """queued → sending; resolves to {row id: attempt id} for the rows that were free."""
        future: asyncio.Future[dict[int, str]] = asyncio.get_running_loop().create_future()
        self.claims.append((row_ids, future))
        self.wakeup.set()
        return future

    def mark_sent(self, row_id: int, attempt_id: str) -> None:
        self.sent.append((row_id, attempt_id))
        self.wakeup.set()

    def submit(self, op: Op) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.ops.append((op, future))
        self.wakeup.set()
        return future

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            claims, sent, ops = self.claims, self.sent, self.ops
            self.claims, self.sent, self.ops = [], [], []
            try:
                async with self.sessions() as session, session.begin():
                    await self._mark_sent(session, sent)
                    results = [await op(session) for op, _ in ops]
                    claimed = await self._claim(session, claims)
                _resolve(ops, results)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("group commit failed; retrying its parts", exc_info=True)
                await self._ops_one_by_one(ops)
                claimed = await self._until_committed(sent, claims)
            for row_ids, future in claims:
                if not future.done():
                    future.set_result({i: claimed[i] for i in row_ids if i in claimed})

    async def _mark_sent(self, session: AsyncSession, sent: list[tuple[int, str]]) -> None:
        by_attempt: dict[str, list[int]] = {}
        for row_id, attempt_id in sent:
            by_attempt.setdefault(attempt_id, []).append(row_id)
        now = datetime.now(UTC)
        for attempt_id, ids in by_attempt.items():
            await session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id.in_(ids),
                    DeliveryRow.attempt_id == attempt_id,
                    DeliveryRow.status == "sending",
                )
                .values(status="sent", sent_at=now)
            )

    async def _claim(self, session: AsyncSession, claims: list[Claim]) -> dict[int, str]:
        if not claims:
            return {}
        attempt_id = uuid.uuid4().hex
        ids = [row_id for row_ids, _ in claims for row_id in row_ids]
        await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(ids),
                DeliveryRow.status == "queued",
                DeliveryRow.campaign_id.in_(select(CampaignRow.id).where(CampaignRow.status == "sending")),
            )
            .values(status="sending", attempt_id=attempt_id, attempts=DeliveryRow.attempts + 1)
        )
        claimed = await session.scalars(
            select(DeliveryRow.id).where(DeliveryRow.id.in_(ids), DeliveryRow.attempt_id == attempt_id)
        )
        return dict.fromkeys(claimed, attempt_id)

    async def _ops_one_by_one(self, ops: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        for op, future in ops:
            try:
                async with self.sessions() as session, session.begin():
                    result = await op(session)
                if not future.done():
                    future.set_result(result)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)

    async def _until_committed(self, sent: list[tuple[int, str]], claims: list[Claim]) -> dict[int, str]:
        """The mails are out: their marks must be written, however long the database is away."""
        while True:
            try:
                async with self.sessions() as session, session.begin():
                    await self._mark_sent(session, sent)
                    return await self._claim(session, claims)
            except Exception:
                await asyncio.sleep(0.5)


def _resolve(ops: list[tuple[Op, asyncio.Future[Any]]], results: list[Any]) -> None:
    for (_, future), result in zip(ops, results, strict=True):
        if not future.done():
            future.set_result(result)
