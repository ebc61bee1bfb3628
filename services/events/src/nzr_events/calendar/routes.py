"""Routes of the calendar (included before the other routers: ``/events/{id}.ics`` must not be
read as the event ``{id}.ics``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from nzr_common.access import PUBLIC
from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.contracts.events import EventFormat
from nzr_common.params import QueryDate
from nzr_common.runtime import SessionDep
from nzr_events.bootstrap import DepsDep
from nzr_events.calendar import service
from nzr_events.public_cache import page_key

router = APIRouter(prefix="/api/v1", tags=["events"])


CALENDAR = "text/calendar; charset=utf-8"


@router.get(
    "/events.ics",
    operation_id="events_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def events_calendar(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    date_from: Annotated[QueryDate | None, Query(alias="from")] = None,
    date_to: Annotated[QueryDate | None, Query(alias="to")] = None,
    district: Annotated[DistrictCode | None, Query()] = None,
    topic: Annotated[TopicCode | None, Query()] = None,
    format: EventFormat | None = None,
) -> Response:
    """iCalendar feed (RFC 5545) of public events, filters as for the list."""
    cache = deps.public_pages
    body = await service.calendar_feed(
        session=session,
        region=deps.settings.region,
        date_from=date_from,
        date_to=date_to,
        district=district,
        topic=topic,
        format=format,
    )
    cache.put(page_key(request.url.path, request.url.query), CALENDAR, body)
    return Response(body, media_type=CALENDAR)


@router.get(
    "/events/{event_id}.ics",
    operation_id="event_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def event_calendar(event_id: str, deps: DepsDep, session: SessionDep) -> Response:
    """iCalendar file of one public event."""
    body = await service.calendar_feed(session=session, region=deps.settings.region, event_id=event_id)
    return Response(body, media_type=CALENDAR)


@router.get(
    "/series/{series_id}.ics",
    operation_id="series_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def series_calendar(series_id: str, deps: DepsDep, session: SessionDep) -> Response:
    """iCalendar of a series: RRULE, EXDATEs and changed occurrences."""
    body = await service.calendar_feed(session=session, region=deps.settings.region, series_id=series_id)
    return Response(body, media_type=CALENDAR)
