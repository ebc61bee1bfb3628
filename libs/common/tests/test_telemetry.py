"""Tracing is set up in one call: OTLP export when configured, nothing otherwise."""

import uuid

from fastapi import FastAPI

from nzr_common.settings import ServiceSettings
from nzr_common.telemetry import setup_telemetry


def test_without_an_otlp_endpoint_requests_are_not_instrumented():
    app = FastAPI()
    setup_telemetry(app, ServiceSettings(region=f"r{uuid.uuid4().hex[:6]}"))
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_with_an_otlp_endpoint_requests_are_traced():
    app = FastAPI()
    setup_telemetry(app, ServiceSettings(otel_exporter_otlp_endpoint="http://127.0.0.1:4318"))
    assert getattr(app, "_is_instrumented_by_opentelemetry", False)
