"""Use cases of cooperations: record (by hand or from an agreement), end, read, list."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import UnaryExpression, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from nzr_actors.actors import rules as actor_rules
from nzr_actors.actors.models import ActorRow
from nzr_actors.cooperations import rules
from nzr_actors.cooperations.models import CooperationRow
from nzr_actors.cooperations.schemas import (
    CooperationCorrection,
    CooperationCreate,
    CooperationPage,
    CooperationRead,
    CooperationSort,
)
from nzr_common.contracts.actors import (
    CooperationCorrected,
    CooperationDeleted,
    CooperationEnded,
    CooperationRecorded,
)
from nzr_common.contracts.base import IntegrationEvent
from nzr_common.errors import Conflict, Forbidden, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_common.regions import Region


def _cooperation_read(row: CooperationRow, sectors: dict[str, str]) -> CooperationRead:
    return CooperationRead(
        id=row.id,
        actor_a=row.actor_a,
        actor_b=row.actor_b,
        type=row.type,
        topic=row.topic,
        description=row.description,
        since=row.since,
        until=row.until,
        origin=row.origin,
        origin_id=row.origin_id,
        version=row.version,
        created_at=row.created_at,
        actor_b_region=row.partner_region,
        cross_sector=row.actor_b in sectors and sectors.get(row.actor_a) != sectors[row.actor_b],
    )


async def _sectors(session: AsyncSession, actor_ids: set[str]) -> dict[str, str]:
    if not actor_ids:
        return {}
    rows = await session.execute(select(ActorRow.id, ActorRow.sector).where(ActorRow.id.in_(actor_ids)))
    return {r.id: r.sector for r in rows}


async def record_cooperation(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    data: CooperationCreate,
    may_cross_regions: bool = False,
) -> CooperationRead:
    """Record a manual cooperation; announce CooperationRecorded.

    Both actors are of this region, unless the request names both regions (``actor_a_region``
    this one, ``actor_b_region`` the other) and ``may_cross_regions`` says the caller is
    authorised for both (a token of this region carrying the ``state`` role).
    """
    partner_region = rules.partner_region_of(data, region_id=region.id)
    if partner_region is not None and not may_cross_regions:
        raise Forbidden(
            f"actor_b belongs to region {partner_region}: a cooperation across regions needs a token "
            "authorised for both regions (this region's token with the state role).",
            problems=[("actor_b_region", "not authorised for this region")],
        )
    problems = rules.cooperation_problems(data, region_id=region.id, topics=topics)
    if problems:
        raise Invalid("Invalid cooperation", problems)
    now = datetime.now(UTC)
    async with session.begin():
        sectors = await _sectors(session, {data.actor_a, data.actor_b})
        missing = rules.unknown_actors(data, known=set(sectors), partner_region=partner_region)
        if missing:
            raise Invalid("Invalid cooperation", missing)
        # Across regions this region's actor comes first; otherwise the pair is stored sorted.
        a, b = (
            (data.actor_a, data.actor_b)
            if partner_region
            else rules.cooperation_pair(data.actor_a, data.actor_b)
        )
        await session.execute(select(ActorRow.id).where(ActorRow.id == a).with_for_update())
        if existing := await _same_cooperation(
            session, a, b, type_=data.type, since=data.since, until=data.until
        ):
            raise _duplicate(existing)
        row = CooperationRow(
            id=str(uuid.uuid4()),
            actor_a=a,
            actor_b=b,
            partner_region=partner_region,
            type=data.type,
            topic=data.topic,
            description=data.description,
            since=data.since,
            until=data.until,
            origin="manual",
            origin_id=None,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(row)
        result = _cooperation_read(row, sectors)
        await outbox.add(session, *_recorded(row, cross_sector=result.cross_sector))
    return result


def _recorded(row: CooperationRow, *, cross_sector: bool) -> list[IntegrationEvent]:
    """The events announcing a manual cooperation (and its end, when it has one)."""
    events: list[IntegrationEvent] = [
        CooperationRecorded(
            cooperation_id=row.id,
            actor_a=row.actor_a,
            actor_b=row.actor_b,
            cooperation_type=row.type,
            since=row.since,
            cross_sector=cross_sector,
        )
    ]
    if row.until is not None:
        events.append(CooperationEnded(cooperation_id=row.id, until=row.until))
    return events


def _duplicate(existing: str) -> Conflict:
    return Conflict(
        f"This cooperation is already recorded as {existing} (same actors, type and a period "
        "that overlaps); change that one instead.",
        title="Duplicate cooperation",
        existing_id=existing,
        extra={"existing": f"/api/v1/cooperations/{existing}"},
    )


async def _same_cooperation(
    session: AsyncSession,
    a: str,
    b: str,
    *,
    type_: str,
    since: date,
    until: date | None,
    other_than: str | None = None,
) -> str | None:
    """The id of a cooperation of the pair (in storage order) of the same type whose period
    overlaps ``since``–``until`` (callers lock the pair's local actor first, so such writes queue)."""
    ends_after_start = or_(CooperationRow.until.is_(None), CooperationRow.until >= since)
    starts_before_end = CooperationRow.since <= (until or date.max)
    query = select(CooperationRow.id).where(
        CooperationRow.actor_a == a,
        CooperationRow.actor_b == b,
        CooperationRow.type == type_,
        ends_after_start,
        starts_before_end,
    )
    if other_than is not None:
        query = query.where(CooperationRow.id != other_than)
    return await session.scalar(query.order_by(CooperationRow.since).limit(1))


def _check_version(row: CooperationRow, if_match: str | None, *, required: bool) -> None:
    versions = actor_rules.parse_if_match(if_match)
    if versions is None:
        return
    if not versions:
        if required:
            raise actor_rules.PreconditionRequired(
                "Send If-Match with the ETag you read, so no change is overwritten."
            )
        return
    if row.version not in versions:
        raise actor_rules.PreconditionFailed(
            f"The cooperation changed since you read it (now version {row.version}).", version=row.version
        )


async def correct_cooperation(
    *,
    session: AsyncSession,
    outbox: Outbox,
    topics: set[str],
    cooperation_id: str,
    data: CooperationCorrection,
    if_match: str | None,
    now: datetime | None = None,
) -> CooperationRead:
    """Correct type, dates, topic or description of a cooperation read at the version named by
    ``if_match``; announce CooperationCorrected with the whole corrected state."""
    changes = data.model_dump(exclude_unset=True)
    try:
        async with session.begin():
            row = await session.get(CooperationRow, cooperation_id)
            if row is None:
                raise NotFound("cooperation", cooperation_id)
            _check_version(row, if_match, required=True)
            since, until = changes.get("since", row.since), changes.get("until", row.until)
            problems = rules.correction_problems(
                since=since, until=until, topic=changes.get("topic"), topics=topics, changed=set(changes)
            )
            if problems:
                raise Invalid("Invalid correction", problems)
            await session.execute(select(ActorRow.id).where(ActorRow.id == row.actor_a).with_for_update())
            type_ = changes.get("type", row.type)
            if existing := await _same_cooperation(
                session, row.actor_a, row.actor_b, type_=type_, since=since, until=until, other_than=row.id
            ):
                raise _duplicate(existing)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = now or datetime.now(UTC)
            await session.flush()
            await outbox.add(
                session,
                CooperationCorrected(
                    cooperation_id=row.id,
                    cooperation_type=row.type,
                    since=row.since,
                    until=row.until,
                    topic=row.topic,
                    corrected_at=row.updated_at,
                ),
            )
            sectors = await _sectors(session, {row.actor_a, row.actor_b})
    except StaleDataError as error:
        raise actor_rules.PreconditionFailed("The cooperation was changed concurrently.") from error
    return _cooperation_read(row, sectors)


async def delete_cooperation(
    *, session: AsyncSession, outbox: Outbox, cooperation_id: str, if_match: str | None
) -> None:
    """Delete a cooperation recorded by mistake (at the version named by ``if_match``, when sent);
    announce CooperationDeleted."""
    try:
        async with session.begin():
            row = await session.get(CooperationRow, cooperation_id)
            if row is None:
                raise NotFound("cooperation", cooperation_id)
            _check_version(row, if_match, required=False)
            await session.delete(row)
            await session.flush()
            await outbox.add(
                session, CooperationDeleted(cooperation_id=cooperation_id, deleted_at=datetime.now(UTC))
            )
    except StaleDataError as error:
        raise actor_rules.PreconditionFailed("The cooperation was changed concurrently.") from error


async def record_agreement_cooperations(
    *,
    session: AsyncSession,
    outbox: Outbox,
    agreement_id: str,
    party_ids: list[str],
    since: date,
) -> int:
    """Turn an agreement's parties into cooperations (one per pair, once per agreement).

    Runs inside the consumer's transaction. Parties that are no actors here (removed, or of
    another region) are left out. Returns how many cooperations were new.
    """
    pairs = rules.agreement_pairs(party_ids)
    if not pairs:
        return 0
    sectors = await _sectors(session, set(party_ids))
    known = await session.execute(
        select(CooperationRow.actor_a, CooperationRow.actor_b).where(CooperationRow.origin_id == agreement_id)
    )
    done = {(r.actor_a, r.actor_b) for r in known}
    now = datetime.now(UTC)
    events = []
    for a, b in pairs:
        if (a, b) in done or a not in sectors or b not in sectors:
            continue
        row = CooperationRow(
            id=str(uuid.uuid4()),
            actor_a=a,
            actor_b=b,
            type="vereinbarung",
            topic=None,
            description=None,
            since=since,
            until=None,
            origin="agreement",
            origin_id=agreement_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(row)
        events.append(
            CooperationRecorded(
                cooperation_id=row.id,
                actor_a=a,
                actor_b=b,
                cooperation_type=row.type,
                since=since,
                cross_sector=sectors[a] != sectors[b],
                origin_agreement_id=agreement_id,
            )
        )
    if events:
        await outbox.add(session, *events)
    return len(events)


async def end_cooperation(
    *, session: AsyncSession, outbox: Outbox, cooperation_id: str, until: date
) -> CooperationRead:
    """Set the end date of a cooperation; announce CooperationEnded."""
    async with session.begin():
        row = await session.get(CooperationRow, cooperation_id)
        if row is None:
            raise NotFound("cooperation", cooperation_id)
        if until < row.since:
            raise Invalid("Invalid end", [rules.InvalidField("until", "until is before since")])
        row.until = until
        await outbox.add(session, CooperationEnded(cooperation_id=row.id, until=until))
        sectors = await _sectors(session, {row.actor_a, row.actor_b})
    return _cooperation_read(row, sectors)


async def get_cooperation(*, session: AsyncSession, cooperation_id: str) -> CooperationRead:
    """One cooperation."""
    row = await session.get(CooperationRow, cooperation_id)
    if row is None:
        raise NotFound("cooperation", cooperation_id)
    return _cooperation_read(row, await _sectors(session, {row.actor_a, row.actor_b}))


async def list_cooperations(
    *,
    session: AsyncSession,
    actor_id: str | None,
    type_: str | None,
    active_on: date | None,
    sort: CooperationSort = "-since",
    limit: int = 50,
    offset: int = 0,
) -> CooperationPage:
    """A page of cooperations, optionally of one actor, of one type, or active on a date, in the
    order asked for (ties by id), with their number."""
    where = []
    if actor_id:
        where.append(or_(CooperationRow.actor_a == actor_id, CooperationRow.actor_b == actor_id))
    if type_:
        where.append(CooperationRow.type == type_)
    if active_on:
        where.append(
            and_(
                CooperationRow.since <= active_on,
                or_(CooperationRow.until.is_(None), CooperationRow.until >= active_on),
            )
        )
    total = await session.scalar(select(func.count()).select_from(CooperationRow).where(*where)) or 0
    rows = list(
        await session.scalars(
            select(CooperationRow)
            .where(*where)
            .order_by(_COOPERATION_ORDER[sort], CooperationRow.id)
            .limit(limit)
            .offset(offset)
        )
    )
    sectors = await _sectors(session, {r.actor_a for r in rows} | {r.actor_b for r in rows})
    return CooperationPage(items=[_cooperation_read(r, sectors) for r in rows], total=total)


_COOPERATION_ORDER: dict[str, UnaryExpression[Any]] = {
    "since": CooperationRow.since.asc(),
    "-since": CooperationRow.since.desc(),
    "until": CooperationRow.until.asc().nulls_last(),
    "-until": CooperationRow.until.desc().nulls_first(),
    "created_at": CooperationRow.created_at.asc(),
    "-created_at": CooperationRow.created_at.desc(),
}
