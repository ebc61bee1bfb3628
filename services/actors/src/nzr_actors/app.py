"""Wiring of the actors service."""

from fastapi import FastAPI
from nzr_common.runtime import ServiceDefinition, create_service_app

from nzr_actors import api
from nzr_actors.handlers import handlers
from nzr_actors.settings import ActorsSettings
from nzr_actors.tables import Base, messaging


def create_app(settings: ActorsSettings | None = None) -> FastAPI:
    settings = settings or ActorsSettings()
    definition = ServiceDefinition(
        name="actors",
        title="NZR actors",
        description="Actors of a regional network, their cooperations and network analysis.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.router],
        handlers=handlers,
    )
    return create_service_app(definition, settings)
