"""Use case: an agreement of a gathering was dropped (``verworfen``) or done (``umgesetzt``),
so the cooperations it created end on that date (as an editor would end them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors.cooperations.models import CooperationRow
from nzr_common.contracts.actors import CooperationEnded
from nzr_common.outbox import Outbox

#: Agreement statuses after which the cooperation it created is over.
ENDING_STATUSES = frozenset({"verworfen", "umgesetzt"})


async def end_agreement_cooperations(
    *, session: AsyncSession, outbox: Outbox, agreement_id: str, status: str, on: date
) -> int:
    """End the still-running cooperations an agreement created; returns how many ended.

    Runs inside the consumer's transaction; a redelivery ends nothing twice. An end before a
    cooperation's start is moved to its start (``until`` is never before ``since``)."""
    if status not in ENDING_STATUSES:
        return 0
    rows = list(
        await session.scalars(
            select(CooperationRow)
            .where(
                CooperationRow.origin == "agreement",
                CooperationRow.origin_id == agreement_id,
                CooperationRow.until.is_(None),
            )
            .with_for_update()
        )
    )
    for row in rows:
        row.until = max(on, row.since)
    if rows:
        await outbox.add(session, *(CooperationEnded(cooperation_id=r.id, until=r.until) for r in rows))
    return len(rows)
