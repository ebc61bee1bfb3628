"""Service functions of the newsletter: each state change and its events in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.newsletter import (
    CampaignSent,
    ListReachChanged,
    SubscriptionConfirmed,
    SubscriptionRequested,
    Unsubscribed,
)
from nzr_common.problems import InvalidParam, ProblemError
from nzr_newsletter import domain, templates, transactional
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.schemas import (
    BounceResult,
    CampaignCreate,
    CampaignRead,
    CampaignStats,
    CampaignUpdate,
    ImportReport,
    ImportRequest,
    ImportRowError,
    ListCreate,
    ListRead,
    ListUpdate,
    PersonExport,
    PersonMailRecord,
    Preferences,
    PreferencesUpdate,
    PreviewRead,
    SubscribeRequest,
    SubscriberExport,
    SubscriberPage,
    SubscriberRead,
    SubscriptionRead,
    TokenStatus,
)
from nzr_newsletter.tables import (
    BounceRow,
    CampaignRow,
    DeliveryRow,
    ErasedPersonRow,
    ListRow,
    MailRow,
    SubscriberRow,
    SubscriptionRow,
)
from nzr_newsletter.tokens import Purpose, TokenRefused

ENQUEUE_BATCH = 5000
log = logging.getLogger(__name__)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _invalid(title: str, name: str, reason: str, status: int = 422) -> ProblemError:
    return ProblemError(
        status, title, f"{name}: {reason}", invalid_params=[InvalidParam(name=name, reason=reason)]
    )


def _not_found(what: str, identifier: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"No {what} {identifier}.")


def _token_problem(error: TokenRefused) -> ProblemError:
    return ProblemError(400, "Invalid link", error.reason)


# ---------------------------------------------------------------- lists


async def _confirmed_count(session: AsyncSession, list_id: str) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.list_id == list_id, SubscriptionRow.status == "confirmed")
        )
        or 0
    )


def _list_read(row: ListRow, count: int | None = None) -> ListRead:
    return ListRead(
        id=row.id,
        name=row.name,
        description=row.description,
        topic=row.topic,
        visibility=row.visibility,
        registration_default=row.registration_default,  # type: ignore[arg-type]
        digest=row.digest,
        confirmed_subscribers=count,
        created_at=row.created_at,
    )


async def create_list(*, session: AsyncSession, data: ListCreate) -> ListRead:
    """Create a mailing list of the region."""
    row = ListRow(id=str(uuid.uuid4()), created_at=now_utc(), **data.model_dump())
    async with session.begin():
        session.add(row)
    return _list_read(row, 0)


async def update_list(*, session: AsyncSession, list_id: str, data: ListUpdate) -> ListRead:
    """Change a list's name, description, topic, visibility or flags."""
    async with session.begin():
        row = await session.get(ListRow, list_id)
        if row is None:
            raise _not_found("list", list_id)
        for key, value in data.model_dump(exclude_unset=True).items():
            setattr(row, key, value)
        count = await _confirmed_count(session, list_id)
    return _list_read(row, count)


async def list_lists(*, session: AsyncSession, include_internal: bool) -> list[ListRead]:
    """Public lists for everybody; internal ones and subscriber counts for editors."""
    query = select(ListRow).order_by(ListRow.created_at, ListRow.id)
    if not include_internal:
        query = query.where(ListRow.visibility == "public")
    rows = list(await session.scalars(query))
    counts: dict[str, int] = {}
    if include_internal:
        counts = dict(
            (
                await session.execute(
                    select(SubscriptionRow.list_id, func.count())
                    .where(SubscriptionRow.status == "confirmed")
                    .group_by(SubscriptionRow.list_id)
                )
            ).all()
        )
    return [_list_read(r, counts.get(r.id, 0) if include_internal else None) for r in rows]


async def _lists_by_id(
    session: AsyncSession, list_ids: Iterable[str], *, public_only: bool
) -> dict[str, ListRow]:
    ids = list(dict.fromkeys(list_ids))
    rows = {r.id: r for r in await session.scalars(select(ListRow).where(ListRow.id.in_(ids)))}
    missing = [i for i in ids if i not in rows or (public_only and rows[i].visibility != "public")]
    if missing:
        raise _invalid("Invalid lists", "list_ids", f"unknown lists: {', '.join(missing)}")
    return rows


# ---------------------------------------------------------------- subscribing


def _check_district(deps: Deps, district: str | None, field: str = "district") -> None:
    if district is not None and deps.region is not None and district not in deps.region.districts:
        raise _invalid("Invalid district", field, f"{district} is not a district of this region")


def _confirmation_mail(
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
            f"would like to receive the newsletter „{lists}“. Please confirm with one click:\n\n"
            f"{link}\n\nThe link is valid for {days} days. Without confirmation you get no further "
            "mail from us.\n"
        )
        message["Content-Language"] = "en"
        return bytes(message)
    message["Subject"] = "Bitte bestätigen Sie Ihre Anmeldung zum Newsletter"
    message.set_content(
        f"{'Hallo ' + name + ',' if name else 'Hallo,'}\n\nSie (oder jemand mit Ihrer Adresse) "
        f"möchten den Newsletter „{lists}“ erhalten. Bitte bestätigen Sie das mit einem Klick:\n\n"
        f"{link}\n\nDer Link gilt {days} Tage. Ohne Bestätigung bekommen Sie keine weiteren Mails "
        "von uns.\n"
    )
    return bytes(message)


async def _queue_mail(session: AsyncSession, deps: Deps, *, to: str, purpose: str, message: bytes) -> None:
    now = now_utc()
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
        address = domain.normalise_email(email)
    except domain.InvalidAddress as error:
        raise _invalid("Invalid address", "email", str(error)) from error
    _check_district(deps, district)
    lists = await _lists_by_id(session, list_ids, public_only=public_only)
    now = now_utc()
    # Locked: two sign-ups of one address at the same moment are handled one after the other.
    by_address = select(SubscriberRow).where(SubscriberRow.email == address).with_for_update()
    subscriber = await session.scalar(by_address)
    if subscriber is None:
        candidate = SubscriberRow(
            id=str(uuid.uuid4()),
            email=address,
            name=name.strip(),
            district=district,
            topics=topics,
            blocked=False,
            soft_bounces=0,
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
        else:
            subscriber = candidate
    existing = {
        s.list_id: s
        for s in await session.scalars(
            select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
        )
    }
    requested = []
    for list_id in lists:
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
    await _queue_mail(
        session,
        deps,
        to=address,
        purpose="confirm",
        message=_confirmation_mail(
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
    assert deps.outbox is not None
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
            await _send_own_links(
                session, deps, address=domain.normalise_email(data.email), language=language, again=True
            )


async def request_links(*, session: AsyncSession, deps: Deps, email: str, language: str) -> None:
    """ "Send me my links again": the owner of a known address gets its preferences link (and
    the confirmation link while a subscription waits for it); nothing happens for an unknown
    one, and the caller is told the same either way."""
    try:
        address = domain.normalise_email(email)
    except domain.InvalidAddress as error:
        raise _invalid("Invalid address", "email", str(error)) from error
    async with session.begin():
        await _send_own_links(session, deps, address=address, language=language, again=False)


async def _send_own_links(
    session: AsyncSession, deps: Deps, *, address: str, language: str, again: bool
) -> None:
    subscriber = await session.scalar(select(SubscriberRow).where(SubscriberRow.email == address))
    if subscriber is None:
        return
    purposes = ("already_subscribed", "subscription_links")
    seconds = deps.settings.confirm_resend_seconds
    if await transactional.recently_mailed(session, address, purposes, seconds=seconds, now=now_utc()):
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
    message = transactional.subscription_links_mail(
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
    reason = await transactional.suppressed(session, to, since=since)
    if reason is not None:
        log.info("transactional %s mail held back: %s", purpose, reason)
        return False
    await _queue_mail(session, deps, to=to, purpose=purpose, message=message)
    return True


async def import_subscribers(*, session: AsyncSession, deps: Deps, data: ImportRequest) -> ImportReport:
    """Admin import: every row gets a confirmation mail (double opt-in still applies)."""
    invited = confirmed = 0
    errors: list[ImportRowError] = []
    async with session.begin():
        await _lists_by_id(session, data.list_ids, public_only=False)
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
            except ProblemError as error:
                errors.append(ImportRowError(row=number, email=row.email, reason=error.detail or ""))
                continue
            invited += outcome == "invited"
            confirmed += outcome == "already_confirmed"
    return ImportReport(invited=invited, already_confirmed=confirmed, errors=errors)


async def _announce_reach(session: AsyncSession, deps: Deps, list_ids: Iterable[str]) -> dict[str, int]:
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
                as_of=now_utc(),
            ),
        )
    return counts


async def confirm(*, session: AsyncSession, deps: Deps, token: str) -> TokenStatus:
    """The click on the confirmation link: pending subscriptions of the token become confirmed."""
    try:
        payload = deps.tokens.read(Purpose.CONFIRM, token)
    except TokenRefused as error:
        raise _token_problem(error) from error
    async with session.begin():
        subscriber = await session.get(SubscriberRow, str(payload.get("s")))
        if subscriber is None:
            raise ProblemError(400, "Invalid link", "The link is no longer valid.")
        subscriptions = list(
            await session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.subscriber_id == subscriber.id,
                    SubscriptionRow.list_id.in_([str(i) for i in payload.get("l", [])]),
                )
            )
        )
        now = now_utc()
        newly = [s for s in subscriptions if s.status == "pending"]
        for subscription in newly:
            subscription.status, subscription.confirmed_at = "confirmed", now
        if newly:
            await session.flush()
            counts = await _announce_reach(session, deps, [s.list_id for s in newly])
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
    if not newly and not any(s.status == "confirmed" for s in subscriptions):
        raise ProblemError(400, "Invalid link", "The link is no longer valid.")
    return TokenStatus(status="confirmed", detail="Ihre Anmeldung ist bestätigt. Danke!")


async def _unsubscribe_rows(
    session: AsyncSession,
    deps: Deps,
    subscriber_id: str,
    rows: list[SubscriptionRow],
    campaign_id: str | None,
) -> None:
    now = now_utc()
    left = [r for r in rows if r.status in ("confirmed", "pending")]
    was_confirmed = [r.list_id for r in left if r.status == "confirmed"]
    for row in left:
        row.status, row.unsubscribed_at, row.unsubscribed_campaign_id = "unsubscribed", now, campaign_id
    if was_confirmed:
        await session.flush()
        counts = await _announce_reach(session, deps, was_confirmed)
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
    try:
        payload = deps.tokens.read(Purpose.UNSUBSCRIBE, token)
    except TokenRefused as error:
        raise _token_problem(error) from error
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
        await _unsubscribe_rows(session, deps, subscriber_id, rows, payload.get("c"))
    return TokenStatus(status="unsubscribed", detail="Sie erhalten diesen Newsletter nicht mehr.")


# ---------------------------------------------------------------- self-service


async def _subscriber_from_token(session: AsyncSession, deps: Deps, token: str) -> SubscriberRow:
    try:
        payload = deps.tokens.read(Purpose.PREFERENCES, token)
    except TokenRefused as error:
        raise _token_problem(error) from error
    subscriber = await session.get(SubscriberRow, str(payload.get("s")))
    if subscriber is None:
        raise ProblemError(400, "Invalid link", "The link is no longer valid.")
    return subscriber


async def _subscriptions_of(session: AsyncSession, subscriber_id: str) -> list[SubscriptionRead]:
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
    subscriber = await _subscriber_from_token(session, deps, token)
    return Preferences(
        email=subscriber.email,
        name=subscriber.name,
        district=subscriber.district,
        topics=subscriber.topics,
        subscriptions=await _subscriptions_of(session, subscriber.id),
        available_lists=await list_lists(session=session, include_internal=False),
    )


async def update_preferences(
    *, session: AsyncSession, deps: Deps, token: str, data: PreferencesUpdate
) -> Preferences:
    """Change name, district, topics and lists; the link proves the address, so joining a
    public list from here needs no second confirmation."""
    _check_district(deps, data.district)
    async with session.begin():
        subscriber = await _subscriber_from_token(session, deps, token)
        for key in ("name", "district", "topics"):
            value = getattr(data, key)
            if value is not None:
                setattr(subscriber, key, value)
        if data.list_ids is not None:
            wanted = await _lists_by_id(session, data.list_ids, public_only=True)
            current = {
                s.list_id: s
                for s in await session.scalars(
                    select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id)
                )
            }
            leaving = [s for lid, s in current.items() if lid not in wanted]
            await _unsubscribe_rows(session, deps, subscriber.id, leaving, None)
            now = now_utc()
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
                counts = await _announce_reach(session, deps, joined)
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


async def export_subscriber(*, session: AsyncSession, deps: Deps, token: str) -> SubscriberExport:
    """Everything stored about the holder of a preferences link (GDPR Art. 15)."""
    subscriber = await _subscriber_from_token(session, deps, token)
    return await _subscriber_export(session, subscriber)


async def export_person(*, session: AsyncSession, email: str) -> PersonExport:
    """Everything stored about the person with this address, for an admin (GDPR Art. 15): the
    subscriber with consents, deliveries and bounces, and the transactional mails to them."""
    person_id = person_id_for(email)
    ids, recipients = await _held_about(session, person_id)
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
        exported_at=now_utc(),
        subscriber=await _subscriber_export(session, subscriber) if subscriber else None,
        mails=mails,
    )


async def _subscriber_export(session: AsyncSession, subscriber: SubscriberRow) -> SubscriberExport:
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
        blocked=subscriber.blocked,
        created_at=subscriber.created_at,
        subscriptions=await _subscriptions_of(session, subscriber.id),
        deliveries=deliveries,
        bounces=bounces,
    )


async def erase_subscriber(*, session: AsyncSession, deps: Deps, subscriber: SubscriberRow) -> None:
    """Delete a subscriber everywhere: subscriptions, queued mails, bounces, addresses in
    delivery records (their counts stay for campaign statistics)."""
    rows = list(
        await session.scalars(select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber.id))
    )
    await _unsubscribe_rows(session, deps, subscriber.id, rows, None)
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
        subscriber = await _subscriber_from_token(session, deps, token)
        await erase_subscriber(session=session, deps=deps, subscriber=subscriber)


async def erase_person(*, session: AsyncSession, deps: Deps, person_id: str, erased_at: datetime) -> bool:
    """Erase whoever has an address with this pseudonymous id (PersonErased), and every queued
    or sent mail to it, and remember the erasure; False when no subscriber has it."""
    known = await session.get(ErasedPersonRow, person_id, with_for_update=True)
    if known is None:
        session.add(ErasedPersonRow(person_id=person_id, erased_at=erased_at))
    elif erased_at > known.erased_at:
        known.erased_at = erased_at
    ids, mailed = await _held_about(session, person_id)
    for subscriber in await session.scalars(select(SubscriberRow).where(SubscriberRow.id.in_(ids))):
        await erase_subscriber(session=session, deps=deps, subscriber=subscriber)
    if mailed:
        await session.execute(delete(MailRow).where(MailRow.recipient.in_(mailed)))
    return bool(ids)


async def _held_about(session: AsyncSession, person_id: str) -> tuple[list[str], list[str]]:
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


async def list_subscribers(
    *, session: AsyncSession, list_id: str | None, status: str | None, limit: int, offset: int
) -> SubscriberPage:
    """Subscribers (admin), optionally of one list and subscription status."""
    query = select(SubscriberRow)
    if list_id or status:
        inner = select(SubscriptionRow.subscriber_id)
        if list_id:
            inner = inner.where(SubscriptionRow.list_id == list_id)
        if status:
            inner = inner.where(SubscriptionRow.status == status)
        query = query.where(SubscriberRow.id.in_(inner))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(await session.scalars(query.order_by(SubscriberRow.email).limit(limit).offset(offset)))
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
            subscriptions=await _subscriptions_of(session, r.id),
        )
        for r in rows
    ]
    return SubscriberPage(items=items, total=total)


# ---------------------------------------------------------------- campaigns


async def _check_campaign(
    session: AsyncSession,
    deps: Deps,
    *,
    subject: str,
    body: str,
    sender: str | None,
    list_ids: list[str],
    districts: list[str],
) -> None:
    await _lists_by_id(session, list_ids, public_only=False)
    for district in districts:
        _check_district(deps, district, "districts")
    if sender is not None:
        try:
            domain.normalise_email(sender.rpartition("<")[2].rstrip(">") if "<" in sender else sender)
        except domain.InvalidAddress as error:
            raise _invalid("Invalid sender", "sender", str(error)) from error
    names = list(await session.scalars(select(ListRow.name).where(ListRow.id.in_(list_ids))))
    try:
        await templates.check_template(
            subject=subject,
            body=body,
            extra={"list_names": names or ["Beispielliste"], "region": deps.settings.region},
            limits=render_limits(deps),
        )
    except templates.TemplateRefused as error:
        raise template_problem(error) from error


def render_limits(deps: Deps) -> templates.RenderLimits:
    settings = deps.settings
    return templates.RenderLimits(
        max_chars=settings.template_max_chars,
        seconds=settings.template_render_seconds,
        memory_bytes=settings.template_memory_mb * 1024 * 1024,
        workers=deps.template_workers,
    )


def template_problem(error: templates.TemplateRefused) -> ProblemError:
    return _invalid("Template does not render", error.field, error.reason)


async def campaign_stats(session: AsyncSession, campaign: CampaignRow) -> CampaignStats:
    counts = dict(
        (
            await session.execute(
                select(DeliveryRow.status, func.count())
                .where(DeliveryRow.campaign_id == campaign.id)
                .group_by(DeliveryRow.status)
            )
        ).all()
    )
    unsubscribed = (
        await session.scalar(
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.unsubscribed_campaign_id == campaign.id)
        )
        or 0
    )
    return CampaignStats(
        recipients=campaign.recipients,
        queued=counts.get("queued", 0),
        sending=counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        bounced=counts.get("bounced", 0),
        unsubscribed_after=unsubscribed,
    )


async def _campaign_read(session: AsyncSession, row: CampaignRow, *, stats: bool = True) -> CampaignRead:
    return CampaignRead(
        id=row.id,
        kind=row.kind,
        name=row.name,
        subject=row.subject,
        sender=row.sender,
        body=row.body,
        list_ids=row.list_ids,
        topics=row.topics,
        districts=row.districts,
        status=row.status,  # type: ignore[arg-type]
        scheduled_at=row.scheduled_at,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        stats=await campaign_stats(session, row) if stats else None,
    )


async def create_campaign(*, session: AsyncSession, deps: Deps, data: CampaignCreate) -> CampaignRead:
    """Save a campaign draft; a template that does not render is refused now, not at send time."""
    async with session.begin():
        await _check_campaign(
            session,
            deps,
            subject=data.subject,
            body=data.body,
            sender=data.sender,
            list_ids=data.list_ids,
            districts=data.districts,
        )
        now = now_utc()
        row = CampaignRow(
            id=str(uuid.uuid4()),
            kind="regular",
            status="draft",
            recipients=0,
            context={},
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        session.add(row)
    async with session.begin():
        return await _campaign_read(session, row)


async def _campaign(session: AsyncSession, campaign_id: str) -> CampaignRow:
    row = await session.get(CampaignRow, campaign_id)
    if row is None:
        raise _not_found("campaign", campaign_id)
    return row


async def update_campaign(
    *, session: AsyncSession, deps: Deps, campaign_id: str, data: CampaignUpdate
) -> CampaignRead:
    """Edit a campaign that has not started sending."""
    async with session.begin():
        row = await _campaign(session, campaign_id)
        if row.status not in ("draft", "scheduled"):
            raise ProblemError(409, "Conflict", f"A campaign in status {row.status} cannot be edited.")
        changes = data.model_dump(exclude_unset=True)
        merged = {
            key: changes.get(key, getattr(row, key))
            for key in ("subject", "body", "sender", "list_ids", "districts")
        }
        await _check_campaign(session, deps, **merged)
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = now_utc()
    async with session.begin():
        return await _campaign_read(session, row)


async def get_campaign(*, session: AsyncSession, campaign_id: str) -> CampaignRead:
    async with session.begin():
        return await _campaign_read(session, await _campaign(session, campaign_id))


async def list_campaigns(*, session: AsyncSession, status: str | None) -> list[CampaignRead]:
    query = select(CampaignRow).order_by(CampaignRow.created_at.desc())
    if status:
        query = query.where(CampaignRow.status == status)
    async with session.begin():
        return [await _campaign_read(session, r, stats=False) for r in await session.scalars(query)]


async def audience(session: AsyncSession, campaign: CampaignRow):  # type: ignore[no-untyped-def]
    """Confirmed, unblocked subscribers of the campaign's lists, topics and districts, streamed
    as (subscriber id, list id, email, name); each subscriber once."""
    query = (
        select(
            SubscriberRow.id,
            SubscriptionRow.list_id,
            SubscriberRow.email,
            SubscriberRow.name,
            SubscriberRow.topics,
        )
        .join(SubscriptionRow, SubscriptionRow.subscriber_id == SubscriberRow.id)
        .where(
            SubscriptionRow.list_id.in_(campaign.list_ids),
            SubscriptionRow.status == "confirmed",
            SubscriberRow.blocked.is_(False),
        )
        .order_by(SubscriberRow.id)
        .execution_options(yield_per=ENQUEUE_BATCH)
    )
    if campaign.districts:
        query = query.where(SubscriberRow.district.in_(campaign.districts))
    wanted_topics = set(campaign.topics)
    last = None
    async for subscriber_id, list_id, email, name, topics in await session.stream(query):
        if subscriber_id == last or (wanted_topics and not wanted_topics & set(topics or [])):
            continue
        last = subscriber_id
        yield subscriber_id, list_id, email, name


def _list_context(list_names: list[str], deps: Deps) -> dict:
    return {"list_names": list_names, "region": deps.settings.region, "items": []}


async def prepared_message(
    session: AsyncSession, deps: Deps, campaign: CampaignRow, extra: dict | None = None
) -> templates.PreparedMessage:
    """Render a campaign once for all its recipients (in the bounded worker process); raises
    ``TemplateRefused`` when it does not render."""
    names = list(await session.scalars(select(ListRow.name).where(ListRow.id.in_(campaign.list_ids))))
    context = {**_list_context(names, deps), **(campaign.context or {}), **(extra or {})}
    subject, body, campaign_id = campaign.subject, campaign.body, campaign.id
    sender = campaign.sender or deps.settings.sender
    list_id_header = f"<{campaign.list_ids[0]}.{deps.settings.region}.nzr.invalid>"
    await session.rollback()  # no transaction stays open (on SQLite: no lock) while it renders
    rendered = await templates.render_bounded(
        subject=subject, body=body, context=context, limits=render_limits(deps)
    )
    return templates.build_message(
        rendered, campaign_id=campaign_id, sender=sender, list_id_header=list_id_header
    )


async def preview_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str, name: str) -> PreviewRead:
    """The campaign as a sample recipient would get it, and how many would get it now."""
    async with session.begin():
        campaign = await _campaign(session, campaign_id)
        count = 0
        async for _ in audience(session, campaign):
            count += 1
    try:
        prepared = await prepared_message(session, deps, campaign)
    except templates.TemplateRefused as error:
        raise template_problem(error) from error
    text, page = templates.preview(
        prepared,
        name=name,
        unsubscribe_url=deps.links.unsubscribe("preview"),
        preferences_url=deps.links.preferences("preview"),
    )
    return PreviewRead(subject=prepared.subject, text=text, html=page, audience=count)


async def schedule_campaign(
    *, session: AsyncSession, deps: Deps, campaign_id: str, scheduled_at: datetime | None
) -> CampaignRead:
    """Send now (no time) or at ``scheduled_at``; the sender picks it up when it is due."""
    async with session.begin():
        row = await _campaign(session, campaign_id)
        if row.status not in ("draft", "scheduled"):
            raise ProblemError(409, "Conflict", f"A campaign in status {row.status} cannot be sent again.")
        if scheduled_at is not None and scheduled_at.tzinfo is None:
            raise _invalid("Invalid time", "scheduled_at", "give a time zone (e.g. Z or +01:00)")
        row.status, row.scheduled_at, row.updated_at = "scheduled", scheduled_at or now_utc(), now_utc()
    deps.campaigns_pending.set()
    async with session.begin():
        return await _campaign_read(session, row)


async def pause_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str) -> CampaignRead:
    """Stop handing out the campaign's queued mails (mails already in an SMTP transaction finish)."""
    async with session.begin():
        row = await _campaign(session, campaign_id)
        if row.status not in ("scheduled", "sending"):
            raise ProblemError(409, "Conflict", f"A campaign in status {row.status} cannot be paused.")
        row.status, row.updated_at = "paused", now_utc()
    deps.campaigns_pending.set()  # the sender re-reads which campaigns are paused
    async with session.begin():
        return await _campaign_read(session, row)


async def resume_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str) -> CampaignRead:
    """Continue a paused campaign where it stopped."""
    async with session.begin():
        row = await _campaign(session, campaign_id)
        if row.status != "paused":
            raise ProblemError(409, "Conflict", f"A campaign in status {row.status} is not paused.")
        row.status = "sending" if row.started_at else "scheduled"
        row.updated_at = now_utc()
    deps.campaigns_pending.set()
    async with session.begin():
        return await _campaign_read(session, row)


async def enqueue_due_campaigns(*, session: AsyncSession, deps: Deps) -> int:
    """Turn due scheduled campaigns into per-recipient delivery rows, each in one transaction
    (a crash before the commit leaves the campaign scheduled; after it, every row exists)."""
    started = 0
    async with session.begin():
        due = list(
            await session.scalars(
                select(CampaignRow.id).where(
                    CampaignRow.status == "scheduled", CampaignRow.scheduled_at <= now_utc()
                )
            )
        )
    for campaign_id in due:
        async with session.begin():
            campaign = await session.get(CampaignRow, campaign_id, with_for_update=True)
            if campaign is None or campaign.status != "scheduled":
                continue
            now = now_utc()
            batch: list[dict] = []
            total = 0
            async for subscriber_id, list_id, email, name in audience(session, campaign):
                batch.append(
                    {
                        "campaign_id": campaign.id,
                        "subscriber_id": subscriber_id,
                        "list_id": list_id,
                        "email": email,
                        "name": name,
                        "status": "queued",
                        "attempts": 0,
                        "next_attempt_at": now,
                    }
                )
                if len(batch) >= ENQUEUE_BATCH:
                    await session.execute(DeliveryRow.__table__.insert(), batch)
                    total += len(batch)
                    batch = []
            if batch:
                await session.execute(DeliveryRow.__table__.insert(), batch)
                total += len(batch)
            campaign.status, campaign.started_at, campaign.recipients = "sending", now, total
            started += 1
    return started


async def finish_campaigns(*, session: AsyncSession, deps: Deps) -> list[str]:
    """Campaigns with no queued or sending mail left are sent; CampaignSent tells the figures."""
    finished = []
    async with session.begin():
        sending = list(await session.scalars(select(CampaignRow.id).where(CampaignRow.status == "sending")))
    for campaign_id in sending:
        async with session.begin():
            open_rows = await session.scalar(
                select(func.count())
                .select_from(DeliveryRow)
                .where(DeliveryRow.campaign_id == campaign_id, DeliveryRow.status.in_(("queued", "sending")))
            )
            campaign = await session.get(CampaignRow, campaign_id)
            if open_rows or campaign is None or campaign.status != "sending":
                continue
            stats = await campaign_stats(session, campaign)
            campaign.status, campaign.finished_at = "sent", now_utc()
            await deps.outbox.add(
                session,
                CampaignSent(
                    campaign_id=campaign.id,
                    list_ids=campaign.list_ids,
                    recipients=campaign.recipients,
                    delivered=stats.sent,
                    bounced=stats.bounced,
                    finished_at=campaign.finished_at,
                ),
            )
            finished.append(campaign_id)
    return finished


# ---------------------------------------------------------------- bounces


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
    """Record a bounce and apply the configured action; True when the subscriber got blocked."""
    subscriber = None
    if subscriber_id:
        subscriber = await session.get(SubscriberRow, subscriber_id)
    if subscriber is None and email:
        try:
            address = domain.normalise_email(email)
        except domain.InvalidAddress:
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
            received_at=now_utc(),
        )
    )
    if subscriber is None:
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
    decision = domain.decide_bounce(
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
        await _unsubscribe_rows(session, deps, subscriber.id, rows, campaign_id)
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
