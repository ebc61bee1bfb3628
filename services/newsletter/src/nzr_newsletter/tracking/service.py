"""Campaign statistics and the opt-in counting of opens and clicks (aggregate per campaign)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.errors import NotFound
from nzr_newsletter.bounces.models import BounceRow
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.tokens import InvalidLink
from nzr_newsletter.tracking import rules
from nzr_newsletter.tracking.schemas import CampaignStatistics, PrivacyNotice


async def tracking_wanted(session: AsyncSession, list_ids: list[str]) -> bool:
    """Whether a campaign to these lists counts opens and clicks (every list switched it on)."""
    switches = list(await session.scalars(select(ListRow.tracking_enabled).where(ListRow.id.in_(list_ids))))
    return rules.wants_tracking(switches) and len(switches) == len(set(list_ids))


async def count_open(*, session: AsyncSession, campaign_id: str) -> None:
    """One more open of a tracked campaign (nothing for an untracked or unknown one)."""
    async with session.begin():
        await session.execute(
            update(CampaignRow)
            .where(CampaignRow.id == campaign_id, CampaignRow.tracked.is_(True))
            .values(opens=CampaignRow.opens + 1)
        )


async def follow_link(*, session: AsyncSession, campaign_id: str, index: int) -> str:
    """The target of a tracked campaign's link, counted as one click; ``InvalidLink`` for any
    other (an untracked campaign has no redirect at all)."""
    async with session.begin():
        campaign = await session.get(CampaignRow, campaign_id)
        target = rules.target_of(campaign.tracked_links if campaign and campaign.tracked else None, index)
        if target is None:
            raise InvalidLink("The link is not valid.")
        await session.execute(
            update(CampaignRow).where(CampaignRow.id == campaign_id).values(clicks=CampaignRow.clicks + 1)
        )
    return target


async def campaign_statistics(*, session: AsyncSession, campaign_id: str) -> CampaignStatistics:
    """Sent, delivered, bounced (hard/soft), unsubscribed, complaints, and opens and clicks
    where counted, for one campaign."""
    async with session.begin():
        campaign = await session.get(CampaignRow, campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        deliveries = DeliveryRow.campaign_id == campaign_id
        by_status = dict(
            (
                await session.execute(
                    select(DeliveryRow.status, func.count()).where(deliveries).group_by(DeliveryRow.status)
                )
            ).all()
        )
        sent = await _count(session, select(func.count()).where(deliveries, DeliveryRow.sent_at.is_not(None)))
        bounced = {
            kind: n
            for kind, n in (
                await session.execute(
                    select(BounceRow.kind, func.count(distinct(BounceRow.subscriber_id)))
                    .where(BounceRow.campaign_id == campaign_id, BounceRow.subscriber_id.is_not(None))
                    .group_by(BounceRow.kind)
                )
            ).all()
        }
        bounced_anyhow = select(BounceRow.subscriber_id).where(
            BounceRow.campaign_id == campaign_id,
            BounceRow.kind.in_(("hard", "soft")),
            BounceRow.subscriber_id.is_not(None),
        )
        delivered = await _count(
            session,
            select(func.count()).where(
                deliveries, DeliveryRow.sent_at.is_not(None), DeliveryRow.subscriber_id.not_in(bounced_anyhow)
            ),
        )
        unsubscribed = await _count(
            session,
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.unsubscribed_campaign_id == campaign_id),
        )
    return CampaignStatistics(
        campaign_id=campaign.id,
        recipients=campaign.recipients,
        queued=by_status.get("queued", 0) + by_status.get("sending", 0),
        sent=sent,
        delivered=delivered,
        failed=by_status.get("failed", 0),
        bounced_hard=bounced.get("hard", 0),
        bounced_soft=bounced.get("soft", 0),
        unsubscribed=unsubscribed,
        complaints=bounced.get("complaint", 0),
        tracking_enabled=campaign.tracked,
        opens=campaign.opens if campaign.tracked else None,
        clicks=campaign.clicks if campaign.tracked else None,
    )


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(query) or 0)


PRIVACY = {
    "de": (
        "Datenschutzhinweise zum Newsletter",
        [
            "Für den Newsletter speichern wir Ihre E-Mail-Adresse, Ihren Namen (wenn Sie ihn angeben), "
            "die Listen, Themen, den Landkreis und die Sprache, die Sie wählen, und den Nachweis Ihrer "
            "Einwilligung (Zeitpunkt, Weg und Fassung des Einwilligungstextes). Angemeldet sind Sie "
            "erst, wenn Sie den Link in unserer Bestätigungsmail angeklickt haben (Double-Opt-in).",
            "Zu jeder Aussendung speichern wir, ob die Mail zugestellt werden konnte, und Rückläufer "
            "(Bounces), damit wir an nicht erreichbare Adressen nicht weiter schreiben.",
            "Öffnungen und Klicks zählen wir nur bei Listen, deren Betreiber das eingeschaltet hat "
            "({lists}). Dann enthält die Mail ein unsichtbares Bild und ihre Links führen über unseren "
            "Server; gezählt wird nur die Gesamtzahl je Aussendung. Wir speichern nicht, wer eine Mail "
            "geöffnet oder welchen Link jemand angeklickt hat. Bei allen anderen Listen und bei "
            "Mails zu Ihren Anmeldungen zählen wir nichts.",
            "Jede Mail enthält einen Link zum Abbestellen und einen Link zu Ihren "
            "Einstellungen, über den Sie Ihre Daten auch abrufen und löschen können.",
        ],
    ),
    "en": (
        "Privacy notice of the newsletter",
        [
            "For the newsletter we store your e-mail address, your name (if you give it), the lists, "
            "topics, district and language you choose, and the proof of your consent (time, channel "
            "and version of the consent text). You are subscribed only once you have clicked the link "
            "in our confirmation mail (double opt-in).",
            "For every mailing we store whether the mail could be delivered, and bounces, so that we "
            "stop writing to addresses that cannot be reached.",
            "Opens and clicks are counted only for lists whose owners switched this on ({lists}). "
            "Their mails then contain an invisible image and their links lead through our server; "
            "only the total per mailing is counted. We do not store who opened a mail or who clicked "
            "which link. For all other lists, and for mails about your registrations, nothing is counted.",
            "Every mail has a link to unsubscribe and a link to your settings, where "
            "you can also download and delete your data.",
        ],
    ),
}


async def privacy_notice(*, session: AsyncSession, language: str) -> PrivacyNotice:
    """The privacy notice in German or English, naming the public lists that count."""
    async with session.begin():
        names = list(
            await session.scalars(
                select(ListRow.name)
                .where(ListRow.visibility == "public", ListRow.tracking_enabled.is_(True))
                .order_by(ListRow.name)
            )
        )
    lang = "en" if language == "en" else "de"
    title, paragraphs = PRIVACY[lang]
    none = "currently none" if lang == "en" else "derzeit keine"
    listed = ", ".join(f"„{n}“" for n in names) or none
    return PrivacyNotice(
        language=lang,
        title=title,
        paragraphs=[p.replace("{lists}", listed) for p in paragraphs],
        tracking_lists=names,
    )
