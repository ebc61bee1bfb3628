"""Wiring of the actors service."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nzr_actors import persons
from nzr_actors.actors import routes as actors
from nzr_actors.bootstrap import Deps, bootstrap
from nzr_actors.contacts import routes as contacts
from nzr_actors.cooperations import routes as cooperations
from nzr_actors.handlers import handlers
from nzr_actors.network import routes as network
from nzr_actors.settings import ActorsSettings
from nzr_actors.tables import Base, messaging
from nzr_common.contracts.actors import (
    ActorRegistered,
    ActorRemoved,
    ActorUpdated,
    ContactAdded,
    CooperationCorrected,
    CooperationDeleted,
    CooperationEnded,
    CooperationRecorded,
    PersonErasedV2,
    ResourceOffered,
)
from nzr_common.runtime import ServiceDefinition, create_service_app


async def keep_suggestions_fresh(deps: Deps) -> None:
    """Recompute the partner suggestions in the background when the network changes."""
    await deps.suggestions.keep_fresh(deps.sessions)


DEFINITION: ServiceDefinition[ActorsSettings, Deps] = ServiceDefinition(
    name="actors",
    title="NZR actors",
    description="Actors of a regional network, their contact persons and cooperations, "
    "and the analysis of the cooperation network.",
    metadata=Base.metadata,
    tables=messaging,
    routers=[
        actors.router,
        contacts.router,
        persons.router,
        cooperations.router,
        network.router,
    ],
    bootstrap=bootstrap,
    handlers=handlers,
    background=[keep_suggestions_fresh],
    publishes=[
        ActorRegistered,
        ActorUpdated,
        ActorRemoved,
        CooperationRecorded,
        CooperationCorrected,
        CooperationDeleted,
        CooperationEnded,
        ResourceOffered,
        ContactAdded,
        PersonErasedV2,
    ],
)


def create_app(settings: ActorsSettings | None = None) -> FastAPI:
    app = create_service_app(DEFINITION, settings or ActorsSettings())
    deps: Deps = app.state.deps
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
                deps.suggestions.close()
                await deps.reader.close()

    app.router.lifespan_context = lifespan
    return app
