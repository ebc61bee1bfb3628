"""HTTP routes of the network analysis: parse, call one service function, map the result."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from nzr_actors.bootstrap import DepsDep, ReadDep
from nzr_actors.network import service
from nzr_actors.network.schemas import NetworkMetrics, SuggestionList
from nzr_common.auth import EditorDep
from nzr_common.codes import DistrictCode
from nzr_common.params import QueryDate
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/network", tags=["network analysis"])


@router.get("/metrics", response_model=NetworkMetrics, operation_id="network_metrics")
async def network_metrics(
    deps: DepsDep,
    connection: ReadDep,
    _: EditorDep,
    district: DistrictCode | None = None,
    on: QueryDate | None = None,
    top: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> NetworkMetrics:
    """Density, components, degree and betweenness centrality, isolated actors, cross-sector share."""
    return await service.network_metrics(
        session=connection, district=district, on=on, top_n=top or deps.settings.network_top_n
    )


@router.get("/suggestions", response_model=SuggestionList, operation_id="network_suggestions")
async def network_suggestions(
    session: SessionDep,
    _: EditorDep,
    actor_id: str | None = None,
    district: DistrictCode | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    surprising_only: bool = False,
) -> SuggestionList:
    """Pairs that have never cooperated (for one actor or the region), best first."""
    return await service.network_suggestions(
        session=session, actor_id=actor_id, district=district, limit=limit, surprising_only=surprising_only
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
    format: Literal["graphml", "gexf", "csv", "json"] = "graphml",
    district: DistrictCode | None = None,
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
