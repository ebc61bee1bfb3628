"""Routes of series."""

from fastapi import APIRouter

from nzr_common.auth import EditorDep, PrincipalDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events.access import districts, is_editor
from nzr_events.bootstrap import DepsDep
from nzr_events.series import ending, service
from nzr_events.series.schemas import SeriesCreate, SeriesEndUpdate, SeriesException, SeriesRead

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post(
    "/series",
    status_code=201,
    response_model=SeriesRead,
    operation_id="create_series",
    dependencies=[IDEMPOTENT],
)
async def create_series(
    body: SeriesCreate, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> SeriesRead:
    """A recurring meeting (RFC 5545 RRULE) with one registrable event per occurrence."""
    return await service.create_series(
        session=session, outbox=outbox, data=body, region_districts=districts(deps)
    )


@router.get("/series/{series_id}", response_model=SeriesRead, operation_id="get_series")
async def get_series(
    series_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep
) -> SeriesRead:
    """A series and its occurrences."""
    return await service.get_series(
        session=session, series_id=series_id, include_drafts=is_editor(deps, principal)
    )


@router.patch("/series/{series_id}", response_model=SeriesRead, operation_id="change_series_end")
async def change_series_end(
    series_id: str, body: SeriesEndUpdate, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> SeriesRead:
    """Move the series' end (COUNT or UNTIL): dates beyond it are cancelled with their
    registrations, dates it adds are scheduled like the others."""
    return await ending.change_series_end(
        session=session, outbox=outbox, links=deps.links, series_id=series_id, data=body
    )


@router.post("/series/{series_id}/exceptions", response_model=SeriesRead, operation_id="add_series_exception")
async def add_series_exception(
    series_id: str, body: SeriesException, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> SeriesRead:
    """One date of the series does not take place; everyone registered or waiting is told."""
    return await service.add_series_exception(
        session=session, outbox=outbox, links=deps.links, series_id=series_id, starts_at=body.starts_at
    )


@router.post("/series/{series_id}/publish", response_model=SeriesRead, operation_id="publish_series")
async def publish_series(series_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> SeriesRead:
    """Publish every draft occurrence."""
    return await service.publish_series(session=session, outbox=outbox, series_id=series_id)
