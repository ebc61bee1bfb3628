"""One pagination style for the actors service's lists (``nzr_common.pagination``): ``limit`` and
an opaque ``cursor``, the next page as ``next`` in the body and as the ``Link`` header, ``total``,
and a ``sort`` whose ties are broken by id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest


async def walk(actors, url: str, params: dict[str, Any], headers: dict[str, str]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every page of a list, following ``next``; each page's ``Link`` header equals its ``next``."""
    pages = []
    response = await actors.client.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next"] is None:
            assert "link" not in response.headers
            return pages
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        response = await actors.client.get(page["next"], headers=headers)


def in_order(items: list[dict], sort: str, key: Callable[[dict], Any]) -> list[str]:
    """The ids in the order ``sort`` promises: by the field (``-`` descending), ties by id ascending."""
    by_id = sorted(items, key=lambda i: i["id"])
    return [i["id"] for i in sorted(by_id, key=key, reverse=sort.startswith("-"))]


def contact(name: str, email: str) -> dict[str, str]:
    return {
        "name": name,
        "email": email,
        "consent_purpose": "Kontakt im Netzwerk",
        "consent_source": "Anmeldeformular",
    }


@pytest.fixture(scope="module")
async def with_contacts(actors):  # type: ignore[no-untyped-def]
    actor = await actors.create()
    url = f"/api/v1/actors/{actor['id']}/contacts"
    tag = uuid.uuid4().hex[:6]
    # Two contacts share a name: the id breaks the tie, so no row is skipped or repeated.
    for name, local in (("Berta", "c"), ("Anna", "b"), ("Berta", "a"), ("Carl", "e"), ("Anna", "d")):
        added = await actors.client.post(
            url, json=contact(f"{name} Beispiel", f"{local}.{tag}@example.org"), headers=actors.admin
        )
        assert added.status_code == 201, added.text
    return url


CONTACT_KEYS: dict[str, Callable[[dict], Any]] = {
    "name": lambda c: c["name"],
    "email": lambda c: c["email"],
    "created_at": lambda c: c["created_at"],
}


@pytest.mark.parametrize("sort", ["name", "-name", "email", "-email", "created_at", "-created_at"])
async def test_contacts_walked_by_next_come_once_each_in_the_sort_order(actors, with_contacts, sort):
    pages = await walk(actors, with_contacts, {"limit": 2, "sort": sort}, actors.admin)
    items = [c for p in pages for c in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    assert [c["id"] for c in items] == in_order(items, sort, CONTACT_KEYS[sort.lstrip("-")])
    assert len({c["id"] for c in items}) == 5


async def test_contacts_are_by_name_without_sort_and_in_one_page_by_default(actors, with_contacts):
    response = await actors.client.get(with_contacts, headers=actors.admin)
    page = response.json()
    assert page["next"] is None and page["total"] == 5 and "link" not in response.headers
    assert [c["id"] for c in page["items"]] == in_order(page["items"], "name", CONTACT_KEYS["name"])


@pytest.fixture(scope="module")
async def with_cooperations(actors):  # type: ignore[no-untyped-def]
    hub = await actors.create()
    partners = [await actors.create() for _ in range(5)]
    for partner, since, until in zip(
        partners,
        ["2024-05-01", "2023-01-15", "2024-05-01", "2025-02-01", "2022-09-30"],
        [None, "2025-12-31", "2026-06-30", None, "2023-12-31"],
        strict=True,
    ):
        body = {"actor_a": hub["id"], "actor_b": partner["id"], "type": "projekt", "since": since}
        recorded = await actors.client.post("/api/v1/cooperations", json=body, headers=actors.editor)
        assert recorded.status_code == 201, recorded.text
        if until is not None:
            ended = await actors.client.post(
                f"/api/v1/cooperations/{recorded.json()['id']}/end",
                json={"until": until},
                headers=actors.editor,
            )
            assert ended.status_code == 200, ended.text
    return hub["id"]


COOPERATION_KEYS: dict[str, Callable[[dict], Any]] = {
    "since": lambda c: c["since"],
    "until": lambda c: c["until"] or "9999-12-31",  # an open end counts as the latest
    "created_at": lambda c: c["created_at"],
}


@pytest.mark.parametrize("sort", ["since", "-since", "until", "-until", "created_at", "-created_at"])
async def test_cooperations_walked_by_next_come_once_each_in_the_sort_order(actors, with_cooperations, sort):
    params = {"actor_id": with_cooperations, "limit": 2, "sort": sort}
    pages = await walk(actors, "/api/v1/cooperations", params, actors.editor)
    items = [c for p in pages for c in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    assert [c["id"] for c in items] == in_order(items, sort, COOPERATION_KEYS[sort.lstrip("-")])


async def test_cooperations_default_to_the_latest_start_first(actors, with_cooperations):
    page = (
        await actors.client.get(
            "/api/v1/cooperations", params={"actor_id": with_cooperations}, headers=actors.editor
        )
    ).json()
    assert [c["id"] for c in page["items"]] == in_order(page["items"], "-since", COOPERATION_KEYS["since"])


async def test_the_former_page_and_page_size_still_page_cooperations(actors, with_cooperations):
    by_next = await walk(
        actors, "/api/v1/cooperations", {"actor_id": with_cooperations, "limit": 2}, actors.editor
    )
    by_page = [
        (
            await actors.client.get(
                "/api/v1/cooperations",
                params={"actor_id": with_cooperations, "page": n, "page_size": 2},
                headers=actors.editor,
            )
        ).json()
        for n in (1, 2, 3)
    ]
    assert [c["id"] for p in by_page for c in p["items"]] == [c["id"] for p in by_next for c in p["items"]]


async def test_bad_limit_cursor_or_sort_is_a_422_problem_naming_the_parameter(  # type: ignore[no-untyped-def]
    actors, with_contacts, with_cooperations, assert_problem
):
    forged = "eyJvIjotMX0"  # base64url of {"o":-1}: the shape of a cursor, but not one we made
    cases = [
        (with_contacts, {"limit": 0}, "limit", actors.admin),
        (with_contacts, {"limit": 201}, "limit", actors.admin),
        (with_contacts, {"cursor": forged}, "cursor", actors.admin),
        (with_contacts, {"cursor": "kein-cursor"}, "cursor", actors.admin),
        (with_contacts, {"sort": "phone"}, "sort", actors.admin),
        ("/api/v1/cooperations", {"limit": "viele"}, "limit", actors.editor),
        ("/api/v1/cooperations", {"cursor": forged}, "cursor", actors.editor),
        ("/api/v1/cooperations", {"sort": "-name"}, "sort", actors.editor),
        ("/api/v1/actors", {"limit": 500}, "limit", actors.editor),
        ("/api/v1/actors", {"cursor": forged}, "cursor", actors.editor),
        ("/api/v1/actors", {"sort": "district"}, "sort", actors.editor),
    ]
    for url, params, name, headers in cases:
        problem = assert_problem(await actors.client.get(url, params=params, headers=headers), 422, name)
        assert [p["name"] for p in problem["invalid_params"]] == [name], (url, params)


async def test_the_lists_document_limit_cursor_next_and_a_named_sort(actors):
    document = (await actors.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path, page, sort in (
        ("/api/v1/actors", "ActorPage", "ActorSort"),
        ("/api/v1/actors/{actor_id}/contacts", "ContactPage", "ContactSort"),
        ("/api/v1/cooperations", "CooperationPage", "CooperationSort"),
    ):
        operation = document["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert {"limit", "cursor", "sort"} <= set(parameters), path
        assert parameters["sort"]["schema"].get("$ref", "").endswith(f"/{sort}") or any(
            s.get("$ref", "").endswith(f"/{sort}") for s in parameters["sort"]["schema"].get("anyOf", [])
        ), parameters["sort"]
        assert len(schemas[sort]["enum"]) > 1
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": f"#/components/schemas/{page}"}
        assert {"items", "next", "total"} <= set(schemas[page]["properties"]), page
        for old in ("page", "page_size", "offset"):
            assert parameters.get(old, {"deprecated": True}).get("deprecated") is True, (path, old)
