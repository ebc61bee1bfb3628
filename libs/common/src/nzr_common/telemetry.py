"""OpenTelemetry set-up in one call: tracer provider, OTLP export when configured, FastAPI spans."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from nzr_common.settings import ServiceSettings

_provider_set = False


def setup_telemetry(app: FastAPI, settings: ServiceSettings) -> None:
    """Install a tracer provider once per process and instrument ``app``."""
    global _provider_set
    if not _provider_set:
        provider = TracerProvider(
            resource=Resource.create(
                {"service.name": f"nzr-{settings.service_name}", "nzr.region": settings.region}
            )
        )
        if settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        _provider_set = True
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
