"""Lookup from CloudEvents ``type`` to the event model, built from the explicit modules."""

from nzr_common.contracts import actors, events, funding, newsletter, reporting
from nzr_common.contracts.base import IntegrationEvent


def _collect() -> dict[str, type[IntegrationEvent]]:
    found: dict[str, type[IntegrationEvent]] = {}
    for module in (actors, events, newsletter, funding, reporting):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, IntegrationEvent)
                and "subject" in value.__dict__
            ):
                event_type = value.subject.event_type
                if event_type in found:
                    raise RuntimeError(f"two events share the type {event_type}")
                found[event_type] = value
    return found


EVENT_TYPES: dict[str, type[IntegrationEvent]] = _collect()


def event_class_for(event_type: str) -> type[IntegrationEvent] | None:
    return EVENT_TYPES.get(event_type)
