"""Wiring of the funding service."""

from fastapi import FastAPI

from nzr_common.contracts.funding import (
    FundingDeadlineApproaching,
    FundingMatchRequested,
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
    FundingSearchPerformed,
)
from nzr_common.runtime import ServiceDefinition, create_service_app
from nzr_funding.alerts import routes as alerts
from nzr_funding.bootstrap import Deps, bootstrap
from nzr_funding.catalogue import routes as catalogue
from nzr_funding.deadlines import routes as deadlines
from nzr_funding.deadlines.watch import watch_deadlines_periodically
from nzr_funding.handlers import build_handlers
from nzr_funding.matching import routes as matching
from nzr_funding.models import messaging, metadata
from nzr_funding.search import routes as search
from nzr_funding.search.publisher import publish_searches_periodically
from nzr_funding.settings import FundingSettings


def definition(settings: FundingSettings) -> ServiceDefinition[FundingSettings, Deps]:
    """The service's definition (the catalogue's source region, a setting, picks its stream)."""
    return ServiceDefinition(
        name="funding",
        title="NZR funding",
        description="Funding programme catalogue, search and eligibility matching.",
        metadata=metadata,
        tables=messaging,
        routers=[
            search.search_router,
            catalogue.router,
            search.router,
            matching.router,
            deadlines.router,
            alerts.router,
        ],
        bootstrap=bootstrap,
        handlers=build_handlers(settings),
        publishes=[
            FundingProgramPublished,
            FundingProgramUpdated,
            FundingProgramWithdrawn,
            FundingDeadlineApproaching,
            FundingMatchRequested,
            FundingSearchPerformed,
        ],
        extra_stream_regions=[settings.catalogue_region],
        background=[watch_deadlines_periodically, publish_searches_periodically],
    )


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()
    return create_service_app(definition(settings), settings)
