"""Routes of the programme."""

from fastapi import APIRouter

from nzr_common.auth import EditorDep, PrincipalDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events.access import is_editor
from nzr_events.bootstrap import DepsDep
from nzr_events.programme import service
from nzr_events.programme.schemas import SessionCreate, SessionRead, SessionUpdate

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post(
    "/events/{event_id}/sessions",
    status_code=201,
    response_model=SessionRead,
    operation_id="add_session",
    dependencies=[IDEMPOTENT],
)
async def add_session(event_id: str, body: SessionCreate, session: SessionDep, _: EditorDep) -> SessionRead:
    """Add a programme session; sessions at overlapping times are parallel."""
    return await service.add_session(session=session, event_id=event_id, data=body)


@router.patch(
    "/events/{event_id}/sessions/{session_id}", response_model=SessionRead, operation_id="update_session"
)
async def update_session(
    event_id: str,
    session_id: str,
    body: SessionUpdate,
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
) -> SessionRead:
    """Change a session (time, room, capacity, title); its participants are told by mail."""
    return await service.update_session(
        session=session,
        outbox=outbox,
        links=deps.links,
        event_id=event_id,
        session_id=session_id,
        data=body,
    )


@router.get("/events/{event_id}/sessions", response_model=list[SessionRead], operation_id="list_sessions")
async def list_sessions(
    event_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep
) -> list[SessionRead]:
    """The programme with seats left per session, by start time. Not paged (a plain array, no
    `limit`/`cursor`): it is one event's programme, whose sessions all lie within the event's own
    time span, so it stays small and is shown whole."""
    return await service.list_sessions(
        session=session, event_id=event_id, include_drafts=is_editor(deps, principal)
    )
