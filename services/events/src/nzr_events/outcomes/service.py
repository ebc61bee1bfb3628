"""Use cases of outcomes: agreements and their progress, recommendations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.events import (
    AgreementRecorded,
    AgreementStatusChanged,
    RecommendationRecorded,
)
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_events.gatherings.models import EventRow
from nzr_events.outcomes.models import AgreementRow, KnownActorRow, ProgressReportRow, RecommendationRow
from nzr_events.outcomes.rules import (
    distinct_parties,
    empty_progress,
    outcomes_closed,
    unknown_parties,
    unknown_topics,
)
from nzr_events.outcomes.schemas import (
    AgreementCreate,
    AgreementPage,
    AgreementRead,
    ProgressCreate,
    ProgressRead,
    RecommendationCreate,
    RecommendationPage,
    RecommendationRead,
)
from nzr_events.sorting import order_by
from nzr_events.tables import ListedRow


def agreement_read(
    row: AgreementRow | ListedRow, progress: Sequence[ProgressReportRow | ListedRow] = ()
) -> AgreementRead:
    return AgreementRead(
        id=row.id,
        event_id=row.event_id,
        text=row.text,
        party_actor_ids=row.party_actor_ids,
        responsible_actor_id=row.responsible_actor_id,
        due_date=row.due_date,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        progress=[
            ProgressRead(id=p.id, reported_at=p.reported_at, moved=p.moved, blocks=p.blocks, status=p.status)
            for p in progress
        ],
    )


async def record_agreement(
    *, session: AsyncSession, outbox: Outbox, event_id: str, data: AgreementCreate
) -> AgreementRead:
    """Record who agreed to do what by when; actors turns the parties into cooperations.
    Parties and the responsible must be actors of the region, else nothing is stored."""
    now = datetime.now(UTC)
    async with session.begin():
        event = await session.get(EventRow, event_id)
        if event is None:
            raise NotFound("event", event_id)
        closed = outcomes_closed(event.status)
        if closed:
            raise Conflict(closed)
        named = {*data.party_actor_ids, *([data.responsible_actor_id] if data.responsible_actor_id else [])}
        known = set(
            await session.scalars(
                select(KnownActorRow.actor_id).where(
                    KnownActorRow.actor_id.in_(named), KnownActorRow.removed.is_(False)
                )
            )
        )
        unknown = unknown_parties(data.party_actor_ids, data.responsible_actor_id, known=known)
        if unknown:
            raise Invalid("Unknown actor", unknown)
        row = AgreementRow(
            id=str(uuid.uuid4()),
            event_id=event_id,
            text=data.text.strip(),
            party_actor_ids=distinct_parties(data.party_actor_ids),
            responsible_actor_id=data.responsible_actor_id,
            due_date=data.due_date,
            status=data.status,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await outbox.add(
            session,
            AgreementRecorded(
                agreement_id=row.id,
                event_id=event_id,
                party_actor_ids=row.party_actor_ids,
                responsible_actor_id=row.responsible_actor_id,
                due_date=row.due_date,
                status=data.status,
            ),
        )
    return agreement_read(row)


async def report_progress(
    *, session: AsyncSession, outbox: Outbox, agreement_id: str, data: ProgressCreate
) -> AgreementRead:
    """Add a progress report (what moved, what blocks), optionally changing the status."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await session.scalar(
            select(AgreementRow).where(AgreementRow.id == agreement_id).with_for_update()
        )
        if row is None:
            raise NotFound("agreement", agreement_id)
        empty = empty_progress(data.moved, data.blocks, data.status)
        if empty:
            raise Invalid("Empty progress report", empty)
        new_status = data.status or row.status
        session.add(
            ProgressReportRow(
                id=str(uuid.uuid4()),
                agreement_id=row.id,
                reported_at=now,
                moved=data.moved,
                blocks=data.blocks,
                status=new_status,
            )
        )
        if new_status != row.status:
            row.status = new_status
            await outbox.add(
                session,
                AgreementStatusChanged(
                    agreement_id=row.id,
                    status=new_status,
                    changed_at=now,
                ),
            )
        row.updated_at = now
    return await get_agreement(session=session, agreement_id=agreement_id)


async def get_agreement(*, session: AsyncSession, agreement_id: str) -> AgreementRead:
    row = await session.get(AgreementRow, agreement_id)
    if row is None:
        raise NotFound("agreement", agreement_id)
    progress = await session.scalars(
        select(ProgressReportRow)
        .where(ProgressReportRow.agreement_id == agreement_id)
        .order_by(ProgressReportRow.reported_at)
    )
    return agreement_read(row, list(progress))


#: What the agreement list sorts by (``AgreementSort``); among equal keys the older agreement first.
AGREEMENT_SORT_KEYS: dict[str, SQLColumnExpression[Any]] = {
    "due_date": AgreementRow.due_date,
    "created_at": AgreementRow.created_at,
    "updated_at": AgreementRow.updated_at,
    # the life cycle: open, being implemented, implemented, dropped
    "status": case({"offen": 0, "in_umsetzung": 1, "umgesetzt": 2}, value=AgreementRow.status, else_=3),
}


async def list_agreements(
    *,
    session: AsyncSession,
    event_id: str | None,
    status: str | None,
    responsible_actor_id: str | None,
    due_before: date | None,
    sort: str = "due_date",
    limit: int,
    offset: int,
) -> AgreementPage:
    """A page of agreements to follow up, in ``sort`` order (default: by due date)."""
    where = []
    if event_id:
        where.append(AgreementRow.event_id == event_id)
    if status:
        where.append(AgreementRow.status == status)
    if responsible_actor_id:
        where.append(AgreementRow.responsible_actor_id == responsible_actor_id)
    if due_before:
        where.append(AgreementRow.due_date <= due_before)
    rows = (
        await session.execute(
            select(*AgreementRow.__table__.c, func.count().over().label("total"))
            .where(*where)
            .order_by(*order_by(sort, AGREEMENT_SORT_KEYS, AgreementRow.id, then=[AgreementRow.created_at]))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = await session.scalar(select(func.count()).select_from(AgreementRow).where(*where)) or 0
    progress: dict[str, list[ListedRow]] = {}
    if rows:
        for p in await session.execute(
            select(*ProgressReportRow.__table__.c)
            .where(ProgressReportRow.agreement_id.in_([r.id for r in rows]))
            .order_by(ProgressReportRow.reported_at)
        ):
            progress.setdefault(p.agreement_id, []).append(p)
    return AgreementPage(items=[agreement_read(r, progress.get(r.id, [])) for r in rows], total=total)


async def record_recommendation(
    *, session: AsyncSession, outbox: Outbox, event_id: str, data: RecommendationCreate, topics: set[str]
) -> RecommendationRead:
    """Record a Handlungsempfehlung of an event; its topics come from the network's vocabulary."""
    unknown = unknown_topics(data.topics, allowed=topics)
    if unknown:
        raise Invalid("Unknown topic", unknown)
    async with session.begin():
        event = await session.get(EventRow, event_id)
        if event is None:
            raise NotFound("event", event_id)
        closed = outcomes_closed(event.status)
        if closed:
            raise Conflict(closed)
        row = RecommendationRow(
            id=str(uuid.uuid4()),
            event_id=event_id,
            text=data.text.strip(),
            addressee=data.addressee,
            topics=data.topics,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        await outbox.add(
            session, RecommendationRecorded(recommendation_id=row.id, event_id=event_id, topics=row.topics)
        )
    return RecommendationRead.model_validate(row, from_attributes=True)


async def list_recommendations(
    *, session: AsyncSession, event_id: str, limit: int, offset: int
) -> RecommendationPage:
    """A page of an event's recommendations in the order they were recorded."""
    where = RecommendationRow.event_id == event_id
    rows = (
        await session.execute(
            select(*RecommendationRow.__table__.c, func.count().over().label("total"))
            .where(where)
            .order_by(RecommendationRow.created_at, RecommendationRow.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = await session.scalar(select(func.count()).select_from(RecommendationRow).where(where)) or 0
    return RecommendationPage(
        items=[RecommendationRead.model_validate(r, from_attributes=True) for r in rows], total=total
    )
