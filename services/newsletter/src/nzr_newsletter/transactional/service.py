"""Transactional mails: queue a mail to one address (never to a suppressed one) and the links mail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.errors import Invalid
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces.models import BounceRow
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions import rules as addresses
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.tables import ErasedPersonRow
from nzr_newsletter.tokens import Purpose
from nzr_newsletter.transactional import mails
from nzr_newsletter.transactional.models import MailRow

log = logging.getLogger(__name__)


async def queue_mail(session: AsyncSession, deps: Deps, *, to: str, purpose: str, message: bytes) -> None:
    now = datetime.now(UTC)
    session.add(
        MailRow(
            recipient=to,
            purpose=purpose,
            message=message,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    deps.mail_pending.set()


async def request_links(*, session: AsyncSession, deps: Deps, email: str, language: str) -> None:
    """ "Send me my links again": the owner of a known address gets its preferences link (and
    the confirmation link while a subscription waits for it); nothing happens for an unknown
    one, and the caller is told the same either way."""
    try:
        address = addresses.normalise_email(email)
    except addresses.InvalidAddress as error:
        raise Invalid("Invalid address", [("email", str(error))]) from error
    async with session.begin():
        await send_own_links(session, deps, address=address, language=language, again=False)


async def send_own_links(
    session: AsyncSession, deps: Deps, *, address: str, language: str, again: bool
) -> None:
    subscriber = await session.scalar(select(SubscriberRow).where(SubscriberRow.email == address))
    if subscriber is None:
        return
    purposes = ("already_subscribed", "subscription_links")
    seconds = deps.settings.confirm_resend_seconds
    if await recently_mailed(session, address, purposes, seconds=seconds, now=datetime.now(UTC)):
        return
    pending = list(
        await session.scalars(
            select(SubscriptionRow.list_id).where(
                SubscriptionRow.subscriber_id == subscriber.id, SubscriptionRow.status == "pending"
            )
        )
    )
    confirm_url = (
        deps.links.confirm(deps.tokens.issue(Purpose.CONFIRM, {"s": subscriber.id, "l": pending}))
        if pending
        else None
    )
    message = mails.subscription_links_mail(
        deps,
        to=address,
        name=subscriber.name,
        language=language,
        preferences_url=deps.preferences_url(subscriber.id),
        confirm_url=confirm_url,
        already_subscribed=again,
    )
    await mail_owner(
        session, deps, to=address, purpose=purposes[0] if again else purposes[1], message=message
    )


async def mail_owner(
    session: AsyncSession,
    deps: Deps,
    *,
    to: str,
    purpose: str,
    message: bytes,
    since: datetime | None = None,
) -> bool:
    """Queue a transactional mail unless the address hard-bounced, is blocked, or its owner was
    erased at or after ``since``; False when it was held back."""
    reason = await suppressed(session, to, since=since)
    if reason is not None:
        log.info("transactional %s mail held back: %s", purpose, reason)
        return False
    await queue_mail(session, deps, to=to, purpose=purpose, message=message)
    return True


async def suppressed(session: AsyncSession, address: str, *, since: datetime | None = None) -> str | None:
    """Why no transactional mail may go to the address (None: it may): it hard-bounced, is
    blocked, or its owner was erased at or after ``since`` (an event from before the erasure)."""
    subscriber = await session.scalar(select(SubscriberRow).where(SubscriberRow.email == address))
    if subscriber is not None and subscriber.blocked:
        return "blocked"
    hard = [MailRow.recipient == address, MailRow.status == "bounced"]
    bounced = await session.scalar(select(func.count()).select_from(MailRow).where(*hard))
    if not bounced and subscriber is not None:
        bounced = await session.scalar(
            select(func.count())
            .select_from(BounceRow)
            .where(BounceRow.subscriber_id == subscriber.id, BounceRow.kind == "hard")
        )
    if bounced:
        return "hard bounce"
    if since is not None:
        erased_at = await session.scalar(
            select(ErasedPersonRow.erased_at).where(ErasedPersonRow.person_id == person_id_for(address))
        )
        if erased_at is not None and erased_at >= since:
            return "erased"
    return None


async def recently_mailed(
    session: AsyncSession, address: str, purposes: tuple[str, ...], *, seconds: float, now: datetime
) -> bool:
    """Whether a mail of these purposes went (or waits to go) to the address within ``seconds``:
    repeated requests do not flood a stranger's mailbox."""
    found = await session.scalar(
        select(func.count())
        .select_from(MailRow)
        .where(
            MailRow.recipient == address,
            or_(*(MailRow.purpose == p for p in purposes)),
            MailRow.created_at > now - timedelta(seconds=seconds),
        )
    )
    return bool(found)
