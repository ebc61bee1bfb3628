"""What the newsletter holds about a person across sub-domains: export and erasure (GDPR Art. 15/17)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscribers.schemas import PersonExport, PersonMailRecord
from nzr_newsletter.subscribers.service import erase_subscriber, subscriber_export
from nzr_newsletter.tables import ErasedPersonRow
from nzr_newsletter.transactional.models import MailRow


async def export_person(*, session: AsyncSession, email: str) -> PersonExport:
    """Everything stored about the person with this address, for an admin (GDPR Art. 15): the
    subscriber with consents, deliveries and bounces, and the transactional mails to them."""
    person_id = person_id_for(email)
    ids, recipients = await held_about(session, person_id)
    subscriber = await session.get(SubscriberRow, ids[0]) if ids else None
    mails = [
        PersonMailRecord(
            purpose=m.purpose,
            status=m.status,
            created_at=m.created_at,
            sent_at=m.sent_at,
            recipient=m.recipient,
        )
        for m in await session.scalars(
            select(MailRow).where(MailRow.recipient.in_(recipients)).order_by(MailRow.id)
        )
    ]
    return PersonExport(
        person_id=person_id,
        email=email,
        exported_at=datetime.now(UTC),
        subscriber=await subscriber_export(session, subscriber) if subscriber else None,
        mails=mails,
    )


async def erase_person(*, session: AsyncSession, deps: Deps, person_id: str, erased_at: datetime) -> bool:
    """Erase whoever has an address with this pseudonymous id (PersonErased), and every queued
    or sent mail to it, and remember the erasure; False when no subscriber has it."""
    known = await session.get(ErasedPersonRow, person_id, with_for_update=True)
    if known is None:
        session.add(ErasedPersonRow(person_id=person_id, erased_at=erased_at))
    elif erased_at > known.erased_at:
        known.erased_at = erased_at
    ids, mailed = await held_about(session, person_id)
    for subscriber in await session.scalars(select(SubscriberRow).where(SubscriberRow.id.in_(ids))):
        await erase_subscriber(session=session, deps=deps, subscriber=subscriber)
    if mailed:
        await session.execute(delete(MailRow).where(MailRow.recipient.in_(mailed)))
    return bool(ids)


async def held_about(session: AsyncSession, person_id: str) -> tuple[list[str], list[str]]:
    """The ids of the subscribers and the mail recipients (as written) whose address is the
    person's; found by the pseudonymous id, as an erasure names nobody by address."""
    subscribers = await session.execute(select(SubscriberRow.id, SubscriberRow.email))
    ids = [row.id for row in subscribers if person_id_for(row.email) == person_id]
    recipients = await session.scalars(select(MailRow.recipient).distinct())
    return ids, [r for r in recipients if person_id_for(r) == person_id]


async def erased_since(session: AsyncSession, person_id: str, moment: datetime) -> bool:
    """Whether the person was erased at or after ``moment`` (an event from then names someone
    who asked to be forgotten since)."""
    erased_at = await session.scalar(
        select(ErasedPersonRow.erased_at).where(ErasedPersonRow.person_id == person_id)
    )
    return erased_at is not None and erased_at >= moment
