"""The routing table of the reporting projections, its decorator and the helpers shared by
the projections of every sub-domain (the complete table: ``nzr_reporting.handlers``).

Every handler is an upsert keyed by (region, aggregate id), so a redelivered event has no
second effect and events may arrive in any order: an update, removal or status change that
comes before the fact it refers to leaves a placeholder row that the late fact completes.
Only shareable (``pub``) events are routed here; nothing personal is ever stored.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.base import Envelope, IntegrationEvent
from nzr_common.messaging import EventHandlers, Handler
from nzr_reporting.bootstrap import Deps
from nzr_reporting.indicators.upserts import Update, upsert, upsert_latest
from nzr_reporting.state.models import RegionFreshness, SkippedEventType


class UnknownEvent(IntegrationEvent):
    """An event of a subscribed producer whose type reporting does not know (yet)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


async def skip_unknown(_deps: Deps, session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Count the skipped event by type, in the transaction that records it in the inbox (so a
    redelivery is not counted twice and the count survives a restart)."""
    await upsert(
        session,
        SkippedEventType,
        {"event_type": envelope.type[:200], "skipped": 1, "last_skipped_at": envelope.time},
        _count_skip,
    )


def _count_skip(new: Any, old: Any) -> dict[str, Any]:
    return {
        "skipped": old.skipped + new.skipped,
        "last_skipped_at": case(
            (new.last_skipped_at > old.last_skipped_at, new.last_skipped_at), else_=old.last_skipped_at
        ),
    }


Route = tuple[type[IntegrationEvent], Handler[Deps]]


SKIP_ROUTE: Route = (UnknownEvent, skip_unknown)


class RoutesSkippingUnknown(dict[str, Route]):
    """The routing table; an event type without a projection is routed to ``skip_unknown``
    instead of being dropped uncounted (only ``get`` falls back, so the subscriptions derived
    from the table stay those of the known types)."""

    def get(self, event_type: str, default: Any = None) -> Any:
        return super().get(event_type) or SKIP_ROUTE


handlers: EventHandlers[Deps] = EventHandlers(consumer="reporting", routes=RoutesSkippingUnknown())


#: A projection: applies one event to the projection tables in the caller's transaction.
Projection = Callable[[AsyncSession, Envelope[Any]], Awaitable[None]]


#: event type → the projection itself, without the freshness refresh
appliers: dict[str, Projection] = {}


#: event type → the handler the rebuild replays with (no freshness refresh: it folds freshness per batch)
replayers: dict[str, Handler[Deps]] = {}


def projection(event_class: type[IntegrationEvent]) -> Callable[[Projection], Projection]:
    """Route ``event_class`` to the decorated projection; after it, every event also refreshes
    its region's freshness, so no projection can forget to."""

    def register(apply: Projection) -> Projection:
        async def apply_only(_deps: Deps, session: AsyncSession, envelope: Envelope[Any]) -> None:
            await apply(session, envelope)

        async def apply_and_touch(_deps: Deps, session: AsyncSession, envelope: Envelope[Any]) -> None:
            await apply(session, envelope)
            await touch_region(session, envelope.region, envelope.time)

        for wrapper in (apply_only, apply_and_touch):
            # Named as the projection, without ``__wrapped__``: the signature stays the handler's.
            wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = (
                apply.__name__,
                apply.__qualname__,
                apply.__doc__,
            )
        handlers.on(event_class)(apply_and_touch)
        appliers[event_class.subject.event_type] = apply
        replayers[event_class.subject.event_type] = apply_only
        return apply

    return register


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@cache
def fill_known(*names: str) -> Update:
    """Take the proposed value where it is known, keep the stored one otherwise."""
    return lambda new, old: {n: func.coalesce(getattr(new, n), getattr(old, n)) for n in names}


@cache
def keep_known(*names: str) -> Update:
    """Keep the stored value where it is known (a later fact already said it)."""
    return lambda new, old: {n: func.coalesce(getattr(old, n), getattr(new, n)) for n in names}


def later_event(new: Any, old: Any) -> dict[str, Any]:
    return {
        "last_event_at": case(
            (new.last_event_at > old.last_event_at, new.last_event_at), else_=old.last_event_at
        )
    }


async def touch_region(session: AsyncSession, region: str, at: datetime) -> None:
    """The region's last event happened at ``at`` (kept only if it is the latest)."""
    await upsert_latest(
        session, RegionFreshness, {"region": region, "last_event_at": at}, later_event, newer="last_event_at"
    )
