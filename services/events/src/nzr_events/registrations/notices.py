"""What the mails of a registration need: the registration as a mail shows it
(``RegistrationForMail``) and the ``ParticipantNotice`` events that tell its owner of a change.

The callers hold the event's row lock and add the notices to the outbox in their own
transaction, so a change and the mail about it are never separated.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.events import (
    NoticeKind,
    OutcomeForMail,
    ParticipantNotice,
    RegistrationForMail,
    SessionForMail,
)
from nzr_events.gatherings.models import EventRow
from nzr_events.outcomes.models import AgreementRow, RecommendationRow
from nzr_events.programme.models import SessionRow
from nzr_events.registrations.links import RegistrationLinks
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.rules import mail_language

#: What changed, as ``ParticipantNotice.changes`` names it.
Change = Literal["time", "place", "session", "capacity"]
MailStatus = Literal["confirmed", "waiting", "cancelled"]


def for_mail(
    event: EventRow,
    row: RegistrationRow,
    waiting_position: int | None,
    links: RegistrationLinks,
    sessions: dict[str, SessionRow] | None = None,
) -> RegistrationForMail:
    """The registration as its mails show it, with the chosen sessions in time order."""
    chosen = sorted(
        (sessions[sid] for sid in row.session_ids if sessions and sid in sessions),
        key=lambda s: (s.starts_at, s.title),
    )
    status: MailStatus = (
        "cancelled" if row.status == "cancelled" else "waiting" if row.status == "waiting" else "confirmed"
    )
    return RegistrationForMail(
        registration_id=row.id,
        event_id=event.id,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue_name=event.venue_name,
        venue_address=event.venue_address,
        online_url=event.online_url,
        status=status,
        waiting_position=waiting_position if row.status == "waiting" else None,
        manage_url=links.url(row.id, event.ends_at),
        calendar_uid=links.calendar_uid(event.id),
        sequence=event.sequence,
        sessions=[
            SessionForMail(
                session_id=s.id, title=s.title, starts_at=s.starts_at, ends_at=s.ends_at, room=s.room
            )
            for s in chosen
        ],
        region_name=links.region_name,
    )


async def waiting_position(session: AsyncSession, row: RegistrationRow) -> int | None:
    """The place of a waiting registration in the line (1 = next), None for any other."""
    if row.status != "waiting":
        return None
    return await session.scalar(
        select(func.count())
        .select_from(RegistrationRow)
        .where(
            RegistrationRow.event_id == row.event_id,
            RegistrationRow.status == "waiting",
            RegistrationRow.position <= row.position,
        )
    )


async def waiting_positions(session: AsyncSession, event_id: str) -> dict[str, int]:
    """Registration id → place in the waiting line, for every waiting registration of the event."""
    ids = await session.scalars(
        select(RegistrationRow.id)
        .where(RegistrationRow.event_id == event_id, RegistrationRow.status == "waiting")
        .order_by(RegistrationRow.position)
    )
    return {rid: place for place, rid in enumerate(ids, start=1)}


async def active_registrations(session: AsyncSession, event_id: str) -> list[RegistrationRow]:
    """The event's confirmed and waiting registrations (read fresh: the caller holds the lock)."""
    rows = await session.scalars(
        select(RegistrationRow)
        .where(
            RegistrationRow.event_id == event_id,
            RegistrationRow.status.in_(("confirmed", "waiting")),
            RegistrationRow.anonymised_at.is_(None),
        )
        .order_by(RegistrationRow.position)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def notice(
    *,
    kind: NoticeKind,
    event: EventRow,
    row: RegistrationRow,
    links: RegistrationLinks,
    sessions: dict[str, SessionRow],
    now: datetime,
    waiting_position: int | None = None,
    changes: Iterable[Change] = (),
    agreements: Sequence[OutcomeForMail] = (),
    recommendations: Sequence[OutcomeForMail] = (),
    feedback: bool = False,
) -> ParticipantNotice:
    """One notice to the owner of ``row``, in the language they registered in."""
    return ParticipantNotice(
        notice_id=str(uuid.uuid4()),
        kind=kind,
        email=row.email,
        name=row.name,
        language=mail_language(row.language),
        registration=for_mail(event, row, waiting_position, links, sessions),
        changes=list(dict.fromkeys(changes)),
        agreements=list(agreements),
        recommendations=list(recommendations),
        feedback_url=links.feedback_url(row.id, event.ends_at) if feedback else None,
        issued_at=now,
    )


async def notices_to_everyone(
    session: AsyncSession,
    *,
    kind: NoticeKind,
    event: EventRow,
    links: RegistrationLinks,
    sessions: dict[str, SessionRow],
    now: datetime,
    changes: Iterable[Change] = (),
    only_session_id: str | None = None,
) -> list[ParticipantNotice]:
    """A notice to every confirmed or waiting registration of the event (of one session only
    with ``only_session_id``)."""
    places = await waiting_positions(session, event.id)
    changed = list(changes)
    return [
        notice(
            kind=kind,
            event=event,
            row=row,
            links=links,
            sessions=sessions,
            now=now,
            waiting_position=places.get(row.id),
            changes=changed,
        )
        for row in await active_registrations(session, event.id)
        if only_session_id is None or only_session_id in row.session_ids
    ]


async def thank_you_notices(
    session: AsyncSession, *, event: EventRow, links: RegistrationLinks, now: datetime
) -> list[ParticipantNotice]:
    """A thank-you to each participant of a completed event (those checked in, or every confirmed
    registration when nobody was), with its agreements and recommendations and a feedback link."""
    agreements = [
        OutcomeForMail(text=a.text, due_date=a.due_date)
        for a in await session.scalars(
            select(AgreementRow)
            .where(AgreementRow.event_id == event.id, AgreementRow.status != "verworfen")
            .order_by(AgreementRow.created_at, AgreementRow.id)
        )
    ]
    recommendations = [
        OutcomeForMail(text=r.text, responsible=r.addressee)
        for r in await session.scalars(
            select(RecommendationRow)
            .where(RecommendationRow.event_id == event.id)
            .order_by(RecommendationRow.created_at, RecommendationRow.id)
        )
    ]
    query = select(RegistrationRow).where(
        RegistrationRow.event_id == event.id,
        RegistrationRow.status == "confirmed",
        RegistrationRow.anonymised_at.is_(None),
    )
    if event.attended_count:
        query = query.where(RegistrationRow.checked_in_at.is_not(None))
    sessions = {
        s.id: s for s in await session.scalars(select(SessionRow).where(SessionRow.event_id == event.id))
    }
    return [
        notice(
            kind="thank_you",
            event=event,
            row=row,
            links=links,
            sessions=sessions,
            now=now,
            agreements=agreements,
            recommendations=recommendations,
            feedback=True,
        )
        for row in await session.scalars(query.order_by(RegistrationRow.position))
    ]
