"""One pagination style for the funding service's lists (``nzr_common.pagination``): ``limit`` and
an opaque ``cursor``, the next page as ``next`` in the body and as the ``Link`` header, ``total``,
and a ``sort`` whose ties are broken by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import programme, random_token

SEARCH = "/api/v1/funding/programs"
FORGED = "eyJvIjotMX0"  # base64url of {"o":-1}: the shape of a cursor, but not one we made


async def walk(service, url: str, params: dict[str, Any], headers: dict[str, str]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every page of a list, following ``next``; each page's ``Link`` header equals its ``next``."""
    pages = []
    response = await service.client.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next"] is None:
            assert "link" not in response.headers
            return pages
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        response = await service.client.get(page["next"], headers=headers)


def in_order(items: list[dict], sort: str, key: Callable[[dict], Any]) -> list[Any]:
    """The ids in the order ``sort`` promises: by the field (``-`` descending), ties by id ascending."""
    by_id = sorted(items, key=lambda i: i["id"])
    return [i["id"] for i in sorted(by_id, key=key, reverse=sort.startswith("-"))]


@pytest.mark.parametrize(
    ("sort", "q"), [("relevance", "Förderung"), ("deadline", None), ("name", None), ("-name", "Förderung")]
)
@pytest.mark.parametrize("caller", ["anonymous", "editor"])
async def test_the_search_walked_by_next_gives_every_hit_once_in_the_sort_order(seeded, sort, q, caller):
    params = {"as_of": "2026-11-21", "sort": sort, "limit": 7, **({"q": q} if q else {})}
    headers = seeded.editor if caller == "editor" else {}  # the anonymous fast path, the full path
    pages = await walk(seeded, SEARCH, params, headers)
    hits = [hit for page in pages for hit in page["items"]]
    whole = (await seeded.client.get(SEARCH, params={**params, "limit": 100}, headers=headers)).json()
    assert len(pages) == -(-whole["total"] // 7) and {p["total"] for p in pages} == {whole["total"]}
    assert [h["programme"]["id"] for h in hits] == [h["programme"]["id"] for h in whole["items"]]
    assert len({h["programme"]["id"] for h in hits}) == whole["total"] > 7
    programmes = [h["programme"] for h in hits]
    if sort == "relevance":
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True)
    elif sort == "deadline":  # open programmes first, then the nearest next deadline
        states = [p["deadline"]["state"] for p in programmes]
        assert states[: states.count("open")] == ["open"] * states.count("open")
        opened = [
            p["deadline"]["next_deadline"] or "9999" for p in programmes if p["deadline"]["state"] == "open"
        ]
        assert opened == sorted(opened)
    else:
        assert [p["id"] for p in programmes] == in_order(programmes, sort, lambda p: p["name"])


async def test_the_default_order_is_relevance_with_q_and_deadline_without(seeded):
    for q, default in (("Klimaschutz", "relevance"), (None, "deadline")):
        params = {"as_of": "2026-11-21", "limit": 100, **({"q": q} if q else {})}
        implicit = (await seeded.client.get(SEARCH, params=params)).json()
        explicit = (await seeded.client.get(SEARCH, params={**params, "sort": default})).json()
        assert [h["programme"]["id"] for h in implicit["items"]] == [
            h["programme"]["id"] for h in explicit["items"]
        ]


@pytest.mark.parametrize("caller", ["anonymous", "editor"])
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"cursor": FORGED}, "cursor"),
        ({"cursor": "kein Cursor"}, "cursor"),
        ({"sort": "amount"}, "sort"),
        ({"limit": 101}, "limit"),
    ],
)
async def test_bad_search_paging_is_a_422_problem_naming_the_parameter(seeded, params, name, caller):
    headers = seeded.editor if caller == "editor" else {}
    response = await seeded.client.get(SEARCH, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [p["name"] for p in response.json()["invalid_params"]] == [name]


def member(funding) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A member of the region of its own (saved searches are each member's own)."""
    token = issue_token(
        DEVELOPMENT_SECRET, region=funding.region, roles=["editor"], subject=random_token("m")
    )
    return {"Authorization": f"Bearer {token}"}


SAVED_KEYS: dict[str, Callable[[dict], Any]] = {
    "created_at": lambda s: s["created_at"],
    "name": lambda s: s["name"],
}


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "name", "-name"])
async def test_saved_searches_walked_by_next_come_once_each_in_the_sort_order(shared, sort):
    headers = member(shared)
    # Two searches share a name: the id breaks the tie, so none is skipped or repeated.
    for name in ("Radwege", "Bildung", "Radwege", "Energie", "Artenschutz"):
        body = {"name": name, "query": {"q": name}, "alerts": False}
        saved = await shared.client.post("/api/v1/funding/saved-searches", json=body, headers=headers)
        assert saved.status_code == 201, saved.text
    pages = await walk(shared, "/api/v1/funding/saved-searches", {"limit": 2, "sort": sort}, headers)
    items = [s for p in pages for s in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    assert [s["id"] for s in items] == in_order(items, sort, SAVED_KEYS[sort.lstrip("-")])


ALERT_KEYS: dict[str, Callable[[dict], Any]] = {
    "created_at": lambda a: a["created_at"],
    "programme_name": lambda a: a["programme_name"],
}


@pytest.fixture(scope="module")
async def alerted(shared):  # type: ignore[no-untyped-def]
    """A saved search with five alerts (three programmes published, two of them changed)."""
    headers = member(shared)
    word = random_token("Seltenwort")
    body = {"name": "Seltenes", "query": {"q": word}}
    saved = await shared.client.post("/api/v1/funding/saved-searches", json=body, headers=headers)
    assert saved.status_code == 201, saved.text
    records = [programme(name=f"{name} {word}") for name in ("Cottbus", "Annaberg", "Bautzen")]
    await shared.import_json(records)
    for record in records:
        await shared.wait_for_revision(record["id"], 1)
    await shared.import_json([{**r, "amount_max_eur": 77000} for r in records[:2]])
    for record in records[:2]:
        await shared.wait_for_revision(record["id"], 2)
    return f"/api/v1/funding/saved-searches/{saved.json()['id']}/alerts", headers


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "programme_name", "-programme_name"])
async def test_alerts_walked_by_next_come_once_each_in_the_sort_order(shared, alerted, sort):
    url, headers = alerted
    pages = await walk(shared, url, {"limit": 2, "sort": sort}, headers)
    items = [a for p in pages for a in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    assert [a["id"] for a in items] == in_order(items, sort, ALERT_KEYS[sort.lstrip("-")])


async def test_bad_paging_of_saved_searches_and_alerts_names_the_parameter(shared, alerted):
    url, headers = alerted
    for path, params, name in (
        ("/api/v1/funding/saved-searches", {"cursor": FORGED}, "cursor"),
        ("/api/v1/funding/saved-searches", {"sort": "query"}, "sort"),
        ("/api/v1/funding/saved-searches", {"limit": 0}, "limit"),
        (url, {"cursor": FORGED}, "cursor"),
        (url, {"sort": "revision"}, "sort"),
        (url, {"limit": 201}, "limit"),
    ):
        response = await shared.client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, params, response.text)
        assert [p["name"] for p in response.json()["invalid_params"]] == [name], (path, params)
