"""HTTP routes of transactional mails: what became of each registration mail (organisers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from nzr_common.auth import EditorDep, Role
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API
from nzr_newsletter.sorting import SORT_DESCRIPTION
from nzr_newsletter.transactional import service
from nzr_newsletter.transactional.schemas import MailStatus, TransactionalMailPage, TransactionalMailSort

router = APIRouter(prefix=API, tags=["newsletter"])


@router.get(
    "/transactional/mails", response_model=TransactionalMailPage, operation_id="list_transactional_mails"
)
async def list_transactional_mails(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: EditorDep,
    paging: Annotated[Paging, Depends(paging_params(50, 500, deprecated_offset=True))],
    event_id: Annotated[str | None, Query(max_length=36)] = None,
    status: MailStatus | None = None,
    sort: Annotated[TransactionalMailSort, Query(description=SORT_DESCRIPTION)] = "-created_at",
) -> TransactionalMailPage:
    """The registration mails with status, reason and attempts, e.g. the ones that bounced for an
    event: ``?event_id=…&status=bounced``. In `sort` order (default `-created_at`, newest first;
    by `sent_at` the unsent ones last), paged by `limit` and `cursor` (the `next` link, also in
    the `Link` header)."""
    page = await service.list_mails(
        session=session,
        event_id=event_id,
        status=status,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
        full_addresses=principal.has(Role.ADMIN),
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page
