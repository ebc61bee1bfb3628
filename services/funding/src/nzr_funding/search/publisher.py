"""The periodic search-usage publisher: a ``ServiceDefinition.background`` loop of the funding
service that writes the searches gathered by ``SearchUsage`` to the outbox."""

import asyncio
import logging

from nzr_funding.bootstrap import Deps

log = logging.getLogger(__name__)


async def publish_searches_periodically(deps: Deps) -> None:
    """Flush the search usage every ``search_events_flush_seconds`` until cancelled (and once
    more then)."""
    usage, every = deps.search_usage, deps.settings.search_events_flush_seconds
    try:
        while True:
            await asyncio.sleep(every)
            try:
                await usage.flush(deps.sessions, deps.outbox)
            except Exception:
                log.exception("could not record %d searches; trying again next round", usage.pending)
    except asyncio.CancelledError:
        try:
            await asyncio.wait_for(usage.flush(deps.sessions, deps.outbox), 2.0)
        except Exception:
            log.warning("%d searches not recorded at shutdown", usage.pending)
        raise


#: The task's name in the runtime.
publish_searches_periodically.__name__ = "search usage"
