"""Subscriptions: double opt-in, import, confirmation and unsubscribing, each with its events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.newsletter import (
    ListReachChanged,
    SubscriptionConfirmed,
    SubscriptionRequested,
    Unsubscribed,
)
from nzr_common.errors import DomainError, Invalid
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.lists.service import lists_by_id
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions import rules
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.subscriptions.schemas import (
    ImportReport,
    ImportRequest,
    ImportRowError,
    SubscribeRequest,
    TokenStatus,
)
from nzr_newsletter.tokens import InvalidLink, Purpose, TokenRefused
from nzr_newsletter.transactional.service import queue_mail, send_own_links


def check_district(deps: Deps, district: str | None, field: str = "district") -> None:
    if district is not None and deps.region is not None and district not in deps.region.districts:
        raise Invalid("Invalid district", [(field, f"{district} is not a district of this region")])


def confirmation_mail(
    deps: Deps, *, to: str, name: str, list_names: list[str], token: str, language: str = "de"
) -> bytes:
    link = deps.links.confirm(token)
    lists = ", ".join(list_names)
    days = deps.settings.confirm_token_days
    message = EmailMessage()
    message["From"] = deps.settings.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=templates.sender_domain(deps.settings.sender))
    message["Auto-Submitted"] = "auto-generated"
    if language == "en":
        message["Subject"] = "Please confirm your newsletter subscription"
        message.set_content(
            f"{'Hello ' + name + ',' if name else 'Hello,'}\n\nYou (or someone with your address) "
            f"would like to receive the newsletter „{lists}“. Please open this link and confirm "
            "with the button on the page:\n\n"
            f"{link}\n\nThe link is valid for {days} days. Without confirmation you get no further "
            "mail from us.\n"
        )
        message["Content-Language"] = "en"
        return bytes(message)
    message["Subject"] = "Bitte bestätigen Sie Ihre Anmeldung zum Newsletter"
    message.set_content(
        f"{'Hallo ' + name + ',' if name else 'Hallo,'}\n\nSie (oder jemand mit Ihrer Adresse) "
        f"möchten den Newsletter „{lists}“ erhalten. Bitte öffnen Sie diesen Link und bestätigen "
        "Sie auf der Seite mit der Schaltfläche:\n\n"
        f"{link}\n\nDer Link gilt {days} Tage. Ohne Bestätigung bekommen Sie keine weiteren Mails "
        "von uns.\n"
    )
    return bytes(message)


async def _subscriber_of(
    session: AsyncSession,
    *,
    address: str,
    name: str,
    district: str | None,
    topics: list[str],
    now: datetime,
    language: str = "de",
) -> SubscriberRow:
    """The subscriber with this address, created when there is none (locked for the caller)."""
    # Locked: two sign-ups of one address at the same moment are handled one after the other.
    by_address = select(SubscriberRow).where(SubscriberRow.email == address).with_for_update()
    subscriber = await session.scalar(by_address)
    if subscriber is not None:
        add_segments(subscriber, district=district, topics=topics)
        return subscriber
    candidate = SubscriberRow(
        id=str(uuid.uuid4()),
        email=address,
        name=name.strip(),
        district=district,
        topics=topics,
        blocked=False,
        soft_bounces=0,
        language="en" if language == "en" else "de",
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(candidate)
    except IntegrityError:
        # The same address arrived at the same moment (a second form submission, or the
        # events consumer subscribing a registrant): use the row the other one wrote.
        subscriber = await session.scalar(by_address)
        if subscriber is None:
            raise
        add_segments(subscriber, district=district, topics=topics)
        return subscriber
    return candidate


def add_segments(subscriber: SubscriberRow, *, district: str | None, topics: list[str]) -> None:
    """Segment data of a further sign-up: a district where none is known, topics added (what
    the person chose before stays)."""
    if subscriber.district is None and district is not None:
        subscriber.district = district
    merged = rules.merged_topics(subscriber.topics or [], topics)
    if merged != (subscriber.topics or []):
        subscriber.topics = merged


def _request_lists(
    session: AsyncSession,
    *,
    subscriber: SubscriberRow,
    existing: dict[str, SubscriptionRow],
    list_ids: Iterable[str],
    source: str,
    consent_text_version: str,
    now: datetime,
) -> list[str]:
    """Mark the lists pending that are new or were left; ``existing`` gains the new rows."""
    requested = []
    for list_id in list_ids:
        current = existing.get(list_id)
        if current is None:
            current = SubscriptionRow(
                subscriber_id=subscriber.id,
                list_id=list_id,
                status="pending",
                source=source,
                consent_text_version=consent_text_version,
                requested_at=now,
            )
            session.add(current)
            existing[list_id] = current
            requested.append(list_id)
        elif current.status == "unsubscribed":
            current.status, current.source = "pending", source
            current.consent_text_version, current.requested_at = consent_text_version, now
            current.confirmed_at = current.unsubscribed_at = current.confirmation_sent_at = None
            requested.append(list_id)
    return requested


async def subscribe(
    *,
    session: AsyncSession,
    deps: Deps,
    email: str,
    name: str,
    list_ids: list[str],
    district: str | None,
    topics: list[str],
    consent_text_version: str,
    source: str,
    public_only: bool,
    language: str = "de",
) -> str:
    """Start (or continue) the double opt-in; the caller's transaction holds the effects.

    Returns what happened ("invited", "resend_suppressed", "already_confirmed") for admin
    reports; anonymous callers are always told the same.
    """
    try:
        address = rules.normalise_email(email)
    except rules.InvalidAddress as error:
        raise Invalid("Invalid address", [("email", str(error))]) from error
    check_district(deps, district)
    lists = await lists_by_id(session, list_ids, public_only=public_only)
    now = datetime.now(UTC)
    subscriber = await _subscriber_of(
        session, address=address, name=name, district=district, topics=topics, now=now, language=language
    )
    existing = {
        s.list_id: s
        for s in await session.scalars(
            select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
        )
    }
    requested = _request_lists(
        session,
        subscriber=subscriber,
        existing=existing,
        list_ids=lists,
        source=source,
        consent_text_version=consent_text_version,
        now=now,
    )
    pending = [s for s in existing.values() if s.status == "pending" and s.list_id in lists]
    if not pending:
        return "already_confirmed"
    if subscriber.blocked:
        return "resend_suppressed"
    last_sent = max((s.confirmation_sent_at for s in pending if s.confirmation_sent_at), default=None)
    if last_sent is not None and now - last_sent < timedelta(seconds=deps.settings.confirm_resend_seconds):
        return "resend_suppressed"
    all_pending = [s for s in existing.values() if s.status == "pending"]
    names = {
        r.id: r.name
        for r in await session.scalars(
            select(ListRow).where(ListRow.id.in_([s.list_id for s in all_pending]))
        )
    }
    token = deps.tokens.issue(Purpose.CONFIRM, {"s": subscriber.id, "l": [s.list_id for s in all_pending]})
    await queue_mail(
        session,
        deps,
        to=address,
        purpose="confirm",
        message=confirmation_mail(
            deps,
            to=address,
            name=subscriber.name,
            list_names=[names[s.list_id] for s in all_pending],
            token=token,
            language=language,
        ),
    )
    for subscription in all_pending:
        subscription.confirmation_sent_at = now
    await deps.outbox.add(
        session,
        *(
            SubscriptionRequested(
                subscriber_id=subscriber.id, list_id=list_id, email=address, source=source, requested_at=now
            )
            for list_id in requested
        ),
    )
    return "invited"


async def request_subscription(
    *, session: AsyncSession, deps: Deps, data: SubscribeRequest, language: str = "de"
) -> None:
    """Anonymous sign-up from a form: same answer whatever the address's state. An address that
    is subscribed already gets a mail with its link to change or unsubscribe instead."""
    async with session.begin():
        outcome = await subscribe(
            session=session,
            deps=deps,
            email=data.email,
            name=data.name,
            list_ids=data.list_ids,
            district=data.district,
            topics=data.topics,
            consent_text_version=data.consent_text_version,
            source="form",
            public_only=True,
            language=language,
        )
        if outcome == "already_confirmed":
            await send_own_links(
                session, deps, address=rules.normalise_email(data.email), language=language, again=True
            )


async def import_subscribers(*, session: AsyncSession, deps: Deps, data: ImportRequest) -> ImportReport:
    """Admin import: every row gets a confirmation mail (double opt-in still applies)."""
    invited = confirmed = 0
    errors: list[ImportRowError] = []
    async with session.begin():
        await lists_by_id(session, data.list_ids, public_only=False)
        for number, row in enumerate(data.rows, start=1):
            try:
                async with session.begin_nested():
                    outcome = await subscribe(
                        session=session,
                        deps=deps,
                        email=row.email,
                        name=row.name,
                        list_ids=data.list_ids,
                        district=row.district,
                        topics=row.topics,
                        consent_text_version=data.consent_text_version,
                        source="import",
                        public_only=False,
                    )
            except DomainError as error:
                errors.append(ImportRowError(row=number, email=row.email, reason=error.detail or ""))
                continue
            invited += outcome == "invited"
            confirmed += outcome == "already_confirmed"
    return ImportReport(invited=invited, already_confirmed=confirmed, errors=errors)


async def announce_reach(session: AsyncSession, deps: Deps, list_ids: Iterable[str]) -> dict[str, int]:
    counts = {}
    for list_id in dict.fromkeys(list_ids):
        rows = (
            await session.execute(
                select(SubscriberRow.district, func.count())
                .join(SubscriptionRow, SubscriptionRow.subscriber_id == SubscriberRow.id)
                .where(SubscriptionRow.list_id == list_id, SubscriptionRow.status == "confirmed")
                .group_by(SubscriberRow.district)
            )
        ).all()
        total = sum(n for _, n in rows)
        counts[list_id] = total
        await deps.outbox.add(
            session,
            ListReachChanged(
                list_id=list_id,
                confirmed_subscribers=total,
                by_district={d: n for d, n in rows if d},
                as_of=datetime.now(UTC),
            ),
        )
    return counts


async def list_names(session: AsyncSession, list_ids: Iterable[str]) -> list[str]:
    ids = [str(i) for i in list_ids]
    names = {r.id: r.name for r in await session.scalars(select(ListRow).where(ListRow.id.in_(ids)))}
    return [names[i] for i in ids if i in names]


def read_link(deps: Deps, purpose: Purpose, token: str) -> dict:
    """The payload of a mailed link's token; raises ``InvalidLink`` for a refused one."""
    try:
        return deps.tokens.read(purpose, token)
    except TokenRefused as error:
        raise InvalidLink.refused(error) from error


async def confirmation_preview(*, session: AsyncSession, deps: Deps, token: str) -> list[str]:
    """What the confirmation link would confirm (the list names), changing nothing; raises
    ``InvalidLink`` for a link that would be refused."""
    payload = read_link(deps, Purpose.CONFIRM, token)
    async with session.begin():
        if await session.get(SubscriberRow, str(payload.get("s"))) is None:
            raise InvalidLink("The link is no longer valid.")
        return await list_names(session, payload.get("l", []))


async def unsubscribe_preview(*, session: AsyncSession, deps: Deps, token: str) -> str | None:
    """The name of the list the unsubscribe link leaves, changing nothing."""
    payload = read_link(deps, Purpose.UNSUBSCRIBE, token)
    async with session.begin():
        names = await list_names(session, [str(payload.get("l"))])
    return names[0] if names else None


async def confirm(*, session: AsyncSession, deps: Deps, token: str) -> TokenStatus:
    """The click on the confirmation link: pending subscriptions of the token become confirmed."""
    payload = read_link(deps, Purpose.CONFIRM, token)
    async with session.begin():
        subscriber = await session.get(SubscriberRow, str(payload.get("s")))
        if subscriber is None:
            raise InvalidLink("The link is no longer valid.")
        subscriptions = list(
            await session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.subscriber_id == subscriber.id,
                    SubscriptionRow.list_id.in_([str(i) for i in payload.get("l", [])]),
                )
            )
        )
        now = datetime.now(UTC)
        newly = [s for s in subscriptions if s.status == "pending"]
        for subscription in newly:
            subscription.status, subscription.confirmed_at = "confirmed", now
        if newly:
            await session.flush()
            counts = await announce_reach(session, deps, [s.list_id for s in newly])
            await deps.outbox.add(
                session,
                *(
                    SubscriptionConfirmed(
                        subscriber_id=subscriber.id,
                        list_id=s.list_id,
                        source=s.source,
                        district=subscriber.district,
                        topics=subscriber.topics,
                        confirmed_subscribers=counts[s.list_id],
                        confirmed_at=now,
                    )
                    for s in newly
                ),
            )
        names = await list_names(session, [s.list_id for s in subscriptions if s.status == "confirmed"])
    if not newly and not any(s.status == "confirmed" for s in subscriptions):
        raise InvalidLink("The link is no longer valid.")
    return TokenStatus(status="confirmed", detail="Ihre Anmeldung ist bestätigt. Danke!", lists=names)


async def unsubscribe_rows(
    session: AsyncSession,
    deps: Deps,
    subscriber_id: str,
    rows: list[SubscriptionRow],
    campaign_id: str | None,
) -> None:
    now = datetime.now(UTC)
    left = [r for r in rows if r.status in ("confirmed", "pending")]
    was_confirmed = [r.list_id for r in left if r.status == "confirmed"]
    for row in left:
        row.status, row.unsubscribed_at, row.unsubscribed_campaign_id = "unsubscribed", now, campaign_id
    if was_confirmed:
        await session.flush()
        counts = await announce_reach(session, deps, was_confirmed)
        await deps.outbox.add(
            session,
            *(
                Unsubscribed(
                    subscriber_id=subscriber_id,
                    list_id=list_id,
                    campaign_id=campaign_id,
                    confirmed_subscribers=counts[list_id],
                    unsubscribed_at=now,
                )
                for list_id in was_confirmed
            ),
        )


async def unsubscribe(*, session: AsyncSession, deps: Deps, token: str) -> TokenStatus:
    """One-click unsubscribe (RFC 8058) from the list the mail came from; repeatable."""
    payload = read_link(deps, Purpose.UNSUBSCRIBE, token)
    async with session.begin():
        subscriber_id = str(payload.get("s"))
        rows = list(
            await session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.subscriber_id == subscriber_id,
                    SubscriptionRow.list_id == str(payload.get("l")),
                )
            )
        )
        await unsubscribe_rows(session, deps, subscriber_id, rows, payload.get("c"))
        names = await list_names(session, [str(payload.get("l"))])
    return TokenStatus(
        status="unsubscribed", detail="Sie erhalten diesen Newsletter nicht mehr.", lists=names
    )
