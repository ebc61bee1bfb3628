"""The monthly summaries give the state overview the same figures as the sums over the facts."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from nzr_common.contracts import actors, events, funding, newsletter
from nzr_common.contracts.base import Envelope
from nzr_common.db import alembic_config, create_engine, create_sessionmaker, migrate_async
from nzr_common.regions import load_districts
from nzr_reporting.handlers import appliers
from nzr_reporting.indicators import rules as domain
from nzr_reporting.indicators import summaries
from nzr_reporting.indicators.models import DailyFigure, MonthlyFigure
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.indicators.service import all_indicators
from nzr_reporting.indicators.workbook import SummaryWorkbook, Workbook

KINDS = ["verein", "initiative", "kommune", "unternehmen"]
SECTORS = ["zivilgesellschaft", "wirtschaft", "verwaltung_politik"]
STATUSES = ["offen", "in_umsetzung", "umgesetzt", "verworfen"]


def generated_events(regions: list[str], count: int, seed: int) -> list[Envelope[Any]]:
    """Events of every kind the overview counts over 24 months, including updates that move
    actors between districts, removals, ended cooperations, cancellations, status changes and
    late facts that arrive after what refers to them."""
    rng = random.Random(seed)
    districts = list(load_districts())[:6]
    now = datetime.now(UTC)
    known: dict[str, dict[str, list[str]]] = {
        r: {"actors": [], "coops": [], "events": [], "agr": []} for r in regions
    }
    out = []

    def at() -> datetime:
        return now - timedelta(days=rng.uniform(0, 730))

    for _ in range(count):
        region = rng.choice(regions)
        seen = known[region]
        roll = rng.random()
        event: Any
        if roll < 0.2 or len(seen["actors"]) < 2:
            event = actors.ActorRegistered(
                actor_id=str(uuid.uuid4()),
                name="Verein",
                kind=rng.choice(KINDS),
                sector=rng.choice(SECTORS),
                district=rng.choice(districts),
                registered_at=at(),
            )
            seen["actors"].append(event.actor_id)
        elif roll < 0.27:
            event = actors.ActorUpdated(
                actor_id=rng.choice(seen["actors"]),
                name="Verein",
                kind=rng.choice(KINDS),
                sector=rng.choice(SECTORS),
                district=rng.choice(districts),
                updated_at=at(),
                version=rng.randint(2, 9),
            )
        elif roll < 0.31:
            event = actors.ActorRemoved(actor_id=rng.choice(seen["actors"]), removed_at=at())
        elif roll < 0.43:
            event = actors.CooperationRecorded(
                cooperation_id=str(uuid.uuid4()),
                actor_a=rng.choice(seen["actors"]),
                actor_b=rng.choice(seen["actors"]),
                cooperation_type="projekt",
                since=at().date(),
                cross_sector=rng.random() < 0.5,
                origin_agreement_id=str(uuid.uuid4()) if rng.random() < 0.3 else None,
            )
            seen["coops"].append(event.cooperation_id)
        elif roll < 0.47 and seen["coops"]:
            event = actors.CooperationEnded(cooperation_id=rng.choice(seen["coops"]), until=at().date())
        elif roll < 0.57:
            event = events.EventCompleted(
                event_id=str(uuid.uuid4()),
                format=rng.choice(["workshop", "jour_fixe"]),
                district=rng.choice(districts),
                participants=rng.randint(0, 80),
                completed_at=at(),
            )
            seen["events"].append(event.event_id)
        elif roll < 0.6 and seen["events"]:
            event = events.AttendanceRecorded(
                event_id=rng.choice(seen["events"]), confirmed=9, waiting=0, attended=rng.randint(1, 40)
            )
        elif roll < 0.62 and seen["events"]:
            event = events.EventCancelled(event_id=rng.choice(seen["events"]), cancelled_at=at())
        elif roll < 0.7:
            event = events.AgreementRecorded(
                agreement_id=str(uuid.uuid4()),
                event_id=rng.choice(seen["events"] or [str(uuid.uuid4())]),
                party_actor_ids=[rng.choice(seen["actors"])],
                status=rng.choice(STATUSES),
            )
            seen["agr"].append(event.agreement_id)
        elif roll < 0.76 and seen["agr"]:
            event = events.AgreementStatusChanged(
                agreement_id=rng.choice(seen["agr"]), status=rng.choice(STATUSES), changed_at=at()
            )
        elif roll < 0.84:
            event = newsletter.ListReachChanged(
                list_id=f"liste-{rng.randint(1, 3)}", confirmed_subscribers=rng.randint(0, 300), as_of=at()
            )
        elif roll < 0.88:
            delivered = rng.randint(0, 200)
            event = newsletter.CampaignSent(
                campaign_id=str(uuid.uuid4()),
                list_ids=["liste-1"],
                recipients=delivered,
                delivered=delivered,
                bounced=0,
                finished_at=at(),
            )
        elif roll < 0.94:
            event = funding.FundingSearchPerformed(search_id=str(uuid.uuid4()), hits=3, performed_at=at())
        else:
            event = funding.FundingMatchRequested(
                match_id=str(uuid.uuid4()),
                actor_kind="verein",
                district=rng.choice(districts),
                programmes_fully_met=1,
                performed_at=at(),
            )
        envelope = Envelope.wrap(event, region=region, service=event.subject.producer)
        out.append(envelope.model_copy(update={"time": at()}))
    # A tenth arrives out of order (an update or status change before its fact).
    for _ in range(count // 10):
        i, j = rng.randrange(count), rng.randrange(count)
        out[i], out[j] = out[j], out[i]
    return out


async def summary_rows(session: Any, model: Any, period: Any) -> set[tuple[Any, ...]]:
    rows = await session.execute(
        select(model.region, period, model.measure, model.district, model.key, model.amount)
    )
    return {(*row[:5], float(row[5])) for row in rows if row[5]}


async def test_overview_from_summaries_equals_the_sums_over_the_facts_on_every_day(databases):
    regions = [f"sum{uuid.uuid4().hex[:8]}" for _ in range(4)]
    url = await databases.new("reporting")
    await migrate_async("nzr_reporting", url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    rng = random.Random(11)
    envelopes = generated_events(regions, 1500, seed=3)
    try:
        # Applied as the live consumers do: small transactions, each keeping the summaries in step.
        position = 0
        while position < len(envelopes):
            size = rng.choice([1, 1, 3, 20, 80])
            async with sessions() as session, session.begin():
                for envelope in envelopes[position : position + size]:
                    await appliers[envelope.type](session, envelope)
            position += size
        today = datetime.now(UTC).date()
        extra = [today, today.replace(day=1), today - timedelta(days=400), date(today.year - 1, 2, 14)]
        days = [*domain.months_between(today - timedelta(days=760), today), *extra]
        scope = Scope(regions=regions, districts=load_districts())
        async with sessions() as session:
            for day in days:
                facts = await all_indicators(Workbook(session, scope, districts=False), day, set(regions))
                summed = await all_indicators(SummaryWorkbook(session, scope), day, set(regions))
                assert [i.model_dump() for i in summed] == [i.model_dump() for i in facts], day
            assert any(v.value for i in facts for v in i.values), "the generated events count for nothing"
            kept = (
                await summary_rows(session, DailyFigure, DailyFigure.day),
                await summary_rows(session, MonthlyFigure, MonthlyFigure.month),
            )
        # The rebuild computes the summaries once from the projections: the same rows.
        async with sessions() as session, session.begin():
            await session.run_sync(summaries.recompute)
        async with sessions() as session:
            recomputed = (
                await summary_rows(session, DailyFigure, DailyFigure.day),
                await summary_rows(session, MonthlyFigure, MonthlyFigure.month),
            )
        assert recomputed == kept
    finally:
        await engine.dispose()


async def test_upgrade_to_the_summaries_summarises_the_projections_already_there(databases):
    regions = [f"mig{uuid.uuid4().hex[:8]}" for _ in range(2)]
    url = await databases.new("reporting")
    await migrate_async("nzr_reporting", url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            for envelope in generated_events(regions, 300, seed=8):
                await appliers[envelope.type](session, envelope)
        async with sessions() as session:
            kept = await summary_rows(session, MonthlyFigure, MonthlyFigure.month)
        await asyncio.to_thread(command.downgrade, alembic_config("nzr_reporting", url), "0002")
        await migrate_async("nzr_reporting", url)
        async with sessions() as session:
            assert await summary_rows(session, MonthlyFigure, MonthlyFigure.month) == kept
        assert kept
    finally:
        await engine.dispose()
