"""The periodic deadline watch: a ``ServiceDefinition.background`` loop of the funding service."""

import asyncio
import logging

from nzr_funding.bootstrap import Deps
from nzr_funding.deadlines import service

log = logging.getLogger(__name__)


async def watch_deadlines_periodically(deps: Deps) -> None:
    """Look for approaching deadlines every ``deadline_watch_seconds`` until cancelled."""
    settings = deps.settings
    await asyncio.sleep(settings.deadline_watch_first_seconds)
    while True:
        try:
            announced = await service.watch_deadlines(
                sessions=deps.sessions,
                catalogue=deps.catalogue,
                outbox=deps.outbox,
                today=deps.today(),
                thresholds=settings.deadline_thresholds,
            )
            if announced:
                log.info("announced %d approaching deadlines", len(announced))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline watch failed; trying again next round")
        await asyncio.sleep(settings.deadline_watch_seconds)


#: The task's name in the runtime (operators and tests look for "deadline watch").
watch_deadlines_periodically.__name__ = "deadline watch"
