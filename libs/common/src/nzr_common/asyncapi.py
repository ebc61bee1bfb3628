"""The AsyncAPI 3.0 document of a service, describing what really travels on NATS.

Each message is the CloudEvents 1.0 envelope in structured mode (``specversion``, ``id``,
``source``, ``type``, ``subject``, ``time``, ``datacontenttype``, the ``region`` extension and
the typed ``data``) as the outbox relay publishes it, with the NATS headers it sets
(``Nats-Msg-Id`` for JetStream's de-duplication, ``ce-type``, and the W3C ``traceparent`` of the
trace the event was written in). Every event type the service publishes is a ``send`` operation,
every one its handlers consume a ``receive`` operation, on a channel whose address is the NATS
subject with the region as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from nzr_common.contracts.base import SPEC_VERSION, SUBJECT_ROOT, IntegrationEvent
from nzr_common.messaging import EventHandlers

ASYNCAPI_VERSION = "3.0.0"
#: Structured-mode CloudEvents in JSON: the whole event, attributes and data, is the body.
CLOUDEVENTS_JSON = "application/cloudevents+json"
SCHEMAS = "#/components/schemas/"
TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

REGION_PARAMETER = {
    "description": (
        "The region the event was published in (`demo`, `leipzig`, …; `state` for the state's "
        "catalogue); the same as the envelope's `region` attribute."
    ),
    "examples": ["demo"],
    "location": "$message.payload#/region",
}


def asyncapi_document(
    *,
    service: str,
    title: str,
    description: str,
    publishes: Sequence[type[IntegrationEvent]],
    handlers: EventHandlers[Any] | None,
) -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document as a JSON-ready dict."""
    consumed: dict[str, tuple[type[IntegrationEvent], str | None]] = {}
    if handlers is not None:
        for event_type, (event_class, _) in handlers.routes.items():
            consumed[event_type] = (event_class, handlers.sources.get(event_type))
    classes = {c.subject.event_type: c for c in publishes}
    classes.update({t: c for t, (c, _) in consumed.items()})
    data_refs, schemas = _data_schemas(list(classes.values()))

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, event_class in sorted(classes.items()):
        messages[event_type] = _message(event_class, data_refs[event_type])
        schemas[event_type] = _envelope_schema(event_class, data_refs[event_type])
    for event_class in publishes:
        event_type = event_class.subject.event_type
        channel = _channel(channels, event_class, region=None)
        operations[f"{event_type}.send"] = _operation("send", channel, event_type, service)
    for event_type, (event_class, region) in sorted(consumed.items()):
        channel = _channel(channels, event_class, region=region)
        operations[f"{event_type}.receive"] = _operation("receive", channel, event_type, service)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": (
                f"{description}\n\nEvery message is a CloudEvents 1.0 envelope in structured mode "
                "(JSON body), published to JetStream through the service's transactional outbox."
            ),
        },
        "defaultContentType": CLOUDEVENTS_JSON,
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "The region's NATS server with JetStream (stream `NZR_<REGION>`).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _data_schemas(
    event_classes: list[type[IntegrationEvent]],
) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """JSON Schemas of the events' ``data`` as the envelope serialises it (field names, not
    aliases), shared definitions (enums, nested models) once under ``components/schemas``."""
    if not event_classes:
        return {}, {}
    keys, top = models_json_schema(
        [(c, "serialization") for c in event_classes],
        by_alias=False,
        ref_template=SCHEMAS + "{model}",
    )
    refs = {c.subject.event_type: keys[(c, "serialization")] for c in event_classes}
    return refs, dict(top.get("$defs", {}))


def _envelope_schema(event_class: type[IntegrationEvent], data_ref: dict[str, str]) -> dict[str, Any]:
    subject = event_class.subject
    return {
        "type": "object",
        "title": f"{event_class.__name__} (CloudEvents envelope)",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "datacontenttype",
            "region",
            "data",
        ],
        "properties": {
            "specversion": {"const": SPEC_VERSION, "description": "CloudEvents version"},
            "id": {
                "type": "string",
                "minLength": 1,
                "description": "Unique per event; also the `Nats-Msg-Id` header",
            },
            "source": {
                "type": "string",
                "pattern": f"^/regions/[^/]+/{subject.producer}$",
                "description": "`/regions/<region>/<producing service>`",
            },
            "type": {"const": subject.event_type, "description": "The event type, versioned"},
            "subject": {
                "type": "string",
                "minLength": 1,
                "description": "The id of the aggregate the event is about (keeps their order)",
            },
            "time": {"type": "string", "format": "date-time", "description": "When the event happened"},
            "datacontenttype": {"const": "application/json"},
            "region": {
                "type": "string",
                "minLength": 1,
                "description": "Extension attribute: the region the event was published in",
            },
            "data": data_ref,
        },
    }


def _headers_schema(event_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Nats-Msg-Id", "ce-type"],
        "properties": {
            "Nats-Msg-Id": {
                "type": "string",
                "description": "The envelope's `id`: JetStream drops a duplicate inside its window",
            },
            "ce-type": {
                "const": event_type,
                "description": "The envelope's `type`, readable without parsing",
            },
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT,
                "description": (
                    "W3C trace context of the request or handler that wrote the event; the "
                    "consumer's handler span continues this trace"
                ),
            },
            "tracestate": {"type": "string", "description": "W3C trace state, when the caller sent one"},
        },
    }


def _message(event_class: type[IntegrationEvent], data_ref: dict[str, str]) -> dict[str, Any]:
    event_type = event_class.subject.event_type
    return {
        "name": event_class.__name__,
        "title": event_type,
        "summary": (event_class.__doc__ or event_class.__name__).strip().splitlines()[0],
        "contentType": CLOUDEVENTS_JSON,
        "headers": _headers_schema(event_type),
        "payload": {"$ref": SCHEMAS + event_type},
        "correlationId": {
            "description": "The aggregate the event is about",
            "location": "$message.payload#/subject",
        },
        "x-visibility": event_class.subject.visibility.value,
    }


def _channel(channels: dict[str, Any], event_class: type[IntegrationEvent], *, region: str | None) -> str:
    """The channel id of the event's subject, in any region (``{region}``) or in a fixed one
    (a subscription to another region's stream); added to ``channels`` once."""
    subject = event_class.subject
    event_type = subject.event_type
    channel_id = event_type if region is None else f"{event_type}.from_{region}"
    if channel_id not in channels:
        token = "{region}" if region is None else region
        channel: dict[str, Any] = {
            "address": f"{SUBJECT_ROOT}.{token}.{subject.visibility.value}.{subject.tail}",
            "title": event_class.__name__,
            "description": (
                "Region-private: personal data, never leaves the region."
                if subject.visibility.value == "priv"
                else "Shareable: the state's hub sources it from every region."
            ),
            "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
        }
        if region is None:
            channel["parameters"] = {"region": REGION_PARAMETER}
        channels[channel_id] = channel
    return channel_id


def _operation(action: str, channel_id: str, event_type: str, service: str) -> dict[str, Any]:
    verb = "publishes" if action == "send" else "consumes"
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "summary": f"{service} {verb} {event_type}",
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{event_type}"}],
    }
