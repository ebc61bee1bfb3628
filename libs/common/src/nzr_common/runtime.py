"""One call that turns a service definition into a running FastAPI app with all the plumbing:
database, outbox relay, JetStream consumers, auth, problem+json, health, metrics, telemetry,
OpenAPI and AsyncAPI documents, and dead-letter administration."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp
from tenacity import AsyncRetrying, RetryCallState
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from nzr_common.access import OPS, api_routes, document_access, route_access, undeclared_routes
from nzr_common.asyncapi import asyncapi_document as build_asyncapi
from nzr_common.auth import AdminDep, TokenVerifier
from nzr_common.codes import install_vocabulary
from nzr_common.conditions import REQUEST_CHECKS
from nzr_common.connection import NatsConnection
from nzr_common.contracts.base import (
    IntegrationEvent,
    region_stream_name,
    region_stream_subjects,
)
from nzr_common.db import create_engine, create_sessionmaker
from nzr_common.deadletter import DeadLetterPage, list_dead_letters, load_dead_letter, mark_replayed
from nzr_common.etags import EntityTags
from nzr_common.idempotency import IdempotencyConfig, install_idempotency, prune_expired, writer_engine
from nzr_common.messaging import (
    BIND_WAIT,
    BatchConsumer,
    EventHandlers,
    Subscription,
    consume_forever,
    plan_subscriptions,
)
from nzr_common.metrics import PlumbingMetrics, install_metrics, sample_forever
from nzr_common.openapi import add_request_examples, name_enums
from nzr_common.outbox import Outbox, OutboxRelay
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.params import RowId
from nzr_common.problems import PROBLEM_RESPONSES, ProblemError, install_problem_handlers
from nzr_common.regions import Region, load_districts, region_from_settings
from nzr_common.settings import ServiceSettings
from nzr_common.tables import MessagingTables
from nzr_common.telemetry import NO_NATIVE_TELEMETRY, setup_telemetry
from nzr_common.topology import AGGREGATE_STREAM
from nzr_common.web import (
    BodySizeLimit,
    RateLimits,
    RefuseNulCharacters,
    RequestMetrics,
    SecurityHeaders,
)

log = logging.getLogger(__name__)


S = TypeVar("S", bound=ServiceSettings)
D = TypeVar("D")


@dataclass
class ServiceDefinition(Generic[S, D]):
    """What makes a service itself; everything else is the same for all five.

    ``bootstrap`` builds the service's typed dependencies (``Deps``) once from the runtime;
    ``create_service_app`` stores them as ``app.state.deps``, routes read them through
    :func:`deps_of`, event handlers get them as their first argument, ``on_startup`` hooks and
    ``background`` loops as their only one.
    """

    name: str
    title: str
    description: str
    metadata: MetaData
    tables: MessagingTables
    routers: Sequence[APIRouter]
    #: Builds the service's deps once from the runtime (required: there is one shape).
    bootstrap: Callable[[Runtime[S]], D]
    handlers: EventHandlers[D] | None = None
    publishes: Sequence[type[IntegrationEvent]] = ()
    extra_stream_regions: Sequence[str] = ()
    #: Awaited in order before the app serves, with the deps.
    on_startup: Sequence[Callable[[D], Awaitable[None]]] = ()
    #: Long-running loops (mail sender, deadline watch), started after ``on_startup`` as tasks
    #: of the runtime with the deps, cancelled at shutdown.
    background: Sequence[Callable[[D], Awaitable[None]]] = ()


@dataclass
class Runtime(Generic[S]):
    """The live plumbing of one service process, reachable as ``app.state.runtime``; a service's
    ``bootstrap`` takes from it what its ``Deps`` need."""

    settings: S
    definition: ServiceDefinition[S, Any]
    region: Region
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    broker: NatsConnection
    token_verifier: TokenVerifier
    registry: CollectorRegistry
    subscriptions: list[Subscription] = field(default_factory=list)
    consumers: dict[str, BatchConsumer[Any]] = field(default_factory=dict)
    relay: OutboxRelay | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: PlumbingMetrics | None = None

    @property
    def tables(self) -> MessagingTables:
        return self.definition.tables

    def start_task(self, loop: Awaitable[Any], name: str) -> None:
        """Run ``loop`` as a task of this process, cancelled at shutdown."""
        self.tasks.append(asyncio.ensure_future(loop))
        self.tasks[-1].set_name(name)


def deps_of(deps_type: type[D]) -> Callable[[Request], Awaitable[D]]:
    """The FastAPI dependency giving a route the service's deps; one line per service:
    ``DepsDep = Annotated[Deps, Depends(deps_of(Deps))]``. Async, so FastAPI calls it on the
    event loop instead of handing a plain function to its thread pool."""

    async def dependency(request: Request) -> D:
        deps = request.app.state.deps
        if not isinstance(deps, deps_type):
            raise TypeError(f"app.state.deps is a {type(deps).__name__}, not {deps_type.__name__}")
        return deps

    dependency.__name__ = f"{deps_type.__name__.lower()}_of_app"
    return dependency


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.sessions() as session:
        yield session


def _runtime(request: Request) -> Runtime[Any]:
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


SessionDep = Annotated[AsyncSession, Depends(_session)]
RuntimeDep = Annotated[Runtime[Any], Depends(_runtime)]


def _outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.runtime.outbox
    return outbox


OutboxDep = Annotated[Outbox, Depends(_outbox)]


class Health(BaseModel):
    """Liveness or readiness of the process, with one entry per dependency checked."""

    status: Literal["ok", "degraded", "unavailable"] = Field(
        description=(
            "`ok`: everything works; `degraded`: serving, but NATS is unreachable (writes wait "
            "in the outbox) or a consumer is being bound again; `unavailable` (with 503): the "
            "database does not answer, or a consumer has not been bound since the start"
        )
    )
    checks: dict[str, str] = Field(
        default={},
        description=(
            "`database`: `ok` or `failed: <error>`; `nats`: `ok` or `degraded: disconnected`; "
            "`consumers`: `ok`, `waiting: <consumer> (<reason>)` (never bound: not ready) or "
            "`degraded: <consumer> (<reason>)` (bound before, being bound again)"
        ),
    )


class ServiceApp(FastAPI):
    """FastAPI with the security headers and CORS outside the error middleware, so that every
    response carries them: unhandled errors (500), 404s, 413s and 429s too."""

    def build_middleware_stack(self) -> ASGIApp:
        # The inner error middleware answers 500 through our headers; the outer one only keeps
        # the usual shape of the stack (an error middleware outermost).
        app: ASGIApp = super().build_middleware_stack()
        settings: ServiceSettings = self.state.runtime.settings
        if settings.cors_origins:
            app = CORSMiddleware(
                app,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["ETag", "Location", "Retry-After", "Content-Disposition"],
            )
        docs = [p for p in (self.docs_url, self.redoc_url, self.swagger_ui_oauth2_redirect_url) if p]
        app = SecurityHeaders(
            app,
            hsts_max_age=settings.hsts_max_age,
            hsts_include_subdomains=settings.hsts_include_subdomains,
            docs_paths=docs,
        )
        return ServerErrorMiddleware(app)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document with each operation's access policy as ``x-access`` and its
        ``security``, and every enum a named component (:mod:`nzr_common.openapi`)."""
        runtime: Runtime[Any] = self.state.runtime
        document = document_access(self, super().openapi(), runtime.settings.mode)
        return add_request_examples(name_enums(document, packages=(f"nzr_{runtime.definition.name}",)))


def create_service_app(definition: ServiceDefinition[S, Any], settings: S) -> FastAPI:
    """Build the FastAPI app of a service and its deps (``app.state.deps``, built once by the
    definition's ``bootstrap``); connections open in the lifespan, not here."""
    registry = CollectorRegistry()
    install_vocabulary(districts=load_districts(settings.districts_file), topics=settings.topics)
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    credentials = settings.nats_credentials
    broker = NatsConnection(
        settings.nats_url, user=credentials.get("username"), password=credentials.get("password")
    )
    runtime: Runtime[S] = Runtime(
        settings=settings,
        definition=definition,
        region=region_from_settings(settings),
        engine=engine,
        sessions=sessions,
        outbox=Outbox(definition.tables, region=settings.region, service=definition.name),
        broker=broker,
        token_verifier=TokenVerifier(settings),
        registry=registry,
    )
    deps = definition.bootstrap(runtime)
    if definition.handlers is not None:
        runtime.subscriptions = plan_subscriptions(
            handlers=definition.handlers,
            deps=deps,
            sessions=sessions,
            tables=definition.tables,
            stream_name=_consumed_stream(settings),
            subject_region=settings.stream_region,
            max_deliver=settings.consumer_max_deliver,
            own_region=settings.region,
        )
        runtime.consumers = {s.durable: s.batch for s in runtime.subscriptions}
    idempotency = (
        IdempotencyConfig(
            definition.tables.idempotency,
            writer_engine(engine),
            ttl=timedelta(seconds=settings.idempotency_key_ttl_seconds),
            lock=timedelta(seconds=settings.idempotency_lock_seconds),
        )
        if settings.idempotency_enabled and definition.tables.idempotency is not None
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in definition.on_startup:
            await hook(deps)
        for loop in definition.background:
            runtime.start_task(loop(deps), name=getattr(loop, "__name__", "background"))
        runtime.tasks.append(asyncio.create_task(_supervise(runtime), name="messaging"))
        if runtime.metrics is not None:
            sampling = sample_forever(runtime.metrics, every_seconds=settings.metrics_sample_seconds)
            runtime.tasks.append(asyncio.create_task(sampling, name="metrics sampling"))
        if idempotency is not None:
            prune = prune_expired(idempotency, every_seconds=settings.idempotency_prune_seconds)
            runtime.tasks.append(asyncio.create_task(prune, name="idempotency keys"))
        # Serve once NATS is connected (usually milliseconds); if it is not reachable, serve
        # anyway — writes land in the outbox and /readyz says NATS is missing.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.connected.wait(), settings.nats_connect_wait_seconds)
        try:
            yield
        finally:
            await _shutdown(runtime)
            if idempotency is not None and idempotency.engine is not engine:
                await idempotency.engine.dispose()

    app = ServiceApp(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        generate_unique_id_function=lambda route: route.name,
        dependencies=[REQUEST_CHECKS],
        telemetry=NO_NATIVE_TELEMETRY,  # type: ignore[arg-type]  # ours: setup_telemetry below
    )
    app.state.runtime = runtime
    app.state.deps = deps
    install_problem_handlers(app)
    # First: probes and scrapes are the most frequent requests, and FastAPI tries the routes in
    # order (none of the services' paths starts with /healthz, /readyz, /metrics, /asyncapi.json).
    app.include_router(_operations_router(definition))
    for router in definition.routers:
        app.include_router(router)
    app.include_router(_dead_letter_router(definition))
    if idempotency is not None:
        install_idempotency(app, idempotency)  # innermost: keeps the route's own answer
    app.add_middleware(EntityTags)  # outside the services' own caches: cached pages are tagged too
    app.add_middleware(RefuseNulCharacters)  # inside the size limit: reads bodies it let through
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimits,
            routes=lambda: _rate_limited_routes(app),
            limits_by_name={
                "search": settings.rate_limit_search,
                "sign_up": settings.rate_limit_sign_up,
                "subscription": settings.rate_limit_subscription,
                "writes": settings.rate_limit_writes,
            },
            authenticate=runtime.token_verifier.principal_of,
            storage_uri=settings.rate_limit_storage_uri,
            namespace=f"nzr:{settings.region}:{definition.name}",
            registry=registry,
        )
    # The client address from X-Forwarded-For only through the proxies listed in TRUSTED_PROXIES
    # (uvicorn's own reading of the header is switched off where the services are started).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RequestMetrics, registry=registry)
    if undeclared := undeclared_routes(app):
        log.warning("routes of %s without a declared access policy: %s", definition.name, undeclared)
    setup_telemetry(app, settings)
    runtime.metrics = install_metrics(runtime)
    return app


def _rate_limited_routes(app: FastAPI) -> list[tuple[Any, str]]:
    """The rate-limited routes with the name of their limit."""
    return [(route, name) for route in api_routes(app) if (name := route_access(route).rate_limit)]


def _consumed_stream(settings: ServiceSettings) -> str:
    """The stream the service's own-region subscriptions read: the region's, or in state mode
    the hub's aggregate of every region's shareable events (unless CONSUMER_STREAM says else)."""
    if settings.consumer_stream:
        return settings.consumer_stream
    return AGGREGATE_STREAM if settings.mode == "state" else region_stream_name(settings.region)


async def _supervise(runtime: Runtime[Any]) -> None:
    """Keep messaging running: an unexpected failure is logged and messaging restarts."""
    while True:
        try:
            await _run_messaging(runtime)
            return  # the relay was stopped: shutting down
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("messaging of %s failed; restarting", runtime.definition.name)
            with contextlib.suppress(Exception):
                await runtime.broker.stop()
            await asyncio.sleep(1.0)


async def _nats_away(runtime: Runtime[Any], state: RetryCallState) -> None:
    """Between attempts to connect: say why, mark the consumers unbound, drop the half-open broker."""
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("NATS not reachable (%r); retrying in %.1fs", error, wait)
    for subscription in runtime.subscriptions:
        subscription.binding.unbound(f"NATS not reachable: {error!r}")
    with contextlib.suppress(Exception):
        await runtime.broker.stop()


async def _run_messaging(runtime: Runtime[Any]) -> None:
    """Connect to NATS (retrying until it answers), declare the stream, start consumers and relay."""
    async for attempt in AsyncRetrying(wait=BIND_WAIT, before_sleep=functools.partial(_nats_away, runtime)):
        with attempt:
            await runtime.broker.start()
    background: list[asyncio.Task[None]] = []
    if runtime.settings.mode == "region":
        try:
            await _ensure_region_stream(runtime)
        except Exception as error:
            # Not fatal: it is tried again in the background, the consumers keep trying to bind
            # (and /readyz says so) and the relay keeps its rows until the stream takes them.
            log.warning("could not check or create the region streams (%r); trying again", error)
            background.append(asyncio.create_task(_ensure_region_stream_retrying(runtime)))
    js = runtime.broker.connection.jetstream(publish_async_max_pending=4000)
    runtime.connected.set()
    background += [
        asyncio.create_task(
            consume_forever(js, subscription, batch_size=runtime.settings.consumer_batch_size),
            name=f"consume {subscription.durable}",
        )
        for subscription in runtime.subscriptions
    ]
    runtime.relay = OutboxRelay(
        runtime.sessions,
        runtime.tables,
        js,
        wakeup=runtime.outbox.pending,
        batch_size=runtime.settings.relay_batch_size,
        poll_seconds=runtime.settings.relay_poll_seconds,
        keep_sent=runtime.settings.outbox_keep_sent,
        keep_inbox=runtime.settings.inbox_keep,
        housekeeping_every=runtime.settings.housekeeping_interval,
    )
    try:
        await runtime.relay.run()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)


async def readiness(runtime: Runtime[Any]) -> Health:
    """The checks behind ``/readyz``; only the database and never-bound consumers make the
    process unavailable."""
    checks = {}
    unavailable = degraded = False
    try:
        async with runtime.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"failed: {type(error).__name__}"
        unavailable = True
    if _nats_connected(runtime.broker):
        checks["nats"] = "ok"
    else:
        checks["nats"] = "degraded: disconnected"
        degraded = True
    waiting = [s for s in runtime.subscriptions if not s.binding.ever_bound]
    rebinding = [s for s in runtime.subscriptions if s.binding.ever_bound and not s.binding.bound]
    if waiting:
        checks["consumers"] = "waiting: " + _describe_bindings(waiting)
        unavailable = True
    elif rebinding:
        checks["consumers"] = "degraded: " + _describe_bindings(rebinding)
        degraded = True
    else:
        checks["consumers"] = "ok"
    status = "unavailable" if unavailable else "degraded" if degraded else "ok"
    return Health(status=status, checks=checks)


def _describe_bindings(subscriptions: list[Subscription]) -> str:
    return "; ".join(f"{s.durable} ({s.binding.reason})" for s in subscriptions)


def _nats_connected(broker: NatsConnection) -> bool:
    return broker.is_connected


async def _ensure_region_stream(runtime: Runtime[Any]) -> None:
    """Create the streams this service writes to and reads from when they do not exist yet.

    In the multi-region set-up the topology creates them first (a region's copy of the state
    stream sources the hub's); in the embedded run nobody else does.
    """
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    regions = {runtime.settings.region, *runtime.definition.extra_stream_regions}
    regions |= {
        r for r in (runtime.definition.handlers.sources.values() if runtime.definition.handlers else ()) if r
    }
    js = runtime.broker.connection.jetstream()
    for region in sorted(regions):
        name = region_stream_name(region)
        try:
            await js.stream_info(name)
        except NotFoundError:
            with contextlib.suppress(Exception):  # a concurrent service created it first
                await js.add_stream(
                    StreamConfig(
                        name=name,
                        subjects=region_stream_subjects(region),
                        duplicate_window=120.0,
                    )
                )


async def _ensure_region_stream_retrying(runtime: Runtime[Any]) -> None:
    """Create the region streams once JetStream answers (it may start after the service)."""
    async for attempt in AsyncRetrying(wait=BIND_WAIT):
        with attempt:
            await _ensure_region_stream(runtime)
    log.info("region streams of %s checked after a retry", runtime.definition.name)


async def _shutdown(runtime: Runtime[Any], grace_seconds: float = 5.0) -> None:
    """Stop messaging, hand the relay lease back, close connections; never hangs."""
    if runtime.relay is not None:  # let it finish the batch in hand rather than cut it
        runtime.relay.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.relay.stopped.wait(), grace_seconds)
    for task in runtime.tasks:
        task.cancel()
    if runtime.tasks:
        # A task cancelled in the middle of a NATS connect may swallow the cancellation.
        await asyncio.wait(runtime.tasks, timeout=grace_seconds)
    if runtime.relay is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runtime.relay.release(), grace_seconds)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(runtime.broker.stop(), grace_seconds)
    await runtime.token_verifier.aclose()
    await runtime.engine.dispose()


def _operations_router(definition: ServiceDefinition[Any, Any]) -> APIRouter:
    router = APIRouter(tags=["operations"], dependencies=[OPS])

    @router.get("/healthz", response_model=Health, operation_id=f"{definition.name}_healthz")
    async def healthz() -> Health:
        """Alive: the process answers."""
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Health,
        operation_id=f"{definition.name}_readyz",
        responses={503: {"model": Health}},
    )
    async def readyz(runtime: RuntimeDep, response: Response) -> Health:
        """Ready to take traffic: the database answers and every consumer has been bound since
        the start. A NATS outage only degrades the service (writes wait in the outbox), so it
        stays ready and says so in ``checks``."""
        health = await readiness(runtime)
        response.status_code = 503 if health.status == "unavailable" else 200
        return health

    @router.get("/metrics", operation_id=f"{definition.name}_metrics", include_in_schema=False)
    async def metrics(runtime: RuntimeDep) -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    document: list[bytes] = []

    @router.get("/asyncapi.json", operation_id=f"{definition.name}_asyncapi", include_in_schema=False)
    async def asyncapi() -> Response:
        """The AsyncAPI document of the events this service publishes and consumes."""
        if not document:
            document.append(json.dumps(asyncapi_document(definition)).encode())
        return Response(document[0], media_type="application/json")

    return router


#: ``limit`` (50, at most 500) and ``cursor`` of the dead-letter list, and its deprecated ``offset``
#: (the list had it before the cursor).
DeadLetterPaging = Annotated[Paging, Depends(paging_params(50, 500, deprecated_offset=True))]


def _dead_letter_router(definition: ServiceDefinition[Any, Any]) -> APIRouter:
    router = APIRouter(prefix=f"/api/v1/admin/{definition.name}/dead-letters", tags=["operations"])

    @router.get("", response_model=DeadLetterPage, operation_id=f"{definition.name}_list_dead_letters")
    async def list_letters(
        request: Request,
        response: Response,
        runtime: RuntimeDep,
        session: SessionDep,
        _: AdminDep,
        page: DeadLetterPaging,
        include_replayed: bool = False,
    ) -> DeadLetterPage:
        """Messages this service's consumers gave up on, newest first (pages by `limit` and
        `cursor`, the next one as `next` and in the `Link` header)."""
        letters = await list_dead_letters(
            session,
            runtime.tables,
            include_replayed=include_replayed,
            limit=page.limit,
            offset=page.offset,
        )
        letters.next = next_link(request, page, len(letters.items), letters.total)
        response.headers.update(link_header(letters.next))
        return letters

    @router.post("/{letter_id}/replay", operation_id=f"{definition.name}_replay_dead_letter")
    async def replay_letter(
        letter_id: Annotated[RowId, Path()], runtime: RuntimeDep, _: AdminDep
    ) -> dict[str, Any]:
        """Run a dead letter through its handler again (after the cause was fixed)."""
        async with runtime.sessions() as session, session.begin():
            row = await load_dead_letter(session, runtime.tables, letter_id)
            if row is None:
                raise ProblemError(404, "Not Found", f"No dead letter {letter_id}.")
            consumer = runtime.consumers.get(row["consumer"])
            if consumer is None:
                raise ProblemError(409, "Conflict", f"Consumer {row['consumer']} is not running here.")
            try:
                applied = await consumer.replay(session, row["payload"])
            except Exception as error:
                raise ProblemError(409, "Replay failed", repr(error)) from error
            await mark_replayed(session, runtime.tables, letter_id)
        return {"id": letter_id, "replayed": True, "applied": applied}

    return router


def asyncapi_document(definition: ServiceDefinition[Any, Any]) -> dict[str, Any]:
    """The AsyncAPI 3 document of the service (``nzr_common.asyncapi``): the CloudEvents
    envelope of each event type it publishes (``send``) and consumes (``receive``)."""
    return build_asyncapi(
        service=definition.name,
        title=definition.title,
        description=definition.description,
        publishes=definition.publishes,
        handlers=definition.handlers,
    )
