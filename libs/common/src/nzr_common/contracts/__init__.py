"""The event contract between the services: every integration event, its subject and envelope."""

from nzr_common.contracts import actors, events, funding, newsletter, reporting
from nzr_common.contracts.base import (
    Envelope,
    IntegrationEvent,
    Subject,
    Visibility,
    region_stream_name,
    region_stream_subjects,
)
from nzr_common.contracts.registry import EVENT_TYPES, event_class_for

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "IntegrationEvent",
    "Subject",
    "Visibility",
    "actors",
    "event_class_for",
    "events",
    "funding",
    "newsletter",
    "region_stream_name",
    "region_stream_subjects",
    "reporting",
]
