"""HTTP routes of the funding service: parse, call one service function, map the result."""

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from nzr_common.access import PUBLIC, anonymous_rate_limit
from nzr_common.auth import Principal, PrincipalDep, Role, require
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.params import Offset, QueryDate
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_funding import service
from nzr_funding.catalogue import CatalogueCache
from nzr_funding.schemas import (
    AlertRead,
    CatalogueChange,
    DeadlineWatchReport,
    ImportReport,
    MatchRequest,
    MatchResult,
    ProgrammePage,
    ProgrammeRead,
    ProgrammeRecord,
    SavedSearchCreate,
    SavedSearchRead,
    SearchQuery,
    Taxonomy,
)

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])


class CachedSearchRoute(APIRoute):
    """The search route with a fast path for anonymous callers (search answers are the same for
    every caller): a repeated search comes straight from the catalogue's answer cache (keyed by
    the catalogue version, the raw query string and the day), a new one is validated by
    ``SearchParams`` — the endpoint's parameters as one model — and computed, both without
    FastAPI's per-request parameter and dependency machinery. Anything the fast path does not
    accept (bad parameters, unknown filter values) and every request with a token (so a bad
    token still gets its 401) takes the full path, which answers as it always did."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "GET" and not any(name == b"authorization" for name, _ in scope["headers"]):
            app = scope["app"]
            catalogue: CatalogueCache = app.state.catalogue
            await catalogue.refreshed(app.state.runtime.sessions)
            document = catalogue.cached(_raw_search_key(scope))
            if document is None:
                document = await _fast_search(scope, catalogue, app.state.runtime.sessions)
            if document is not None:
                await Response(document, media_type="application/json")(scope, receive, send)
                return
        await super().handle(scope, receive, send)


class SearchParams(BaseModel):
    """The search endpoint's query parameters, read by FastAPI for the endpoint and by
    ``_fast_search`` for anonymous callers: one declaration for both."""

    q: str | None = Field(None, max_length=300, description="German full text over name, summary, funder")
    funding_type: list[str] = Field([], description="Förderart")
    area: list[str] = Field([], description="Förderbereich")
    territory: list[str] = Field([], description="Fördergebiet")
    eligible: list[str] = Field([], description="Förderberechtigte")
    level: list[str] = Field([], description="bund, land, eu, stiftung")
    topic: list[str] = []
    state: list[str] = Field([], description="open, upcoming, closed, unknown")
    open_now: bool = False
    deadline_before: QueryDate | None = None
    amount_min: float | None = Field(None, ge=0)
    amount_max: float | None = Field(None, ge=0)
    as_of: QueryDate | None = Field(None, description="Day the deadline state refers to (default: today)")
    limit: int = Field(20, ge=1, le=100)
    offset: Offset = 0

    def query(self) -> SearchQuery:
        return SearchQuery.model_validate(self.model_dump(exclude={"as_of", "limit", "offset"}))


_LIST_PARAMS = frozenset(name for name, f in SearchParams.model_fields.items() if f.annotation == list[str])


async def _fast_search(
    scope: Scope, catalogue: CatalogueCache, sessions: async_sessionmaker[AsyncSession]
) -> bytes | None:
    """The search answer without FastAPI's machinery, or None to take the full path."""
    values: dict[str, Any] = {}
    # As Starlette reads query strings: latin-1, blank values kept, the last value of a scalar.
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name in _LIST_PARAMS:
            values.setdefault(name, []).append(value)
        elif name in SearchParams.model_fields:
            values[name] = value
    try:
        params = SearchParams.model_validate(values)
        document = await service.search_programmes_json(
            sessions=sessions,
            catalogue=catalogue,
            query=params.query(),
            as_of=_today(params.as_of),
            limit=params.limit,
            offset=params.offset,
        )
    except (ValidationError, ProblemError):
        return None
    return catalogue.remember(_raw_search_key(scope), document)


def _raw_search_key(scope: Scope) -> tuple[str, bytes, date]:
    return ("raw search", scope["query_string"], _today(None))


#: The search route alone, with its answer cache in front.
search_router = APIRouter(prefix="/api/v1/funding", tags=["funding"], route_class=CachedSearchRoute)

_state_role = require(Role.STATE)


async def _catalogue_writer(
    request: Request, principal: Annotated[Principal, Depends(_state_role)]
) -> Principal:
    """The state role, at a funding service that owns the catalogue (not a region's replica)."""
    if not request.app.state.runtime.settings.catalogue_writes:
        raise ProblemError(
            409,
            "Catalogue is a replica",
            "This region's catalogue is a copy of the state's; change programmes at the state's "
            "funding service.",
        )
    return principal


StateDep = Annotated[Principal, Depends(_catalogue_writer)]
WatchDep = Annotated[Principal, Depends(require(Role.STATE, Role.ADMIN))]
MemberDep = Annotated[Principal, Depends(require(Role.EDITOR, Role.ADMIN, Role.STATE))]


async def _catalogue(request: Request) -> CatalogueCache:  # async: no thread hand-off
    return request.app.state.catalogue


CatalogueDep = Annotated[CatalogueCache, Depends(_catalogue)]


def _catalogue_region(request: Request) -> str:
    return request.app.state.runtime.settings.catalogue_region


def _today(as_of: date | None) -> date:
    return as_of or datetime.now(UTC).date()


def _owner(principal: Principal) -> str:
    return f"{principal.region}:{principal.subject}"


@router.get("/taxonomy", response_model=Taxonomy, operation_id="get_funding_taxonomy", dependencies=[PUBLIC])
async def get_taxonomy() -> Taxonomy:
    """Filter dimensions and their values (Förderdatenbank taxonomy plus our topics), with sources."""
    return service.get_taxonomy()


@search_router.get(
    "/programs",
    response_model=ProgrammePage,
    operation_id="search_programmes",
    dependencies=[PUBLIC, anonymous_rate_limit("search")],
)
async def search_programmes(
    request: Request, catalogue: CatalogueDep, params: Annotated[SearchParams, Query()]
) -> ProgrammePage:
    """Search the catalogue: full text, filters for every dimension, facet counts, ranking."""
    document = await service.search_programmes_json(
        sessions=request.app.state.runtime.sessions,
        catalogue=catalogue,
        query=params.query(),
        as_of=_today(params.as_of),
        limit=params.limit,
        offset=params.offset,
    )
    catalogue.remember(_raw_search_key(request.scope), document)
    # Serialised once by the service (and cached there); the response model documents it.
    return Response(document, media_type="application/json")  # type: ignore[return-value]


@router.get(
    "/programs/{programme_id}",
    response_model=ProgrammeRead,
    operation_id="get_programme",
    dependencies=[PUBLIC],
)
async def get_programme(
    programme_id: str, request: Request, catalogue: CatalogueDep, as_of: QueryDate | None = None
) -> ProgrammeRead:
    """One programme with its sources and the deadline state as of a day."""
    return await service.get_programme(
        sessions=request.app.state.runtime.sessions,
        catalogue=catalogue,
        programme_id=programme_id,
        as_of=_today(as_of),
    )


@router.post(
    "/programs",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="create_programme",
    dependencies=[IDEMPOTENT],
)
async def create_programme(
    body: ProgrammeRecord,
    request: Request,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    _: StateDep,
) -> CatalogueChange:
    """Add a programme (state only); announced as FundingProgramPublished, searchable once projected."""
    change = await service.save_programme(
        session=session,
        outbox=outbox,
        catalogue_region=_catalogue_region(request),
        record=body.model_dump(mode="json", exclude_unset=True),
    )
    response.headers["Location"] = f"/api/v1/funding/programs/{change.id}"
    return change


@router.put(
    "/programs/{programme_id}",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="replace_programme",
)
async def replace_programme(
    programme_id: str,
    body: ProgrammeRecord,
    request: Request,
    session: SessionDep,
    outbox: OutboxDep,
    _: StateDep,
) -> CatalogueChange:
    """Replace a programme's record (state only); a changed record becomes a new revision."""
    return await service.save_programme(
        session=session,
        outbox=outbox,
        catalogue_region=_catalogue_region(request),
        record=body.model_dump(mode="json", exclude_unset=True),
        expected_id=programme_id,
    )


@router.delete(
    "/programs/{programme_id}",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="withdraw_programme",
)
async def withdraw_programme(
    programme_id: str, request: Request, session: SessionDep, outbox: OutboxDep, _: StateDep
) -> CatalogueChange:
    """Withdraw a programme from the catalogue (state only)."""
    return await service.withdraw_programme(
        session=session, outbox=outbox, catalogue_region=_catalogue_region(request), programme_id=programme_id
    )


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "programmes": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/ProgrammeRecord"},
                                }
                            },
                        },
                        {"type": "array", "items": {"$ref": "#/components/schemas/ProgrammeRecord"}},
                    ]
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "UTF-8 CSV with the record's fields as columns; lists separated by '|'",
                }
            },
        },
    }
}


@router.post(
    "/programs/import",
    response_model=ImportReport,
    operation_id="import_programmes",
    dependencies=[IDEMPOTENT],
    openapi_extra=IMPORT_BODY,
)
async def import_programmes(
    request: Request, session: SessionDep, outbox: OutboxDep, _: StateDep, all_or_nothing: bool = False
) -> ImportReport:
    """Import programmes (seed JSON or CSV, state only): each record validated and reported;
    re-import updates by id; the valid records go in together or not at all."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type in ("text/csv", "application/csv"):
        records = service.records_from_csv(body)
    elif content_type in ("application/json", ""):
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ProblemError(
                400,
                "Malformed JSON",
                f"The request body is not valid JSON: {error}",
                invalid_params=[InvalidParam(name="body", reason="not JSON")],
            ) from error
        records = document.get("programmes") if isinstance(document, dict) else document
        if not isinstance(records, list):
            raise ProblemError(
                422,
                "Invalid import",
                'Expected a list of programmes or {"programmes": [...]}.',
                invalid_params=[InvalidParam(name="programmes", reason="expected a list")],
            )
    else:
        raise ProblemError(415, "Unsupported Media Type", "Send application/json or text/csv.")
    return await service.import_programmes(
        session=session,
        outbox=outbox,
        catalogue_region=_catalogue_region(request),
        records=records,
        all_or_nothing=all_or_nothing,
    )


@router.post("/matches", response_model=MatchResult, operation_id="match_programmes")
async def match_programmes(
    body: MatchRequest,
    request: Request,
    session: SessionDep,
    catalogue: CatalogueDep,
    principal: PrincipalDep,
) -> MatchResult:
    """Rank programmes for an actor of the region or an ad-hoc profile, explained per criterion
    (actors without a public profile only for the region's editors and admins)."""
    runtime = request.app.state.runtime  # its outbox directly: OutboxDep is a thread hand-off
    result = await service.match_programmes(
        session=session,
        catalogue=catalogue,
        outbox=runtime.outbox,
        request=body,
        today=_today(body.as_of),
        sees_private_actors=principal.region == runtime.settings.region
        and principal.has(Role.EDITOR, Role.ADMIN),
    )
    # Serialised once (FastAPI would validate the model again); the response model documents it.
    return Response(result.model_dump_json(), media_type="application/json")  # type: ignore[return-value]


@router.post("/deadline-watch", response_model=DeadlineWatchReport, operation_id="run_deadline_watch")
async def run_deadline_watch(
    request: Request, catalogue: CatalogueDep, _: WatchDep, as_of: QueryDate | None = None
) -> DeadlineWatchReport:
    """Announce approaching deadlines now (the watch also runs periodically)."""
    runtime = request.app.state.runtime
    today = _today(as_of)
    announced = await service.watch_deadlines(
        sessions=runtime.sessions,
        catalogue=catalogue,
        outbox=runtime.outbox,
        today=today,
        thresholds=runtime.settings.deadline_thresholds,
    )
    return DeadlineWatchReport(as_of=today, announced=announced)


@router.post(
    "/saved-searches",
    status_code=201,
    response_model=SavedSearchRead,
    operation_id="create_saved_search",
    dependencies=[IDEMPOTENT],
)
async def create_saved_search(
    body: SavedSearchCreate, session: SessionDep, principal: MemberDep, response: Response
) -> SavedSearchRead:
    """Save a search; with alerts, new or changed programmes that match are recorded."""
    saved = await service.create_saved_search(session=session, owner=_owner(principal), data=body)
    response.headers["Location"] = f"/api/v1/funding/saved-searches/{saved.id}"
    return saved


@router.get("/saved-searches", response_model=list[SavedSearchRead], operation_id="list_saved_searches")
async def list_saved_searches(session: SessionDep, principal: MemberDep) -> list[SavedSearchRead]:
    """The caller's saved searches."""
    return await service.list_saved_searches(session=session, owner=_owner(principal))


@router.delete("/saved-searches/{search_id}", status_code=204, operation_id="delete_saved_search")
async def delete_saved_search(search_id: str, session: SessionDep, principal: MemberDep) -> Response:
    """Delete a saved search and its alerts."""
    await service.delete_saved_search(session=session, owner=_owner(principal), search_id=search_id)
    return Response(status_code=204)


@router.get(
    "/saved-searches/{search_id}/alerts", response_model=list[AlertRead], operation_id="list_search_alerts"
)
async def list_alerts(search_id: str, session: SessionDep, principal: MemberDep) -> list[AlertRead]:
    """Programmes that were published or changed and match the saved search."""
    return await service.list_alerts(session=session, owner=_owner(principal), search_id=search_id)
