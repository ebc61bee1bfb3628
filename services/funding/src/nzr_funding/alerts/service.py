"""Use cases of saved searches and their alerts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import UnaryExpression, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import NotFound
from nzr_common.languages import DEFAULT_LANGUAGE
from nzr_funding.alerts.models import SavedSearchRow, SearchAlertRow
from nzr_funding.alerts.schemas import (
    AlertRead,
    AlertSort,
    SavedSearchCreate,
    SavedSearchRead,
    SavedSearchSort,
)
from nzr_funding.catalogue.models import ProgrammeRow
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.i18n import certainty_label
from nzr_funding.search.schemas import SearchQuery
from nzr_funding.search.service import filters_of


def _saved_read(row: SavedSearchRow) -> SavedSearchRead:
    return SavedSearchRead(
        id=row.id,
        name=row.name,
        query=SearchQuery.model_validate(row.query),
        alerts=row.alerts,
        created_at=row.created_at,
    )


async def create_saved_search(
    *, session: AsyncSession, owner: str, data: SavedSearchCreate, language: str = DEFAULT_LANGUAGE
) -> SavedSearchRead:
    """Save a search; with ``alerts`` every new or changed matching programme raises an alert."""
    filters_of(data.query, language)
    row = SavedSearchRow(
        id=str(uuid.uuid4()),
        owner=owner,
        name=data.name,
        query=data.query.model_dump(mode="json"),
        alerts=data.alerts,
        created_at=datetime.now(UTC),
    )
    async with session.begin():
        session.add(row)
    return _saved_read(row)


_SAVED_ORDER: dict[str, UnaryExpression[Any]] = {
    "created_at": SavedSearchRow.created_at.asc(),
    "-created_at": SavedSearchRow.created_at.desc(),
    "name": SavedSearchRow.name.asc(),
    "-name": SavedSearchRow.name.desc(),
}


async def list_saved_searches(
    *,
    session: AsyncSession,
    owner: str,
    sort: SavedSearchSort = "created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SavedSearchRead], int]:
    """A page of the owner's saved searches in the order asked for (ties by id), and their number."""
    where = SavedSearchRow.owner == owner
    total = await session.scalar(select(func.count()).select_from(SavedSearchRow).where(where)) or 0
    rows = await session.scalars(
        select(SavedSearchRow)
        .where(where)
        .order_by(_SAVED_ORDER[sort], SavedSearchRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [_saved_read(r) for r in rows], total


async def _own_search(session: AsyncSession, owner: str, search_id: str) -> SavedSearchRow:
    row = await session.get(SavedSearchRow, search_id)
    if row is None or row.owner != owner:
        raise NotFound("saved search", search_id)
    return row


async def delete_saved_search(*, session: AsyncSession, owner: str, search_id: str) -> None:
    """Delete one of the owner's saved searches and its alerts."""
    async with session.begin():
        row = await _own_search(session, owner, search_id)
        await session.execute(delete(SearchAlertRow).where(SearchAlertRow.saved_search_id == row.id))
        await session.delete(row)


_ALERT_ORDER: dict[str, UnaryExpression[Any]] = {
    "created_at": SearchAlertRow.created_at.asc(),
    "-created_at": SearchAlertRow.created_at.desc(),
    "programme_name": ProgrammeRow.name.asc().nulls_last(),
    "-programme_name": ProgrammeRow.name.desc().nulls_last(),
}


async def list_alerts(
    *,
    session: AsyncSession,
    owner: str,
    search_id: str,
    language: str = DEFAULT_LANGUAGE,
    sort: AlertSort = "created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AlertRead], int]:
    """A page of the alerts of one of the owner's saved searches in the order asked for (ties by
    id), with the programme's name and how certain its deadline is (an expected one is said to
    be expected), and their number."""
    await _own_search(session, owner, search_id)
    where = SearchAlertRow.saved_search_id == search_id
    total = await session.scalar(select(func.count()).select_from(SearchAlertRow).where(where)) or 0
    rows = (
        await session.execute(
            select(SearchAlertRow, ProgrammeRow.name, ProgrammeRow.deadline, ProgrammeRow.deadline_certainty)
            .join(ProgrammeRow, ProgrammeRow.id == SearchAlertRow.programme_id, isouter=True)
            .where(where)
            .order_by(_ALERT_ORDER[sort], SearchAlertRow.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    items = [
        AlertRead(
            id=a.id,
            saved_search_id=a.saved_search_id,
            programme_id=a.programme_id,
            programme_name=name,
            revision=a.revision,
            change=a.change,
            created_at=a.created_at,
            deadline_certainty=(certainty := _certainty(deadline, stored)),
            deadline_certainty_label=certainty_label(certainty, language),
        )
        for a, name, deadline, stored in rows
    ]
    return items, total


def _certainty(deadline: dict[str, Any] | None, stored: str | None) -> str:
    if stored is not None:
        return stored
    try:
        return deadline_rules.deadline_from_data(deadline).certainty.value
    except deadline_rules.DeadlineError:
        return deadline_rules.Certainty.UNKNOWN.value


async def raise_alerts(session: AsyncSession, row: ProgrammeRow, change: str, hits: list[str]) -> None:
    """Record an alert for each saved search hit by this revision of a programme (once each)."""
    already = set(
        (
            await session.scalars(
                select(SearchAlertRow.saved_search_id).where(
                    SearchAlertRow.programme_id == row.id, SearchAlertRow.revision == row.revision
                )
            )
        ).all()
    )
    now = datetime.now(UTC)
    values = [
        {
            "saved_search_id": search_id,
            "programme_id": row.id,
            "revision": row.revision,
            "change": change,
            "created_at": now,
        }
        for search_id in hits
        if search_id not in already
    ]
    if values:
        await session.execute(insert(SearchAlertRow), values)
