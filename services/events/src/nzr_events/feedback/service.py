"""Use cases of feedback: what a participant gave, giving or changing it, and the organisers'
aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Conflict, NotFound
from nzr_events.feedback.models import FeedbackRow
from nzr_events.feedback.rules import check_feedback
from nzr_events.feedback.schemas import FeedbackSummary
from nzr_events.gatherings.models import EventRow
from nzr_events.registrations.models import RegistrationRow


@dataclass(frozen=True)
class FeedbackView:
    """What the feedback page shows: the event and the feedback given so far (if any)."""

    registration_id: str
    language: str
    event_title: str
    starts_at: datetime
    rating: int | None
    comment: str


async def _registration(session: AsyncSession, registration_id: str) -> tuple[RegistrationRow, EventRow]:
    row = await session.get(RegistrationRow, registration_id)
    event = await session.get(EventRow, row.event_id) if row is not None else None
    if row is None or event is None or row.anonymised_at is not None:
        raise NotFound("registration", registration_id)
    return row, event


async def feedback_view(*, session: AsyncSession, registration_id: str) -> FeedbackView:
    """The feedback page of a registration (reads only)."""
    row, event = await _registration(session, registration_id)
    given = await session.get(FeedbackRow, registration_id)
    return FeedbackView(
        registration_id=row.id,
        language=row.language,
        event_title=event.title,
        starts_at=event.starts_at,
        rating=given.rating if given else None,
        comment=(given.comment or "") if given else "",
    )


async def give_feedback(
    *, session: AsyncSession, registration_id: str, rating: str, comment: str
) -> FeedbackView:
    """Store (or change) the registration's feedback; only after the event has begun."""
    value, text = check_feedback(rating, comment)
    now = datetime.now(UTC)
    async with session.begin():
        row, event = await _registration(session, registration_id)
        if event.status == "cancelled" or (event.status != "completed" and now < event.starts_at):
            raise Conflict("Feedback opens when the event has taken place.", title="Feedback not open")
        given = await session.get(FeedbackRow, registration_id)
        if given is None:
            given = FeedbackRow(
                registration_id=row.id,
                event_id=event.id,
                rating=value,
                comment=text,
                created_at=now,
                updated_at=now,
            )
            session.add(given)
        else:
            given.rating, given.comment, given.updated_at = value, text, now
    return FeedbackView(
        registration_id=row.id,
        language=row.language,
        event_title=event.title,
        starts_at=event.starts_at,
        rating=value,
        comment=text or "",
    )


async def feedback_summary(*, session: AsyncSession, event_id: str) -> FeedbackSummary:
    """The event's feedback for its organisers: counts per rating, mean and the texts."""
    if await session.get(EventRow, event_id) is None:
        raise NotFound("event", event_id)
    rows = (
        await session.execute(
            select(FeedbackRow.rating, FeedbackRow.comment)
            .where(FeedbackRow.event_id == event_id)
            .order_by(FeedbackRow.updated_at.desc())
        )
    ).all()
    ratings = {value: 0 for value in range(1, 6)}
    for rating, _ in rows:
        ratings[rating] = ratings.get(rating, 0) + 1
    return FeedbackSummary(
        event_id=event_id,
        responses=len(rows),
        average_rating=round(sum(r for r, _ in rows) / len(rows), 2) if rows else None,
        ratings=ratings,
        comments=[c for _, c in rows if c],
    )
