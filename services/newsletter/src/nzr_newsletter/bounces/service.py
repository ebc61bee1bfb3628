"""Bounces: record reports (webhook, DSN, SMTP) and act on the address by the bounce rules."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces import rules
from nzr_newsletter.bounces.models import BounceRow
from nzr_newsletter.bounces.schemas import BounceResult
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions import rules as addresses
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.subscriptions.service import unsubscribe_rows


def parse_message_id(message_id: str | None) -> tuple[str, str] | None:
    """(campaign id, subscriber id) from a campaign mail's Message-ID."""
    if not message_id:
        return None
    local = message_id.strip().strip("<>").partition("@")[0]
    campaign_id, _, subscriber_id = local.partition(".")
    if len(campaign_id) == 36 and len(subscriber_id) == 36:
        return campaign_id, subscriber_id
    return None


async def record_bounce(
    *,
    session: AsyncSession,
    deps: Deps,
    email: str | None,
    subscriber_id: str | None = None,
    campaign_id: str | None = None,
    kind: str,
    source: str,
    status: str | None,
    reason: str,
) -> bool:
    """Record a bounce (or a complaint) and apply the configured action; True when the
    subscriber got blocked."""
    subscriber = None
    if subscriber_id:
        subscriber = await session.get(SubscriberRow, subscriber_id)
    if subscriber is None and email:
        try:
            address = addresses.normalise_email(email)
        except addresses.InvalidAddress:
            address = email.strip().lower()
        subscriber = await session.scalar(select(SubscriberRow).where(SubscriberRow.email == address))
    session.add(
        BounceRow(
            subscriber_id=subscriber.id if subscriber else None,
            campaign_id=campaign_id,
            kind=kind,
            source=source,
            status_code=status,
            reason=reason[:500],
            received_at=datetime.now(UTC),
        )
    )
    if subscriber is None:
        return False
    if kind == "complaint":
        # Marked as spam: no more newsletters to this address (counted for the campaign).
        rows = list(
            await session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
            )
        )
        await unsubscribe_rows(session, deps, subscriber.id, rows, campaign_id)
        return False
    if campaign_id and kind == "hard":
        await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.campaign_id == campaign_id,
                DeliveryRow.subscriber_id == subscriber.id,
                DeliveryRow.status == "sent",
            )
            .values(status="bounced", last_error=reason[:500])
        )
    if kind == "soft":
        subscriber.soft_bounces += 1
    settings = deps.settings
    decision = rules.decide_bounce(
        kind=kind,
        soft_bounces=subscriber.soft_bounces,
        threshold=settings.soft_bounce_threshold,
        hard_action=settings.hard_bounce_action,
        soft_action=settings.soft_bounce_action,
    )
    if decision.block and not subscriber.blocked:
        subscriber.blocked, subscriber.blocked_reason = True, decision.reason
        return True
    if decision.unsubscribe:
        rows = list(
            await session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
            )
        )
        await unsubscribe_rows(session, deps, subscriber.id, rows, campaign_id)
    return False


async def record_bounce_reports(
    *,
    session: AsyncSession,
    deps: Deps,
    reports: list[tuple[str, str, str | None, str, str | None]],
    source: str,
) -> BounceResult:
    """Record (email, kind, status, reason, message id) reports in one transaction."""
    blocked = 0
    async with session.begin():
        for email, kind, status, reason, message_id in reports:
            ids = parse_message_id(message_id)
            blocked += await record_bounce(
                session=session,
                deps=deps,
                email=email,
                subscriber_id=ids[1] if ids else None,
                campaign_id=ids[0] if ids else None,
                kind=kind,
                source=source,
                status=status,
                reason=reason,
            )
    return BounceResult(recorded=len(reports), blocked=blocked)
