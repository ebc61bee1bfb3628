"""Reliable SMTP delivery of campaigns and transactional mails.

Protocol per recipient row (``deliveries`` and ``mail_queue``):

1. ``queued`` → ``sending`` with an attempt id, **committed before** the SMTP transaction
   (campaign rows are claimed in bulk a little ahead of the connections, ``CLAIM_AHEAD``);
2. the SMTP transaction (MAIL, RCPT, DATA);
3. on the server's 250: ``sent``; on 4xx or a lost connection: back to ``queued`` with back-off;
   on 5xx: ``bounced`` (hard bounce) — or ``failed`` after ``max_attempts``.

The marks of all connections are group-committed by one writer (one transaction, bulk
statements, for whatever piled up while the previous commit ran), so the database costs far
less than a commit per mail. Only the holder of the sender lease sends; a new holder first puts
rows a dead holder left in ``sending`` back to ``queued``. Most of them were claimed and never
started; at most one per connection may have been accepted by the server in the instant between
its 250 and our commit. SMTP cannot tell, so that one goes out again, with the same Message-ID
``<campaign.subscriber@domain>`` so that receivers recognise the repeat.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.problems import InvalidParam, ProblemError
from nzr_newsletter import domain, service, templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.schemas import TestSendResult
from nzr_newsletter.tables import CampaignRow, DeliveryRow, MailRow, messaging

log = logging.getLogger(__name__)

LEASE_NAME = "newsletter-sender"
Op = Callable[[AsyncSession], Awaitable[Any]]


def now_utc() -> datetime:
    return datetime.now(UTC)


class RateLimiter:
    """Messages per second (evenly spaced) and per rolling hour (exact window)."""

    def __init__(
        self, per_second: float, per_hour: int, sent_in_last_hour: list[float] | None = None
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_hour = per_hour
        self.window: collections.deque[float] = collections.deque(sorted(sent_in_last_hour or []))
        self.next_slot = 0.0
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        if not self.interval and not self.per_hour:
            return
        async with self.lock:
            while True:
                now = time.time()
                while self.window and self.window[0] <= now - 3600:
                    self.window.popleft()
                wait = max(self.next_slot - now, 0.0)
                if self.per_hour and len(self.window) >= self.per_hour:
                    wait = max(wait, self.window[0] + 3600 - now)
                if wait <= 0:
                    self.next_slot = max(self.next_slot, now) + self.interval
                    if self.per_hour:
                        self.window.append(now)
                    return
                await asyncio.sleep(wait)


class GroupCommitter:
    """Commits the state changes of all connections together: the "sent" marks and claims that
    piled up while the previous transaction ran go into one transaction, as bulk statements."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.claims: list[tuple[list[int], asyncio.Future[dict[int, str]]]] = []
        self.sent: list[tuple[int, str]] = []
        self.ops: list[tuple[Op, asyncio.Future[Any]]] = []
        self.wakeup = asyncio.Event()

    def claim(self, row_ids: list[int]) -> asyncio.Future[dict[int, str]]:
        """queued → sending; resolves to {row id: attempt id} for the rows that were free."""
        future: asyncio.Future[dict[int, str]] = asyncio.get_running_loop().create_future()
        self.claims.append((row_ids, future))
        self.wakeup.set()
        return future

    def mark_sent(self, row_id: int, attempt_id: str) -> None:
        self.sent.append((row_id, attempt_id))
        self.wakeup.set()

    def submit(self, op: Op) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.ops.append((op, future))
        self.wakeup.set()
        return future

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            claims, sent, ops = self.claims, self.sent, self.ops
            self.claims, self.sent, self.ops = [], [], []
            try:
                async with self.sessions() as session, session.begin():
                    await self._mark_sent(session, sent)
                    results = [await op(session) for op, _ in ops]
                    claimed = await self._claim(session, claims)
                _resolve(ops, results)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("group commit failed; retrying its parts", exc_info=True)
                await self._ops_one_by_one(ops)
                claimed = await self._until_committed(sent, claims)
            for row_ids, future in claims:
                if not future.done():
                    future.set_result({i: claimed[i] for i in row_ids if i in claimed})

    async def _mark_sent(self, session: AsyncSession, sent: list[tuple[int, str]]) -> None:
        by_attempt: dict[str, list[int]] = {}
        for row_id, attempt_id in sent:
            by_attempt.setdefault(attempt_id, []).append(row_id)
        now = now_utc()
        for attempt_id, ids in by_attempt.items():
            await session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id.in_(ids),
                    DeliveryRow.attempt_id == attempt_id,
                    DeliveryRow.status == "sending",
                )
                .values(status="sent", sent_at=now)
            )

    async def _claim(self, session: AsyncSession, claims: list[tuple[int, Any]]) -> dict[int, str]:
        if not claims:
            return {}
        attempt_id = uuid.uuid4().hex
        ids = [row_id for row_ids, _ in claims for row_id in row_ids]
        await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(ids),
                DeliveryRow.status == "queued",
                DeliveryRow.campaign_id.in_(select(CampaignRow.id).where(CampaignRow.status == "sending")),
            )
            .values(status="sending", attempt_id=attempt_id, attempts=DeliveryRow.attempts + 1)
        )
        claimed = await session.scalars(
            select(DeliveryRow.id).where(DeliveryRow.id.in_(ids), DeliveryRow.attempt_id == attempt_id)
        )
        return dict.fromkeys(claimed, attempt_id)

    async def _ops_one_by_one(self, ops: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        for op, future in ops:
            try:
                async with self.sessions() as session, session.begin():
                    result = await op(session)
                if not future.done():
                    future.set_result(result)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)

    async def _until_committed(
        self, sent: list[tuple[int, str]], claims: list[tuple[int, Any]]
    ) -> dict[int, str]:
        """The mails are out: their marks must be written, however long the database is away."""
        while True:
            try:
                async with self.sessions() as session, session.begin():
                    await self._mark_sent(session, sent)
                    return await self._claim(session, claims)
            except Exception:
                await asyncio.sleep(0.5)


def _resolve(ops: list[tuple[Op, asyncio.Future[Any]]], results: list[Any]) -> None:
    for (_, future), result in zip(ops, results, strict=True):
        if not future.done():
            future.set_result(result)


@dataclass
class Outcome:
    """What an SMTP attempt ended with."""

    kind: str  # sent | retry | bounced | failed (the mail could not be built: no retry)
    code: int | None = None
    detail: str = ""


def _outcome_of(error: Exception) -> Outcome:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusal = error.recipients[0] if error.recipients else None
        code = refusal.code if refusal else 550
        message = refusal.message if refusal else str(error)
        kind = "bounced" if domain.is_permanent_failure(code) else "retry"
        return Outcome(kind, code, f"{code} {message}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        kind = "bounced" if domain.is_permanent_failure(error.code) else "retry"
        return Outcome(kind, error.code, f"{error.code} {error.message}")
    return Outcome("retry", None, f"{type(error).__name__}: {error}")


class Connection:
    """One SMTP connection, opened on demand and reopened after it broke."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        settings = self.deps.settings
        try:
            if self.client is None or not self.client.is_connected:
                self.client = aiosmtplib.SMTP(
                    hostname=self.deps.smtp_host,
                    port=self.deps.smtp_port,
                    timeout=settings.smtp_timeout_seconds,
                    use_tls=settings.smtp_tls == "tls",
                    start_tls=True if settings.smtp_tls == "starttls" else False,
                    username=settings.smtp_user,
                    password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                )
                await self.client.connect()
            await self.client.sendmail(sender, [recipient], message)
            return Outcome("sent", 250)
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as error:
            outcome = _outcome_of(error)
            if isinstance(error, aiosmtplib.SMTPServerDisconnected):
                await self.close()
            else:
                try:
                    await self.client.rset()  # type: ignore[union-attr]
                except Exception:
                    await self.close()
            return outcome
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self.close()
            return Outcome("retry", None, f"{type(error).__name__}: {error}")

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


@dataclass
class Job:
    row_id: int
    campaign_id: str
    subscriber_id: str
    list_id: str
    email: str
    name: str
    attempts: int


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    uncertain_resolved: int = 0


@dataclass
class Sender:
    """The sending side of the service: lease, dispatcher, connections, group committer."""

    deps: Deps
    sessions: async_sessionmaker[AsyncSession]
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    lease_seconds: float = 15.0
    stats: SenderStats = field(default_factory=SenderStats)

    def __post_init__(self) -> None:
        settings = self.deps.settings
        self.committer = GroupCommitter(self.sessions)
        self.queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=max(settings.smtp_concurrency * 50, 500))
        self.ready: asyncio.Queue[tuple[Job, str]] = asyncio.Queue(
            maxsize=max(settings.smtp_concurrency * settings.claim_ahead, 1)
        )
        self.in_flight: set[int] = set()
        self.prepared: dict[str, asyncio.Future[tuple[templates.PreparedMessage, str]]] = {}
        self.paused: set[str] = set()
        self.limiter = RateLimiter(settings.rate_per_second, settings.rate_per_hour)

    # ------------------------------------------------------------ lease

    @property
    def lease_until(self) -> datetime | None:
        return self.deps.lease.until

    @lease_until.setter
    def lease_until(self, until: datetime | None) -> None:
        self.deps.lease.until = until

    async def hold_lease(self) -> bool:
        """Take or renew the sender lease; a fresh take resolves a dead holder's rows."""
        lease = messaging.relay_lease
        now = now_utc()
        until = now + timedelta(seconds=self.lease_seconds)
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(select(lease).where(lease.c.name == LEASE_NAME).with_for_update())
            ).first()
            if row is None:
                await session.execute(
                    lease.insert().values(name=LEASE_NAME, holder=self.holder, expires_at=until)
                )
                fresh = True
            elif row.holder == self.holder or row.expires_at is None or row.expires_at < now:
                fresh = row.holder != self.holder or self.lease_until is None
                await session.execute(
                    lease.update()
                    .where(lease.c.name == LEASE_NAME)
                    .values(holder=self.holder, expires_at=until)
                )
            else:
                self.lease_until = None
                return False
            if fresh:
                await self._resolve_uncertain(session)
        self.lease_until = until
        return True

    async def release(self) -> None:
        lease = messaging.relay_lease
        with contextlib.suppress(Exception):
            async with self.sessions() as session, session.begin():
                await session.execute(
                    lease.update()
                    .where(lease.c.name == LEASE_NAME, lease.c.holder == self.holder)
                    .values(expires_at=None)
                )

    async def _resolve_uncertain(self, session: AsyncSession) -> None:
        """Rows a previous holder left in ``sending`` go out again with the same Message-ID:
        most were claimed and never started; at most one per connection may have reached the
        server in the instant before its "sent" mark was committed."""
        now = now_utc()
        result = await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.status == "sending")
            .values(status="queued", next_attempt_at=now)
        )
        mails = await session.execute(
            update(MailRow).where(MailRow.status == "sending").values(status="queued", next_attempt_at=now)
        )
        count = (result.rowcount or 0) + (mails.rowcount or 0)
        if count:
            self.stats.uncertain_resolved += count
            log.warning("%d mails were left in 'sending' by a stopped sender; sending them again", count)

    # ------------------------------------------------------------ running

    async def run(self) -> None:
        """Send forever (until cancelled) while holding the lease."""
        async with self.sessions() as session:
            cutoff = now_utc() - timedelta(hours=1)
            recent = await session.scalars(select(DeliveryRow.sent_at).where(DeliveryRow.sent_at > cutoff))
            self.limiter.window.extend(sorted(t.timestamp() for t in recent))
        tasks = [asyncio.create_task(self.committer.run(), name="newsletter committer")]
        tasks += [
            asyncio.create_task(self._connection_loop(), name=f"newsletter smtp {i}")
            for i in range(self.deps.settings.smtp_concurrency)
        ]
        tasks.append(asyncio.create_task(self._claim_loop(), name="newsletter claims"))
        tasks.append(asyncio.create_task(self._mail_loop(), name="newsletter transactional"))
        try:
            await self._dispatch_loop()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.release()

    async def _dispatch_loop(self) -> None:
        """Renew the lease, start due campaigns, keep the connections' queue filled, finish
        campaigns. Database work here is rare and short: on SQLite every transaction holds the
        write lock, and the group committer must not wait behind it."""
        poll = self.deps.settings.delivery_poll_seconds
        last_renewal = last_enqueue = 0.0
        while True:
            try:
                if time.monotonic() - last_renewal > self.lease_seconds / 3 or self.lease_until is None:
                    if not await self.hold_lease():
                        await asyncio.sleep(min(self.lease_seconds / 3, 2.0))
                        continue
                    last_renewal = time.monotonic()
                if self.deps.campaigns_pending.is_set() or time.monotonic() - last_enqueue > max(poll, 1.0):
                    self.deps.campaigns_pending.clear()
                    last_enqueue = time.monotonic()
                    async with self.sessions() as session:
                        await service.enqueue_due_campaigns(session=session, deps=self.deps)
                    async with self.sessions() as session:
                        self.paused = set(
                            await session.scalars(
                                select(CampaignRow.id).where(CampaignRow.status == "paused")
                            )
                        )
                if self.queue.qsize() > self.queue.maxsize // 2:
                    await asyncio.sleep(0.02)
                    continue
                handed = await self._hand_out()
                if not handed and not self.in_flight:
                    async with self.sessions() as session:
                        await service.finish_campaigns(session=session, deps=self.deps)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("newsletter dispatcher failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if not handed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.deps.campaigns_pending.wait(), 0.05 if self.in_flight else poll
                    )

    async def _hand_out(self) -> int:
        """Put due queued rows of sending campaigns into the connections' queue; the read
        transaction is closed before any waiting (on SQLite it holds the write lock)."""
        free = self.queue.maxsize - self.queue.qsize()
        sending = select(CampaignRow.id).where(CampaignRow.status == "sending")
        async with self.sessions() as session:
            self.paused = set(
                await session.scalars(select(CampaignRow.id).where(CampaignRow.status == "paused"))
            )
            rows = (
                await session.execute(
                    select(
                        DeliveryRow.id,
                        DeliveryRow.campaign_id,
                        DeliveryRow.subscriber_id,
                        DeliveryRow.list_id,
                        DeliveryRow.email,
                        DeliveryRow.name,
                        DeliveryRow.attempts,
                    )
                    .where(
                        DeliveryRow.status == "queued",
                        DeliveryRow.next_attempt_at <= now_utc(),
                        DeliveryRow.campaign_id.in_(sending),
                    )
                    .order_by(DeliveryRow.id)
                    .limit(free + len(self.in_flight))
                )
            ).all()
        handed = 0
        for row in rows:
            if row[0] in self.in_flight:
                continue
            if handed >= free:
                break
            self.in_flight.add(row[0])
            self.queue.put_nowait(Job(*row))
            handed += 1
        return handed

    async def _prepared(self, campaign_id: str) -> tuple[templates.PreparedMessage, str]:
        """The campaign rendered once (the first connection to need it renders, the others wait
        for that); raises ``TemplateRefused`` when it does not render."""
        rendering = self.prepared.get(campaign_id)
        if rendering is None:
            rendering = self.prepared[campaign_id] = asyncio.ensure_future(self._render(campaign_id))
        try:
            return await asyncio.shield(rendering)
        except templates.TemplateRefused:
            raise
        except Exception:
            if self.prepared.get(campaign_id) is rendering:  # e.g. the database was away: try again
                del self.prepared[campaign_id]
            raise

    async def _render(self, campaign_id: str) -> tuple[templates.PreparedMessage, str]:
        async with self.sessions() as session:
            campaign = await session.get(CampaignRow, campaign_id)
            assert campaign is not None
            sender = email.utils.parseaddr(campaign.sender or self.deps.settings.sender)[1]
            prepared = await service.prepared_message(session, self.deps, campaign)
        return prepared, sender

    async def _claim_loop(self) -> None:
        """Claim handed-out rows in bulk (queued → sending, one commit) ahead of the connections,
        so no connection waits for the database. A claimed row whose mail has not started is
        simply sent after a crash; only a mail inside its SMTP transaction can be ambiguous."""
        batch = self.ready.maxsize
        while True:
            jobs = [await self.queue.get()]
            while len(jobs) < batch and not self.queue.empty():
                jobs.append(self.queue.get_nowait())
            try:
                wanted = [j for j in jobs if j.campaign_id not in self.paused]
                claimed = await self.committer.claim([j.row_id for j in wanted]) if wanted else {}
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming rows failed")
                claimed = {}
            for job in jobs:
                attempt_id = claimed.get(job.row_id)
                if attempt_id is None:
                    self.in_flight.discard(job.row_id)
                else:
                    await self.ready.put((job, attempt_id))

    async def _connection_loop(self) -> None:
        """One SMTP connection sending claimed rows one by one."""
        connection = Connection(self.deps)
        try:
            while True:
                job, attempt_id = await self.ready.get()
                try:
                    await self._deliver(connection, job, attempt_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery of row %s failed unexpectedly", job.row_id)
                finally:
                    self.in_flight.discard(job.row_id)
        finally:
            await connection.close()

    async def _deliver(self, connection: Connection, job: Job, attempt_id: str) -> None:
        if job.campaign_id in self.paused:
            self.committer.submit(self._release(job, attempt_id))
            return
        await self.limiter.acquire()
        if job.campaign_id in self.paused:  # paused while waiting for the rate limit
            self.committer.submit(self._release(job, attempt_id))
            return
        try:
            prepared, sender = await self._prepared(job.campaign_id)
            message = prepared.personalise(
                to=job.email,
                subscriber_id=job.subscriber_id,
                name=job.name,
                unsubscribe_url=self.deps.unsubscribe_url(job.subscriber_id, job.list_id, job.campaign_id),
                preferences_url=self.deps.preferences_url(job.subscriber_id),
            )
        except templates.TemplateRefused as refused:
            outcome = Outcome("failed", None, f"template {refused}")
            self.committer.submit(self._record(job, attempt_id, outcome))
            return
        except (UnicodeError, ValueError) as error:  # this recipient's values do not fit in a mail
            reason = f"not renderable for this recipient: {type(error).__name__}: {error}"
            self.committer.submit(self._record(job, attempt_id, Outcome("failed", None, reason)))
            return
        outcome = await connection.send(sender, job.email, message)
        if outcome.kind == "sent":
            self.stats.sent += 1
            self.committer.mark_sent(job.row_id, attempt_id)
        else:
            self.committer.submit(self._record(job, attempt_id, outcome))

    def _release(self, job: Job, attempt_id: str) -> Op:
        async def release(session: AsyncSession) -> None:
            await session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == job.row_id,
                    DeliveryRow.attempt_id == attempt_id,
                    DeliveryRow.status == "sending",
                )
                .values(status="queued", attempts=DeliveryRow.attempts - 1)
            )

        return release

    def _record(self, job: Job, attempt_id: str, outcome: Outcome) -> Op:
        settings = self.deps.settings
        mine = and_(
            DeliveryRow.id == job.row_id,
            DeliveryRow.attempt_id == attempt_id,
            DeliveryRow.status == "sending",
        )

        async def record(session: AsyncSession) -> None:
            now = now_utc()
            if outcome.kind == "bounced":
                self.stats.bounced += 1
                await session.execute(
                    update(DeliveryRow).where(mine).values(status="bounced", last_error=outcome.detail[:500])
                )
                await service.record_bounce(
                    session=session,
                    deps=self.deps,
                    email=None,
                    subscriber_id=job.subscriber_id,
                    campaign_id=job.campaign_id,
                    kind="hard",
                    source="smtp",
                    status=str(outcome.code),
                    reason=outcome.detail,
                )
            elif outcome.kind == "failed" or job.attempts + 1 >= settings.max_attempts:
                self.stats.failed += 1
                await session.execute(
                    update(DeliveryRow).where(mine).values(status="failed", last_error=outcome.detail[:500])
                )
            else:
                self.stats.retried += 1
                delay = domain.retry_delay_seconds(job.attempts + 1, settings.retry_base_seconds)
                await session.execute(
                    update(DeliveryRow)
                    .where(mine)
                    .values(
                        status="queued",
                        last_error=outcome.detail[:500],
                        next_attempt_at=now + timedelta(seconds=delay),
                    )
                )

        return record

    # ------------------------------------------------------------ transactional mails

    async def _mail_loop(self) -> None:
        connection = Connection(self.deps)
        settings = self.deps.settings
        try:
            while True:
                sent_any = False
                if self.lease_until is not None:
                    async with self.sessions() as session, session.begin():
                        mails = list(
                            await session.scalars(
                                select(MailRow)
                                .where(MailRow.status == "queued", MailRow.next_attempt_at <= now_utc())
                                .order_by(MailRow.id)
                                .limit(50)
                            )
                        )
                    for mail in mails:
                        sent_any = True
                        await self._send_mail(connection, mail, settings)
                if not sent_any:
                    self.deps.mail_pending.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.deps.mail_pending.wait(), max(settings.delivery_poll_seconds, 1.0)
                        )
        finally:
            await connection.close()

    async def _send_mail(self, connection: Connection, mail: MailRow, settings: Any) -> None:
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(MailRow)
                .where(MailRow.id == mail.id, MailRow.status == "queued")
                .values(status="sending", attempts=MailRow.attempts + 1)
            )
        if not claimed.rowcount:
            return
        sender = email.utils.parseaddr(settings.sender)[1]
        outcome = await connection.send(sender, mail.recipient, mail.message)
        now = now_utc()
        if outcome.kind == "sent":
            values: dict[str, Any] = {"status": "sent", "sent_at": now}
        elif outcome.kind == "bounced":  # the address is suppressed from now on
            values = {"status": "bounced", "last_error": outcome.detail[:500]}
        elif mail.attempts + 1 >= settings.max_attempts:
            values = {"status": "failed", "last_error": outcome.detail[:500]}
        else:
            delay = domain.retry_delay_seconds(mail.attempts + 1, settings.retry_base_seconds)
            values = {
                "status": "queued",
                "last_error": outcome.detail[:500],
                "next_attempt_at": now + timedelta(seconds=delay),
            }
        async with self.sessions() as session, session.begin():
            await session.execute(update(MailRow).where(MailRow.id == mail.id).values(**values))
            if outcome.kind == "bounced":
                await service.record_bounce(
                    session=session,
                    deps=self.deps,
                    email=mail.recipient,
                    kind="hard",
                    source="smtp",
                    status=str(outcome.code),
                    reason=outcome.detail,
                )


async def send_mail(deps: Deps) -> None:
    """The sender as a background loop of the service: sends while it holds the lease."""
    await Sender(deps, deps.sessions, lease_seconds=deps.settings.sender_lease_seconds).run()


async def send_test(
    *, session: AsyncSession, deps: Deps, campaign_id: str, emails: list[str], name: str
) -> TestSendResult:
    """Send a campaign at once to a few test addresses over a fresh connection (no statistics)."""
    addresses = []
    for index, raw in enumerate(emails):
        try:
            addresses.append(domain.normalise_email(raw))
        except domain.InvalidAddress as error:
            raise ProblemError(
                422,
                "Invalid address",
                str(error),
                invalid_params=[InvalidParam(name=f"emails.{index}", reason=str(error))],
            ) from error
    async with session.begin():
        campaign = await session.get(CampaignRow, campaign_id)
        if campaign is None:
            raise ProblemError(404, "Not Found", f"No campaign {campaign_id}.")
    sender = email.utils.parseaddr(campaign.sender or deps.settings.sender)[1]
    list_id = campaign.list_ids[0]
    try:
        prepared = await service.prepared_message(session, deps, campaign)
    except templates.TemplateRefused as error:
        raise service.template_problem(error) from error
    connection = Connection(deps)
    try:
        for address in addresses:
            pseudonym = str(uuid.uuid4())
            message = prepared.personalise(
                to=address,
                subscriber_id=pseudonym,
                name=name,
                unsubscribe_url=deps.unsubscribe_url(pseudonym, list_id, None),
                preferences_url=deps.preferences_url(pseudonym),
            )
            outcome = await connection.send(sender, address, message)
            if outcome.kind != "sent":
                raise ProblemError(502, "Test send failed", f"{address}: {outcome.detail}")
    finally:
        await connection.close()
    return TestSendResult(sent=addresses)
