"""One SMTP connection, the outcome of a send and the sending rate limit. aiosmtplib is imported
with the first mail sent (an idle service does not hold it; issue #20)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiolimiter import AsyncLimiter

from nzr_common.metrics import count_mail
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.delivery import rules

if TYPE_CHECKING:
    import aiosmtplib


class RateLimiter:
    """Messages per second, evenly spaced (aiolimiter's leaky bucket holding one message), and
    per rolling hour: an exact window over the send times, seeded from the database when the
    sender starts, so a restart does not grant a fresh hour. (A leaky bucket of the hourly quota
    would let up to twice the quota through within some hour, which providers refuse.)"""

    def __init__(
        self, per_second: float, per_hour: int, sent_in_last_hour: list[float] | None = None
    ) -> None:
        self.spacing = AsyncLimiter(1, 1.0 / per_second) if per_second > 0 else None
        self.per_hour = per_hour
        self.window: collections.deque[float] = collections.deque(sorted(sent_in_last_hour or []))
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.per_hour:
            async with self.lock:
                while True:
                    now = time.time()
                    while self.window and self.window[0] <= now - 3600:
                        self.window.popleft()
                    if len(self.window) < self.per_hour:
                        self.window.append(now)
                        break
                    await asyncio.sleep(self.window[0] + 3600 - now)
        if self.spacing is not None:
            await self.spacing.acquire()


@dataclass
class Outcome:
    """What an SMTP attempt ended with."""

    kind: str  # sent | retry | bounced | failed (the mail could not be built: no retry)
    code: int | None = None
    detail: str = ""


def _outcome_of(error: Exception) -> Outcome:
    import aiosmtplib

    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusal = error.recipients[0] if error.recipients else None
        code = refusal.code if refusal else 550
        message = refusal.message if refusal else str(error)
        kind = "bounced" if rules.is_permanent_failure(code) else "retry"
        return Outcome(kind, code, f"{code} {message}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        kind = "bounced" if rules.is_permanent_failure(error.code) else "retry"
        return Outcome(kind, error.code, f"{error.code} {error.message}")
    return Outcome("retry", None, f"{type(error).__name__}: {error}")


class Connection:
    """One SMTP connection, opened on demand and reopened after it broke."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Hand one mail to the SMTP server; the outcome counts in ``nzr_mail_deliveries_total``."""
        outcome = await self._attempt(sender, recipient, message)
        count_mail(outcome.kind)
        return outcome

    async def _attempt(self, sender: str, recipient: str, message: bytes) -> Outcome:
        import aiosmtplib

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
                    if self.client is not None:
                        await self.client.rset()
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
