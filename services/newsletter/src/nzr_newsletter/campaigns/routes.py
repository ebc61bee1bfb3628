"""HTTP routes of campaigns (editors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from nzr_common.auth import EditorDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import PagingDep, link_header, next_link
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.campaigns import service
from nzr_newsletter.campaigns.schemas import (
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignSort,
    CampaignUpdate,
    PreviewRead,
    SendRequest,
    TestSendRequest,
    TestSendResult,
)
from nzr_newsletter.delivery import service as delivery
from nzr_newsletter.schemas import CampaignStatus
from nzr_newsletter.sorting import SORT_DESCRIPTION

router = APIRouter(prefix=API, tags=["newsletter"])


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignRead,
    operation_id="create_campaign",
    dependencies=[IDEMPOTENT],
)
async def create_campaign(
    body: CampaignCreate, session: SessionDep, deps: DepsDep, _: EditorDep
) -> CampaignRead:
    """Save a campaign; templates that do not render are refused here with the error."""
    return await service.create_campaign(session=session, deps=deps, data=body)


@router.get("/campaigns", response_model=CampaignPage, operation_id="list_campaigns")
async def list_campaigns(
    request: Request,
    response: Response,
    session: SessionDep,
    _: EditorDep,
    paging: PagingDep,
    status: CampaignStatus | None = None,
    sort: Annotated[CampaignSort, Query(description=SORT_DESCRIPTION)] = "-created_at",
) -> CampaignPage:
    """Campaigns in `sort` order (default `-created_at`, newest first; `status` follows the life
    cycle draft, scheduled, sending, paused, sent, cancelled), paged by `limit` and `cursor` (the
    `next` link, also in `Link`)."""
    items, total = await service.list_campaigns(
        session=session, status=status, sort=sort, limit=paging.limit, offset=paging.offset
    )
    page = CampaignPage(items=items, total=total, next=next_link(request, paging, len(items), total))
    response.headers.update(link_header(page.next))
    return page


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead, operation_id="get_campaign")
async def get_campaign(campaign_id: str, session: SessionDep, _: EditorDep) -> CampaignRead:
    """One campaign with its statistics (queued, sent, failed, bounced, unsubscribed after)."""
    return await service.get_campaign(session=session, campaign_id=campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead, operation_id="update_campaign")
async def update_campaign(
    campaign_id: str, body: CampaignUpdate, session: SessionDep, deps: DepsDep, _: EditorDep
) -> CampaignRead:
    """Edit a campaign that has not started sending."""
    return await service.update_campaign(session=session, deps=deps, campaign_id=campaign_id, data=body)


@router.post("/campaigns/{campaign_id}/preview", response_model=PreviewRead, operation_id="preview_campaign")
async def preview_campaign(
    campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, name: str = "Erika Mustermann"
) -> PreviewRead:
    """The rendered mail for a sample recipient, and the current audience size."""
    return await service.preview_campaign(session=session, deps=deps, campaign_id=campaign_id, name=name)


@router.post(
    "/campaigns/{campaign_id}/test", response_model=TestSendResult, operation_id="test_send_campaign"
)
async def test_send_campaign(
    campaign_id: str, body: TestSendRequest, session: SessionDep, deps: DepsDep, _: EditorDep
) -> TestSendResult:
    """Send the campaign now to a few test addresses (not counted in the statistics)."""
    try:
        return await delivery.send_test(
            session=session, deps=deps, campaign_id=campaign_id, emails=body.emails, name=body.name
        )
    except delivery.TestSendFailed as error:
        raise ProblemError(502, error.title, error.detail) from error


@router.post("/campaigns/{campaign_id}/send", response_model=CampaignRead, operation_id="send_campaign")
async def send_campaign(
    campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, body: SendRequest | None = None
) -> CampaignRead:
    """Send now, or schedule with ``scheduled_at``."""
    return await service.schedule_campaign(
        session=session, deps=deps, campaign_id=campaign_id, scheduled_at=body.scheduled_at if body else None
    )


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignRead, operation_id="pause_campaign")
async def pause_campaign(campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep) -> CampaignRead:
    """Pause a scheduled or sending campaign."""
    return await service.pause_campaign(session=session, deps=deps, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignRead, operation_id="resume_campaign")
async def resume_campaign(campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep) -> CampaignRead:
    """Resume a paused campaign where it stopped."""
    return await service.resume_campaign(session=session, deps=deps, campaign_id=campaign_id)
