"""Traces and logs in one call each: an OpenTelemetry tracer provider that is always there (so
``traceparent`` travels HTTP → outbox → NATS → handler whether or not spans are exported), OTLP
export when configured, FastAPI spans, and JSON log lines carrying the trace and span ids."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

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
    return Resource.create({**defaults, **from_environment})


def build_tracer_provider(settings: ServiceSettings) -> TracerProvider:
    """A tracer provider with the service's resource that exports over OTLP/HTTP when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; without it spans are created and dropped, which
    keeps the ids every log line, outbox row and NATS message carries."""
    provider = TracerProvider(resource=resource_for(settings))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

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
    provider = provider or tracer_provider(settings)
    if provider is None:
        return
    # The ASGI receive/send spans would triple the spans per request and say nothing new.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="healthz,readyz,metrics",
        exclude_spans=["receive", "send"],
    )


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
