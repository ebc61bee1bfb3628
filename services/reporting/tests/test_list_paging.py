"""One pagination style for the reporting service's lists (``nzr_common.pagination``): ``limit``
and an opaque ``cursor``, the next page as ``next`` in the body and as the ``Link`` header,
``total``, and a ``sort`` whose ties are broken by id."""

from __future__ import annotations

from typing import Any

from .conftest import Reporting
from .test_goals_and_bad_input import assert_problem

API = "/api/v1/reports"
FORGED = "eyJvIjotMX0"  # base64url of {"o":-1}: the shape of a cursor, but not one we made


async def walk(reporting: Reporting, url: str, params: dict[str, Any]) -> list[dict]:
    """Every page of a list, following ``next``; each page's ``Link`` header equals its ``next``."""
    pages = []
    response = await reporting.client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next"] is None:
            assert "link" not in response.headers
            return pages
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        response = await reporting.client.get(page["next"])


def expected_order(items: list[dict], sort: str) -> list[str]:
    """The ids in the order ``sort`` promises: by the field (``-`` descending), items without the
    field last, ties by id ascending."""
    field = sort.lstrip("-")
    by_id = sorted(items, key=lambda i: i["id"])
    present = sorted((i for i in by_id if i[field]), key=lambda i: i[field], reverse=sort.startswith("-"))
    return [i["id"] for i in present] + [i["id"] for i in by_id if not i[field]]


async def test_goals_and_measures_walked_by_next_come_once_each_in_every_sort_order(
    reporting: Reporting, token_for
):
    editor = token_for("editor", region=reporting.region)
    # Two goals share a title: the id breaks the tie, so no goal is skipped or repeated.
    for level, title, target_date in (
        ("operativ", "Radwege ausbauen", "2028-06-30"),
        ("strategisch", "Klimaneutrale Region", None),
        ("operativ", "Radwege ausbauen", "2027-12-31"),
        ("strategisch", "Bildung verankern", "2030-01-01"),
        ("strategisch", "Akteure vernetzen", None),
    ):
        body: dict[str, Any] = {"level": level, "title": title}
        if target_date:
            body |= {
                "indicator_id": "actors_total",
                "direction": "increase",
                "baseline_value": 10,
                "baseline_date": "2026-01-01",
                "target_value": 20,
                "target_date": target_date,
            }
        created = await reporting.client.post(f"{API}/goals", json=body, headers=editor)
        assert created.status_code == 201, created.text
    for sort in ("level", "title", "-title", "target_date", "-target_date", "created_at", "-created_at"):
        pages = await walk(reporting, f"{API}/goals", {"limit": 2, "sort": sort})
        goals = [g for p in pages for g in p["items"]]
        assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}, sort
        if sort == "level":  # strategic first, then as defined
            strategic_first = sorted(goals, key=lambda g: (g["level"] != "strategisch", g["created_at"]))
            expected = [g["id"] for g in strategic_first]
        else:
            expected = expected_order(goals, sort)
        assert [g["id"] for g in goals] == expected, sort
    assert (await reporting.get("/goals"))["items"][0]["level"] == "strategisch"  # the default

    goal_id = (await reporting.get("/goals", params={"sort": "title"}))["items"][0]["id"]
    for title, start, end in (
        ("Fachtag planen", "2026-03-01", "2026-04-30"),
        ("Beirat gründen", None, None),
        ("Fachtag planen", "2026-01-15", "2026-12-31"),
        ("Netzwerkkarte", "2026-03-01", None),
        ("Aufruf starten", "2025-11-01", "2026-02-28"),
    ):
        body = {"goal_id": goal_id, "title": title, "start": start, "end": end}
        created = await reporting.client.post(f"{API}/measures", json=body, headers=editor)
        assert created.status_code == 201, created.text
    for sort in ("start", "-start", "end", "-end", "title", "-title"):
        params = {"limit": 2, "sort": sort, "goal_id": goal_id}
        pages = await walk(reporting, f"{API}/measures", params)
        measures = [m for p in pages for m in p["items"]]
        assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}, sort
        assert [m["id"] for m in measures] == expected_order(measures, sort), sort
    default = await reporting.get("/measures", params={"goal_id": goal_id})
    assert [m["start"] for m in default["items"]] == [
        "2025-11-01",
        "2026-01-15",
        "2026-03-01",
        "2026-03-01",
        None,
    ]


async def test_a_goals_history_walked_by_next_comes_once_each_oldest_or_newest_first(
    reporting: Reporting, token_for
):
    editor = token_for("editor", region=reporting.region)
    created = await reporting.client.post(
        f"{API}/goals", json={"level": "strategisch", "title": "Klimaneutrale Region"}, headers=editor
    )
    goal = created.json()
    url = f"{API}/goals/{goal['id']}"
    for version, change in enumerate(
        [
            {"title": "Klimaneutrale Region 2040"},
            {"description": "Beschluss des Kreistags"},
            {"title": "Klimaneutrale Region 2045"},
            {"description": "Beschluss des Kreistags vom Mai"},
            {"title": "Klimaneutraler Landkreis"},
        ],
        start=1,
    ):
        changed = await reporting.client.patch(
            url, json=change, headers={**editor, "If-Match": f'"{version}"'}
        )
        assert changed.status_code == 200, changed.text
    oldest = [c for p in await walk(reporting, f"{url}/history", {"limit": 2}) for c in p["items"]]
    newest = [
        c for p in await walk(reporting, f"{url}/history", {"limit": 2, "sort": "-at"}) for c in p["items"]
    ]
    assert [c["new"] for c in oldest] == [
        "Klimaneutrale Region 2040",
        "Beschluss des Kreistags",
        "Klimaneutrale Region 2045",
        "Beschluss des Kreistags vom Mai",
        "Klimaneutraler Landkreis",
    ]
    assert newest == oldest[::-1]


async def test_bad_limit_cursor_or_sort_is_a_422_problem_naming_the_parameter(reporting: Reporting):
    for path, params, name in (
        ("/goals", {"limit": 0}, "limit"),
        ("/goals", {"limit": 201}, "limit"),
        ("/goals", {"cursor": FORGED}, "cursor"),
        ("/goals", {"cursor": "kein Cursor"}, "cursor"),
        ("/goals", {"sort": "district"}, "sort"),
        ("/measures", {"cursor": FORGED}, "cursor"),
        ("/measures", {"sort": "status"}, "sort"),
        ("/goals/any/history", {"cursor": FORGED}, "cursor"),
        ("/goals/any/history", {"sort": "field"}, "sort"),
    ):
        response = await reporting.client.get(f"{API}{path}", params=params)
        assert_problem(response, 422, name)
        assert [p["name"] for p in response.json()["invalid_params"]] == [name], (path, params)
