"""HTTP routes of cooperations: parse, call one service function, map the result."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from nzr_actors.actors import rules as actor_rules
from nzr_actors.bootstrap import DepsDep
from nzr_actors.cooperations import service
from nzr_actors.cooperations.schemas import (
    CooperationCorrection,
    CooperationCreate,
    CooperationEnd,
    CooperationPage,
    CooperationRead,
    CooperationSort,
    CooperationType,
)
from nzr_common.auth import EditorDep, Role
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.params import QueryDate
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/cooperations", tags=["cooperations"])

IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]


@contextmanager
def _preconditions() -> Iterator[None]:
    """The If-Match outcomes of a change as HTTP: 428 without the header, 412 with a stale one."""
    try:
        yield
    except actor_rules.PreconditionRequired as error:
        raise ProblemError(428, "Precondition Required", str(error)) from error
    except actor_rules.PreconditionFailed as error:
        headers = {"ETag": actor_rules.etag(error.version)} if error.version is not None else None
        raise ProblemError(412, "Precondition Failed", error.detail, headers=headers) from error


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
    response.headers["ETag"] = actor_rules.etag(cooperation.version)
    return cooperation


_paging = paging_params(50, 200)


def _cooperation_paging(
    request: Request,
    paging: Annotated[Paging, Depends(_paging)],
    page: Annotated[
        int | None, Query(ge=1, le=100_000, deprecated=True, description="Use `cursor`; kept for one release")
    ] = None,
    page_size: Annotated[
        int | None, Query(ge=1, le=200, deprecated=True, description="Use `limit`; kept for one release")
    ] = None,
) -> Paging:
    """``limit``/``cursor``, with the former ``page``/``page_size`` still understood."""
    query = request.query_params
    limit = page_size if page_size is not None and "limit" not in query else paging.limit
    offset = paging.offset
    if page is not None and "cursor" not in query:
        offset = (page - 1) * limit
    return Paging(limit=limit, offset=offset)


@router.get("", response_model=CooperationPage, operation_id="list_cooperations")
async def list_cooperations(
    request: Request,
    response: Response,
    session: SessionDep,
    _: EditorDep,
    paging: Annotated[Paging, Depends(_cooperation_paging)],
    actor_id: str | None = None,
    type: CooperationType | None = None,
    active_on: QueryDate | None = None,
    sort: Annotated[CooperationSort, Query(description="Ties are broken by id")] = "-since",
) -> CooperationPage:
    """Cooperations of the region, optionally of one actor, one type or active on a date; the
    latest start first unless `sort` says otherwise. Paged by `limit` and `cursor` (the `next`
    link, also in the `Link` header)."""
    page = await service.list_cooperations(
        session=session,
        actor_id=actor_id,
        type_=type,
        active_on=active_on,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


@router.get("/{cooperation_id}", response_model=CooperationRead, operation_id="get_cooperation")
async def get_cooperation(
    cooperation_id: str, response: Response, session: SessionDep, _: EditorDep
) -> CooperationRead:
    """One cooperation (its `ETag` is what a correction sends as `If-Match`)."""
    cooperation = await service.get_cooperation(session=session, cooperation_id=cooperation_id)
    response.headers["ETag"] = actor_rules.etag(cooperation.version)
    return cooperation


@router.patch(
    "/{cooperation_id}",
    response_model=CooperationRead,
    operation_id="correct_cooperation",
    responses={
        409: {"description": "the corrected cooperation duplicates another one (named in `existing_id`)"},
        412: {"description": "stale If-Match"},
        428: {"description": "If-Match missing"},
    },
)
async def correct_cooperation(
    cooperation_id: str,
    body: CooperationCorrection,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
    _: EditorDep,
    if_match: IfMatch = None,
) -> CooperationRead:
    """Correct type, dates, topic or description; needs `If-Match` with the current ETag."""
    with _preconditions():
        cooperation = await service.correct_cooperation(
            session=session,
            outbox=deps.outbox,
            topics=set(deps.topics),
            cooperation_id=cooperation_id,
            data=body,
            if_match=if_match,
        )
    response.headers["ETag"] = actor_rules.etag(cooperation.version)
    return cooperation


@router.delete(
    "/{cooperation_id}",
    status_code=204,
    operation_id="delete_cooperation",
    responses={412: {"description": "stale If-Match"}},
)
async def delete_cooperation(
    cooperation_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, if_match: IfMatch = None
) -> Response:
    """Delete a cooperation recorded by mistake (it never existed; to end one, use `/end`)."""
    with _preconditions():
        await service.delete_cooperation(
            session=session, outbox=deps.outbox, cooperation_id=cooperation_id, if_match=if_match
        )
    return Response(status_code=204)


@router.post("/{cooperation_id}/end", response_model=CooperationRead, operation_id="end_cooperation")
async def end_cooperation(
    cooperation_id: str,
    body: CooperationEnd,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
    _: EditorDep,
) -> CooperationRead:
    """End a cooperation on a date."""
    cooperation = await service.end_cooperation(
        session=session, outbox=deps.outbox, cooperation_id=cooperation_id, until=body.until
    )
    response.headers["ETag"] = actor_rules.etag(cooperation.version)
    return cooperation
