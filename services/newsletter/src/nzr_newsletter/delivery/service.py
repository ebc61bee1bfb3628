"""Delivery use cases: queueing due campaigns for the sender, finishing them, test sends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.newsletter import (
    CampaignSent,
)
from nzr_common.errors import DomainError, Invalid, NotFound
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.campaigns import service as campaigns
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.campaigns.schemas import TestSendResult
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.delivery.smtp import Connection
from nzr_newsletter.subscriptions.rules import InvalidAddress, normalise_email

#: The deliveries as a Core table: queued in batches of plain rows (no ORM objects).
delivery_table = cast(Table, DeliveryRow.__table__)


async def enqueue_due_campaigns(*, session: AsyncSession, deps: Deps) -> int:
    """Turn due scheduled campaigns into per-recipient delivery rows, each in one transaction
    (a crash before the commit leaves the campaign scheduled; after it, every row exists)."""
    started = 0
    async with session.begin():
        due = list(
            await session.scalars(
                select(CampaignRow.id).where(
                    CampaignRow.status == "scheduled", CampaignRow.scheduled_at <= datetime.now(UTC)
                )
            )
        )
    for campaign_id in due:
        async with session.begin():
            campaign = await session.get(CampaignRow, campaign_id, with_for_update=True)
            if campaign is None or campaign.status != "scheduled":
                continue
            now = datetime.now(UTC)
            batch: list[dict] = []
            total = 0
            async for subscriber_id, list_id, email, name in campaigns.audience(session, campaign):
                batch.append(
                    {
                        "campaign_id": campaign.id,
                        "subscriber_id": subscriber_id,
                        "list_id": list_id,
                        "email": email,
                        "name": name,
                        "status": "queued",
                        "attempts": 0,
                        "next_attempt_at": now,
                    }
                )
                if len(batch) >= campaigns.ENQUEUE_BATCH:
                    await session.execute(delivery_table.insert(), batch)
                    total += len(batch)
                    batch = []
            if batch:
                await session.execute(delivery_table.insert(), batch)
                total += len(batch)
            campaign.status, campaign.started_at, campaign.recipients = "sending", now, total
            started += 1
    return started


async def finish_campaigns(*, session: AsyncSession, deps: Deps) -> list[str]:
    """Campaigns with no queued or sending mail left are sent; CampaignSent tells the figures."""
    finished = []
    async with session.begin():
        sending = list(await session.scalars(select(CampaignRow.id).where(CampaignRow.status == "sending")))
    for campaign_id in sending:
        async with session.begin():
            open_rows = await session.scalar(
                select(func.count())
                .select_from(DeliveryRow)
                .where(DeliveryRow.campaign_id == campaign_id, DeliveryRow.status.in_(("queued", "sending")))
            )
            campaign = await session.get(CampaignRow, campaign_id)
            if open_rows or campaign is None or campaign.status != "sending":
                continue
            stats = await campaigns.campaign_stats(session, campaign)
            campaign.status, campaign.finished_at = "sent", datetime.now(UTC)
            await deps.outbox.add(
                session,
                CampaignSent(
                    campaign_id=campaign.id,
                    list_ids=campaign.list_ids,
                    recipients=campaign.recipients,
                    delivered=stats.sent,
                    bounced=stats.bounced,
                    finished_at=campaign.finished_at,
                ),
            )
            finished.append(campaign_id)
    return finished


class TestSendFailed(DomainError):
    """The SMTP server refused a test mail (the route answers 502: the fault is upstream)."""

    title = "Test send failed"


async def send_test(
    *, session: AsyncSession, deps: Deps, campaign_id: str, emails: list[str], name: str
) -> TestSendResult:
    """Send a campaign at once to a few test addresses over a fresh connection (no statistics)."""
    addresses = []
    for index, raw in enumerate(emails):
        try:
            addresses.append(normalise_email(raw))
        except InvalidAddress as error:
            raise Invalid("Invalid address", [(f"emails.{index}", str(error))], detail=str(error)) from error
    async with session.begin():
        campaign = await session.get(CampaignRow, campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
    sender = parseaddr(campaign.sender or deps.settings.sender)[1]
    list_id = campaign.list_ids[0]
    try:
        prepared = await campaigns.prepared_message(session, deps, campaign)
    except templates.TemplateRefused as error:
        raise campaigns.template_problem(error) from error
    connection = Connection(deps)
    try:
        for address in addresses:
            pseudonym = str(uuid.uuid4())
            message = prepared.personalise(
                to=address,
                subscriber_id=pseudonym,
                name=name,
                unsubscribe_url=deps.unsubscribe_url(pseudonym, list_id, None),
                preferences_url=deps.preferences_url(pseudonym),
            )
            outcome = await connection.send(sender, address, message)
            if outcome.kind != "sent":
                raise TestSendFailed(f"{address}: {outcome.detail}")
    finally:
        await connection.close()
    return TestSendResult(sent=addresses)
