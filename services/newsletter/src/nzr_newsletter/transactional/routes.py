"""HTTP routes of transactional mails: what became of each registration mail (organisers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from nzr_common.auth import EditorDep, Role
from nzr_common.params import Offset
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API
from nzr_newsletter.transactional import service
from nzr_newsletter.transactional.schemas import MailStatus, TransactionalMailPage

router = APIRouter(prefix=API, tags=["newsletter"])


@router.get(
    "/transactional/mails", response_model=TransactionalMailPage, operation_id="list_transactional_mails"
)
async def list_transactional_mails(
    session: SessionDep,
    principal: EditorDep,
    event_id: Annotated[str | None, Query(max_length=36)] = None,
    status: MailStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Annotated[Offset, Query()] = 0,
) -> TransactionalMailPage:
    """The registration mails (newest first) with status, reason and attempts, e.g. the ones
    that bounced for an event: ``?event_id=…&status=bounced``."""
    return await service.list_mails(
        session=session,
        event_id=event_id,
        status=status,
        limit=limit,
        offset=offset,
        full_addresses=principal.has(Role.ADMIN),
    )
