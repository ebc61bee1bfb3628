"""Every creating POST of the five services takes an ``Idempotency-Key`` and documents it."""

from __future__ import annotations

import pytest

from nzr_common.idempotency import HEADER

from .conftest import SERVICES, load, settings_for

#: Operations that create something or send a mail (issue 15, point 4), by service.
CREATING = {
    "actors": {"create_actor", "import_actors", "add_contact", "record_cooperation"},
    "events": {
        "create_event",
        "add_session",
        "register_for_event",
        "request_registration_links",
        "create_series",
        "record_agreement",
        "report_agreement_progress",
        "record_recommendation",
    },
    "newsletter": {
        "create_list",
        "request_subscription",
        "request_subscription_links",
        "import_subscribers",
        "create_campaign",
    },
    "funding": {"create_programme", "import_programmes", "create_saved_search"},
    "reporting": {"define_goal", "plan_measure"},
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_creating_post_documents_the_idempotency_key(service, nats_url):  # type: ignore[no-untyped-def]
    create_app, _ = load(service)
    document = create_app(settings_for(service, nats_url)).openapi()
    taking = set()
    for item in document["paths"].values():
        operation = item.get("post")
        if operation is None:
            continue
        header = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == HEADER]
        if header:
            assert header[0]["schema"]["anyOf"][0]["pattern"], header
            taking.add(operation["operationId"])
        created = any(code in ("201", "202") for code in operation["responses"])
        assert not created or header, f"{operation['operationId']} creates something without {HEADER}"
    assert taking == CREATING[service]
