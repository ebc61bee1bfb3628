"""Shareable events as the other services publish them, with realistic German content."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from nzr_common.contracts import actors, events, funding, newsletter

DRESDEN = "14612000"
LEIPZIG = "14713000"
ERZGEBIRGE = "14521000"


def new_id() -> str:
    return str(uuid.uuid4())


def actor(
    *,
    district: str = DRESDEN,
    kind: str = "verein",
    sector: str = "zivilgesellschaft",
    topics: tuple[str, ...] = ("energie_klimaschutz",),
    at: datetime | None = None,
    actor_id: str | None = None,
) -> actors.ActorRegistered:
    return actors.ActorRegistered(
        actor_id=actor_id or new_id(),
        name="Bürgerenergie Elbtal e.V.",
        kind=kind,
        sector=sector,
        district=district,
        topics=list(topics),
        registered_at=at or datetime.now(UTC),
    )


def cooperation(
    a: str,
    b: str,
    *,
    since: date | None = None,
    cross_sector: bool = True,
    origin_agreement_id: str | None = None,
) -> actors.CooperationRecorded:
    return actors.CooperationRecorded(
        cooperation_id=new_id(),
        actor_a=a,
        actor_b=b,
        cooperation_type="projekt",
        since=since or datetime.now(UTC).date(),
        cross_sector=cross_sector,
        origin_agreement_id=origin_agreement_id,
    )


def gathering_completed(
    *,
    fmt: str = "workshop",
    district: str = DRESDEN,
    participants: int = 20,
    at: datetime | None = None,
    starts_at: datetime | None = None,
    topics: tuple[str, ...] = (),
) -> events.EventCompleted:
    return events.EventCompleted(
        event_id=new_id(),
        format=fmt,
        district=district,
        participants=participants,
        completed_at=at or datetime.now(UTC),
        starts_at=starts_at,
        topics=list(topics),
    )


def agreement(event_id: str, parties: list[str], status: str = "offen") -> events.AgreementRecorded:
    return events.AgreementRecorded(
        agreement_id=new_id(), event_id=event_id, party_actor_ids=parties, status=status
    )


def agreement_status(
    agreement_id: str, status: str, at: datetime | None = None
) -> events.AgreementStatusChanged:
    return events.AgreementStatusChanged(
        agreement_id=agreement_id, status=status, changed_at=at or datetime.now(UTC)
    )


def subscription(list_id: str, confirmed: int) -> newsletter.SubscriptionConfirmed:
    return newsletter.SubscriptionConfirmed(
        subscriber_id=new_id(),
        list_id=list_id,
        source="formular",
        confirmed_subscribers=confirmed,
        confirmed_at=datetime.now(UTC),
    )


def campaign(delivered: int) -> newsletter.CampaignSent:
    return newsletter.CampaignSent(
        campaign_id=new_id(),
        list_ids=["l1"],
        recipients=delivered + 1,
        delivered=delivered,
        bounced=1,
        finished_at=datetime.now(UTC),
    )


def search(hits: int = 5) -> funding.FundingSearchPerformed:
    return funding.FundingSearchPerformed(
        search_id=new_id(), filters={"topics": ["mobilitaet"]}, hits=hits, performed_at=datetime.now(UTC)
    )


def match(district: str = DRESDEN) -> funding.FundingMatchRequested:
    return funding.FundingMatchRequested(
        match_id=new_id(),
        actor_kind="verein",
        district=district,
        programmes_fully_met=3,
        performed_at=datetime.now(UTC),
    )
