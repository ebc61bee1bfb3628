"""Campaigns: drafts, templates, preview, scheduling, pausing."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import SQLColumnExpression, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_newsletter import templates
from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.campaigns import rules
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.campaigns.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignStats,
    CampaignUpdate,
    PreviewRead,
)
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.lists.service import lists_by_id
from nzr_newsletter.sorting import order_by
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions import rules as addresses
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.subscriptions.service import check_district
from nzr_newsletter.tracking import rules as tracking_rules
from nzr_newsletter.tracking import service as tracking

#: Rows read and written per round when a campaign is queued for the sender.
ENQUEUE_BATCH = 5000


async def check_campaign(
    session: AsyncSession,
    deps: Deps,
    *,
    subject: str,
    body: str,
    sender: str | None,
    list_ids: list[str],
    districts: list[str],
) -> None:
    await lists_by_id(session, list_ids, public_only=False)
    for district in districts:
        check_district(deps, district, "districts")
    if sender is not None:
        try:
            addresses.normalise_email(sender.rpartition("<")[2].rstrip(">") if "<" in sender else sender)
        except addresses.InvalidAddress as error:
            raise Invalid("Invalid sender", [("sender", str(error))]) from error
    names = list(await session.scalars(select(ListRow.name).where(ListRow.id.in_(list_ids))))
    from nzr_newsletter.sandbox import check_template  # Jinja2 and Markdown: on the first check

    try:
        await check_template(
            subject=subject,
            body=body,
            extra={"list_names": names or ["Beispielliste"], "region": deps.settings.region},
            limits=render_limits(deps),
        )
    except templates.TemplateRefused as error:
        raise template_problem(error) from error


def render_limits(deps: Deps) -> templates.RenderLimits:
    settings = deps.settings
    return templates.RenderLimits(
        max_chars=settings.template_max_chars,
        seconds=settings.template_render_seconds,
        memory_bytes=settings.template_memory_mb * 1024 * 1024,
        workers=deps.template_workers,
    )


def template_problem(error: templates.TemplateRefused) -> Invalid:
    return Invalid("Template does not render", [(error.field, error.reason)])


async def campaign_stats(session: AsyncSession, campaign: CampaignRow) -> CampaignStats:
    counts = dict(
        (
            await session.execute(
                select(DeliveryRow.status, func.count())
                .where(DeliveryRow.campaign_id == campaign.id)
                .group_by(DeliveryRow.status)
            )
        ).all()
    )
    unsubscribed = (
        await session.scalar(
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.unsubscribed_campaign_id == campaign.id)
        )
        or 0
    )
    return CampaignStats(
        recipients=campaign.recipients,
        queued=counts.get("queued", 0),
        sending=counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        bounced=counts.get("bounced", 0),
        unsubscribed_after=unsubscribed,
    )


async def campaign_read(session: AsyncSession, row: CampaignRow, *, stats: bool = True) -> CampaignRead:
    return CampaignRead(
        id=row.id,
        kind=row.kind,
        name=row.name,
        subject=row.subject,
        sender=row.sender,
        body=row.body,
        list_ids=row.list_ids,
        topics=row.topics,
        districts=row.districts,
        status=row.status,
        scheduled_at=row.scheduled_at,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        stats=await campaign_stats(session, row) if stats else None,
    )


async def create_campaign(*, session: AsyncSession, deps: Deps, data: CampaignCreate) -> CampaignRead:
    """Save a campaign draft; a template that does not render is refused now, not at send time."""
    async with session.begin():
        await check_campaign(
            session,
            deps,
            subject=data.subject,
            body=data.body,
            sender=data.sender,
            list_ids=data.list_ids,
            districts=data.districts,
        )
        now = datetime.now(UTC)
        row = CampaignRow(
            id=str(uuid.uuid4()),
            kind="regular",
            status="draft",
            recipients=0,
            context={},
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        session.add(row)
    async with session.begin():
        return await campaign_read(session, row)


async def campaign_row(session: AsyncSession, campaign_id: str) -> CampaignRow:
    row = await session.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFound("campaign", campaign_id)
    return row


async def update_campaign(
    *, session: AsyncSession, deps: Deps, campaign_id: str, data: CampaignUpdate
) -> CampaignRead:
    """Edit a campaign that has not started sending."""
    async with session.begin():
        row = await campaign_row(session, campaign_id)
        if not rules.can_edit(row.status):
            raise Conflict(f"A campaign in status {row.status} cannot be edited.")
        changes = data.model_dump(exclude_unset=True)
        merged = {
            key: changes.get(key, getattr(row, key))
            for key in ("subject", "body", "sender", "list_ids", "districts")
        }
        await check_campaign(session, deps, **merged)
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
    async with session.begin():
        return await campaign_read(session, row)


async def get_campaign(*, session: AsyncSession, campaign_id: str) -> CampaignRead:
    async with session.begin():
        return await campaign_read(session, await campaign_row(session, campaign_id))


#: What the campaign list sorts by (``CampaignSort``); ``status`` follows the life cycle.
CAMPAIGN_SORT_KEYS: dict[str, SQLColumnExpression[Any]] = {
    "created_at": CampaignRow.created_at,
    "scheduled_at": CampaignRow.scheduled_at,
    "name": func.lower(CampaignRow.name),
    "status": case(
        {"draft": 0, "scheduled": 1, "sending": 2, "paused": 3, "sent": 4},
        value=CampaignRow.status,
        else_=5,
    ),
}


async def list_campaigns(
    *, session: AsyncSession, status: str | None, limit: int, offset: int, sort: str = "-created_at"
) -> tuple[list[CampaignRead], int]:
    """A page of campaigns in ``sort`` order (default: newest first) and how many there are."""
    where = [CampaignRow.status == status] if status else []
    query = select(CampaignRow).where(*where).order_by(*order_by(sort, CAMPAIGN_SORT_KEYS, CampaignRow.id))
    async with session.begin():
        rows = await session.scalars(query.limit(limit).offset(offset))
        items = [await campaign_read(session, r, stats=False) for r in rows]
        total = await session.scalar(select(func.count()).select_from(CampaignRow).where(*where)) or 0
    return items, total


async def audience(session: AsyncSession, campaign: CampaignRow) -> AsyncIterator[tuple[str, str, str, str]]:
    """Confirmed, unblocked subscribers of the campaign's lists, topics and districts, streamed
    as (subscriber id, list id, email, name); each subscriber once."""
    query = (
        select(
            SubscriberRow.id,
            SubscriptionRow.list_id,
            SubscriberRow.email,
            SubscriberRow.name,
            SubscriberRow.topics,
        )
        .join(SubscriptionRow, SubscriptionRow.subscriber_id == SubscriberRow.id)
        .where(
            SubscriptionRow.list_id.in_(campaign.list_ids),
            SubscriptionRow.status == "confirmed",
            SubscriberRow.blocked.is_(False),
        )
        .order_by(SubscriberRow.id)
        .execution_options(yield_per=ENQUEUE_BATCH)
    )
    if campaign.districts:
        query = query.where(SubscriberRow.district.in_(campaign.districts))
    wanted_topics = set(campaign.topics)
    last = None
    async for subscriber_id, list_id, email, name, topics in await session.stream(query):
        if subscriber_id == last or (wanted_topics and not wanted_topics & set(topics or [])):
            continue
        last = subscriber_id
        yield subscriber_id, list_id, email, name


def list_context(list_names: list[str], deps: Deps) -> dict:
    return {"list_names": list_names, "region": deps.settings.region, "items": []}


async def prepared_message(
    session: AsyncSession, deps: Deps, campaign: CampaignRow, extra: dict | None = None
) -> templates.PreparedMessage:
    """Render a campaign once for all its recipients (in the bounded worker process); raises
    ``TemplateRefused`` when it does not render."""
    names = list(await session.scalars(select(ListRow.name).where(ListRow.id.in_(campaign.list_ids))))
    context = {**list_context(names, deps), **(campaign.context or {}), **(extra or {})}
    subject, body, campaign_id = campaign.subject, campaign.body, campaign.id
    sender = campaign.sender or deps.settings.sender
    list_id_header = f"<{campaign.list_ids[0]}.{deps.settings.region}.nzr.invalid>"
    # Only a campaign on its way is counted (a preview or test send of a draft never is), and
    # only when every one of its lists has tracking switched on.
    tracked = campaign.status in rules.SENDING and await tracking.tracking_wanted(session, campaign.list_ids)
    await session.rollback()  # no transaction stays open (on SQLite: no lock) while it renders
    rendered = await templates.render_bounded(
        subject=subject, body=body, context=context, limits=render_limits(deps)
    )
    if tracked:
        rendered = await counted(session, deps, campaign_id, rendered)
    return templates.build_message(
        rendered, campaign_id=campaign_id, sender=sender, list_id_header=list_id_header
    )


async def counted(
    session: AsyncSession, deps: Deps, campaign_id: str, rendered: templates.RenderedCampaign
) -> templates.RenderedCampaign:
    """The HTML part with the counting image and its links through the click redirect; the
    campaign remembers its links (the redirect's only targets) and that it is counted."""
    page, links = tracking_rules.rewrite_links(
        rendered.html, lambda index: deps.links.click(campaign_id, index)
    )
    page += tracking_rules.pixel(deps.links.open_pixel(campaign_id))
    async with session.begin():
        await session.execute(
            update(CampaignRow).where(CampaignRow.id == campaign_id).values(tracked=True, tracked_links=links)
        )
    return dataclasses.replace(rendered, html=page)


async def preview_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str, name: str) -> PreviewRead:
    """The campaign as a sample recipient would get it, and how many would get it now."""
    async with session.begin():
        campaign = await campaign_row(session, campaign_id)
        count = 0
        async for _ in audience(session, campaign):
            count += 1
    try:
        prepared = await prepared_message(session, deps, campaign)
    except templates.TemplateRefused as error:
        raise template_problem(error) from error
    text, page = templates.preview(
        prepared,
        name=name,
        unsubscribe_url=deps.links.unsubscribe("preview"),
        preferences_url=deps.links.preferences("preview"),
    )
    return PreviewRead(subject=prepared.subject, text=text, html=page, audience=count)


async def schedule_campaign(
    *, session: AsyncSession, deps: Deps, campaign_id: str, scheduled_at: datetime | None
) -> CampaignRead:
    """Send now (no time) or at ``scheduled_at``; the sender picks it up when it is due."""
    async with session.begin():
        row = await campaign_row(session, campaign_id)
        if not rules.can_send(row.status):
            raise Conflict(f"A campaign in status {row.status} cannot be sent again.")
        if scheduled_at is not None and scheduled_at.tzinfo is None:
            raise Invalid("Invalid time", [("scheduled_at", "give a time zone (e.g. Z or +01:00)")])
        row.status, row.scheduled_at, row.updated_at = (
            "scheduled",
            scheduled_at or datetime.now(UTC),
            datetime.now(UTC),
        )
    deps.campaigns_pending.set()
    async with session.begin():
        return await campaign_read(session, row)


async def pause_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str) -> CampaignRead:
    """Stop handing out the campaign's queued mails (mails already in an SMTP transaction finish)."""
    async with session.begin():
        row = await campaign_row(session, campaign_id)
        if not rules.can_pause(row.status):
            raise Conflict(f"A campaign in status {row.status} cannot be paused.")
        row.status, row.updated_at = "paused", datetime.now(UTC)
    deps.campaigns_pending.set()  # the sender re-reads which campaigns are paused
    async with session.begin():
        return await campaign_read(session, row)


async def resume_campaign(*, session: AsyncSession, deps: Deps, campaign_id: str) -> CampaignRead:
    """Continue a paused campaign where it stopped."""
    async with session.begin():
        row = await campaign_row(session, campaign_id)
        if row.status != "paused":
            raise Conflict(f"A campaign in status {row.status} is not paused.")
        row.status = rules.resumed_status(started=row.started_at is not None)
        row.updated_at = datetime.now(UTC)
    deps.campaigns_pending.set()
    async with session.begin():
        return await campaign_read(session, row)
