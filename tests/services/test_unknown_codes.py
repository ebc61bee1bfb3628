"""An unknown district, topic, kind, sector or legal-form code is a 422 naming the parameter, in
the filters and bodies of actors, events and newsletter (``nzr_common.codes``), and nothing is
written."""

import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service

EDITOR = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region='demo', roles=['editor'])}"}
BAVARIAN = "09162000"  # a real AGS (München), but not in the reference list of districts
ACTOR = {"name": "Codeprüfung e.V.", "kind": "verein", "sector": "zivilgesellschaft", "district": "14612000"}
EVENT = {
    "format": "workshop",
    "title": "Codeprüfung",
    "starts_at": "2027-03-01T10:00:00",
    "ends_at": "2027-03-01T12:00:00",
}

CASES = [
    # (service, method, path, query, body, parameter)
    ("actors", "GET", "/api/v1/actors", {"district": BAVARIAN}, None, "district"),
    ("actors", "GET", "/api/v1/actors", {"district": ["14612000", "14999000"]}, None, "district"),
    ("actors", "GET", "/api/v1/actors", {"topic": "astrologie"}, None, "topic"),
    ("actors", "GET", "/api/v1/actors", {"kind": "partei"}, None, "kind"),
    ("actors", "GET", "/api/v1/actors", {"sector": "militaer"}, None, "sector"),
    ("actors", "GET", "/api/v1/actors", {"legal_form": "ltd"}, None, "legal_form"),
    (
        "actors",
        "GET",
        "/api/v1/actors/duplicates",
        {"name": "Codeprüfung", "district": BAVARIAN},
        None,
        "district",
    ),
    ("actors", "GET", "/api/v1/network/metrics", {"district": "14999000"}, None, "district"),
    ("actors", "POST", "/api/v1/actors", {}, {**ACTOR, "legal_form": "ag"}, "legal_form"),
    ("actors", "POST", "/api/v1/actors", {}, {**ACTOR, "district": BAVARIAN}, "district"),
    ("actors", "POST", "/api/v1/actors", {}, {**ACTOR, "topics": ["bne", "astrologie"]}, "topics"),
    ("events", "GET", "/api/v1/events", {"district": BAVARIAN}, None, "district"),
    ("events", "GET", "/api/v1/events", {"topic": "astrologie"}, None, "topic"),
    ("events", "GET", "/api/v1/events.ics", {"district": "14999000"}, None, "district"),
    ("events", "POST", "/api/v1/events", {}, {**EVENT, "topics": ["astrologie"]}, "topics"),
    ("events", "POST", "/api/v1/events", {}, {**EVENT, "district": BAVARIAN}, "district"),
    ("newsletter", "POST", "/api/v1/newsletter/lists", {}, {"name": "Codeliste", "topic": "astro"}, "topic"),
    (
        "newsletter",
        "POST",
        "/api/v1/newsletter/subscriptions",
        {},
        {"email": "codes@example.org", "list_ids": ["x"], "consent_text_version": "v1", "district": BAVARIAN},
        "district",
    ),
]


def _app(service: str):  # type: ignore[no-untyped-def]
    app_module = importlib.import_module(f"nzr_{service}.app")
    settings_module = importlib.import_module(f"nzr_{service}.settings")
    settings_class = next(
        v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    return app_module.create_app, settings_class


@pytest.fixture(scope="module")
async def clients(nats_url, databases) -> AsyncIterator[dict]:  # type: ignore[no-untyped-def,type-arg]
    async with AsyncExitStack() as stack:
        clients = {}
        for service in ("actors", "events", "newsletter"):
            create_app, settings_class = _app(service)
            settings = settings_class(
                region="demo", nats_url=nats_url, database_url=await databases.new(service)
            )
            running = await stack.enter_async_context(running_service(create_app, settings, f"nzr_{service}"))
            clients[service] = running.client
        yield clients


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "body", "parameter"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2].rsplit('/', 1)[-1]}-{c[5]}-{i}" for i, c in enumerate(CASES)],
)
async def test_an_unknown_code_is_a_422_naming_the_parameter(
    clients, service, method, path, query, body, parameter
):  # type: ignore[no-untyped-def]
    response = await clients[service].request(method, path, params=query, json=body, headers=EDITOR)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    names = [p["name"] for p in response.json()["invalid_params"]]
    assert names == [parameter], names


async def test_known_codes_pass_the_same_filters(clients):  # type: ignore[no-untyped-def]
    actors = await clients["actors"].get(
        "/api/v1/actors",
        params={"district": "14612000", "topic": "bne", "legal_form": "ev", "kind": "verein"},
        headers=EDITOR,
    )
    events = await clients["events"].get("/api/v1/events", params={"district": "14612000", "topic": "bne"})
    assert (actors.status_code, events.status_code) == (200, 200)
    assert actors.json()["total"] == 0  # nothing was written by the refused requests
