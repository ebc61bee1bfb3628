"""HTTP routes of saved searches and their alerts (the region's members, each their own)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from nzr_common.auth import Principal, Role, require
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.runtime import SessionDep
from nzr_funding.alerts import service
from nzr_funding.alerts.schemas import (
    AlertPage,
    AlertSort,
    SavedSearchCreate,
    SavedSearchPage,
    SavedSearchRead,
    SavedSearchSort,
)
from nzr_funding.i18n import LanguageDep

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])

MemberDep = Annotated[Principal, Depends(require(Role.EDITOR, Role.ADMIN, Role.STATE))]
PagingDep = Annotated[Paging, Depends(paging_params(50, 200))]


def _owner(principal: Principal) -> str:
    return f"{principal.region}:{principal.subject}"


@router.post(
    "/saved-searches",
    status_code=201,
    response_model=SavedSearchRead,
    operation_id="create_saved_search",
    dependencies=[IDEMPOTENT],
)
async def create_saved_search(
    body: SavedSearchCreate,
    session: SessionDep,
    principal: MemberDep,
    response: Response,
    language: LanguageDep,
) -> SavedSearchRead:
    """Save a search; with alerts, new or changed programmes that match are recorded."""
    saved = await service.create_saved_search(
        session=session, owner=_owner(principal), data=body, language=language
    )
    response.headers["Location"] = f"/api/v1/funding/saved-searches/{saved.id}"
    return saved


@router.get("/saved-searches", response_model=SavedSearchPage, operation_id="list_saved_searches")
async def list_saved_searches(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: MemberDep,
    paging: PagingDep,
    sort: Annotated[SavedSearchSort, Query(description="Ties are broken by id")] = "created_at",
) -> SavedSearchPage:
    """The caller's saved searches, oldest first unless `sort` says otherwise; paged by `limit`
    and `cursor` (the `next` link, also in the `Link` header)."""
    items, total = await service.list_saved_searches(
        session=session, owner=_owner(principal), sort=sort, limit=paging.limit, offset=paging.offset
    )
    page = SavedSearchPage(items=items, total=total, next=next_link(request, paging, len(items), total))
    response.headers.update(link_header(page.next))
    return page


@router.delete("/saved-searches/{search_id}", status_code=204, operation_id="delete_saved_search")
async def delete_saved_search(search_id: str, session: SessionDep, principal: MemberDep) -> Response:
    """Delete a saved search and its alerts."""
    await service.delete_saved_search(session=session, owner=_owner(principal), search_id=search_id)
    return Response(status_code=204)


@router.get("/saved-searches/{search_id}/alerts", response_model=AlertPage, operation_id="list_search_alerts")
async def list_alerts(
    search_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: MemberDep,
    language: LanguageDep,
    paging: PagingDep,
    sort: Annotated[AlertSort, Query(description="Ties are broken by id")] = "created_at",
) -> AlertPage:
    """Programmes that were published or changed and match the saved search, with the
    certainty of their deadline; in the order they were raised unless `sort` says otherwise.
    Paged by `limit` and `cursor` (the `next` link, also in the `Link` header)."""
    items, total = await service.list_alerts(
        session=session,
        owner=_owner(principal),
        search_id=search_id,
        language=language,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page = AlertPage(items=items, total=total, next=next_link(request, paging, len(items), total))
    response.headers.update(link_header(page.next))
    return page
