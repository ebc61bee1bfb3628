"""HTTP routes of cooperations: parse, call one service function, map the result."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from nzr_actors.bootstrap import DepsDep
from nzr_actors.cooperations import service
from nzr_actors.cooperations.schemas import (
    CooperationCreate,
    CooperationEnd,
    CooperationPage,
    CooperationRead,
    CooperationType,
)
from nzr_common.auth import EditorDep, Role
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.params import QueryDate
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/cooperations", tags=["cooperations"])

PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


@router.post(
    "",
    status_code=201,
    response_model=CooperationRead,
    operation_id="record_cooperation",
    dependencies=[IDEMPOTENT],
)
async def record_cooperation(
    body: CooperationCreate,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
    principal: EditorDep,
) -> CooperationRead:
    """Record a cooperation between two actors of the region.

    With an actor of another region: name both regions (`actor_a_region`, `actor_b_region`)
    and send a token of this region that also carries the `state` role.
    """
    cooperation = await service.record_cooperation(
        session=session,
        outbox=deps.outbox,
        region=deps.region,
        topics=set(deps.topics),
        data=body,
        may_cross_regions=principal.has(Role.STATE),
    )
    response.headers["Location"] = f"/api/v1/cooperations/{cooperation.id}"
    return cooperation


@router.get("", response_model=CooperationPage, operation_id="list_cooperations")
async def list_cooperations(
    session: SessionDep,
    _: EditorDep,
    actor_id: str | None = None,
    type: CooperationType | None = None,
    active_on: QueryDate | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> CooperationPage:
    """Cooperations of the region, optionally of one actor, one type or active on a date."""
    return await service.list_cooperations(
        session=session, actor_id=actor_id, type_=type, active_on=active_on, page=page, page_size=page_size
    )


@router.get("/{cooperation_id}", response_model=CooperationRead, operation_id="get_cooperation")
async def get_cooperation(cooperation_id: str, session: SessionDep, _: EditorDep) -> CooperationRead:
    """One cooperation."""
    return await service.get_cooperation(session=session, cooperation_id=cooperation_id)


@router.post("/{cooperation_id}/end", response_model=CooperationRead, operation_id="end_cooperation")
async def end_cooperation(
    cooperation_id: str, body: CooperationEnd, session: SessionDep, deps: DepsDep, _: EditorDep
) -> CooperationRead:
    """End a cooperation on a date."""
    return await service.end_cooperation(
        session=session, outbox=deps.outbox, cooperation_id=cooperation_id, until=body.until
    )
