"""HTTP routes of the network analysis: parse, call one service function, map the result."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from nzr_actors.bootstrap import DepsDep, ReadDep
from nzr_actors.network import service
from nzr_actors.network.reads import Scope
from nzr_actors.network.schemas import NetworkMetrics, SuggestionList
from nzr_common.auth import EditorDep
from nzr_common.codes import DistrictCode
from nzr_common.params import QueryDate
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/network", tags=["network analysis"])

Subdistrict = Annotated[
    str | None, Query(max_length=120, description="only actors of this Stadtteil/Ortsteil (SUBDISTRICTS)")
]


def _scope(deps: DepsDep, district: DistrictCode | None = None, subdistrict: Subdistrict = None) -> Scope:
    return service.scope_of(
        district=district,
        subdistrict=subdistrict,
        districts=set(deps.region.districts),
        subdistricts=deps.settings.subdistricts,
    )


ScopeDep = Annotated[Scope, Depends(_scope)]


@router.get("/metrics", response_model=NetworkMetrics, operation_id="network_metrics")
async def network_metrics(
    deps: DepsDep,
    connection: ReadDep,
    _: EditorDep,
    scope: ScopeDep,
    on: QueryDate | None = None,
    top: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> NetworkMetrics:
    """Density (distinct cooperating pairs / possible pairs), components, degree and betweenness
    centrality, isolated actors, cross-sector share — on `on` (default today)."""
    return await service.network_metrics(
        session=connection, scope=scope, on=on, top_n=top or deps.settings.network_top_n
    )


@router.get("/suggestions", response_model=SuggestionList, operation_id="network_suggestions")
async def network_suggestions(
    deps: DepsDep,
    connection: ReadDep,
    _: EditorDep,
    scope: ScopeDep,
    actor_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    surprising_only: bool = False,
) -> SuggestionList:
    """Pairs that have never cooperated (for one actor or the network), best first (kept ready
    per network version; see docs/actors.md)."""
    return await service.network_suggestions(
        reader=connection,
        cache=deps.suggestions,
        scope=scope,
        actor_id=actor_id,
        limit=limit,
        surprising_only=surprising_only,
    )


@router.get(
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
    scope: ScopeDep,
    format: Literal["graphml", "gexf", "csv", "json"] = "graphml",
    on: QueryDate | None = None,
) -> Response:
    """The cooperation network as GraphML, CSV edge list or JSON on `on` (default today), or as
    dynamic GEXF 1.3 with its whole history (cooperations as spells: Gephi's timeline plays it)."""
    body, media_type, extension = await service.export_network(
        session=session, format_=format, scope=scope, on=on
    )
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="network.{extension}"'},
    )
