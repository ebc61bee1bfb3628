"""HTTP routes of the actors service: parse, call one service function, map the result."""

from fastapi import APIRouter, Request, Response
from nzr_common.auth import EditorDep, PrincipalDep, Role
from nzr_common.runtime import OutboxDep, SessionDep

from nzr_actors import service
from nzr_actors.schemas import ActorCreate, ActorRead

router = APIRouter(prefix="/api/v1/actors", tags=["actors"])


@router.post("", status_code=201, response_model=ActorRead, operation_id="create_actor")
async def create_actor(
    body: ActorCreate, request: Request, response: Response,
    session: SessionDep, outbox: OutboxDep, _: EditorDep,
) -> ActorRead:
    """Register an actor (organisation) of the region."""
    runtime = request.app.state.runtime
    actor = await service.register_actor(
        session=session, outbox=outbox, region=runtime.region,
        topics=set(runtime.settings.topics), data=body,
    )
    response.headers["Location"] = f"/api/v1/actors/{actor.id}"
    response.headers["ETag"] = f'"{actor.version}"'
    return actor


@router.get("/{actor_id}", response_model=ActorRead, operation_id="get_actor")
async def get_actor(actor_id: str, session: SessionDep, principal: PrincipalDep,
                    response: Response, request: Request) -> ActorRead:
    """One actor; anonymous callers see only actors with a public profile."""
    own_region = principal.region == request.app.state.runtime.settings.region
    actor = await service.get_actor(
        session=session, actor_id=actor_id,
        include_private=own_region and principal.has(Role.EDITOR, Role.ADMIN),
    )
    response.headers["ETag"] = f'"{actor.version}"'
    return actor
