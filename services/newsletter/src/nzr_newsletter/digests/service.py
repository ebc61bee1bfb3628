"""Digests: remember events and funding deadlines, build the digest campaigns when due."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_newsletter.bootstrap import Deps
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.digests import rules
from nzr_newsletter.digests.models import DigestItemRow
from nzr_newsletter.lists.models import ListRow

log = logging.getLogger(__name__)


DIGEST_SUBJECT = "Neues aus dem Netzwerk: {{ items|length }} Termine und Fristen"


DIGEST_BODY = """Hallo {{ name }},

das steht in den nächsten Wochen an:

{% for item in items %}- **{{ item.date }}** – {% if item.link %}[{{ item.title }}]({{ item.link }})
{%- else %}{{ item.title }}{% endif %}
{%- if item.kind == "funding" %} (Förderfrist){% endif %}
{%- if item.place %} · Ort: {{ item.place }}{% endif %}
{% endfor %}
Sie bekommen diese Übersicht, weil Sie „{{ list_names|join(", ") }}“ abonniert haben.
"""


async def record_item(
    session: AsyncSession,
    *,
    item_id: str,
    kind: str,
    title: str,
    happens_on: datetime,
    district: str | None,
    topics: list[str],
    place: str | None = None,
    link: str | None = None,
) -> None:
    """Remember (or update) something for the next digest: what, when, where and its link."""
    place, link = (place or None) and place[:500], (link or None) and link[:1000]
    row = await session.get(DigestItemRow, item_id)
    if row is None:
        session.add(
            DigestItemRow(
                id=item_id,
                kind=kind,
                title=title[:300],
                happens_on=happens_on,
                district=district,
                topics=topics,
                place=place,
                link=link,
                received_at=datetime.now(UTC),
            )
        )
    else:
        row.title, row.happens_on, row.district, row.topics = title[:300], happens_on, district, topics
        row.place, row.link = place, link


async def forget_item(session: AsyncSession, item_id: str) -> None:
    await session.execute(delete(DigestItemRow).where(DigestItemRow.id == item_id))


async def run_digests(*, session: AsyncSession, deps: Deps, force: bool = False) -> list[str]:
    """Create and schedule a digest campaign for every digest list that is due and has news."""
    now = datetime.now(UTC)
    interval = timedelta(hours=deps.settings.digest_interval_hours)
    created = []
    async with session.begin():
        for digest_list in list(await session.scalars(select(ListRow).where(ListRow.digest.is_(True)))):
            if not rules.is_due(
                last_digest_at=digest_list.last_digest_at, now=now, interval=interval, force=force
            ):
                continue
            query = (
                select(DigestItemRow)
                .where(DigestItemRow.happens_on >= now)
                .order_by(DigestItemRow.happens_on)
            )
            if digest_list.last_digest_at:
                query = query.where(DigestItemRow.received_at > digest_list.last_digest_at)
            items = [i for i in await session.scalars(query) if rules.fits_topic(digest_list.topic, i.topics)]
            if not items:
                continue
            campaign = CampaignRow(
                id=str(uuid.uuid4()),
                kind="digest",
                name=f"Digest {now:%Y-%m-%d} {digest_list.name}",
                subject=DIGEST_SUBJECT,
                sender=None,
                body=DIGEST_BODY,
                list_ids=[digest_list.id],
                topics=[],
                districts=[],
                status="scheduled",
                scheduled_at=now,
                recipients=0,
                context={
                    "items": [
                        {
                            "kind": i.kind,
                            "title": i.title,
                            "date": rules.when(i.happens_on, with_time=i.kind == "event"),
                            "starts_at": i.happens_on.isoformat(),
                            "district": i.district,
                            "place": i.place,
                            "link": i.link,
                        }
                        for i in items
                    ]
                },
                created_at=now,
                updated_at=now,
            )
            session.add(campaign)
            digest_list.last_digest_at = now
            created.append(campaign.id)
    if created:
        deps.campaigns_pending.set()
    return created


async def send_digests(deps: Deps) -> None:
    """The digest schedule as a background loop: every check, while this process holds the
    sending lease, the due digests are built and scheduled."""
    while True:
        await asyncio.sleep(deps.settings.digest_check_seconds)
        if deps.lease.until is None:
            continue
        try:
            async with deps.sessions() as session:
                await run_digests(session=session, deps=deps)
        except Exception:
            log.exception("digest run failed; trying again at the next check")
