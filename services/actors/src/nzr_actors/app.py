"""Wiring of the actors service."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nzr_actors import api
from nzr_actors.handlers import build_handlers
from nzr_actors.reads import ActorReader
from nzr_actors.settings import ActorsSettings
from nzr_actors.tables import Base, messaging
from nzr_common.contracts.actors import (
    ActorRegistered,
    ActorRemoved,
    ActorUpdated,
    ContactAdded,
    CooperationEnded,
    CooperationRecorded,
    PersonErasedV2,
    ResourceOffered,
)
from nzr_common.erasure import MessagingEraser
from nzr_common.runtime import ServiceDefinition, create_service_app

PUBLISHES = (
    ActorRegistered,
    ActorUpdated,
    ActorRemoved,
    CooperationRecorded,
    CooperationEnded,
    ResourceOffered,
    ContactAdded,
    PersonErasedV2,
)


def create_app(settings: ActorsSettings | None = None) -> FastAPI:
    settings = settings or ActorsSettings()
    eraser = MessagingEraser(messaging, producer="actors")
    definition = ServiceDefinition(
        name="actors",
        title="NZR actors",
        description="Actors of a regional network, their contact persons and cooperations, "
        "and the analysis of the cooperation network.",
        metadata=Base.metadata,
        tables=messaging,
        routers=[api.router, api.persons, api.cooperations, api.networks],
        handlers=build_handlers(eraser),
        publishes=PUBLISHES,
        on_startup=[eraser.attach],
    )
    app = create_service_app(definition, settings)
    reader = ActorReader(settings.database_url, app.state.runtime.engine)
    app.state.actor_reader = reader
    plumbing = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The runtime has start-up hooks only; the read pool is closed after its shutdown.
        async with plumbing(app):
            # What exists after start-up (app, routes, schemas) lives as long as the process:
            # freezing it keeps the collector's full passes short on big network analyses.
            gc.freeze()
            try:
                yield
            finally:
                await reader.close()

    app.router.lifespan_context = lifespan
    return app
