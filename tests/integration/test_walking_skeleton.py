"""The walking skeleton: an actor registered over HTTP shows up in reporting's indicators, and
the request, its event and reporting's handling of it are one trace."""

import asyncio
import time
import uuid

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.telemetry import tracer_provider
from nzr_common.testing.services import running_service
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

DRESDEN = "14612000"


async def test_registered_actor_is_counted_in_reporting_within_a_second_in_one_trace(
    nats_url, databases, token_for
):
    region = f"r{uuid.uuid4().hex[:8]}"
    actors_settings = ActorsSettings(
        region=region, nats_url=nats_url, database_url=await databases.new("actors")
    )
    # The in-process OTLP sink: whatever exports spans in this process also hands them here.
    provider = tracer_provider(actors_settings)
    assert provider is not None
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reporting_settings = ReportingSettings(
        region=region, nats_url=nats_url, database_url=await databases.new("reporting")
    )
    async with (
        running_service(create_actors, actors_settings, "nzr_actors") as actors,
        running_service(create_reporting, reporting_settings, "nzr_reporting") as reporting,
    ):
        response = await actors.client.post(
            "/api/v1/actors",
            json={
                "name": "Energiegenossenschaft Elbtal",
                "kind": "verein",
                "sector": "zivilgesellschaft",
                "district": DRESDEN,
                "topics": ["energie_klimaschutz"],
            },
            headers=token_for("editor", region=region),
        )
        assert response.status_code == 201, response.text
        started = time.monotonic()
        count = 0
        while time.monotonic() - started < 10:
            report = (await reporting.client.get("/api/v1/reports/indicators")).json()
            values = report["indicators"][0]["values"]
            count = values[0]["value"] if values else 0
            if count == 1:
                break
            await asyncio.sleep(0.05)
        assert count == 1
        assert values[0]["region"] == region
        assert values[0]["by_district"] == {DRESDEN: 1}
        assert report["freshness"][region] is not None

    finished = spans.get_finished_spans()
    spans.shutdown()
    (request,) = [s for s in finished if s.name == "POST /api/v1/actors" and s.kind == SpanKind.SERVER]
    handled = [
        s
        for s in finished
        if s.name == "handle nzr.actors.actor_registered.v1"
        and s.attributes.get("messaging.consumer.group.name", "").startswith("reporting")
    ]
    assert len(handled) == 1
    assert handled[0].context.trace_id == request.context.trace_id
    assert handled[0].kind == SpanKind.CONSUMER
