"""HTTP routes of the open-data exports: CSV/JSON series, charts, the DCAT-AP.de catalogue."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.access import PUBLIC
from nzr_common.problems import ProblemError
from nzr_common.regions import DISTRICTS_SOURCE
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import Deps, DepsDep
from nzr_reporting.exports import service as exports
from nzr_reporting.indicators import service as indicators
from nzr_reporting.scope import FromQuery, ScopeDep, ToQuery

if TYPE_CHECKING:
    from rdflib import Graph

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get(
    "/indicators/{indicator_id}/export.csv",
    operation_id="export_indicator_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_indicator_csv(
    indicator_id: str, session: SessionDep, scope: ScopeDep, first: FromQuery = None, last: ToQuery = None
) -> Response:
    """The monthly series as CSV with unit and definition (open data)."""
    series = await indicators.monthly_series(
        session=session, scope=scope, indicator_id=indicator_id, first=first, last=last
    )
    return Response(
        exports.series_csv(series),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{indicator_id}.csv"'},
    )


@router.get(
    "/indicators/{indicator_id}/export.json",
    operation_id="export_indicator_json",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_indicator_json(
    indicator_id: str,
    deps: DepsDep,
    session: SessionDep,
    scope: ScopeDep,
    first: FromQuery = None,
    last: ToQuery = None,
) -> Response:
    """The monthly series as JSON with unit, definition, source events and licence (open data)."""
    series = await indicators.monthly_series(
        session=session, scope=scope, indicator_id=indicator_id, first=first, last=last
    )
    source = DISTRICTS_SOURCE if indicator_id == "actor_density_per_10k" else None
    return Response(
        exports.series_json(series, population_source=source, license=deps.settings.open_data_license),
        media_type="application/json",
    )


@router.get(
    "/indicators/{indicator_id}/chart.{image_format}",
    operation_id="get_indicator_chart",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
async def get_indicator_chart(
    indicator_id: str,
    image_format: str,
    session: SessionDep,
    scope: ScopeDep,
    first: FromQuery = None,
    last: ToQuery = None,
) -> Response:
    """The monthly series as a line chart, SVG or PNG."""
    if image_format not in ("svg", "png"):
        raise ProblemError(404, "Not Found", "Charts are available as .svg and .png.")
    series = await indicators.monthly_series(
        session=session, scope=scope, indicator_id=indicator_id, first=first, last=last
    )
    media_type = "image/svg+xml" if image_format == "svg" else "image/png"
    return Response(exports.chart(series, image_format=image_format), media_type=media_type)


async def _catalogue(deps: Deps, session: AsyncSession) -> "Graph":
    from nzr_reporting.exports import dcat  # rdflib: loaded by the first catalogue asked for

    settings = deps.settings
    today = datetime.now(UTC).date()
    regions = settings.known_regions if settings.mode == "state" else [settings.region]
    first = await indicators.first_day_of_data(session, regions) or today
    return dcat.dcat_catalogue(
        dcat.CatalogueFacts(
            base_url=settings.public_base_url,
            publisher=settings.publisher_name,
            region=settings.region,
            contributor_id=settings.dcat_contributor_id,
            contact_email=settings.open_data_contact_email,
            license=settings.open_data_license,
            issued=first,
            modified=today,
            districts=tuple(sorted(deps.region.districts if settings.mode == "region" else deps.districts)),
            period=(first, today),
        )
    )


@router.get(
    "/catalogue.ttl",
    operation_id="get_dcat_catalogue_turtle",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/turtle": {}}}},
)
async def get_dcat_catalogue_turtle(deps: DepsDep, session: SessionDep) -> Response:
    """DCAT-AP.de catalogue of the published indicator datasets (Turtle) for open-data portals."""
    return Response(
        (await _catalogue(deps, session)).serialize(format="turtle"), media_type="text/turtle; charset=utf-8"
    )


@router.get(
    "/catalogue.jsonld",
    operation_id="get_dcat_catalogue_jsonld",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"application/ld+json": {}}}},
)
async def get_dcat_catalogue_jsonld(deps: DepsDep, session: SessionDep) -> Response:
    """DCAT-AP.de catalogue of the published indicator datasets (JSON-LD)."""
    return Response(
        (await _catalogue(deps, session)).serialize(format="json-ld"), media_type="application/ld+json"
    )
