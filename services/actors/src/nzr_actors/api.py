"""HTTP routes of the actors service: parse, call one service function, map the result."""

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from nzr_actors import domain, service
from nzr_actors.schemas import (
    ActorCreate,
    ActorPage,
    ActorRead,
    ActorSort,
    ActorUpdate,
    ContactCreate,
    ContactRead,
    CooperationCreate,
    CooperationEnd,
    CooperationPage,
    CooperationRead,
    CooperationType,
    DuplicateReport,
    ImportReport,
    NetworkMetrics,
    PersonErasure,
    PersonExport,
    PersonRequest,
    SuggestionList,
)
from nzr_actors.settings import ActorsSettings
from nzr_common.access import anonymous_rate_limit
from nzr_common.auth import AdminDep, EditorDep, Principal, PrincipalDep, Role
from nzr_common.contracts.actors import ActorKind, ResourceKind, Sector
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.params import QueryDate
from nzr_common.runtime import OutboxDep, SessionDep

router = APIRouter(prefix="/api/v1/actors", tags=["actors"])
persons = APIRouter(prefix="/api/v1/persons", tags=["persons (GDPR)"])
cooperations = APIRouter(prefix="/api/v1/cooperations", tags=["cooperations"])
networks = APIRouter(prefix="/api/v1/network", tags=["network analysis"])

IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


def _settings(request: Request) -> ActorsSettings:
    return request.app.state.runtime.settings


async def _read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with request.app.state.actor_reader.engine.connect() as connection:
        yield connection


# Reads without a transaction (see nzr_actors.reads): one round trip per statement.
ReadDep = Annotated[AsyncConnection, Depends(_read_connection)]


def _sees_private(request: Request, principal: Principal) -> bool:
    return principal.region == _settings(request).region and principal.has(Role.EDITOR, Role.ADMIN)


# --- actors ----------------------------------------------------------------------------------


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
    request: Request,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
    confirm_duplicates: Annotated[bool, Query(description="create even if likely duplicates exist")] = False,
) -> ActorRead:
    """Register an actor (organisation) of the region; warns (409) about likely duplicates."""
    runtime = request.app.state.runtime
    actor = await service.register_actor(
        session=session,
        outbox=outbox,
        region=runtime.region,
        topics=set(runtime.settings.topics),
        data=body,
        confirm_duplicates=confirm_duplicates,
    )
    response.headers["Location"] = f"/api/v1/actors/{actor.id}"
    response.headers["ETag"] = domain.etag(actor.version)
    return actor


@router.get(
    "",
    response_model=ActorPage,
    operation_id="search_actors",
    dependencies=[anonymous_rate_limit("search")],
)
async def search_actors(
    request: Request,
    connection: ReadDep,
    principal: PrincipalDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="German full-text over name, description, topics and place"),
    ] = None,
    kind: Annotated[list[ActorKind] | None, Query()] = None,
    sector: Annotated[list[Sector] | None, Query()] = None,
    district: Annotated[list[str] | None, Query()] = None,
    topic: Annotated[list[str] | None, Query()] = None,
    offers: Annotated[list[ResourceKind] | None, Query(description="offers a resource of this kind")] = None,
    needs: Annotated[list[ResourceKind] | None, Query(description="needs a resource of this kind")] = None,
    sort: ActorSort | None = None,
    page: PageNo = 1,
    page_size: PageSize = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, description="`next_cursor` of the previous page (then `page` is ignored)"),
    ] = None,
) -> ActorPage:
    """Search actors; anonymous callers find only actors with a public profile.

    Page through the results by `page` (with `total`) or by the opaque `next_cursor`, which
    stays stable while actors are added or changed.
    """
    return await service.search_actors(
        connection=connection,
        q=q,
        kinds=kind or [],
        sectors=sector or [],
        districts=district or [],
        topics=topic or [],
        offers=offers or [],
        needs=needs or [],
        public_only=not _sees_private(request, principal),
        sort=sort,
        page=page,
        page_size=page_size,
        cursor=cursor,
    )


@router.get("/duplicates", response_model=DuplicateReport, operation_id="check_actor_duplicates")
async def check_duplicates(
    connection: ReadDep,
    _: EditorDep,
    name: Annotated[str, Query(min_length=2, max_length=300)],
    district: Annotated[str, Query(pattern=r"^\d{8}$")],
    municipality: Annotated[str | None, Query(max_length=200)] = None,
    website: Annotated[str | None, Query(max_length=500)] = None,
) -> DuplicateReport:
    """Likely duplicates of an actor about to be created: similar name in the same place, same website."""
    return await service.find_duplicates(
        session=connection, name=name, municipality=municipality, district=district, website=website
    )


@router.post(
    "/import",
    response_model=ImportReport,
    operation_id="import_actors",
    dependencies=[IDEMPOTENT],
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_actors(
    request: Request,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
    dry_run: bool = False,
    all_or_nothing: Annotated[bool, Query(description="import nothing if any row is invalid")] = False,
) -> ImportReport:
    """Import actors from a CSV file (UTF-8, `;` or `,`); invalid rows are reported by line."""
    runtime = request.app.state.runtime
    return await service.import_actors(
        session=session,
        outbox=outbox,
        region=runtime.region,
        topics=set(runtime.settings.topics),
        raw=await request.body(),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        max_rows=runtime.settings.import_max_rows,
    )


@router.get(
    "/{actor_id}",
    response_model=ActorRead,
    operation_id="get_actor",
    responses={304: {"description": "not modified (If-None-Match)"}},
)
async def get_actor(
    actor_id: str,
    principal: PrincipalDep,
    request: Request,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One actor; anonymous callers see only actors with a public profile."""
    version, document = await service.get_actor(
        reader=request.app.state.actor_reader,
        actor_id=actor_id,
        include_private=_sees_private(request, principal),
    )
    tag = domain.etag(version)
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
    request: Request,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
    if_match: IfMatch = None,
) -> ActorRead:
    """Change an actor; needs `If-Match` with the current ETag (a stale one gets 412)."""
    runtime = request.app.state.runtime
    actor = await service.update_actor(
        session=session,
        outbox=outbox,
        region=runtime.region,
        topics=set(runtime.settings.topics),
        actor_id=actor_id,
        data=body,
        if_match=if_match,
    )
    response.headers["ETag"] = domain.etag(actor.version)
    return actor


@router.delete("/{actor_id}", status_code=204, operation_id="delete_actor")
async def delete_actor(
    actor_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep, if_match: IfMatch = None
) -> Response:
    """Remove an actor with its contact persons and cooperations."""
    await service.remove_actor(session=session, outbox=outbox, actor_id=actor_id, if_match=if_match)
    return Response(status_code=204)


@router.get("/{actor_id}/duplicates", response_model=DuplicateReport, operation_id="get_actor_duplicates")
async def actor_duplicates(actor_id: str, session: SessionDep, _: EditorDep) -> DuplicateReport:
    """Likely duplicates of a stored actor."""
    return await service.duplicates_of_actor(session=session, actor_id=actor_id)


@router.get("/{actor_id}/suggestions", response_model=SuggestionList, operation_id="get_actor_suggestions")
async def actor_suggestions(
    actor_id: str,
    session: SessionDep,
    _: EditorDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    surprising_only: bool = False,
) -> SuggestionList:
    """Actors this actor has never cooperated with, ranked by the documented score."""
    return await service.network_suggestions(
        session=session, actor_id=actor_id, district=None, limit=limit, surprising_only=surprising_only
    )


@router.get("/{actor_id}/contacts", response_model=list[ContactRead], operation_id="list_contacts")
async def list_contacts(actor_id: str, session: SessionDep, _: AdminDep) -> list[ContactRead]:
    """Contact persons of an actor (admins of the region only)."""
    return await service.list_contacts(session=session, actor_id=actor_id)


@router.post(
    "/{actor_id}/contacts",
    status_code=201,
    response_model=ContactRead,
    operation_id="add_contact",
    dependencies=[IDEMPOTENT],
)
async def add_contact(
    actor_id: str, body: ContactCreate, session: SessionDep, outbox: OutboxDep, _: AdminDep
) -> ContactRead:
    """Add a contact person with the consent they gave (purpose, time, source)."""
    return await service.add_contact(session=session, outbox=outbox, actor_id=actor_id, data=body)


@router.delete("/{actor_id}/contacts/{contact_id}", status_code=204, operation_id="remove_contact")
async def remove_contact(actor_id: str, contact_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Remove a contact person from an actor."""
    await service.remove_contact(session=session, actor_id=actor_id, contact_id=contact_id)
    return Response(status_code=204)


# --- persons (GDPR) --------------------------------------------------------------------------


@persons.post("/export", response_model=PersonExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonExport:
    """GDPR Art. 15: everything stored about the person with this e-mail address, as JSON."""
    return await service.export_person(session=session, email=str(body.email))


@persons.post("/erase", response_model=PersonErasure, operation_id="erase_person")
async def erase_person(
    body: PersonRequest, session: SessionDep, outbox: OutboxDep, _: AdminDep
) -> PersonErasure:
    """GDPR Art. 17: erase the person here and announce PersonErased to the region's services."""
    return await service.erase_person(session=session, outbox=outbox, email=str(body.email))


# --- cooperations ----------------------------------------------------------------------------


@cooperations.post(
    "",
    status_code=201,
    response_model=CooperationRead,
    operation_id="record_cooperation",
    dependencies=[IDEMPOTENT],
)
async def record_cooperation(
    body: CooperationCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    principal: EditorDep,
) -> CooperationRead:
    """Record a cooperation between two actors of the region.

    With an actor of another region: name both regions (`actor_a_region`, `actor_b_region`)
    and send a token of this region that also carries the `state` role.
    """
    runtime = request.app.state.runtime
    cooperation = await service.record_cooperation(
        session=session,
        outbox=outbox,
        region=runtime.region,
        topics=set(runtime.settings.topics),
        data=body,
        may_cross_regions=principal.has(Role.STATE),
    )
    response.headers["Location"] = f"/api/v1/cooperations/{cooperation.id}"
    return cooperation


@cooperations.get("", response_model=CooperationPage, operation_id="list_cooperations")
async def list_cooperations(
    session: SessionDep,
    _: EditorDep,
    actor_id: str | None = None,
    type: CooperationType | None = None,
    active_on: QueryDate | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> CooperationPage:
    """Cooperations of the region, optionally of one actor, one type or active on a date."""
    return await service.list_cooperations(
        session=session, actor_id=actor_id, type_=type, active_on=active_on, page=page, page_size=page_size
    )


@cooperations.get("/{cooperation_id}", response_model=CooperationRead, operation_id="get_cooperation")
async def get_cooperation(cooperation_id: str, session: SessionDep, _: EditorDep) -> CooperationRead:
    """One cooperation."""
    return await service.get_cooperation(session=session, cooperation_id=cooperation_id)


@cooperations.post("/{cooperation_id}/end", response_model=CooperationRead, operation_id="end_cooperation")
async def end_cooperation(
    cooperation_id: str, body: CooperationEnd, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> CooperationRead:
    """End a cooperation on a date."""
    return await service.end_cooperation(
        session=session, outbox=outbox, cooperation_id=cooperation_id, until=body.until
    )


# --- network analysis ------------------------------------------------------------------------


@networks.get("/metrics", response_model=NetworkMetrics, operation_id="network_metrics")
async def network_metrics(
    request: Request,
    connection: ReadDep,
    _: EditorDep,
    district: str | None = None,
    on: QueryDate | None = None,
    top: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> NetworkMetrics:
    """Density, components, degree and betweenness centrality, isolated actors, cross-sector share."""
    return await service.network_metrics(
        session=connection, district=district, on=on, top_n=top or _settings(request).network_top_n
    )


@networks.get("/suggestions", response_model=SuggestionList, operation_id="network_suggestions")
async def network_suggestions(
    session: SessionDep,
    _: EditorDep,
    actor_id: str | None = None,
    district: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    surprising_only: bool = False,
) -> SuggestionList:
    """Pairs that have never cooperated (for one actor or the region), best first."""
    return await service.network_suggestions(
        session=session, actor_id=actor_id, district=district, limit=limit, surprising_only=surprising_only
    )


@networks.get(
    "/export",
    operation_id="export_network",
    responses={
        200: {
            "content": {
                "application/graphml+xml": {},
                "application/gexf+xml": {},
                "text/csv": {},
                "application/json": {},
            }
        }
    },
)
async def export_network(
    session: SessionDep,
    _: EditorDep,
    format: Literal["graphml", "gexf", "csv", "json"] = "graphml",
    district: str | None = None,
    on: QueryDate | None = None,
) -> Response:
    """The cooperation network as GraphML, GEXF (Gephi), CSV edge list or JSON."""
    body, media_type, extension = await service.export_network(
        session=session, format_=format, district=district, on=on
    )
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="network.{extension}"'},
    )
