"""Projections of the other services' shareable events (actors, gatherings, agreements,
newsletter reach, funding searches) into the fact tables the indicators are computed from."""

from datetime import datetime
from typing import Any

from sqlalchemy import case, null
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts import actors, events, funding, newsletter
from nzr_common.contracts.base import Envelope
from nzr_reporting.indicators.models import (
    BNE_TOPIC,
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
from nzr_reporting.indicators.upserts import upsert
from nzr_reporting.projections import day_of, fill_known, keep_known, projection

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
            "registered_on": day_of(event.registered_at),
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
            "removed_on": day_of(event.removed_at),
        },
        fill_known("removed_on"),
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
        fill_known("actor_a", "actor_b", "cooperation_type", "cross_sector", "origin_agreement_id", "since"),
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
        fill_known("until"),
    )


def _corrected(new: Any, old: Any) -> dict[str, Any]:
    """A correction states the whole corrected state: type and dates as sent (an end may go)."""
    return {"cooperation_type": new.cooperation_type, "since": new.since, "until": new.until}


def _forgotten(new: Any, old: Any) -> dict[str, Any]:
    """A deleted cooperation never existed: without dates it counts nowhere (like a placeholder)."""
    return {"since": null(), "until": null()}


@projection(actors.CooperationCorrected)
async def cooperation_corrected(
    session: AsyncSession, envelope: Envelope[actors.CooperationCorrected]
) -> None:
    event = envelope.data
    await upsert(
        session,
        CooperationFact,
        {
            "region": envelope.region,
            "cooperation_id": event.cooperation_id,
            "cooperation_type": event.cooperation_type,
            "since": event.since,
            "until": event.until,
        },
        _corrected,
    )


@projection(actors.CooperationDeleted)
async def cooperation_deleted(session: AsyncSession, envelope: Envelope[actors.CooperationDeleted]) -> None:
    await upsert(
        session,
        CooperationFact,
        {
            "region": envelope.region,
            "cooperation_id": envelope.data.cooperation_id,
            "since": None,
            "until": None,
        },
        _forgotten,
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
            "starts_on": day_of(event.starts_at),
            "bne": BNE_TOPIC in event.topics,
        },
        (fill_known if overrides else keep_known)("format", "district", "starts_on", "bne"),
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
            "cancelled_on": day_of(event.cancelled_at),
        },
        fill_known("cancelled_on"),
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
            "completed_on": day_of(event.completed_at),
            # Counted in the month the event took place (its start), not of the completing click.
            "starts_on": day_of(event.starts_at) if event.starts_at is not None else None,
            "bne": BNE_TOPIC in event.topics if event.topics else None,
        },
        fill_known("format", "district", "participants", "completed_on", "starts_on", "bne"),
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
            "by_target_group": {k: v for k, v in sorted(event.by_target_group.items()) if v} or None,
        },
        fill_known("attended", "by_target_group"),
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
        fill_known("event_id", "parties", "due_date", "initial_status", "recorded_at"),
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
            "recorded_on": day_of(envelope.time),
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
            "on_date": day_of(at),
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
            "finished_on": day_of(event.finished_at),
        },
        fill_known("recipients", "delivered", "bounced", "finished_on"),
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
            "performed_on": day_of(event.performed_at),
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
            "performed_on": day_of(event.performed_at),
        },
    )
