"""HTTP routes of lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from nzr_common.auth import EditorDep, PrincipalDep, Role
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.lists import service
from nzr_newsletter.lists.schemas import ListCreate, ListPage, ListRead, ListUpdate

router = APIRouter(prefix=API, tags=["newsletter"])


@router.post(
    "/lists", status_code=201, response_model=ListRead, operation_id="create_list", dependencies=[IDEMPOTENT]
)
async def create_list(body: ListCreate, session: SessionDep, _: EditorDep) -> ListRead:
    """Create a mailing list (per region and topic; public or internal)."""
    return await service.create_list(session=session, data=body)


@router.get("/lists", response_model=ListPage, operation_id="list_lists")
async def list_lists(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    deps: DepsDep,
    paging: Annotated[Paging, Depends(paging_params(100, 200))],
) -> ListPage:
    """Public lists for everybody; editors of the region also see internal lists and counts. In
    the order they were made, paged by `limit` (default 100, so a sign-up form usually gets all
    at once) and `cursor` (the `next` link, also in the `Link` header)."""
    editor = principal.region == deps.settings.region and principal.has(Role.EDITOR, Role.ADMIN)
    page = await service.list_lists(
        session=session, include_internal=editor, limit=paging.limit, offset=paging.offset
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


@router.patch("/lists/{list_id}", response_model=ListRead, operation_id="update_list")
async def update_list(list_id: str, body: ListUpdate, session: SessionDep, _: EditorDep) -> ListRead:
    """Change a list."""
    return await service.update_list(session=session, list_id=list_id, data=body)
