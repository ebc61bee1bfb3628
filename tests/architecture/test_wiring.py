"""Every service's app is wired to the event contract: what it consumes somebody publishes, and
its AsyncAPI document (``/asyncapi.json``) names every event type it publishes (``send``) and
consumes (``receive``)."""

import importlib
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nzr_common.contracts.registry import EVENT_TYPES
from nzr_common.runtime import ServiceDefinition

SERVICES = ["actors", "events", "funding", "newsletter", "reporting"]
#: Consumed types nobody publishes, named here until they are resolved (the test fails when one
#: is resolved, so the entry goes too).
KNOWN_GAPS: dict[tuple[str, str], str] = {}


@cache
def app_of(service: str) -> FastAPI:
    module = importlib.import_module(f"nzr_{service}.app")
    settings = importlib.import_module(f"nzr_{service}.settings")
    settings_class = next(
        value
        for name, value in vars(settings).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    return module.create_app(settings_class(database_url="sqlite+aiosqlite:///:memory:"))


def definition_of(service: str) -> ServiceDefinition[Any, Any]:
    return app_of(service).state.runtime.definition


def published(service: str) -> set[str]:
    return {event_class.subject.event_type for event_class in definition_of(service).publishes}


def consumed(service: str) -> set[str]:
    handlers = definition_of(service).handlers
    return set(handlers.routes) if handlers else set()


def operations(service: str) -> dict[str, set[str]]:
    """Event type → the actions (send, receive) the service's AsyncAPI document has for it."""
    document = TestClient(app_of(service)).get("/asyncapi.json").json()
    found: dict[str, set[str]] = {}
    for operation_id, operation in document["operations"].items():
        found.setdefault(operation_id.rpartition(".")[0], set()).add(operation["action"])
    return found


def retired(event_type: str, publishers: set[str]) -> bool:
    """An older version of an event that is published in a newer one: its handler stays for the
    messages still in the streams (e.g. ``person_erased.v1`` next to ``.v2``)."""
    stem, _, version = event_type.rpartition(".v")
    return any(p.startswith(f"{stem}.v") and int(p.rpartition(".v")[2]) > int(version) for p in publishers)


def wiring_problems(service: str) -> list[str]:
    publishers = {event_type for s in SERVICES for event_type in published(s)}
    documented = operations(service)
    problems = [
        f"consumes {t}, which no service publishes"
        for t in sorted(consumed(service))
        if t not in publishers and not retired(t, publishers) and (service, t) not in KNOWN_GAPS
    ]
    problems += [
        f"consumes {t}, which is not in the contract registry" for t in consumed(service) - set(EVENT_TYPES)
    ]
    problems += [
        f"publishes {t}, which is not in the contract registry" for t in published(service) - set(EVENT_TYPES)
    ]
    problems += [
        f"publishes {t}, missing from its AsyncAPI document as a send operation"
        for t in sorted(published(service))
        if "send" not in documented.get(t, set())
    ]
    problems += [
        f"consumes {t}, missing from its AsyncAPI document as a receive operation"
        for t in sorted(consumed(service))
        if "receive" not in documented.get(t, set())
    ]
    return problems


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_is_wired_to_the_contract(service):
    assert wiring_problems(service) == []


def test_the_known_gaps_are_still_gaps():
    publishers = {event_type for s in SERVICES for event_type in published(s)}
    for service, event_type in KNOWN_GAPS:
        assert event_type in consumed(service) and event_type not in publishers


def test_the_wiring_check_finds_a_consumer_without_publisher(monkeypatch):
    handlers = definition_of("events").handlers
    assert handlers is not None
    monkeypatch.setitem(
        handlers.routes, "nzr.funding.nothing.v1", handlers.routes["nzr.actors.person_erased.v2"]
    )
    assert "consumes nzr.funding.nothing.v1, which no service publishes" in wiring_problems("events")


def test_every_consumer_listens_to_somebody():
    assert all(consumed(s) for s in ("actors", "events", "newsletter", "funding", "reporting"))


def test_a_producer_publishes_only_its_own_events():
    for service in SERVICES:
        assert {EVENT_TYPES[t].subject.producer for t in published(service)} <= {service}, service


def indicator_gaps() -> list[str]:
    """Reporting indicators with a source event that no service publishes (such an indicator
    would stay 0 for ever)."""
    from nzr_reporting.indicators.catalogue import INDICATORS

    publishers = {event_type for s in SERVICES for event_type in published(s)}
    problems = [
        f"indicator {indicator.id} counts {event_type}, which is not in the contract registry"
        for indicator in INDICATORS
        for event_type in indicator.source_events
        if event_type not in EVENT_TYPES
    ]
    return problems + [
        f"indicator {indicator.id} counts {event_type}, which no service publishes"
        for indicator in INDICATORS
        for event_type in indicator.source_events
        if event_type not in publishers and not retired(event_type, publishers)
    ]


def test_every_indicator_has_a_publisher_for_each_of_its_source_events():
    assert indicator_gaps() == []


def test_the_indicator_check_finds_an_indicator_nobody_feeds(monkeypatch):
    import dataclasses

    from nzr_reporting.indicators import catalogue

    orphan = dataclasses.replace(
        catalogue.INDICATORS[0], id="orphan", source_events=("nzr.funding.nothing.v1",)
    )
    monkeypatch.setattr(catalogue, "INDICATORS", (*catalogue.INDICATORS, orphan))
    assert indicator_gaps() == [
        "indicator orphan counts nzr.funding.nothing.v1, which is not in the contract registry",
        "indicator orphan counts nzr.funding.nothing.v1, which no service publishes",
    ]
