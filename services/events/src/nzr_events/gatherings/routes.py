"""Routes of gatherings: the events, their life cycle and the public list."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from nzr_common.access import anonymous_rate_limit
from nzr_common.auth import EditorDep, PrincipalDep
from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.contracts.events import EventFormat
from nzr_common.errors import Forbidden
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.params import QueryDate
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events.access import districts, is_editor
from nzr_events.bootstrap import DepsDep
from nzr_events.gatherings import service
from nzr_events.gatherings.schemas import (
    EventCreate,
    EventPage,
    EventRead,
    EventSort,
    EventStatus,
    EventUpdate,
)
from nzr_events.public_cache import page_key
from nzr_events.sorting import SORT_DESCRIPTION

router = APIRouter(prefix="/api/v1", tags=["events"])

#: The event list had ``offset`` before the cursor: it keeps it, deprecated, for one release.
EventPaging = Annotated[Paging, Depends(paging_params(deprecated_offset=True))]


@router.post(
    "/events",
    status_code=201,
    response_model=EventRead,
    operation_id="create_event",
    dependencies=[IDEMPOTENT],
)
async def create_event(
    body: EventCreate, deps: DepsDep, response: Response, session: SessionDep, _: EditorDep
) -> EventRead:
    """Create an event as a draft (times without offset are Europe/Berlin)."""
    event = await service.create_event(session=session, data=body, region_districts=districts(deps))
    response.headers["Location"] = f"/api/v1/events/{event.id}"
    return event


@router.get(
    "/events",
    response_model=EventPage,
    operation_id="list_events",
    dependencies=[anonymous_rate_limit("search")],
)
async def list_events(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    principal: PrincipalDep,
    paging: EventPaging,
    date_from: Annotated[QueryDate | None, Query(alias="from", description="First day (Berlin)")] = None,
    date_to: Annotated[QueryDate | None, Query(alias="to", description="Last day (Berlin)")] = None,
    district: Annotated[DistrictCode | None, Query()] = None,
    topic: Annotated[TopicCode | None, Query()] = None,
    format: EventFormat | None = None,
    status: Annotated[list[EventStatus] | None, Query(description="Default: published")] = None,
    sort: Annotated[EventSort, Query(description=SORT_DESCRIPTION)] = "starts_at",
) -> Response:
    """Events with filters (date range, district, topic, format); anonymous callers see public ones.
    Sorted by `sort` (default `starts_at`, soonest first; ties by id), paged by `limit` and
    `cursor` (the `next` link, also in the `Link` header)."""
    statuses = status or ["published"]
    if "draft" in statuses and not is_editor(deps, principal):
        raise Forbidden("Only the region's editors list drafts.")
    public = "draft" not in statuses
    cache = deps.public_pages
    page = await service.list_events(
        session=session,
        statuses=statuses,
        date_from=date_from,
        date_to=date_to,
        district=district,
        topic=topic,
        format=format,
        limit=paging.limit,
        offset=paging.offset,
        sort=sort,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    body = page.model_dump_json().encode()
    headers = link_header(page.next)
    if public:
        cache.put(page_key(request.url.path, request.url.query), "application/json", body, headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/events/{event_id}", response_model=EventRead, operation_id="get_event")
async def get_event(event_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep) -> EventRead:
    """One event; drafts only for the region's editors."""
    return await service.get_event(
        session=session, event_id=event_id, include_drafts=is_editor(deps, principal)
    )


@router.patch("/events/{event_id}", response_model=EventRead, operation_id="update_event")
async def update_event(
    event_id: str, body: EventUpdate, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> EventRead:
    """Change an event; more capacity promotes from the waiting list."""
    return await service.update_event(
        session=session,
        outbox=outbox,
        links=deps.links,
        event_id=event_id,
        data=body,
        region_districts=districts(deps),
    )


@router.post("/events/{event_id}/publish", response_model=EventRead, operation_id="publish_event")
async def publish_event(event_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> EventRead:
    """Publish a draft."""
    return await service.publish_event(session=session, outbox=outbox, event_id=event_id)


@router.post("/events/{event_id}/cancel", response_model=EventRead, operation_id="cancel_event")
async def cancel_event(
    event_id: str, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> EventRead:
    """Call an event off."""
    return await service.cancel_event(session=session, outbox=outbox, links=deps.links, event_id=event_id)


@router.post("/events/{event_id}/complete", response_model=EventRead, operation_id="complete_event")
async def complete_event(
    event_id: str, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> EventRead:
    """Mark a held event as completed."""
    return await service.complete_event(session=session, outbox=outbox, links=deps.links, event_id=event_id)
