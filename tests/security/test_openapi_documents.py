"""The OpenAPI documents generate good clients (issue 20, point 2): every operation declares the
security it really needs, every enum is a named component, and the checks every route gets
(unknown query parameters, If-Match without an entity tag) answer as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nzr_common.auth import issue_token
from nzr_common.openapi import inline_enums
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import SERVICES, load, settings_for, started


def document_of(service: str, nats_url: str) -> dict[str, Any]:
    create_app, _ = load(service)
    document: dict[str, Any] = create_app(settings_for(service, nats_url)).openapi()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_declares_the_security_its_policy_needs(service, nats_url):  # type: ignore[no-untyped-def]
    document = document_of(service, nats_url)
    schemes = document["components"]["securitySchemes"]
    for method, path, operation in operations(document):
        policy = operation["x-access"]["policy"]
        security = operation["security"]
        where = f"{method} {path} ({policy})"
        if policy in ("roles", "all"):
            assert security == [{"HTTPBearer": []}], where
        elif policy == "webhook":
            header = operation["x-access"]["secret_header"]
            assert security == [{"HTTPBearer": []}, {header: []}], where
            assert schemes[header] == {**schemes[header], "type": "apiKey", "in": "header", "name": header}
        else:  # ops, public, public-varying, token-link, development: anyone may call
            assert security == [], where
        for requirement in security:
            assert set(requirement) <= set(schemes), where


@pytest.mark.parametrize("service", SERVICES)
def test_no_enum_is_inline_and_the_same_values_have_the_same_name_everywhere(service, nats_url):  # type: ignore[no-untyped-def]
    document = document_of(service, nats_url)
    assert inline_enums(document) == []
    text = json.dumps(document)
    enums = {n: s for n, s in document["components"]["schemas"].items() if len(s.get("enum", ())) > 1}
    assert len({tuple(s["enum"]) for s in enums.values()}) == len(enums), "one name per value set"
    for name in enums:
        assert f'"#/components/schemas/{name}"' in text, f"{name} is never used"


def test_shared_value_sets_get_one_name_across_services(nats_url):  # type: ignore[no-untyped-def]
    names: dict[tuple[str, ...], set[str]] = {}
    for service in SERVICES:
        for name, schema in document_of(service, nats_url)["components"]["schemas"].items():
            if len(schema.get("enum", ())) > 1:
                names.setdefault(tuple(schema["enum"]), set()).add(name)
    assert {values: found for values, found in names.items() if len(found) > 1} == {}
    named = {next(iter(found)) for found in names.values()}
    assert {"ActorKind", "Sector", "ResourceKind", "EventFormat", "AgreementStatus", "HealthStatus"} <= named


@pytest.mark.parametrize("service", SERVICES)
async def test_anonymous_operations_answer_without_a_token_and_lists_refuse_unknown_parameters(  # type: ignore[no-untyped-def]
    service, nats_url
):
    async with started(service, nats_url) as running:
        document = running.app.openapi()
        anonymous = [
            path
            for method, path, operation in operations(document)
            if method == "GET"
            and operation["security"] == []
            and "{" not in path
            and operation["x-access"]["policy"] in ("ops", "public", "public-varying")
        ]
        assert anonymous, "every service has anonymous reads"
        answers = {path: await running.client.get(path) for path in anonymous}
        lists = [
            path
            for path in anonymous
            if answers[path].status_code == 200
            and answers[path].headers["content-type"].startswith("application/json")
            and "/api/" in path
            and _is_list(answers[path].json())
        ]
        refused = {path: await running.client.get(path, params={"distrcit": "Leipzig"}) for path in lists}
        conditional = await running.client.get(lists[0], headers={"If-Match": '"v1"'})
    for path, answer in answers.items():
        assert answer.status_code not in (401, 403), (path, answer.status_code, answer.text)
        assert answer.status_code < 500, (path, answer.text)
    for path, answer in refused.items():
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [p["name"] for p in answer.json()["invalid_params"]] == ["distrcit"], answer.json()
    assert conditional.status_code == 412, conditional.text  # lists are tagged: "v1" is stale
    assert conditional.headers["content-type"] == "application/problem+json"


def _is_list(body: Any) -> bool:
    return isinstance(body, list) or (isinstance(body, dict) and "items" in body)


@pytest.mark.parametrize("service", SERVICES)
def test_every_json_request_body_has_an_example(service, nats_url):  # type: ignore[no-untyped-def]
    document = document_of(service, nats_url)
    bodies = 0
    for method, path, operation in operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type.endswith("json"):
                bodies += 1
                example = media.get("example")
                assert example not in (None, "", [], {}) or media.get("examples"), f"{method} {path}"
    assert bodies


async def test_event_lists_page_by_cursor_with_next_link_and_link_header(nats_url):  # type: ignore[no-untyped-def]
    async with started("events", nats_url) as running:
        region = running.runtime.settings.region
        editor = {
            "Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region=region, roles=['editor'])}"
        }
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
        for day in range(3):
            event = {
                "format": "workshop",
                "title": f"Werkstatt Energiewende {day + 1}",
                "starts_at": (starts + timedelta(days=day)).isoformat(),
                "ends_at": (starts + timedelta(days=day, hours=2)).isoformat(),
            }
            created = await running.client.post("/api/v1/events", json=event, headers=editor)
            assert created.status_code == 201, created.text
            event_id = created.json()["id"]
            published = await running.client.post(f"/api/v1/events/{event_id}/publish", headers=editor)
            assert published.status_code == 200, published.text
        first = await running.client.get("/api/v1/events", params={"limit": 2})
        again = await running.client.get("/api/v1/events", params={"limit": 2})  # from the page cache
        second = await running.client.get(first.json()["next"])
        bad = await running.client.get("/api/v1/events", params={"cursor": "bm9wZQ"})
        unchanged = await running.client.get(
            "/api/v1/events", params={"limit": 2}, headers={"If-None-Match": first.headers["etag"]}
        )
        url = f"/api/v1/events/{event_id}"
        read = await running.client.get(url, headers=editor)
        stale = await running.client.patch(
            url, json={"title": "Werkstatt"}, headers={**editor, "If-Match": '"stale"'}
        )
        fresh = await running.client.patch(
            url,
            json={"title": "Werkstatt Energiewende 3"},
            headers={**editor, "If-Match": read.headers["etag"]},
        )
        untagged = await running.client.post(f"{url}/publish", headers={**editor, "If-Match": '"any"'})
    assert first.status_code == 200, first.text
    assert [e["title"] for e in first.json()["items"]] == [
        "Werkstatt Energiewende 1",
        "Werkstatt Energiewende 2",
    ]
    assert first.json()["total"] == 3
    assert first.headers["link"] == f'<{first.json()["next"]}>; rel="next"'
    assert again.headers["link"] == first.headers["link"]
    assert [e["title"] for e in second.json()["items"]] == ["Werkstatt Energiewende 3"]
    assert second.json()["next"] is None and "link" not in second.headers
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert stale.status_code == 412 and stale.headers["etag"] == read.headers["etag"], stale.text
    assert fresh.status_code == 200, fresh.text
    assert untagged.status_code == 428, untagged.text
    assert bad.status_code == 422
    assert [p["name"] for p in bad.json()["invalid_params"]] == ["cursor"]
