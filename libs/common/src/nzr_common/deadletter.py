"""Dead-letter store: messages a consumer could not handle within its bounded deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_common.tables import MessagingTables


class DeadLetter(BaseModel):
    id: int
    consumer: str
    nats_subject: str
    event_id: str | None
    event_type: str | None
    stream_sequence: int | None
    deliveries: int
    error: str
    failed_at: datetime
    replayed_at: datetime | None
    payload_preview: str


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
    total: int


async def store_dead_letter(
    session: AsyncSession,
    tables: MessagingTables,
    *,
    consumer: str,
    nats_subject: str,
    payload: bytes,
    headers: dict[str, Any],
    error: str,
    deliveries: int,
    stream_sequence: int | None,
    event_id: str | None = None,
    event_type: str | None = None,
) -> None:
    await session.execute(
        insert(tables.dead_letters).values(
            consumer=consumer,
            nats_subject=nats_subject,
            event_id=event_id,
            event_type=event_type,
            stream_sequence=stream_sequence,
            deliveries=deliveries,
            headers=headers,
            payload=payload,
            error=error[:4000],
            failed_at=datetime.now(UTC),
        )
    )


def _preview(payload: bytes) -> str:
    return payload[:500].decode("utf-8", errors="replace")


async def list_dead_letters(
    session: AsyncSession,
    tables: MessagingTables,
    *,
    include_replayed: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> DeadLetterPage:
    """Dead letters, newest first."""
    dl = tables.dead_letters
    where = [] if include_replayed else [dl.c.replayed_at.is_(None)]
    total = await session.scalar(select(func.count()).select_from(dl).where(*where)) or 0
    rows = (
        await session.execute(select(dl).where(*where).order_by(dl.c.id.desc()).limit(limit).offset(offset))
    ).mappings()
    items = [
        DeadLetter(
            **{k: row[k] for k in DeadLetter.model_fields if k in row},
            payload_preview=_preview(row["payload"]),
        )
        for row in rows
    ]
    return DeadLetterPage(items=items, total=total)


async def load_dead_letter(
    session: AsyncSession, tables: MessagingTables, letter_id: int
) -> RowMapping | None:
    row = (
        (await session.execute(select(tables.dead_letters).where(tables.dead_letters.c.id == letter_id)))
        .mappings()
        .first()
    )
    return row


async def mark_replayed(session: AsyncSession, tables: MessagingTables, letter_id: int) -> None:
    await session.execute(
        update(tables.dead_letters)
        .where(tables.dead_letters.c.id == letter_id)
        .values(replayed_at=datetime.now(UTC))
    )
