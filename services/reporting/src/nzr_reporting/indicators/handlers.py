"""Event handlers that build the reporting projections (the routing table).

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

from nzr_common.contracts import actors, events, funding, newsletter, reporting
from nzr_common.contracts.base import Envelope, IntegrationEvent
from nzr_common.messaging import AnyHandler, EventHandlers, Handler
from nzr_reporting.bootstrap import Deps
from nzr_reporting.goals.models import GoalFact, MeasureFact
from nzr_reporting.indicators.models import (
    ActorFact,
    AgreementFact,
    AgreementStatusChange,
    CampaignFact,
    CooperationFact,
    FundingMatchFact,
    FundingSearchFact,
    GatheringFact,
    ListReachSnapshot,
    RecommendationFact,
)
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


Route = tuple[type[IntegrationEvent], AnyHandler[Deps]]
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


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@cache
def _fill(*names: str) -> Update:
    """Take the proposed value where it is known, keep the stored one otherwise."""
    return lambda new, old: {n: func.coalesce(getattr(new, n), getattr(old, n)) for n in names}


@cache
def _keep(*names: str) -> Update:
    """Keep the stored value where it is known (a later fact already said it)."""
    return lambda new, old: {n: func.coalesce(getattr(old, n), getattr(new, n)) for n in names}


def _later_event(new: Any, old: Any) -> dict[str, Any]:
    return {
        "last_event_at": case(
            (new.last_event_at > old.last_event_at, new.last_event_at), else_=old.last_event_at
        )
    }


async def touch_region(session: AsyncSession, region: str, at: datetime) -> None:
    """The region's last event happened at ``at`` (kept only if it is the latest)."""
    await upsert_latest(
        session, RegionFreshness, {"region": region, "last_event_at": at}, _later_event, newer="last_event_at"
    )


PROFILE = ("district", "kind", "sector", "topics")


def _newer_profile(new: Any, old: Any) -> dict[str, Any]:
    newer = new.profile_version >= old.profile_version
    changes = {n: case((newer, getattr(new, n)), else_=getattr(old, n)) for n in PROFILE}
    changes["profile_version"] = case((newer, new.profile_version), else_=old.profile_version)
    return changes


def _registration(new: Any, old: Any) -> dict[str, Any]:
    return {
        **_newer_profile(new, old),
        "registered_at": new.registered_at,
        "registered_on": new.registered_on,
    }


@projection(actors.ActorRegistered)
async def actor_registered(session: AsyncSession, envelope: Envelope[actors.ActorRegistered]) -> None:
    event = envelope.data
    await upsert(
        session,
        ActorFact,
        {
            "region": envelope.region,
            "actor_id": event.actor_id,
            "district": event.district,
            "kind": event.kind,
            "sector": event.sector,
            "topics": sorted(set(event.topics)),
            "profile_version": 1,
            "registered_at": event.registered_at,
            "registered_on": _day(event.registered_at),
        },
        _registration,
    )


@projection(actors.ActorUpdated)
async def actor_updated(session: AsyncSession, envelope: Envelope[actors.ActorUpdated]) -> None:
    event = envelope.data
    await upsert(
        session,
        ActorFact,
        {
            "region": envelope.region,
            "actor_id": event.actor_id,
            "district": event.district,
            "kind": event.kind,
            "sector": event.sector,
            "topics": sorted(set(event.topics)),
            "profile_version": event.version,
        },
        _newer_profile,
    )


@projection(actors.ActorRemoved)
async def actor_removed(session: AsyncSession, envelope: Envelope[actors.ActorRemoved]) -> None:
    event = envelope.data
    await upsert(
        session,
        ActorFact,
        {
            "region": envelope.region,
            "actor_id": event.actor_id,
            "topics": [],
            "profile_version": 0,
            "removed_on": _day(event.removed_at),
        },
        _fill("removed_on"),
    )


@projection(actors.CooperationRecorded)
async def cooperation_recorded(session: AsyncSession, envelope: Envelope[actors.CooperationRecorded]) -> None:
    event = envelope.data
    await upsert(
        session,
        CooperationFact,
        {
            "region": envelope.region,
            "cooperation_id": event.cooperation_id,
            "actor_a": event.actor_a,
            "actor_b": event.actor_b,
            "cooperation_type": event.cooperation_type,
            "cross_sector": event.cross_sector,
            "origin_agreement_id": event.origin_agreement_id,
            "since": event.since,
        },
        _fill("actor_a", "actor_b", "cooperation_type", "cross_sector", "origin_agreement_id", "since"),
    )


@projection(actors.CooperationEnded)
async def cooperation_ended(session: AsyncSession, envelope: Envelope[actors.CooperationEnded]) -> None:
    event = envelope.data
    await upsert(
        session,
        CooperationFact,
        {
            "region": envelope.region,
            "cooperation_id": event.cooperation_id,
            "until": event.until,
        },
        _fill("until"),
    )


@projection(actors.ResourceOffered)
async def resource_offered(session: AsyncSession, envelope: Envelope[actors.ResourceOffered]) -> None:
    """Resources are not an indicator yet; the event still tells that the region is alive."""


async def _gathering_facts(session: AsyncSession, envelope: Envelope[Any], *, overrides: bool) -> None:
    event = envelope.data
    await upsert(
        session,
        GatheringFact,
        {
            "region": envelope.region,
            "event_id": event.event_id,
            "format": event.format,
            "district": event.district,
            "starts_on": _day(event.starts_at),
        },
        (_fill if overrides else _keep)("format", "district", "starts_on"),
    )


@projection(events.EventPublished)
async def event_published(session: AsyncSession, envelope: Envelope[events.EventPublished]) -> None:
    await _gathering_facts(session, envelope, overrides=False)


@projection(events.EventUpdated)
async def event_updated(session: AsyncSession, envelope: Envelope[events.EventUpdated]) -> None:
    await _gathering_facts(session, envelope, overrides=True)


@projection(events.EventCancelled)
async def event_cancelled(session: AsyncSession, envelope: Envelope[events.EventCancelled]) -> None:
    event = envelope.data
    await upsert(
        session,
        GatheringFact,
        {
            "region": envelope.region,
            "event_id": event.event_id,
            "cancelled_on": _day(event.cancelled_at),
        },
        _fill("cancelled_on"),
    )


@projection(events.EventCompleted)
async def event_completed(session: AsyncSession, envelope: Envelope[events.EventCompleted]) -> None:
    event = envelope.data
    await upsert(
        session,
        GatheringFact,
        {
            "region": envelope.region,
            "event_id": event.event_id,
            "format": event.format,
            "district": event.district,
            "participants": event.participants,
            "completed_on": _day(event.completed_at),
        },
        _fill("format", "district", "participants", "completed_on"),
    )


@projection(events.AttendanceRecorded)
async def attendance_recorded(session: AsyncSession, envelope: Envelope[events.AttendanceRecorded]) -> None:
    event = envelope.data
    await upsert(
        session,
        GatheringFact,
        {
            "region": envelope.region,
            "event_id": event.event_id,
            "attended": event.attended,
        },
        _fill("attended"),
    )


@projection(events.AgreementRecorded)
async def agreement_recorded(session: AsyncSession, envelope: Envelope[events.AgreementRecorded]) -> None:
    event = envelope.data
    await upsert(
        session,
        AgreementFact,
        {
            "region": envelope.region,
            "agreement_id": event.agreement_id,
            "event_id": event.event_id,
            "parties": len(event.party_actor_ids),
            "due_date": event.due_date,
            "initial_status": event.status,
            "recorded_at": envelope.time,
        },
        _fill("event_id", "parties", "due_date", "initial_status", "recorded_at"),
    )


@projection(events.AgreementStatusChanged)
async def agreement_status_changed(
    session: AsyncSession, envelope: Envelope[events.AgreementStatusChanged]
) -> None:
    event = envelope.data
    await upsert(
        session,
        AgreementStatusChange,
        {
            "region": envelope.region,
            "agreement_id": event.agreement_id,
            "at": event.changed_at,
            "status": event.status,
        },
    )


@projection(events.RecommendationRecorded)
async def recommendation_recorded(
    session: AsyncSession, envelope: Envelope[events.RecommendationRecorded]
) -> None:
    event = envelope.data
    await upsert(
        session,
        RecommendationFact,
        {
            "region": envelope.region,
            "recommendation_id": event.recommendation_id,
            "event_id": event.event_id,
            "recorded_on": _day(envelope.time),
        },
    )


def _later_snapshot(new: Any, old: Any) -> dict[str, Any]:
    later = new.at >= old.at
    return {
        "confirmed_subscribers": case((later, new.confirmed_subscribers), else_=old.confirmed_subscribers),
        "at": case((later, new.at), else_=old.at),
    }


async def _reach(
    session: AsyncSession, envelope: Envelope[Any], list_id: str, confirmed: int, at: datetime
) -> None:
    await upsert(
        session,
        ListReachSnapshot,
        {
            "region": envelope.region,
            "list_id": list_id,
            "on_date": _day(at),
            "at": at,
            "confirmed_subscribers": confirmed,
        },
        _later_snapshot,
    )


@projection(newsletter.SubscriptionConfirmed)
async def subscription_confirmed(
    session: AsyncSession, envelope: Envelope[newsletter.SubscriptionConfirmed]
) -> None:
    event = envelope.data
    await _reach(session, envelope, event.list_id, event.confirmed_subscribers, event.confirmed_at)


@projection(newsletter.Unsubscribed)
async def unsubscribed(session: AsyncSession, envelope: Envelope[newsletter.Unsubscribed]) -> None:
    event = envelope.data
    await _reach(session, envelope, event.list_id, event.confirmed_subscribers, event.unsubscribed_at)


@projection(newsletter.ListReachChanged)
async def list_reach_changed(session: AsyncSession, envelope: Envelope[newsletter.ListReachChanged]) -> None:
    event = envelope.data
    await _reach(session, envelope, event.list_id, event.confirmed_subscribers, event.as_of)


@projection(newsletter.CampaignSent)
async def campaign_sent(session: AsyncSession, envelope: Envelope[newsletter.CampaignSent]) -> None:
    event = envelope.data
    await upsert(
        session,
        CampaignFact,
        {
            "region": envelope.region,
            "campaign_id": event.campaign_id,
            "recipients": event.recipients,
            "delivered": event.delivered,
            "bounced": event.bounced,
            "finished_on": _day(event.finished_at),
        },
        _fill("recipients", "delivered", "bounced", "finished_on"),
    )


@projection(funding.FundingSearchPerformed)
async def funding_search_performed(
    session: AsyncSession, envelope: Envelope[funding.FundingSearchPerformed]
) -> None:
    event = envelope.data
    await upsert(
        session,
        FundingSearchFact,
        {
            "region": envelope.region,
            "search_id": event.search_id,
            "hits": event.hits,
            "performed_on": _day(event.performed_at),
        },
    )


@projection(funding.FundingMatchRequested)
async def funding_match_requested(
    session: AsyncSession, envelope: Envelope[funding.FundingMatchRequested]
) -> None:
    event = envelope.data
    await upsert(
        session,
        FundingMatchFact,
        {
            "region": envelope.region,
            "match_id": event.match_id,
            "district": event.district,
            "programmes_fully_met": event.programmes_fully_met,
            "performed_on": _day(event.performed_at),
        },
    )


@projection(reporting.GoalDefined)
async def goal_defined(session: AsyncSession, envelope: Envelope[reporting.GoalDefined]) -> None:
    """Every region's goals, so the state shows them side by side."""
    event = envelope.data
    await upsert(
        session,
        GoalFact,
        {
            "region": envelope.region,
            "goal_id": event.goal_id,
            "level": event.level,
            "title": event.title,
            "indicator_id": event.indicator_id,
            "target_value": event.target_value,
            "target_date": event.target_date,
            "defined_at": envelope.time,
            "district": event.district,
        },
    )


def _later_status(new: Any, old: Any) -> dict[str, Any]:
    later = new.changed_at >= old.changed_at
    return {
        "status": case((later, new.status), else_=old.status),
        "changed_at": case((later, new.changed_at), else_=old.changed_at),
    }


@projection(reporting.MeasureStatusChanged)
async def measure_status_changed(
    session: AsyncSession, envelope: Envelope[reporting.MeasureStatusChanged]
) -> None:
    event = envelope.data
    await upsert(
        session,
        MeasureFact,
        {
            "region": envelope.region,
            "measure_id": event.measure_id,
            "goal_id": event.goal_id,
            "status": event.status,
            "changed_at": event.changed_at,
        },
        _later_status,
    )


@projection(reporting.RegionHeartbeat)
async def region_heartbeat(session: AsyncSession, envelope: Envelope[reporting.RegionHeartbeat]) -> None:
    """Only freshness: a quiet but connected region stays current."""
