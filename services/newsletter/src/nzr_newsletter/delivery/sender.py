"""The sender: lease, dispatcher, SMTP connections and the transactional mail loop."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.db import rows_affected
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces import service as bounces
from nzr_newsletter.campaigns import service as campaigns
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.delivery import rules, service
from nzr_newsletter.delivery.committer import GroupCommitter, Op
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.delivery.smtp import Connection, Outcome, RateLimiter
from nzr_newsletter.delivery.transactional import MailLoop
from nzr_newsletter.tables import messaging
from nzr_newsletter.transactional.models import MailRow

log = logging.getLogger(__name__)


LEASE_NAME = "newsletter-sender"


def now_utc() -> datetime:
    return datetime.now(UTC)


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
        count = rows_affected(result) + rows_affected(mails)
        if count:
            self.stats.uncertain_resolved += count
            log.warning("%d mails were left in 'sending' by a stopped sender; sending them again", count)

    # ------------------------------------------------------------ running

    async def run(self) -> None:
        """Send forever (until cancelled) while holding the lease."""
        async with self.sessions() as session:
            cutoff = now_utc() - timedelta(hours=1)
            recent = await session.scalars(select(DeliveryRow.sent_at).where(DeliveryRow.sent_at > cutoff))
            self.limiter.window.extend(sorted(t.timestamp() for t in recent if t is not None))
        tasks = [asyncio.create_task(self.committer.run(), name="newsletter committer")]
        tasks += [
            asyncio.create_task(self._connection_loop(), name=f"newsletter smtp {i}")
            for i in range(self.deps.settings.smtp_concurrency)
        ]
        tasks.append(asyncio.create_task(self._claim_loop(), name="newsletter claims"))
        mails = MailLoop(self.deps, self.sessions, holding=lambda: self.lease_until is not None)
        tasks.append(asyncio.create_task(mails.run(), name="newsletter transactional"))
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
        sending = True  # until the first look at the campaigns says otherwise
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
                        open_campaigns = (
                            await session.execute(
                                select(CampaignRow.id, CampaignRow.status).where(
                                    CampaignRow.status.in_(("sending", "paused"))
                                )
                            )
                        ).all()
                    self.paused = {row.id for row in open_campaigns if row.status == "paused"}
                    sending = any(row.status == "sending" for row in open_campaigns)
                if not sending and not self.in_flight and self.queue.empty():
                    # No campaign is sending (as of the last look, at most a second ago, or
                    # since this process last started one): nothing to hand out or finish.
                    # Woken at once when a campaign is sent here; one started elsewhere is
                    # seen within a second.
                    handed = 0
                elif self.queue.qsize() > self.queue.maxsize // 2:
                    await asyncio.sleep(0.02)
                    continue
                else:
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
            prepared = await campaigns.prepared_message(session, self.deps, campaign)
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
                await bounces.record_bounce(
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
                delay = rules.retry_delay_seconds(job.attempts + 1, settings.retry_base_seconds)
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


async def send_mail(deps: Deps) -> None:
    """The sender as a background loop of the service: sends while it holds the lease."""
    await Sender(deps, deps.sessions, lease_seconds=deps.settings.sender_lease_seconds).run()
