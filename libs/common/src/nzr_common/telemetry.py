"""Traces and logs in one call each: an OpenTelemetry tracer provider that is always there (so
``traceparent`` travels HTTP → outbox → NATS → handler whether or not spans are exported), OTLP
export when configured, a server span per request, a sampler that bounds what recording costs,
and JSON log lines carrying the trace and span ids.

The server spans come from :class:`RequestTracing`, a pure ASGI middleware of ours rather than
``opentelemetry-instrumentation-fastapi``: that instrumentation cost about a third of the
throughput of ``GET /api/v1/actors/{id}`` even with nothing exported (``bench/observability.py``),
while one span per request through the SDK tracer costs a few per cent.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Attributes, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes as SpanAttributes
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nzr_common.settings import ServiceSettings

_provider: TracerProvider | None = None


def tracing_disabled() -> bool:
    """``OTEL_SDK_DISABLED=true`` (the OpenTelemetry switch) turns tracing off altogether."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def resource_for(settings: ServiceSettings) -> Resource:
    """The service's resource: our defaults, overridden by ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` where they are set."""
    defaults: dict[str, Any] = {
        "service.name": f"nzr-{settings.service_name}",
        "service.namespace": "nzr",
        "deployment.environment.name": settings.environment,
        "nzr.region": settings.region,
    }
    from_environment = OTELResourceDetector().detect().attributes
    created = Resource.create({**defaults, **from_environment})
    return _HashedOnce(dict(created.attributes), created.schema_url)


class _HashedOnce(Resource):
    """A resource whose hash is computed once. The OTLP encoder groups every exported span by
    its resource, and the SDK's ``Resource.__hash__`` serialises all attributes to JSON on each
    call: about an eighth of the encoding time of a span. A resource never changes (its
    attributes are immutable), so one hash holds."""

    def __init__(self, attributes: Attributes, schema_url: str | None = None) -> None:
        super().__init__(attributes, schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or super().__eq__(other)


#: ``OTEL_TRACES_SAMPLER`` of our sampler, and the default when the variable is not set.
RATE_LIMITING = "parentbased_ratelimiting"
#: New traces a process records per second unless ``OTEL_TRACES_SAMPLER_ARG`` says otherwise.
DEFAULT_TRACES_PER_SECOND = 100


class RateLimiting(Sampler):
    """Records at most ``per_second`` new traces in any second and drops the rest — the kind of
    sampler Jaeger's and AWS X-Ray's clients start with. A service that serves a region records
    every request (a few a second); under load, what recording and exporting cost stays bounded
    instead of growing with the traffic (``bench/observability.py``). Used as the root sampler of
    :class:`ParentBased`: a trace recorded where it started is recorded in every service it
    reaches. The window is ``limits``' moving window in memory, per process; once it is full the
    sampler drops without asking it again until it frees a place (each question may start the
    memory storage's expiry timer thread anew, ≈ 100 threads a second under load)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._item = RateLimitItemPerSecond(per_second)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._full_until = 0.0

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: SpanAttributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if time.time() >= self._full_until:
            if self._limiter.hit(self._item, "traces"):
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
            self._full_until = self._limiter.get_window_stats(self._item, "traces").reset_time
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return f"RateLimiting{{{self.per_second}/s}}"


def sampler_from_environment() -> Sampler | None:
    """The sampler ``OTEL_TRACES_SAMPLER`` names: unset or ``parentbased_ratelimiting``, ours —
    at most ``OTEL_TRACES_SAMPLER_ARG`` (default :data:`DEFAULT_TRACES_PER_SECOND`) new traces a
    second, children following their parent; None for every other value, which the SDK reads
    itself (``parentbased_always_on`` records everything, ``parentbased_traceidratio`` a share).
    A malformed argument of ours is an error at start-up, naming the variable."""
    name = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if name not in ("", RATE_LIMITING):
        return None
    argument = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip() or str(DEFAULT_TRACES_PER_SECOND)
    try:
        per_second = int(argument)
    except ValueError:
        per_second = 0
    if per_second < 1:
        raise ValueError(
            f"OTEL_TRACES_SAMPLER_ARG: new traces per second for {RATE_LIMITING} must be a whole "
            f"number of at least 1, not {argument!r}"
        )
    return ParentBased(RateLimiting(per_second))


def build_tracer_provider(settings: ServiceSettings) -> TracerProvider:
    """A tracer provider with the service's resource and sampler (:func:`sampler_from_environment`)
    that exports over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; without it spans are
    created and dropped, which keeps the ids every log line, outbox row and NATS message carries."""
    provider = TracerProvider(resource=resource_for(settings), sampler=sampler_from_environment())
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracer_provider(settings: ServiceSettings) -> TracerProvider | None:
    """The process's SDK tracer provider, set once (the first service of a process names it;
    a provider a host process set before is kept); None when tracing is disabled."""
    global _provider
    if tracing_disabled():
        return None
    if _provider is None:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            _provider = current
        else:
            _provider = build_tracer_provider(settings)
            trace.set_tracer_provider(_provider)
    return _provider


def setup_telemetry(
    app: FastAPI, settings: ServiceSettings, *, provider: TracerProvider | None = None
) -> None:
    """Trace every request: a server span per request, continuing a valid incoming
    ``traceparent`` (a malformed one is ignored and a new trace starts). ``provider``: the
    process's one unless given."""
    _without_native_telemetry(app)
    provider = provider or tracer_provider(settings)
    if provider is None:
        return
    app.add_middleware(RequestTracing, provider=provider)


#: ``FastAPI(telemetry=...)``: FastAPI's own OpenTelemetry support off. It traces, meters and
#: logs every request (and, with ``operation_spans``, every dependency, the endpoint and the
#: serialisation) as soon as a global tracer provider is set; :class:`RequestTracing` is the
#: one span per request we want, and the request metrics are Prometheus's
#: (:class:`nzr_common.web.RequestMetrics`).
NO_NATIVE_TELEMETRY: dict[str, Any] = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


def _without_native_telemetry(app: FastAPI) -> None:
    """Switch FastAPI's native telemetry off for an app built without
    ``telemetry=NO_NATIVE_TELEMETRY`` (FastAPI keeps the settings in the dict it was given)."""
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(NO_NATIVE_TELEMETRY)


#: Paths without spans: probes and scrapes, many and uninteresting.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_PROPAGATOR = TraceContextTextMapPropagator()
_NO_PARENT = Context()


class RequestTracing:
    """One ``SERVER`` span per HTTP request (OpenTelemetry HTTP semantic conventions), current
    while the app runs so log lines, outbox rows and outgoing calls carry its ids.

    A valid incoming W3C ``traceparent`` is continued; a malformed one is ignored and a new
    trace starts. The span is named ``"{method} {route template}"`` once routing has found the
    route (just ``"{method}"`` when none matched) and has the attributes
    ``http.request.method``, ``url.scheme``, ``url.path``, ``http.route`` and
    ``http.response.status_code``; a 5xx answer (or an exception) sets the error status and
    ``error.type``. :data:`UNTRACED_PATHS` get no span.
    """

    def __init__(
        self, app: ASGIApp, provider: trace.TracerProvider, untraced: frozenset[str] = UNTRACED_PATHS
    ) -> None:
        self.app = app
        self.tracer = provider.get_tracer("nzr_common.telemetry")
        self.untraced = untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.untraced:
            await self.app(scope, receive, send)
            return
        parent = _NO_PARENT
        for name, value in scope["headers"]:
            if name == b"traceparent":
                parent = _PROPAGATOR.extract({"traceparent": value.decode("latin-1")})
                break
        method = scope["method"]
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.scheme": scope.get("scheme", "http"),
                "url.path": scope["path"],
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        status = 0

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        except BaseException as error:
            span.record_exception(error)
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, repr(error)))
            raise
        finally:
            template = getattr(scope.get("route"), "path", None)
            if template is not None:
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
            if status:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
            otel_context.detach(token)


class TraceContext(logging.Filter):
    """Adds service, region and the current trace and span ids to every record."""

    def __init__(self, service: str, region: str) -> None:
        super().__init__()
        self.service = service
        self.region = region

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.service = self.service
        record.region = self.region
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


#: The fields of a JSON log line, renamed from the logging record's attribute names.
JSON_FIELDS = {"levelname": "level", "name": "logger"}


def configure_logging(settings: ServiceSettings, *, level: int = logging.INFO) -> None:
    """Log one JSON object per line to stderr (``LOG_FORMAT=json``, the default) with ``time``,
    ``level``, ``service``, ``region``, ``logger``, ``message`` and, inside a trace,
    ``trace_id`` and ``span_id``; ``LOG_FORMAT=text`` for a person reading a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TraceContext(settings.service_name, settings.region))
    if settings.log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "{levelname}{service}{region}{name}{message}",
                style="{",
                rename_fields=JSON_FIELDS,
                timestamp="time",  # ISO 8601 in UTC, from the record's creation time
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {settings.service_name} %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
