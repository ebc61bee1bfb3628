"""HTTP routes of saved searches and their alerts (the region's members, each their own)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from nzr_common.auth import Principal, Role, require
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.runtime import SessionDep
from nzr_funding.alerts import service
from nzr_funding.alerts.schemas import AlertRead, SavedSearchCreate, SavedSearchRead
from nzr_funding.i18n import LanguageDep

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])

MemberDep = Annotated[Principal, Depends(require(Role.EDITOR, Role.ADMIN, Role.STATE))]


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


@router.get("/saved-searches", response_model=list[SavedSearchRead], operation_id="list_saved_searches")
async def list_saved_searches(session: SessionDep, principal: MemberDep) -> list[SavedSearchRead]:
    """The caller's saved searches."""
    return await service.list_saved_searches(session=session, owner=_owner(principal))


@router.delete("/saved-searches/{search_id}", status_code=204, operation_id="delete_saved_search")
async def delete_saved_search(search_id: str, session: SessionDep, principal: MemberDep) -> Response:
    """Delete a saved search and its alerts."""
    await service.delete_saved_search(session=session, owner=_owner(principal), search_id=search_id)
    return Response(status_code=204)


@router.get(
    "/saved-searches/{search_id}/alerts", response_model=list[AlertRead], operation_id="list_search_alerts"
)
async def list_alerts(
    search_id: str, session: SessionDep, principal: MemberDep, language: LanguageDep
) -> list[AlertRead]:
    """Programmes that were published or changed and match the saved search, with the
    certainty of their deadline."""
    return await service.list_alerts(
        session=session, owner=_owner(principal), search_id=search_id, language=language
    )
