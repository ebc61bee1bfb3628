"""Sending the transactional mails (``mail_queue``): claimed in batches, sent over several SMTP
connections at once, their outcome recorded in one transaction per batch.

The table is the outbox of the mails: a mail is written there in the transaction of the event
that caused it, so a restart never loses one. A temporary failure (4xx, a lost connection)
defers it with exponential back-off (``rules.retry_delay_seconds``, the delay stored in the row,
so the back-off survives restarts); a permanent one (5xx) marks it ``bounced`` with the server's
reply and suppresses the address; when the attempts run out it is ``failed`` with the last
reason. Rows a stopped sender left in ``sending`` are queued again when the lease is taken."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.bounces import service as bounces
from nzr_newsletter.delivery import rules
from nzr_newsletter.delivery.smtp import Connection, Outcome
from nzr_newsletter.transactional.models import MailRow

log = logging.getLogger(__name__)

#: Statuses of a mail the loop sends (a deferred one once its back-off has passed).
SENDABLE = ("queued", "deferred")


@dataclass
class Claimed:
    id: int
    recipient: str
    message: bytes
    attempts: int  # including this one


class MailLoop:
    """Sends due transactional mails while ``holding()`` says this process holds the lease."""

    def __init__(
        self, deps: Deps, sessions: async_sessionmaker[AsyncSession], holding: Callable[[], bool]
    ) -> None:
        self.deps = deps
        self.sessions = sessions
        self.holding = holding
        settings = deps.settings
        self.connections = [Connection(deps) for _ in range(max(settings.smtp_concurrency, 1))]
        self.batch = max(settings.smtp_concurrency * settings.claim_ahead, 1) * 2
        self._recording: asyncio.Task[None] | None = None
        due = (
            select(MailRow.id)
            .where(MailRow.status.in_(SENDABLE), MailRow.next_attempt_at <= bindparam("now"))
            .order_by(MailRow.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        self._claiming = (
            update(MailRow)
            .where(MailRow.id.in_(due.scalar_subquery()), MailRow.status.in_(SENDABLE))
            .values(status="sending", attempts=MailRow.attempts + 1)
            .returning(MailRow.id, MailRow.recipient, MailRow.message, MailRow.attempts)
            .execution_options(synchronize_session=False)
        )

    async def run(self) -> None:
        settings = self.deps.settings
        try:
            while True:
                # Cleared before claiming: a mail committed while this batch is claimed or sent
                # sets it again, and the loop comes back at once instead of after a poll.
                self.deps.mail_pending.clear()
                sent_any = False
                if self.holding():
                    try:
                        sent_any = await self.send_due()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("sending transactional mails failed; retrying")
                        await asyncio.sleep(1.0)
                if not sent_any:
                    await self._recorded()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.deps.mail_pending.wait(), max(settings.delivery_poll_seconds, 0.05)
                        )
        finally:
            with contextlib.suppress(Exception):
                await self._recorded()
            for connection in self.connections:
                await connection.close()

    async def send_due(self) -> bool:
        """Claim one batch of due mails, send it and record the outcomes (in the background,
        while the next batch is claimed and sent); False when none was due."""
        claimed = await self._claim()
        if not claimed:
            return False
        sender = email.utils.parseaddr(self.deps.settings.sender)[1]
        jobs: asyncio.Queue[Claimed] = asyncio.Queue()
        for mail in claimed:
            jobs.put_nowait(mail)
        outcomes: dict[int, Outcome] = {}

        async def work(connection: Connection) -> None:
            while not jobs.empty():
                mail = jobs.get_nowait()
                outcomes[mail.id] = await connection.send(sender, mail.recipient, mail.message)

        used = self.connections[: max(1, min(len(self.connections), len(claimed)))]
        await asyncio.gather(*(work(c) for c in used))
        # One recording at a time, in order: the previous batch's must be done before this
        # one's starts.
        await self._recorded()
        self._recording = asyncio.create_task(
            self._record(claimed, outcomes), name=f"mails {claimed[0].id}…{claimed[-1].id}"
        )
        return True

    async def _recorded(self) -> None:
        """Wait for the outcomes being recorded. A batch whose outcomes could not be recorded
        (the database gone) stays ``sending`` and goes out again when the lease is next taken,
        as after a crash; the next batch is recorded all the same."""
        recording, self._recording = self._recording, None
        if recording is None:
            return
        try:
            await recording
        except Exception:
            name = recording.get_name()
            log.exception("recording the outcomes of %s failed; they are sent again later", name)

    async def _claim(self) -> list[Claimed]:
        """Mark a batch of due mails ``sending`` and return them: one statement (built once),
        rows another sender holds locked are skipped."""
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(self._claiming, {"now": datetime.now(UTC)})).all()
        return sorted((Claimed(r.id, r.recipient, r.message, r.attempts) for r in rows), key=lambda m: m.id)

    async def _record(self, claimed: list[Claimed], outcomes: dict[int, Outcome]) -> None:
        settings = self.deps.settings
        now = datetime.now(UTC)
        sent = [m.id for m in claimed if outcomes[m.id].kind == "sent"]
        async with self.sessions() as session, session.begin():
            if sent:
                await session.execute(
                    update(MailRow)
                    .where(MailRow.id.in_(sent))
                    .values(status="sent", sent_at=now, last_error=None)
                )
            for mail in claimed:
                outcome = outcomes[mail.id]
                if outcome.kind == "sent":
                    continue
                values: dict[str, Any] = {"last_error": outcome.detail[:500]}
                if outcome.kind == "bounced":  # refused for good: the address is suppressed from now on
                    values["status"] = "bounced"
                elif outcome.kind == "failed" or mail.attempts >= settings.mail_max_attempts:
                    values["status"] = "failed"
                else:
                    delay = rules.retry_delay_seconds(mail.attempts, settings.retry_base_seconds)
                    values.update(status="deferred", next_attempt_at=now + timedelta(seconds=delay))
                await session.execute(update(MailRow).where(MailRow.id == mail.id).values(**values))
                if outcome.kind == "bounced":
                    await bounces.record_bounce(
                        session=session,
                        deps=self.deps,
                        email=mail.recipient,
                        kind="hard",
                        source="smtp",
                        status=str(outcome.code),
                        reason=outcome.detail,
                    )
        if len(sent) < len(claimed):
            log.info("transactional mails: %d sent, %d not (yet)", len(sent), len(claimed) - len(sent))
