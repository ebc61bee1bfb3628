"""Lists: create, change and show the newsletter's lists (with their confirmed reach)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Invalid, NotFound
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.lists.schemas import ListCreate, ListPage, ListRead, ListUpdate
from nzr_newsletter.subscriptions.models import SubscriptionRow


async def confirmed_count(session: AsyncSession, list_id: str) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.list_id == list_id, SubscriptionRow.status == "confirmed")
        )
        or 0
    )


def list_read(row: ListRow, count: int | None = None) -> ListRead:
    return ListRead(
        id=row.id,
        name=row.name,
        description=row.description,
        topic=row.topic,
        visibility=row.visibility,
        registration_default=row.registration_default,
        digest=row.digest,
        tracking_enabled=row.tracking_enabled,
        confirmed_subscribers=count,
        created_at=row.created_at,
    )


async def create_list(*, session: AsyncSession, data: ListCreate) -> ListRead:
    """Create a mailing list of the region."""
    row = ListRow(id=str(uuid.uuid4()), created_at=datetime.now(UTC), **data.model_dump())
    async with session.begin():
        session.add(row)
    return list_read(row, 0)


async def update_list(*, session: AsyncSession, list_id: str, data: ListUpdate) -> ListRead:
    """Change a list's name, description, topic, visibility or flags."""
    async with session.begin():
        row = await session.get(ListRow, list_id)
        if row is None:
            raise NotFound("list", list_id)
        for key, value in data.model_dump(exclude_unset=True).items():
            setattr(row, key, value)
        count = await confirmed_count(session, list_id)
    return list_read(row, count)


async def public_lists(session: AsyncSession) -> list[ListRead]:
    """Every public list in the order they were made (the preferences show them all)."""
    query = select(ListRow).where(ListRow.visibility == "public").order_by(ListRow.created_at, ListRow.id)
    return [list_read(r) for r in await session.scalars(query)]


async def list_lists(*, session: AsyncSession, include_internal: bool, limit: int, offset: int) -> ListPage:
    """A page of the lists in the order they were made: public ones for everybody, internal ones
    and subscriber counts for editors."""
    where = [] if include_internal else [ListRow.visibility == "public"]
    query = select(ListRow).where(*where).order_by(ListRow.created_at, ListRow.id)
    rows = list(await session.scalars(query.limit(limit).offset(offset)))
    total = await session.scalar(select(func.count()).select_from(ListRow).where(*where)) or 0
    counts: dict[str, int] = {}
    if include_internal and rows:
        counts = dict(
            (
                await session.execute(
                    select(SubscriptionRow.list_id, func.count())
                    .where(
                        SubscriptionRow.status == "confirmed",
                        SubscriptionRow.list_id.in_([r.id for r in rows]),
                    )
                    .group_by(SubscriptionRow.list_id)
                )
            ).all()
        )
    return ListPage(
        items=[list_read(r, counts.get(r.id, 0) if include_internal else None) for r in rows], total=total
    )


async def lists_by_id(
    session: AsyncSession, list_ids: Iterable[str], *, public_only: bool
) -> dict[str, ListRow]:
    ids = list(dict.fromkeys(list_ids))
    rows = {r.id: r for r in await session.scalars(select(ListRow).where(ListRow.id.in_(ids)))}
    missing = [i for i in ids if i not in rows or (public_only and rows[i].visibility != "public")]
    if missing:
        raise Invalid("Invalid lists", [("list_ids", f"unknown lists: {', '.join(missing)}")])
    return rows
