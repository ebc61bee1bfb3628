"""HTTP routes of actors: parse, call one service function, map the result."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from nzr_actors.actors import rules, search, service
from nzr_actors.actors.schemas import (
    ActorCreate,
    ActorPage,
    ActorRead,
    ActorSort,
    ActorUpdate,
    ActorVocabulary,
    DuplicateReport,
)
from nzr_actors.bootstrap import Deps, DepsDep, ReadDep
from nzr_actors.imports import routes as imports
from nzr_actors.network import service as network
from nzr_actors.network.reads import Scope
from nzr_actors.network.schemas import SuggestionList
from nzr_common.access import PUBLIC, anonymous_rate_limit
from nzr_common.auth import EditorDep, Principal, PrincipalDep, Role
from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.contracts.actors import ActorKind, LegalForm, ResourceKind, Sector
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.pagination import link_header
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/actors", tags=["actors"])

IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]


def _sees_private(deps: Deps, principal: Principal) -> bool:
    return principal.region == deps.settings.region and principal.has(Role.EDITOR, Role.ADMIN)


@contextmanager
def _preconditions() -> Iterator[None]:
    """The If-Match outcomes of a change as HTTP: 428 without the header, 412 with a stale one."""
    try:
        yield
    except rules.PreconditionRequired as error:
        raise ProblemError(428, "Precondition Required", str(error)) from error
    except rules.PreconditionFailed as error:
        headers = {"ETag": rules.etag(error.version)} if error.version is not None else None
        raise ProblemError(412, "Precondition Failed", error.detail, headers=headers) from error


@router.post(
    "",
    status_code=201,
    response_model=ActorRead,
    operation_id="create_actor",
    dependencies=[IDEMPOTENT],
    responses={409: {"description": "likely duplicates (listed in `duplicates`)"}},
)
async def create_actor(
    body: ActorCreate,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
    _: EditorDep,
    confirm_duplicates: Annotated[bool, Query(description="create even if likely duplicates exist")] = False,
) -> ActorRead:
    """Register an actor (organisation) of the region; warns (409) about likely duplicates."""
    actor = await service.register_actor(
        session=session,
        outbox=deps.outbox,
        region=deps.region,
        topics=set(deps.topics),
        data=body,
        confirm_duplicates=confirm_duplicates,
        subdistricts=deps.settings.subdistricts,
    )
    response.headers["Location"] = f"/api/v1/actors/{actor.id}"
    response.headers["ETag"] = rules.etag(actor.version)
    return actor


@router.get(
    "",
    response_model=ActorPage,
    operation_id="search_actors",
    dependencies=[anonymous_rate_limit("search")],
)
async def search_actors(
    request: Request,
    response: Response,
    deps: DepsDep,
    connection: ReadDep,
    principal: PrincipalDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="German full-text over name, description, topics and place"),
    ] = None,
    kind: Annotated[list[ActorKind] | None, Query()] = None,
    sector: Annotated[list[Sector] | None, Query()] = None,
    legal_form: Annotated[list[LegalForm] | None, Query(description="Rechtsform")] = None,
    district: Annotated[list[DistrictCode] | None, Query()] = None,
    topic: Annotated[list[TopicCode] | None, Query()] = None,
    offers: Annotated[list[ResourceKind] | None, Query(description="offers a resource of this kind")] = None,
    needs: Annotated[list[ResourceKind] | None, Query(description="needs a resource of this kind")] = None,
    sort: Annotated[
        ActorSort | None,
        Query(description="Default: `relevance` with `q`, else `name`; ties are broken by id"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, description="Opaque position from the `next` link of the previous page"),
    ] = None,
    page: Annotated[
        int | None, Query(ge=1, le=100_000, deprecated=True, description="Use `cursor`; kept for one release")
    ] = None,
    page_size: Annotated[
        int | None, Query(ge=1, le=200, deprecated=True, description="Use `limit`; kept for one release")
    ] = None,
) -> ActorPage:
    """Search actors; anonymous callers find only actors with a public profile.

    Paged by `limit` and `cursor` (the `next` link, also in the `Link` header; `total` counts
    every match). The cursor is a keyset position, so paging stays stable while actors are
    added or changed.
    """
    size = page_size if page_size is not None and "limit" not in request.query_params else limit
    found = await search.search_actors(
        connection=connection,
        q=q,
        kinds=kind or [],
        sectors=sector or [],
        legal_forms=legal_form or [],
        districts=district or [],
        topics=topic or [],
        offers=offers or [],
        needs=needs or [],
        public_only=not _sees_private(deps, principal),
        sort=sort,
        limit=size,
        offset=(page - 1) * size if page is not None and cursor is None else 0,
        cursor=cursor,
    )
    if found.next_cursor is not None:
        url = request.url.remove_query_params(["cursor", "page"]).include_query_params(
            cursor=found.next_cursor
        )
        found.next = f"{url.path}?{url.query}"
    response.headers.update(link_header(found.next))
    return found


@router.get(
    "/vocabulary", response_model=ActorVocabulary, operation_id="get_actor_vocabulary", dependencies=[PUBLIC]
)
async def get_vocabulary(deps: DepsDep) -> ActorVocabulary:
    """Codes of kinds, sectors, legal forms, resource kinds, topics and districts, with German labels."""
    return service.actor_vocabulary(region=deps.region, topics=tuple(deps.settings.topics))


@router.get("/duplicates", response_model=DuplicateReport, operation_id="check_actor_duplicates")
async def check_duplicates(
    connection: ReadDep,
    _: EditorDep,
    name: Annotated[str, Query(min_length=2, max_length=300)],
    district: Annotated[DistrictCode, Query()],
    municipality: Annotated[str | None, Query(max_length=200)] = None,
    website: Annotated[str | None, Query(max_length=500)] = None,
) -> DuplicateReport:
    """Likely duplicates of an actor about to be created: similar name in the same place, same website."""
    return await search.find_duplicates(
        session=connection, name=name, municipality=municipality, district=district, website=website
    )


# POST /import (nzr_actors.imports), in its place between the searches and the single actor.
router.include_router(imports.router)


@router.get(
    "/{actor_id}",
    response_model=ActorRead,
    operation_id="get_actor",
    responses={304: {"description": "not modified (If-None-Match)"}},
)
async def get_actor(
    actor_id: str,
    principal: PrincipalDep,
    deps: DepsDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One actor; anonymous callers see only actors with a public profile."""
    version, document = await service.get_actor(
        reader=deps.reader,
        actor_id=actor_id,
        include_private=_sees_private(deps, principal),
    )
    tag = rules.etag(version)
    if if_none_match is not None and tag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(document, media_type="application/json", headers={"ETag": tag})


@router.patch(
    "/{actor_id}",
    response_model=ActorRead,
    operation_id="update_actor",
    responses={412: {"description": "stale If-Match"}, 428: {"description": "If-Match missing"}},
)
async def update_actor(
    actor_id: str,
    body: ActorUpdate,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
    _: EditorDep,
    if_match: IfMatch = None,
) -> ActorRead:
    """Change an actor; needs `If-Match` with the current ETag (a stale one gets 412)."""
    with _preconditions():
        actor = await service.update_actor(
            session=session,
            outbox=deps.outbox,
            region=deps.region,
            topics=set(deps.topics),
            actor_id=actor_id,
            data=body,
            if_match=if_match,
            subdistricts=deps.settings.subdistricts,
        )
    response.headers["ETag"] = rules.etag(actor.version)
    return actor


@router.delete("/{actor_id}", status_code=204, operation_id="delete_actor")
async def delete_actor(
    actor_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, if_match: IfMatch = None
) -> Response:
    """Remove an actor with its contact persons and cooperations."""
    with _preconditions():
        await service.remove_actor(session=session, outbox=deps.outbox, actor_id=actor_id, if_match=if_match)
    return Response(status_code=204)


@router.get("/{actor_id}/duplicates", response_model=DuplicateReport, operation_id="get_actor_duplicates")
async def actor_duplicates(actor_id: str, session: SessionDep, _: EditorDep) -> DuplicateReport:
    """Likely duplicates of a stored actor."""
    return await search.duplicates_of_actor(session=session, actor_id=actor_id)


@router.get("/{actor_id}/suggestions", response_model=SuggestionList, operation_id="get_actor_suggestions")
async def actor_suggestions(
    actor_id: str,
    deps: DepsDep,
    connection: ReadDep,
    _: EditorDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    surprising_only: bool = False,
) -> SuggestionList:
    """Actors of the region this actor has never cooperated with, ranked by the documented score."""
    return await network.network_suggestions(
        reader=connection,
        cache=deps.suggestions,
        scope=Scope(),
        actor_id=actor_id,
        limit=limit,
        surprising_only=surprising_only,
    )
