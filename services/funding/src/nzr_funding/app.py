"""Wiring of the funding service."""

from fastapi import FastAPI
from nzr_common.runtime import ServiceDefinition, create_service_app

from nzr_funding.handlers import handlers
from nzr_funding.settings import FundingSettings
from nzr_funding.tables import Base, messaging


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()
    definition = ServiceDefinition(
        name="funding",
        title="NZR funding",
        description="Funding programme catalogue, search and eligibility matching.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[],
        handlers=handlers,
    )
    return create_service_app(definition, settings)
