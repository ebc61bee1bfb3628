"""HTTP routes of search: the catalogue search (with its fast path for anonymous callers) and
one programme."""

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request as StarletteRequest
from starlette.types import Receive, Scope, Send

from nzr_common.access import PUBLIC, anonymous_rate_limit
from nzr_common.errors import DomainError
from nzr_common.languages import preferred_language
from nzr_common.pagination import Paging, decode_cursor, link_header, next_link
from nzr_common.params import Offset, QueryDate
from nzr_funding.bootstrap import Deps, DepsDep
from nzr_funding.i18n import LANGUAGES, LanguageDep
from nzr_funding.search import service
from nzr_funding.search.cache import CatalogueCache
from nzr_funding.search.schemas import ProgrammePage, ProgrammeRead, ProgrammeSort, SearchQuery

PREFIX = "/api/v1/funding"
SEARCH_PATH = f"{PREFIX}/programs"


class CachedSearchRoute(APIRoute):
    """The search route with a fast path for anonymous callers (search answers are the same for
    every caller): a repeated search comes straight from the catalogue's answer cache (keyed by
    the catalogue version, the raw query string and the day), a new one is validated by
    ``SearchParams`` — the endpoint's parameters as one model — and computed, both without
    FastAPI's per-request parameter and dependency machinery. Anything the fast path does not
    accept (bad parameters, unknown filter values) and every request with a token (so a bad
    token still gets its 401) takes the full path, which answers as it always did."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A token (401 if bad) or a precondition (428) is answered by the full path.
        personal = any(name in (b"authorization", b"if-match") for name, _ in scope["headers"])
        if scope["method"] == "GET" and not personal:
            deps: Deps = scope["app"].state.deps
            catalogue = deps.catalogue
            await catalogue.refreshed(deps.sessions)
            answer = catalogue.cached(_raw_search_key(scope))
            if answer is None:
                answer = await _fast_search(scope, catalogue, deps.sessions)
            if answer is not None:
                deps.search_usage.record(answer.query, answer.hits)
                headers = link_header(answer.next)
                await Response(answer.document, media_type="application/json", headers=headers)(
                    scope, receive, send
                )
                return
        await super().handle(scope, receive, send)


class SearchParams(BaseModel):
    """The search endpoint's query parameters, read by FastAPI for the endpoint and by
    ``_fast_search`` for anonymous callers: one declaration for both."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        None,
        max_length=300,
        description="German full text over name, summary, funder, topics, areas and eligible "
        "applicants (compounds split, umlauts folded, stemmed, typos forgiven)",
    )
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
    district: str | None = Field(None, description="AGS of a Saxon district: programmes that fund there")
    as_of: QueryDate | None = Field(None, description="Day the deadline state refers to (default: today)")
    sort: ProgrammeSort | None = Field(
        None, description="Default: `relevance` with `q`, else `deadline`; ties are broken by name and id"
    )
    limit: int = Field(20, ge=1, le=100, description="Items per page")
    cursor: str | None = Field(
        None, max_length=200, description="Opaque position from the `next` link of the previous page"
    )
    offset: Offset = Field(0, deprecated=True, description="Use `cursor`; kept for one release")

    @field_validator("cursor")
    @classmethod
    def _a_cursor_of_this_list(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            try:
                decode_cursor(cursor)
            except RequestValidationError as error:
                raise ValueError("not a cursor of this list") from error
        return cursor

    def query(self) -> SearchQuery:
        return SearchQuery.model_validate(
            self.model_dump(exclude={"as_of", "sort", "limit", "cursor", "offset"})
        )

    def paging(self) -> Paging:
        """The page asked for: by ``cursor``, else by the deprecated ``offset``."""
        offset: int = self.__dict__["offset"]  # not ``self.offset``: that warns (deprecated)
        return Paging(limit=self.limit, offset=decode_cursor(self.cursor) if self.cursor else offset)


_LIST_PARAMS = frozenset(name for name, f in SearchParams.model_fields.items() if f.annotation == list[str])


async def _fast_search(
    scope: Scope, catalogue: CatalogueCache, sessions: async_sessionmaker[AsyncSession]
) -> service.SearchAnswer | None:
    """The search answer without FastAPI's machinery, or None to take the full path."""
    values: dict[str, Any] = {}
    # As Starlette reads query strings: latin-1, blank values kept, the last value of a scalar.
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name in _LIST_PARAMS:
            values.setdefault(name, []).append(value)
        else:  # unknown names too: the model forbids them, the full path answers 422
            values[name] = value
    try:
        params = SearchParams.model_validate(values)
        paging = params.paging()
        answer = await service.search_answer(
            sessions=sessions,
            catalogue=catalogue,
            query=params.query(),
            as_of=_today(params.as_of),
            limit=paging.limit,
            offset=paging.offset,
            language=_language(scope),
            sort=params.sort,
            next_link=_next_link(_bare_request(scope), paging),
        )
    except (ValidationError, DomainError):
        return None
    return catalogue.remember(_raw_search_key(scope), answer)


def _bare_request(scope: Scope) -> StarletteRequest:
    """A request of the path and query string alone: all ``next_link`` reads."""
    return StarletteRequest(
        {
            "type": "http",
            "path": scope.get("path", SEARCH_PATH),
            "root_path": scope.get("root_path", ""),
            "query_string": scope["query_string"],
            "headers": [],
        }
    )


def _next_link(request: StarletteRequest, paging: Paging) -> service.NextLink:
    def link(returned: int, total: int) -> str | None:
        return next_link(request, paging, returned, total)

    return link


def _today(as_of: date | None) -> date:
    return as_of or datetime.now(UTC).date()


def _language(scope: Scope) -> str:
    accept = next((value for name, value in scope.get("headers", ()) if name == b"accept-language"), b"")
    return preferred_language(accept.decode("latin-1"), LANGUAGES)


def _raw_search_key(scope: Scope) -> tuple[str, bytes, date, str]:
    return ("raw search", scope["query_string"], _today(None), _language(scope))


router = APIRouter(prefix=PREFIX, tags=["funding"])
#: The search route alone, with its answer cache in front.
search_router = APIRouter(prefix=PREFIX, tags=["funding"], route_class=CachedSearchRoute)


@search_router.get(
    SEARCH_PATH.removeprefix(PREFIX),
    response_model=ProgrammePage,
    operation_id="search_programmes",
    dependencies=[PUBLIC, anonymous_rate_limit("search")],
)
async def search_programmes(
    request: Request, deps: DepsDep, params: Annotated[SearchParams, Query()], language: LanguageDep
) -> Response:
    """Search the catalogue: full text, filters for every dimension, facet counts, ranking
    (`sort`). Deadlines carry their certainty (an expected one is labelled so); labels and
    errors in German, English by ``Accept-Language``. Paged by `limit` and `cursor` (the `next`
    link, also in the `Link` header)."""
    paging = params.paging()
    answer = await service.search_answer(
        sessions=deps.sessions,
        catalogue=deps.catalogue,
        query=params.query(),
        as_of=_today(params.as_of),
        limit=paging.limit,
        offset=paging.offset,
        language=language,
        sort=params.sort,
        next_link=_next_link(request, paging),
    )
    deps.catalogue.remember(_raw_search_key(request.scope), answer)
    deps.search_usage.record(answer.query, answer.hits)
    # Serialised once by the service (and cached there); the response model documents it.
    return Response(answer.document, media_type="application/json", headers=link_header(answer.next))


@router.get(
    "/programs/{programme_id}",
    response_model=ProgrammeRead,
    operation_id="get_programme",
    dependencies=[PUBLIC],
)
async def get_programme(
    programme_id: str, deps: DepsDep, language: LanguageDep, as_of: QueryDate | None = None
) -> ProgrammeRead:
    """One programme with its sources and the deadline state (and certainty) as of a day."""
    return await service.get_programme(
        sessions=deps.sessions,
        catalogue=deps.catalogue,
        programme_id=programme_id,
        as_of=_today(as_of),
        language=language,
    )
