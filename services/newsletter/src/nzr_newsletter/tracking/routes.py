"""HTTP routes of campaign statistics, the counting pixel and link redirect, and the privacy notice."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from nzr_common.access import PUBLIC
from nzr_common.auth import EditorDep
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API
from nzr_newsletter.tokens import InvalidLink
from nzr_newsletter.tracking import rules, service
from nzr_newsletter.tracking.schemas import CampaignStatistics, PrivacyNotice
from nzr_newsletter.web import page, page_language, refused_page, wants_page

router = APIRouter(prefix=API, tags=["newsletter"])

CampaignId = Path(min_length=1, max_length=36)


@router.get(
    "/campaigns/{campaign_id}/statistics",
    response_model=CampaignStatistics,
    operation_id="get_campaign_statistics",
)
async def get_campaign_statistics(campaign_id: str, session: SessionDep, _: EditorDep) -> CampaignStatistics:
    """What became of a campaign's mails: sent, delivered, bounced hard/soft, unsubscribed,
    complaints; opens and clicks only where its lists count them (totals, nobody named)."""
    return await service.campaign_statistics(session=session, campaign_id=campaign_id)


@router.get(
    "/t/{campaign_id}/open.gif",
    response_class=Response,
    operation_id="count_open",
    dependencies=[PUBLIC],
    responses={200: {"content": {"image/gif": {}}}},
)
async def count_open(session: SessionDep, campaign_id: str = CampaignId) -> Response:
    """The invisible image of a tracked campaign: each load adds one to the campaign's opens
    (nothing is recorded about who loaded it; an untracked campaign counts nothing)."""
    await service.count_open(session=session, campaign_id=campaign_id)
    return Response(rules.PIXEL_GIF, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get(
    "/t/{campaign_id}/links/{index}",
    status_code=302,
    response_class=RedirectResponse,
    operation_id="follow_campaign_link",
    dependencies=[PUBLIC],
    responses={
        400: {
            "description": "No such link in a tracked campaign (a page, no redirect)",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
            },
        }
    },
)
async def follow_campaign_link(
    request: Request, session: SessionDep, campaign_id: str = CampaignId, index: int = Path(ge=0, le=10_000)
) -> Response:
    """A link of a tracked campaign: counts one click for the campaign and redirects to the link
    as the campaign had it. Only the campaign's own links: there is no target parameter."""
    try:
        target = await service.follow_link(session=session, campaign_id=campaign_id, index=index)
    except InvalidLink as error:
        return refused_page(request, error)
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


@router.get(
    "/privacy",
    response_model=PrivacyNotice,
    operation_id="get_privacy_notice",
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/html": {}}, "description": "JSON, or the page for a browser"}},
)
async def get_privacy_notice(request: Request, session: SessionDep) -> PrivacyNotice | HTMLResponse:
    """The newsletter's privacy notice (German, English by ``Accept-Language``): what is stored,
    and that opens and clicks are counted only for lists that switched it on, as totals."""
    notice = await service.privacy_notice(session=session, language=page_language(request))
    if wants_page(request):
        return page(request, "privacy", title="privacy", paragraphs=notice.paragraphs)
    return notice
