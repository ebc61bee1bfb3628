"""Transactional mails: queue a mail to one address (never to a suppressed one) and the links mail."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Select,
    Table,
    bindparam,
    event,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from nzr_common.contracts.actors import person_id_for
from nzr_common.db import dialect_insert
from nzr_common.errors import Invalid
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces.models import BounceRow
from nzr_newsletter.sorting import order_by
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions import rules as addresses
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.tables import ErasedPersonRow
from nzr_newsletter.tokens import Purpose
from nzr_newsletter.transactional import mails, rules
from nzr_newsletter.transactional.models import MailRow
from nzr_newsletter.transactional.schemas import TransactionalMailPage, TransactionalMailRead

log = logging.getLogger(__name__)


async def queue_mail(
    session: AsyncSession,
    deps: Deps,
    *,
    to: str,
    purpose: str,
    message: bytes,
    event_id: str | None = None,
    notice_id: str | None = None,
    status: str = "queued",
    reason: str | None = None,
) -> None:
    now = datetime.now(UTC)
    session.add(
        MailRow(
            recipient=to,
            purpose=purpose,
            event_id=event_id,
            notice_id=notice_id,
            message=message,
            status=status,
            attempts=0,
            next_attempt_at=now,
            last_error=reason,
            created_at=now,
        )
    )
    if status == "queued":
        wake_sender_after_commit(session, deps)


def wake_sender_after_commit(session: AsyncSession, deps: Deps) -> None:
    """Wake the mail sender once the transaction carrying the mail has committed: woken before,
    it would find nothing to claim and sleep a whole poll interval. One hook per transaction,
    however many mails it queues (a consumer batch queues hundreds)."""
    _wake_after_commit(session.sync_session, deps)


def _wake_after_commit(sync_session: Session, deps: Deps) -> None:
    if sync_session.info.get(_WAKE_HOOKED):
        return
    sync_session.info[_WAKE_HOOKED] = True

    def wake(_session: object) -> None:
        sync_session.info.pop(_WAKE_HOOKED, None)
        deps.mail_pending.set()

    def unhook(_session: object) -> None:  # rolled back: the next transaction hooks again
        sync_session.info.pop(_WAKE_HOOKED, None)

    # A hook left over from a rolled-back transaction wakes the sender once more: harmless.
    event.listen(sync_session, "after_commit", wake, once=True)
    event.listen(sync_session, "after_rollback", unhook, once=True)


_WAKE_HOOKED = "nzr_wake_mail_sender"


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
    event_id: str | None = None,
    notice_id: str | None = None,
) -> bool:
    """Queue a transactional mail unless the address hard-bounced, is blocked, or its owner was
    erased at or after ``since``; False when it was held back. A held-back registration mail is
    recorded as ``suppressed`` with the reason (for an erased owner without the address)."""
    reason = await suppressed(session, to, since=since)
    if reason is not None:
        log.info("transactional %s mail held back: %s", purpose, reason)
        if event_id is not None:
            recipient = "" if reason == "erased" else to
            await queue_mail(
                session,
                deps,
                to=recipient,
                purpose=purpose,
                message=b"",
                event_id=event_id,
                notice_id=notice_id,
                status="suppressed",
                reason=reason,
            )
        return False
    await queue_mail(
        session, deps, to=to, purpose=purpose, message=message, event_id=event_id, notice_id=notice_id
    )
    return True


def notice_pending(session: AsyncSession, notice_id: str) -> bool:
    """Whether this transaction has a mail for the notice waiting to be written already (the
    same notice twice in one consumer batch). One mailed in an earlier transaction is caught when
    the mails are written: the row's ``notice_id`` is unique and a second one is not inserted."""
    pending = _pending_of(session.sync_session)
    return pending is not None and any(m.notice_id == notice_id for m in pending.mails)


def _suppression_query() -> Select[bool, bool, datetime]:
    """Built once (a burst asks it for every mail); the address and person id are parameters."""
    address = bindparam("address", type_=SubscriberRow.email.type)
    subscriber_ids = select(SubscriberRow.id).where(SubscriberRow.email == address)
    return select(
        exists().where(SubscriberRow.email == address, SubscriberRow.blocked).label("blocked"),
        or_(
            exists().where(MailRow.recipient == address, MailRow.status == "bounced"),
            exists().where(BounceRow.subscriber_id.in_(subscriber_ids), BounceRow.kind == "hard"),
        ).label("bounced"),
        select(ErasedPersonRow.erased_at)
        .where(ErasedPersonRow.person_id == bindparam("person_id", type_=ErasedPersonRow.person_id.type))
        .scalar_subquery()
        .label("erased_at"),
    )


_SUPPRESSION = _suppression_query()


async def suppressed(session: AsyncSession, address: str, *, since: datetime | None = None) -> str | None:
    """Why no transactional mail may go to the address (None: it may): it hard-bounced, is
    blocked, or its owner was erased at or after ``since`` (an event from before the erasure).
    One query, without flushing the batch's pending mails (a burst of registrations is handled
    in one transaction)."""
    with session.no_autoflush:
        found = (
            await session.execute(_SUPPRESSION, {"address": address, "person_id": person_id_for(address)})
        ).one()
    return _reason(found.blocked, found.bounced, found.erased_at, since)


def _reason(blocked: bool, bounced: bool, erased_at: datetime | None, since: datetime | None) -> str | None:
    if blocked:
        return "blocked"
    if bounced:
        return "hard bounce"
    if since is not None and erased_at is not None and erased_at >= since:
        return "erased"
    return None


# ---------------------------------------------------------------- mails of a consumer batch


@dataclass
class WantedMail:
    """A transactional mail a handler wants sent, not yet checked against the suppressions."""

    to: str
    purpose: str
    message: bytes
    since: datetime | None
    event_id: str | None
    notice_id: str | None


@dataclass
class PendingMails:
    """The mails the handlers of one transaction (a consumer batch) want sent, written when it
    commits: the suppressions of all their addresses read in two queries, the rows inserted in
    one statement, instead of a query and an ORM object per mail."""

    deps: Deps
    mails: list[WantedMail] = field(default_factory=list)


_PENDING = "nzr_pending_transactional_mails"
_mail_table = cast(Table, MailRow.__table__)
_ADDRESSES: BindParameter[str] = bindparam("addresses", expanding=True)
_BLOCKED_OR_BOUNCED: CompoundSelect[str, str] = union_all(
    select(literal_column("'blocked'").label("why"), SubscriberRow.email.label("address")).where(
        SubscriberRow.email.in_(_ADDRESSES), SubscriberRow.blocked
    ),
    select(literal_column("'bounced'"), MailRow.recipient).where(
        MailRow.recipient.in_(_ADDRESSES), MailRow.status == "bounced"
    ),
    select(literal_column("'bounced'"), SubscriberRow.email)
    .join(BounceRow, BounceRow.subscriber_id == SubscriberRow.id)
    .where(SubscriberRow.email.in_(_ADDRESSES), BounceRow.kind == "hard"),
)
_ERASED = select(ErasedPersonRow.person_id, ErasedPersonRow.erased_at).where(
    ErasedPersonRow.person_id.in_(bindparam("person_ids", expanding=True))
)


def mail_owner_at_commit(
    session: AsyncSession,
    deps: Deps,
    *,
    to: str,
    purpose: str,
    message: bytes,
    since: datetime | None = None,
    event_id: str | None = None,
    notice_id: str | None = None,
) -> None:
    """``mail_owner`` for the handlers of a consumer batch: the mail is checked against the
    suppressions and queued when the transaction commits (or when something in it reads the
    mail queue first: ``write_pending_mails``), together with the other mails of the batch. A
    rolled-back transaction writes none of them."""
    sync_session = session.sync_session
    pending = _pending_of(sync_session)
    if pending is None:
        pending = sync_session.info[_PENDING] = PendingMails(deps)
        if not sync_session.info.get(_PENDING + "_hooked"):
            sync_session.info[_PENDING + "_hooked"] = True
            event.listen(sync_session, "before_commit", _write_before_commit)
            event.listen(sync_session, "after_rollback", _forget_pending)
    pending.mails.append(WantedMail(to, purpose, message, since, event_id, notice_id))


def _pending_of(sync_session: Session) -> PendingMails | None:
    return cast(PendingMails | None, sync_session.info.get(_PENDING))


async def write_pending_mails(session: AsyncSession) -> None:
    """Write the transaction's pending mails now: before anything reads the mail queue (repeat
    limits, erasures), so it sees them as it would have seen them queued one by one."""
    if _pending_of(session.sync_session) is not None:
        await session.run_sync(_write_pending)


def _write_before_commit(sync_session: Session) -> None:
    # Runs inside the commit's greenlet: SQL from here is awaited like any other statement of
    # the transaction (SQLAlchemy's asyncio events), and a failure rolls the batch back.
    _write_pending(sync_session)


def _forget_pending(sync_session: Session) -> None:
    sync_session.info.pop(_PENDING, None)


def _write_pending(sync_session: Session) -> None:
    pending = sync_session.info.pop(_PENDING, None)
    if pending is None or not pending.mails:
        return
    addresses = sorted({m.to for m in pending.mails})
    reasons: dict[str, str] = {}
    for why, address in sync_session.execute(_BLOCKED_OR_BOUNCED, {"addresses": addresses}):
        if reasons.get(address) != "blocked":  # blocked says more than a bounce
            reasons[address] = "hard bounce" if why == "bounced" else "blocked"
    person_ids = {person_id_for(a): a for a in addresses}
    erased = {
        person_ids[row.person_id]: row.erased_at
        for row in sync_session.execute(_ERASED, {"person_ids": list(person_ids)})
    }
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    queued = False
    for mail in pending.mails:
        reason = reasons.get(mail.to) or _reason(False, False, erased.get(mail.to), mail.since)
        if reason is None:
            queued = True
            rows.append(_mail_values(mail.to, mail, mail.message, "queued", None, now))
            continue
        log.info("transactional %s mail held back: %s", mail.purpose, reason)
        if mail.event_id is not None:
            recipient = "" if reason == "erased" else mail.to
            rows.append(_mail_values(recipient, mail, b"", "suppressed", reason, now))
    if rows:
        # A notice mailed (or suppressed) before, announced again: its row exists, nothing is
        # inserted for it (the notice id is unique), so the notice is mailed once.
        dialect = sync_session.get_bind().dialect.name
        sync_session.execute(
            dialect_insert(dialect, _mail_table).on_conflict_do_nothing(
                index_elements=[_mail_table.c.notice_id]
            ),
            rows,
        )
    if queued:
        _wake_after_commit(sync_session, pending.deps)


def _mail_values(
    recipient: str, mail: WantedMail, message: bytes, status: str, reason: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "recipient": recipient,
        "purpose": mail.purpose,
        "event_id": mail.event_id,
        "notice_id": mail.notice_id,
        "message": message,
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": reason,
        "created_at": now,
        "sent_at": None,
    }


async def recently_mailed(
    session: AsyncSession, address: str, purposes: tuple[str, ...], *, seconds: float, now: datetime
) -> bool:
    """Whether a mail of these purposes went (or waits to go) to the address within ``seconds``:
    repeated requests do not flood a stranger's mailbox."""
    await write_pending_mails(session)
    found = await session.scalar(
        select(func.count())
        .select_from(MailRow)
        .where(
            MailRow.recipient == address,
            or_(*(MailRow.purpose == p for p in purposes)),
            MailRow.created_at > now - timedelta(seconds=seconds),
            MailRow.status != "suppressed",
        )
    )
    return bool(found)


#: What the mail list sorts by (``TransactionalMailSort``).
MAIL_SORT_KEYS = {"created_at": MailRow.created_at, "sent_at": MailRow.sent_at}


async def list_mails(
    *,
    session: AsyncSession,
    event_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
    full_addresses: bool,
    sort: str = "-created_at",
) -> TransactionalMailPage:
    """Transactional mails in ``sort`` order (default: newest first), optionally of one event and
    status (never the bodies); unsent mails sort last by ``sent_at``."""
    columns = (
        MailRow.id,
        MailRow.event_id,
        MailRow.recipient,
        MailRow.purpose,
        MailRow.status,
        MailRow.last_error,
        MailRow.attempts,
        MailRow.created_at,
        MailRow.sent_at,
        MailRow.next_attempt_at,
    )
    conditions = []
    if event_id is not None:
        conditions.append(MailRow.event_id == event_id)
    if status is not None:
        conditions.append(MailRow.status == status)
    total = await session.scalar(select(func.count()).select_from(MailRow).where(*conditions)) or 0
    rows = await session.execute(
        select(*columns)
        .where(*conditions)
        .order_by(*order_by(sort, MAIL_SORT_KEYS, MailRow.id))
        .limit(limit)
        .offset(offset)
    )
    items = [
        TransactionalMailRead(
            id=row.id,
            event_id=row.event_id,
            recipient=row.recipient if full_addresses else rules.masked(row.recipient),
            kind=row.purpose,
            status=row.status,
            reason=row.last_error,
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if row.status in ("queued", "deferred") else None,
        )
        for row in rows
    ]
    return TransactionalMailPage(items=items, total=total)
