"""Subscribers: self-service by token (preferences, export, deletion) and the admin list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import SQLColumnExpression, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.newsletter import (
    SubscriptionConfirmed,
)
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces.models import BounceRow
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.digests.models import DigestItemRow
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.lists.service import lists_by_id, public_lists
from nzr_newsletter.sorting import order_by
from nzr_newsletter.subscribers import rules
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscribers.schemas import (
    ListChoice,
    Preferences,
    PreferencesForm,
    PreferencesUpdate,
    SubscriberExport,
    SubscriberPage,
    SubscriberRead,
    SubscriptionRead,
    TopicChoice,
)
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.subscriptions.service import announce_reach, check_district, unsubscribe_rows
from nzr_newsletter.tokens import InvalidLink, Purpose, TokenRefused
from nzr_newsletter.transactional.models import MailRow


async def subscriber_from_token(session: AsyncSession, deps: Deps, token: str) -> SubscriberRow:
    try:
        payload = deps.tokens.read(Purpose.PREFERENCES, token)
    except TokenRefused as error:
        raise InvalidLink.refused(error) from error
    subscriber = await session.get(SubscriberRow, str(payload.get("s")))
    if subscriber is None:
        raise InvalidLink("The link is no longer valid.")
    return subscriber


async def subscriptions_of(session: AsyncSession, subscriber_id: str) -> list[SubscriptionRead]:
    rows = (
        await session.execute(
            select(SubscriptionRow, ListRow.name)
            .join(ListRow, ListRow.id == SubscriptionRow.list_id)
            .where(SubscriptionRow.subscriber_id == subscriber_id)
            .order_by(ListRow.name)
        )
    ).all()
    return [
        SubscriptionRead(
            list_id=s.list_id,
            list_name=name,
            status=s.status,
            source=s.source,
            consent_text_version=s.consent_text_version,
            requested_at=s.requested_at,
            confirmed_at=s.confirmed_at,
            unsubscribed_at=s.unsubscribed_at,
        )
        for s, name in rows
    ]


async def get_preferences(*, session: AsyncSession, deps: Deps, token: str) -> Preferences:
    """What the holder of a preferences link is subscribed to and can subscribe to."""
    subscriber = await subscriber_from_token(session, deps, token)
    return Preferences(
        email=subscriber.email,
        name=subscriber.name,
        district=subscriber.district,
        topics=subscriber.topics,
        language="en" if subscriber.language == "en" else "de",
        subscriptions=await subscriptions_of(session, subscriber.id),
        available_lists=await public_lists(session),
    )


async def update_preferences(
    *, session: AsyncSession, deps: Deps, token: str, data: PreferencesUpdate
) -> Preferences:
    """Change name, district, topics and lists; the link proves the address, so joining a
    public list from here needs no second confirmation."""
    check_district(deps, data.district)
    async with session.begin():
        subscriber = await subscriber_from_token(session, deps, token)
        for key in ("name", "district", "topics", "language"):
            value = getattr(data, key)
            if value is not None:
                setattr(subscriber, key, value)
        if data.list_ids is not None:
            current = {
                s.list_id: s
                for s in await session.scalars(
                    select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
                )
            }
            # One may stay on any list one is on (internal ones too) and join public ones.
            held = {lid for lid, s in current.items() if s.status in ("confirmed", "pending")}
            await lists_by_id(session, [i for i in data.list_ids if i not in held], public_only=True)
            wanted = list(dict.fromkeys(data.list_ids))
            leaving = [s for lid, s in current.items() if lid not in wanted]
            await unsubscribe_rows(session, deps, subscriber.id, leaving, None)
            now = datetime.now(UTC)
            joined = []
            for list_id in wanted:
                row = current.get(list_id)
                if row is None:
                    row = SubscriptionRow(
                        subscriber_id=subscriber.id,
                        list_id=list_id,
                        status="pending",
                        source="preferences",
                        consent_text_version="preferences",
                        requested_at=now,
                    )
                    session.add(row)
                if row.status != "confirmed":
                    row.status, row.confirmed_at, row.source = "confirmed", now, "preferences"
                    row.unsubscribed_at = None
                    joined.append(list_id)
            if joined:
                await session.flush()
                counts = await announce_reach(session, deps, joined)
                await deps.outbox.add(
                    session,
                    *(
                        SubscriptionConfirmed(
                            subscriber_id=subscriber.id,
                            list_id=lid,
                            source="preferences",
                            district=subscriber.district,
                            topics=subscriber.topics,
                            confirmed_subscribers=counts[lid],
                            confirmed_at=now,
                        )
                        for lid in joined
                    ),
                )
    async with session.begin():
        return await get_preferences(session=session, deps=deps, token=token)


async def preferences_form(*, session: AsyncSession, deps: Deps, token: str) -> PreferencesForm:
    """The preferences page's choices: public lists and the lists one is on, and topics (one's
    own, the lists' and those of upcoming digest items)."""
    async with session.begin():
        subscriber = await subscriber_from_token(session, deps, token)
        held = {
            s.list_id
            for s in await session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.subscriber_id == subscriber.id,
                    SubscriptionRow.status.in_(("confirmed", "pending")),
                )
            )
        }
        lists = list(
            await session.scalars(
                select(ListRow)
                .where(or_(ListRow.visibility == "public", ListRow.id.in_(held)))
                .order_by(ListRow.name, ListRow.id)
            )
        )
        item_topics = await session.scalars(select(DigestItemRow.topics))
        known = {t for row in item_topics for t in row or []} | {r.topic for r in lists if r.topic}
        chosen = set(subscriber.topics or [])
        return PreferencesForm(
            email=subscriber.email,
            language="en" if subscriber.language == "en" else "de",
            lists=[
                ListChoice(id=r.id, name=r.name, description=r.description, subscribed=r.id in held)
                for r in lists
            ],
            topics=[
                TopicChoice(value=t, label=rules.topic_label(t), chosen=t in chosen)
                for t in sorted(known | chosen)
            ],
        )


async def export_subscriber(*, session: AsyncSession, deps: Deps, token: str) -> SubscriberExport:
    """Everything stored about the holder of a preferences link (GDPR Art. 15)."""
    subscriber = await subscriber_from_token(session, deps, token)
    return await subscriber_export(session, subscriber)


async def subscriber_export(session: AsyncSession, subscriber: SubscriberRow) -> SubscriberExport:
    deliveries = [
        {"campaign_id": d.campaign_id, "status": d.status, "sent_at": d.sent_at}
        for d in await session.scalars(select(DeliveryRow).where(DeliveryRow.subscriber_id == subscriber.id))
    ]
    bounces = [
        {"kind": b.kind, "source": b.source, "reason": b.reason, "received_at": b.received_at}
        for b in await session.scalars(select(BounceRow).where(BounceRow.subscriber_id == subscriber.id))
    ]
    return SubscriberExport(
        subscriber_id=subscriber.id,
        email=subscriber.email,
        name=subscriber.name,
        district=subscriber.district,
        topics=subscriber.topics,
        language=subscriber.language,
        blocked=subscriber.blocked,
        created_at=subscriber.created_at,
        subscriptions=await subscriptions_of(session, subscriber.id),
        deliveries=deliveries,
        bounces=bounces,
    )


async def erase_subscriber(*, session: AsyncSession, deps: Deps, subscriber: SubscriberRow) -> None:
    """Delete a subscriber everywhere: subscriptions, queued mails, bounces, addresses in
    delivery records (their counts stay for campaign statistics)."""
    rows = list(
        await session.scalars(select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id))
    )
    await unsubscribe_rows(session, deps, subscriber.id, rows, None)
    await session.execute(
        delete(DeliveryRow).where(DeliveryRow.subscriber_id == subscriber.id, DeliveryRow.status == "queued")
    )
    await session.execute(
        update(DeliveryRow).where(DeliveryRow.subscriber_id == subscriber.id).values(email="", name="")
    )
    await session.execute(delete(MailRow).where(MailRow.recipient == subscriber.email))
    await session.execute(delete(BounceRow).where(BounceRow.subscriber_id == subscriber.id))
    await session.execute(delete(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id))
    await session.delete(subscriber)


async def delete_own_data(*, session: AsyncSession, deps: Deps, token: str) -> None:
    """Self-service deletion (GDPR Art. 17) through a preferences link."""
    async with session.begin():
        subscriber = await subscriber_from_token(session, deps, token)
        await erase_subscriber(session=session, deps=deps, subscriber=subscriber)


#: What the subscriber list sorts by (``SubscriberSort``).
SUBSCRIBER_SORT_KEYS: dict[str, SQLColumnExpression[Any]] = {
    "email": SubscriberRow.email,
    "name": func.lower(SubscriberRow.name),
    "created_at": SubscriberRow.created_at,
}


async def list_subscribers(
    *,
    session: AsyncSession,
    list_id: str | None,
    status: str | None,
    sort: str = "email",
    limit: int,
    offset: int,
) -> SubscriberPage:
    """Subscribers (admin) in ``sort`` order, optionally of one list and subscription status."""
    query = select(SubscriberRow)
    if list_id or status:
        inner = select(SubscriptionRow.subscriber_id)
        if list_id:
            inner = inner.where(SubscriptionRow.list_id == list_id)
        if status:
            inner = inner.where(SubscriptionRow.status == status)
        query = query.where(SubscriberRow.id.in_(inner))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        await session.scalars(
            query.order_by(*order_by(sort, SUBSCRIBER_SORT_KEYS, SubscriberRow.id))
            .limit(limit)
            .offset(offset)
        )
    )
    items = [
        SubscriberRead(
            id=r.id,
            email=r.email,
            name=r.name,
            district=r.district,
            topics=r.topics,
            blocked=r.blocked,
            blocked_reason=r.blocked_reason,
            soft_bounces=r.soft_bounces,
            subscriptions=await subscriptions_of(session, r.id),
        )
        for r in rows
    ]
    return SubscriberPage(items=items, total=total)
