"""Tracing is set up in one call: OTLP export when configured, nothing otherwise."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace

from nzr_common.settings import ServiceSettings
from nzr_common.telemetry import setup_telemetry


def test_without_an_otlp_endpoint_requests_are_not_instrumented():
    app = FastAPI()
    setup_telemetry(app, ServiceSettings(region=f"r{uuid.uuid4().hex[:6]}"))
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


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


def test_with_an_otlp_endpoint_requests_are_traced_and_exported():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = FastAPI()

        @app.get("/ping")
        def ping() -> dict[str, str]:
            return {"pong": "yes"}

        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        setup_telemetry(app, ServiceSettings(otel_exporter_otlp_endpoint=endpoint, service_name="probe"))
        assert getattr(app, "_is_instrumented_by_opentelemetry", False)
        with TestClient(app) as client:
            assert client.get("/ping").status_code == 200
        provider = trace.get_tracer_provider()
        assert provider.force_flush(5000)
        paths = [path for path, _ in _Collector.received]
        assert "/v1/traces" in paths
        assert any(b"/ping" in body and b"nzr-probe" in body for _, body in _Collector.received)
    finally:
        # Later tests must not keep exporting to a receiver that is gone.
        trace.get_tracer_provider().shutdown()
        server.shutdown()
