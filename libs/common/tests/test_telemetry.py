"""Tracing and logging set up in one call each: requests are traced whether or not spans are
exported, OTLP export names the service as ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
say, and log lines are JSON with the trace and span ids."""

import io
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from nzr_common.settings import ServiceSettings
from nzr_common.telemetry import build_tracer_provider, configure_logging, resource_for, setup_telemetry

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
log = logging.getLogger("nzr.test.telemetry")


def traced_app(settings: ServiceSettings, **kwargs: object) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        context = trace.get_current_span().get_span_context()
        log.info("pinged")
        return {"trace_id": format(context.trace_id, "032x")}

    @app.get("/broken/{part}")
    def broken(part: str) -> None:
        raise RuntimeError(part)

    @app.get("/unavailable")
    def unavailable() -> Response:
        return Response(status_code=503)

    setup_telemetry(app, settings, **kwargs)  # type: ignore[arg-type]
    return app


def test_requests_continue_the_callers_trace_without_an_exporter_and_a_malformed_one_starts_anew():
    app = traced_app(ServiceSettings(region=f"r{uuid.uuid4().hex[:6]}"))
    with TestClient(app) as client:
        continued = client.get("/ping", headers={"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"})
        malformed = client.get("/ping", headers={"traceparent": "00-not-a-trace-01"})
    assert continued.status_code == 200
    assert continued.json()["trace_id"] == TRACE_ID
    assert malformed.status_code == 200
    assert malformed.json()["trace_id"] not in {TRACE_ID, "0" * 32}


def test_log_lines_are_json_with_service_region_and_the_ids_of_the_current_span():
    settings = ServiceSettings(service_name="probe", region="leipzig")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(settings)
    sink = io.StringIO()
    root.handlers[0].setStream(sink)  # type: ignore[attr-defined]
    try:
        app = traced_app(settings)
        with TestClient(app) as client:
            client.get("/ping", headers={"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"})
        log.warning("outside any trace")
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    pinged = next(line for line in lines if line["message"] == "pinged")
    assert pinged["trace_id"] == TRACE_ID
    assert len(pinged["span_id"]) == 16 and pinged["span_id"] != "b7ad6b7169203331"
    assert {k: pinged[k] for k in ("level", "service", "region", "logger")} == {
        "level": "INFO",
        "service": "probe",
        "region": "leipzig",
        "logger": "nzr.test.telemetry",
    }
    assert pinged["time"].startswith("20") and "T" in pinged["time"]
    outside = next(line for line in lines if line["message"] == "outside any trace")
    assert "trace_id" not in outside and outside["level"] == "WARNING"


class _Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP/HTTP receiver that keeps the bodies posted to /v1/traces."""

    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_are_exported_over_otlp_under_the_service_name_the_environment_gives(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "nzr-actors-leipzig")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,k8s.pod.name=p-1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    settings = ServiceSettings(otel_exporter_otlp_endpoint=endpoint, service_name="probe", region="leipzig")
    provider = build_tracer_provider(settings)
    try:
        with TestClient(traced_app(settings, provider=provider)) as client:
            assert client.get("/ping").status_code == 200
        assert provider.force_flush(5000)
    finally:
        provider.shutdown()
        server.shutdown()
    bodies = [body for path, body in _Collector.received if path == "/v1/traces"]
    requests = [ExportTraceServiceRequest.FromString(body) for body in bodies]
    resources = [
        {a.key: a.value.string_value for a in spans.resource.attributes}
        for request in requests
        for spans in request.resource_spans
    ]
    assert resources, "nothing exported"
    assert resources[0]["service.name"] == "nzr-actors-leipzig"
    assert resources[0]["deployment.environment.name"] == "staging"
    assert resources[0]["k8s.pod.name"] == "p-1"
    assert resources[0]["nzr.region"] == "leipzig"
    names = [
        span.name
        for request in requests
        for spans in request.resource_spans
        for scope in spans.scope_spans
        for span in scope.spans
    ]
    assert names == ["GET /ping"]


def test_the_server_span_is_named_after_the_route_with_http_attributes_and_a_5xx_or_exception_is_an_error():
    settings = ServiceSettings(region=f"r{uuid.uuid4().hex[:6]}")
    provider = TracerProvider(resource=resource_for(settings))
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    with TestClient(traced_app(settings, provider=provider), raise_server_exceptions=False) as client:
        assert client.get("/ping").status_code == 200
        assert client.get("/unavailable").status_code == 503
        assert client.get("/broken/axle").status_code == 500
    ping, unavailable, broken = spans.get_finished_spans()
    assert (ping.name, ping.kind, ping.status.status_code) == ("GET /ping", SpanKind.SERVER, StatusCode.UNSET)
    assert dict(ping.attributes or {}) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "url.path": "/ping",
        "http.route": "/ping",
        "http.response.status_code": 200,
    }
    assert unavailable.status.status_code == StatusCode.ERROR
    assert {k: (unavailable.attributes or {})[k] for k in ("http.response.status_code", "error.type")} == {
        "http.response.status_code": 503,
        "error.type": "503",
    }
    assert (broken.name, broken.status.status_code) == ("GET /broken/{part}", StatusCode.ERROR)
    assert (broken.attributes or {})["error.type"] == "RuntimeError"


def test_the_resource_hashes_and_compares_like_the_sdks_own():
    settings = ServiceSettings(service_name="probe", region="leipzig")
    resource = resource_for(settings)
    plain = Resource(dict(resource.attributes), resource.schema_url)
    assert resource == plain and plain == resource
    assert hash(resource) == hash(plain) == hash(resource)
    assert resource.attributes["nzr.region"] == "leipzig"


def _recorded_requests(monkeypatch, sampler: str | None, argument: str | None, headers: list[dict[str, str]]):
    """Requests to a traced app whose provider is built as a service builds it; returns the
    trace ids the app saw and the spans recorded."""
    for name, value in (("OTEL_TRACES_SAMPLER", sampler), ("OTEL_TRACES_SAMPLER_ARG", argument)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    settings = ServiceSettings(region=f"r{uuid.uuid4().hex[:6]}")
    provider = build_tracer_provider(settings)
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    started = time.monotonic()
    with TestClient(traced_app(settings, provider=provider)) as client:
        seen = [client.get("/ping", headers=h).json()["trace_id"] for h in headers]
    return seen, spans.get_finished_spans(), time.monotonic() - started


def test_by_default_a_process_records_a_bounded_number_of_new_traces_a_second_and_follows_its_callers(
    monkeypatch,
):
    sampled_parent = f"00-{TRACE_ID}-b7ad6b7169203331-01"
    unsampled_parent = f"00-{'1' * 32}-b7ad6b7169203331-00"
    headers = [{}] * 8 + [{"traceparent": sampled_parent}, {"traceparent": unsampled_parent}]
    seen, recorded, seconds = _recorded_requests(monkeypatch, None, "3", headers)
    new_traces = [span for span in recorded if span.parent is None]
    if seconds < 0.9:  # eight requests inside one second: the limit applies to all of them
        assert len(new_traces) == 3
    else:  # a stalled machine: a second window may have opened
        assert 3 <= len(new_traces) < 8
    # every request has a trace that propagates, recorded or not
    assert all(trace_id != "0" * 32 for trace_id in seen)
    assert len(set(seen[:8])) == 8
    # a caller's decision is followed, whatever the limit: recorded when it recorded, not when not
    assert seen[8:] == [TRACE_ID, "1" * 32]
    continued = [span for span in recorded if span.parent is not None]
    assert [format(span.context.trace_id, "032x") for span in continued] == [TRACE_ID]


def test_the_sampler_the_environment_names_is_used_and_ours_is_the_default(monkeypatch):
    _, recorded, _ = _recorded_requests(monkeypatch, "parentbased_always_on", None, [{}] * 8)
    assert len(recorded) == 8
    _, recorded, _ = _recorded_requests(monkeypatch, "PARENTBASED_RATELIMITING", "2", [{}] * 4)
    assert 2 <= len(recorded) < 4
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
    description = build_tracer_provider(ServiceSettings(region="leipzig")).sampler.get_description()
    assert description.startswith("ParentBased{root:RateLimiting{100/s}")


@pytest.mark.parametrize("argument", ["0", "-3", "viele", "2.5"])
def test_a_malformed_rate_is_an_error_naming_the_variable(monkeypatch, argument):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_ratelimiting")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", argument)
    with pytest.raises(ValueError, match="OTEL_TRACES_SAMPLER_ARG") as raised:
        build_tracer_provider(ServiceSettings(region="leipzig"))
    assert repr(argument) in str(raised.value)
