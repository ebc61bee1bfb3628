"""Registrations for the same event that arrive together share one transaction.

Every registration must hold the event's row lock from its seat decision to its commit, so a
rush (hundreds of people at 9:00 when registration opens) would otherwise queue one commit
after the other. Requests for one event that arrive while a batch is being written wait for
the next batch; each request is answered only after the batch carrying it has committed. The
row lock still guards against other processes, so several replicas stay correct.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.errors import DomainError
from nzr_common.outbox import Outbox
from nzr_events.registrations import service
from nzr_events.registrations.links import RegistrationLinks

log = logging.getLogger(__name__)

Pending = tuple[service.Applicant, "asyncio.Future[service.Registered]"]


class RegistrationBatches:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        consent_text_version: str,
        links: RegistrationLinks,
        max_batch: int = 250,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.consent_text_version = consent_text_version
        self.links = links
        self.max_batch = max_batch
        self._pending: dict[str, list[Pending]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def register(self, event_id: str, applicant: service.Applicant) -> service.Registered:
        """Queue one registration and wait until the batch carrying it has committed."""
        future: asyncio.Future[service.Registered] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(event_id, []).append((applicant, future))
        if event_id not in self._writers:
            self._writers[event_id] = asyncio.create_task(
                self._write(event_id), name=f"registrations {event_id}"
            )
        return await future

    async def _write(self, event_id: str) -> None:
        try:
            while self._pending.get(event_id):
                queued = self._pending.pop(event_id)
                for start in range(0, len(queued), self.max_batch):
                    await self._write_batch(event_id, queued[start : start + self.max_batch])
        finally:
            del self._writers[event_id]

    async def _write_batch(self, event_id: str, batch: Sequence[Pending], *, retry: bool = True) -> None:
        try:
            async with self.sessions() as session:
                results = await service.register_many(
                    session=session,
                    outbox=self.outbox,
                    event_id=event_id,
                    requests=[applicant for applicant, _ in batch],
                    consent_text_version=self.consent_text_version,
                    links=self.links,
                )
        except IntegrityError as error:
            # Another process registered one of these e-mails meanwhile: one by one again, and
            # then the registration found is the other process's (its owner gets a mail).
            if retry:
                for item in batch:
                    await self._write_batch(event_id, [item], retry=False)
                return
            for _, future in batch:
                _settle(future, error)
            return
        except DomainError as problem:  # e.g. the event does not exist
            for _, future in batch:
                _settle(future, problem)
            return
        except Exception as error:
            log.exception("writing %d registrations for %s failed", len(batch), event_id)
            for _, future in batch:
                _settle(future, error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[service.Registered], result: service.Registered | BaseException) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
