"""Routes of outcomes."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from nzr_common.access import PUBLIC
from nzr_common.auth import EditorDep
from nzr_common.contracts.events import AgreementStatus
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import PagingDep, link_header, next_link
from nzr_common.params import QueryDate
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events.bootstrap import DepsDep
from nzr_events.outcomes import service
from nzr_events.outcomes.schemas import (
    AgreementCreate,
    AgreementPage,
    AgreementRead,
    AgreementSort,
    ProgressCreate,
    RecommendationCreate,
    RecommendationPage,
    RecommendationRead,
)
from nzr_events.sorting import SORT_DESCRIPTION

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post(
    "/events/{event_id}/agreements",
    status_code=201,
    response_model=AgreementRead,
    operation_id="record_agreement",
    dependencies=[IDEMPOTENT],
)
async def record_agreement(
    event_id: str, body: AgreementCreate, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> AgreementRead:
    """Record an agreement (parties, responsible, due date)."""
    return await service.record_agreement(session=session, outbox=outbox, event_id=event_id, data=body)


@router.get(
    "/agreements", response_model=AgreementPage, operation_id="list_agreements", dependencies=[PUBLIC]
)
async def list_agreements(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingDep,
    event_id: str | None = None,
    status: AgreementStatus | None = None,
    responsible_actor_id: str | None = None,
    due_before: QueryDate | None = None,
    sort: Annotated[AgreementSort, Query(description=SORT_DESCRIPTION)] = "due_date",
) -> AgreementPage:
    """Agreements to follow up, with their progress, in `sort` order (default `due_date`, the
    earliest first, agreements without a due date last; `status`: offen, in_umsetzung,
    umgesetzt, verworfen), paged by `limit` and `cursor` (the `next` link, also in `Link`)."""
    page = await service.list_agreements(
        session=session,
        event_id=event_id,
        status=status,
        responsible_actor_id=responsible_actor_id,
        due_before=due_before,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


@router.get(
    "/agreements/{agreement_id}",
    response_model=AgreementRead,
    operation_id="get_agreement",
    dependencies=[PUBLIC],
)
async def get_agreement(agreement_id: str, session: SessionDep) -> AgreementRead:
    """One agreement with its progress reports."""
    return await service.get_agreement(session=session, agreement_id=agreement_id)


@router.post(
    "/agreements/{agreement_id}/progress",
    status_code=201,
    response_model=AgreementRead,
    operation_id="report_agreement_progress",
    dependencies=[IDEMPOTENT],
)
async def report_progress(
    agreement_id: str, body: ProgressCreate, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> AgreementRead:
    """Report progress (what moved, what blocks) and optionally a new status."""
    return await service.report_progress(session=session, outbox=outbox, agreement_id=agreement_id, data=body)


@router.post(
    "/events/{event_id}/recommendations",
    status_code=201,
    response_model=RecommendationRead,
    operation_id="record_recommendation",
    dependencies=[IDEMPOTENT],
)
async def record_recommendation(
    event_id: str,
    body: RecommendationCreate,
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
) -> RecommendationRead:
    """Record a recommendation (Handlungsempfehlung) of an event; topics from the network's list."""
    return await service.record_recommendation(
        session=session, outbox=outbox, event_id=event_id, data=body, topics=set(deps.settings.topics)
    )


@router.get(
    "/events/{event_id}/recommendations",
    response_model=RecommendationPage,
    operation_id="list_recommendations",
    dependencies=[PUBLIC],
)
async def list_recommendations(
    event_id: str, request: Request, response: Response, session: SessionDep, paging: PagingDep
) -> RecommendationPage:
    """Recommendations of an event in the order they were recorded, paged by `limit` and
    `cursor` (the `next` link, also in the `Link` header)."""
    page = await service.list_recommendations(
        session=session, event_id=event_id, limit=paging.limit, offset=paging.offset
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page
