"""Every service serves the same operational surface and turns bad input into problem+json."""

import importlib
import uuid

import jwt
import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service

SERVICES = {"actors": 8101, "events": 8102, "newsletter": 8103, "funding": 8104, "reporting": 8105}


def load(service: str):  # type: ignore[no-untyped-def]
    app_module = importlib.import_module(f"nzr_{service}.app")
    settings_module = importlib.import_module(f"nzr_{service}.settings")
    settings_class = next(
        v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    return app_module.create_app, settings_class


@pytest.mark.parametrize("service", SERVICES)
async def test_service_serves_health_readiness_metrics_and_documents(service, nats_url, databases):
    create_app, settings_class = load(service)
    settings = settings_class(
        region=f"s{uuid.uuid4().hex[:8]}", nats_url=nats_url, database_url=await databases.new(service)
    )
    assert settings.port == SERVICES[service]
    async with running_service(create_app, settings, f"nzr_{service}") as running:
        client = running.client
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
        for _ in range(100):
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                break
            import asyncio

            await asyncio.sleep(0.05)
        assert ready.json()["checks"] == {"database": "ok", "nats": "ok", "consumers": "ok"}
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == f"NZR {service}"
        operation_ids = [op["operationId"] for path in openapi["paths"].values() for op in path.values()]
        assert len(operation_ids) == len(set(operation_ids))
        assert (await client.get("/docs")).status_code == 200
        asyncapi = (await client.get("/asyncapi.json")).json()
        assert asyncapi["asyncapi"].startswith("3.")
        metrics = (await client.get("/metrics")).text
        assert "http_requests_total" in metrics
        response = await client.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
async def actors(nats_url, databases):  # type: ignore[no-untyped-def]
    create_app, settings_class = load("actors")
    settings = settings_class(
        region="demo", nats_url=nats_url, max_body_bytes=10_000, database_url=await databases.new("actors")
    )
    async with running_service(create_app, settings, "nzr_actors") as running:
        yield running.client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


EDITOR = bearer(issue_token(DEVELOPMENT_SECRET, region="demo", roles=["editor"]))
VALID = {
    "name": "Bürgerenergie Vogtland eG",
    "kind": "unternehmen",
    "sector": "wirtschaft",
    "district": "14523000",
    "topics": ["energie_klimaschutz"],
}


def assert_problem(response, status: int, field: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        assert field in [p["name"] for p in body["invalid_params"]], body


async def test_malformed_json_is_a_400_problem(actors):
    response = await actors.post(
        "/api/v1/actors", content=b'{"name": ', headers={**EDITOR, "content-type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "partei"}, "kind"),
        ({"district": 14523000}, "district"),
        ({"district": "09162000"}, "district"),
        ({"topics": ["astrologie"]}, "topics"),
        ({"website": "not a url"}, "website"),
        ({"unexpected": True}, "unexpected"),
        ({"name": ""}, "name"),
    ],
)
async def test_invalid_actor_fields_are_named_in_a_422_problem(actors, change, field):
    response = await actors.post("/api/v1/actors", json={**VALID, **change}, headers=EDITOR)
    assert_problem(response, 422, field)


async def test_oversize_body_is_refused_with_413(actors):
    response = await actors.post(
        "/api/v1/actors", json={**VALID, "description": "x" * 20_000}, headers=EDITOR
    )
    assert_problem(response, 413)


async def test_oversize_body_streamed_without_length_is_refused_with_413_and_creates_nothing(actors):
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "Gestreamt", "kind": "verein", "sector": "zivilgesellschaft", '
        yield b'"district": "14523000", "description": "' + b"x" * 20_000 + b'"}'

    response = await actors.post("/api/v1/actors", content=chunks(), headers=EDITOR)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    listed = (await actors.get("/api/v1/actors", params={"q": "Gestreamt"}, headers=EDITOR)).json()
    assert listed["total"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/admin/actors/dead-letters", {"offset": 2**63}),
        ("/api/v1/admin/actors/dead-letters", {"limit": 501}),
        (f"/api/v1/admin/actors/dead-letters/{2**80}/replay", {}),
    ],
    ids=["offset-beyond-64-bit", "limit-over-500", "id-beyond-64-bit"],
)
async def test_dead_letter_numbers_out_of_range_are_a_422_not_a_500(actors, path, params):
    admin = bearer(issue_token(DEVELOPMENT_SECRET, region="demo", roles=["admin"]))
    method = actors.post if path.endswith("/replay") else actors.get
    response = await method(path, params=params, headers=admin)
    assert_problem(response, 422)


async def test_error_answers_are_documented_as_problem_json(actors):
    openapi = (await actors.get("/openapi.json")).json()
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path_item in openapi["paths"].values():
        for operation in path_item.values():
            for code, response in operation["responses"].items():
                if code.isdigit() and int(code) >= 400 and code != "503":
                    assert response["content"] == {"application/problem+json": problem}, (code, operation)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (bearer("garbage"), 401),
        (bearer(issue_token("wrong-secret-wrong-secret-wrong!!", region="demo", roles=["editor"])), 401),
        (
            bearer(
                jwt.encode(
                    {"sub": "x", "region": "demo", "roles": ["editor"], "exp": 9999999999},
                    None,
                    algorithm="none",
                )
            ),
            401,
        ),
        (bearer(issue_token(DEVELOPMENT_SECRET, region="leipzig", roles=["editor"])), 403),
        (bearer(issue_token(DEVELOPMENT_SECRET, region="demo", roles=["state"])), 403),
    ],
    ids=["anonymous", "garbage", "bad-signature", "alg-none", "other-region", "state-role"],
)
async def test_writes_need_an_editor_token_of_the_region(actors, headers, status):
    response = await actors.post("/api/v1/actors", json=VALID, headers=headers)
    assert_problem(response, status)


async def test_created_actor_is_readable_by_editor_but_hidden_from_anonymous_without_consent(actors):
    created = await actors.post("/api/v1/actors", json=VALID, headers=EDITOR)
    assert created.status_code == 201
    actor_id = created.json()["id"]
    assert created.headers["location"] == f"/api/v1/actors/{actor_id}"
    assert (await actors.get(f"/api/v1/actors/{actor_id}", headers=EDITOR)).json()["name"] == VALID["name"]
    assert_problem(await actors.get(f"/api/v1/actors/{actor_id}"), 404)
