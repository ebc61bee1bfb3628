"""``/metrics`` of the shared plumbing: counters are counters, and what only JetStream and the
database know (consumer lag, the outbox backlog and its age, stored dead letters) is sampled in
the background and exposed as gauges."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import nats
from prometheus_client.parser import text_string_to_metric_families

from nzr_common.contracts.base import Envelope
from nzr_common.testing.services import RunningService
from nzr_common.testing.waiting import eventually

from .test_readiness import probe_service, registered


async def families(service: RunningService) -> dict[str, Any]:
    text = (await service.client.get("/metrics")).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(family: Any, sample_name: str, **labels: str) -> float | None:
    """The sample's value; None before it is there (a sampled figure not taken yet)."""
    return next(
        (s.value for s in family.samples if s.name == sample_name and labels.items() <= s.labels.items()),
        None,
    )


async def test_consumer_outcomes_are_counters_and_lag_and_dead_letters_are_sampled(nats_url):
    handled: list[str] = []
    async with probe_service(nats_url, handled, metrics_sample_seconds=0.1) as service:
        region = service.runtime.settings.region
        await eventually(lambda: service.runtime.subscriptions[0].binding.bound)
        connection = await nats.connect(nats_url)
        js = connection.jetstream()
        subject = registered().subject.for_region(region)
        for event in (registered(), registered()):
            envelope = Envelope.wrap(event, region=region, service="actors")
            await js.publish(subject, envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})
        await js.publish(subject, b"not json", headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await connection.close()
        await eventually(lambda: len(handled) == 2)
        consumer = service.runtime.subscriptions[0].durable

        async def sampled() -> dict[str, Any] | None:
            found = await families(service)
            letters = found.get("nzr_dead_letters")
            if letters is None or value(letters, "nzr_dead_letters", consumer=consumer) != 1:
                return None
            return found

        found = await eventually(sampled)
        # Requests before: the HTTP metrics are a counter and a histogram too.
        await service.client.get("/readyz")
        http = await families(service)

    events = found["nzr_consumer_events"]
    assert events.type == "counter"
    assert value(events, "nzr_consumer_events_total", consumer=consumer, outcome="handled") == 2
    assert value(events, "nzr_consumer_events_total", consumer=consumer, outcome="dead_lettered") == 1
    assert found["nzr_outbox_published"].type == "counter"
    assert found["nzr_mail_deliveries"].type == "counter"
    pending = found["nzr_consumer_pending_messages"]
    assert pending.type == "gauge"
    assert value(pending, "nzr_consumer_pending_messages", consumer=consumer) == 0
    assert "nzr_consumer_redelivered_messages" in found
    assert value(found["nzr_outbox_unsent_events"], "nzr_outbox_unsent_events") == 0
    last = found["nzr_consumer_last_event_timestamp_seconds"]
    assert (value(last, "nzr_consumer_last_event_timestamp_seconds", region=region) or 0) > 1.7e9
    assert http["http_requests"].type == "counter"
    assert http["http_request_duration_seconds"].type == "histogram"


async def test_outbox_backlog_and_the_age_of_its_oldest_row_while_nats_is_away():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"nats://127.0.0.1:{probe.getsockname()[1]}"
    async with probe_service(
        nowhere, [], metrics_sample_seconds=0.1, nats_connect_wait_seconds=0.1
    ) as service:
        runtime = service.runtime
        async with runtime.sessions() as session, session.begin():
            await runtime.outbox.add(session, registered(), registered())

        async def backlog() -> dict[str, Any] | None:
            found = await families(service)
            unsent = found.get("nzr_outbox_unsent_events")
            if unsent is None or value(unsent, "nzr_outbox_unsent_events") != 2:
                return None
            return found

        found = await eventually(backlog)
    age = value(found["nzr_outbox_oldest_unsent_age_seconds"], "nzr_outbox_oldest_unsent_age_seconds")
    assert age is not None and 0 < age < 60
    assert value(found["nzr_nats_connected"], "nzr_nats_connected") == 0
