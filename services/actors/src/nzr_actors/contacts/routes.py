"""HTTP routes of contact persons (under ``/api/v1/actors/{actor_id}/contacts``)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from nzr_actors.bootstrap import DepsDep
from nzr_actors.contacts import service
from nzr_actors.contacts.schemas import ContactCreate, ContactPage, ContactRead, ContactSort
from nzr_common.auth import AdminDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/actors", tags=["actors"])


@router.get("/{actor_id}/contacts", response_model=ContactPage, operation_id="list_contacts")
async def list_contacts(
    actor_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    _: AdminDep,
    paging: Annotated[Paging, Depends(paging_params(50, 200))],
    sort: Annotated[ContactSort, Query(description="Ties are broken by id")] = "name",
) -> ContactPage:
    """Contact persons of an actor (admins of the region only), by name unless `sort` says
    otherwise; paged by `limit` and `cursor` (the `next` link, also in the `Link` header)."""
    items, total = await service.list_contacts(
        session=session, actor_id=actor_id, sort=sort, limit=paging.limit, offset=paging.offset
    )
    page = ContactPage(items=items, total=total, next=next_link(request, paging, len(items), total))
    response.headers.update(link_header(page.next))
    return page


@router.post(
    "/{actor_id}/contacts",
    status_code=201,
    response_model=ContactRead,
    operation_id="add_contact",
    dependencies=[IDEMPOTENT],
)
async def add_contact(
    actor_id: str, body: ContactCreate, session: SessionDep, deps: DepsDep, _: AdminDep
) -> ContactRead:
    """Add a contact person with the consent they gave (purpose, time, source)."""
    return await service.add_contact(session=session, outbox=deps.outbox, actor_id=actor_id, data=body)


@router.delete("/{actor_id}/contacts/{contact_id}", status_code=204, operation_id="remove_contact")
async def remove_contact(actor_id: str, contact_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Remove a contact person from an actor."""
    await service.remove_contact(session=session, actor_id=actor_id, contact_id=contact_id)
    return Response(status_code=204)
