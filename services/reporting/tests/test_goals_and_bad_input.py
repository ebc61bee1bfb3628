"""Goals and measures of an action plan, their progress, and bad input as problem+json."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from nzr_common.contracts.base import region_stream_name

from .conftest import Reporting
from .events import actor

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def assert_problem(response, status: int, field: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        assert field in [p["name"] for p in body.get("invalid_params", [])], body


async def test_goal_progress_compares_current_value_with_target_and_says_if_on_track(
    reporting: Reporting, token_for
):
    editor = token_for("editor", region=reporting.region)
    await reporting.publish(actor(), actor())
    await reporting.settled()
    strategic = await reporting.client.post(
        "/api/v1/reports/goals",
        headers=editor,
        json={"level": "strategisch", "title": "Engagement im ländlichen Raum stärken"},
    )
    assert strategic.status_code == 201, strategic.text
    goal = await reporting.client.post(
        "/api/v1/reports/goals",
        headers=editor,
        json={
            "level": "operativ",
            "title": "Zehn Akteure im Netzwerk",
            "parent_goal_id": strategic.json()["id"],
            "indicator_id": "actors_total",
            "direction": "increase",
            "target_value": 10,
            "target_date": NEXT_YEAR,
        },
    )
    assert goal.status_code == 201, goal.text
    assert goal.json()["baseline_value"] == 2
    assert goal.json()["direction_label"] == "steigern"
    measure = await reporting.client.post(
        "/api/v1/reports/measures",
        headers=editor,
        json={
            "goal_id": goal.json()["id"],
            "title": "Akteurskonferenz im Erzgebirge",
            "responsible_actor_id": "actor-1",
            "involved_actor_ids": ["actor-2", "actor-3"],
            "start": date.today().isoformat(),
            "resources_needed": ["raeume", "geld"],
            "milestones": [{"title": "Einladung verschickt", "due": NEXT_YEAR}],
        },
    )
    assert measure.status_code == 201, measure.text
    changed = await reporting.client.patch(
        f"/api/v1/reports/measures/{measure.json()['id']}", headers=editor, json={"status": "laufend"}
    )
    assert changed.json()["status"] == "laufend"
    await reporting.publish(*[actor() for _ in range(8)])
    await reporting.settled()
    progress = await reporting.get(f"/goals/{goal.json()['id']}/progress")
    assert progress["current_value"] == 10 and progress["target_value"] == 10
    assert progress["state"] == "erreicht" and progress["on_track"] is True
    assert progress["percent_of_target"] == 100
    assert progress["measures"] == {"laufend": 1}
    goals = (await reporting.get("/goals"))["items"]
    assert [g["level"] for g in goals] == ["strategisch", "operativ"]


async def test_new_goal_starts_on_track_from_its_baseline(reporting: Reporting, token_for):
    editor = token_for("editor", region=reporting.region)
    await reporting.publish(actor())
    await reporting.settled()
    goal = await reporting.client.post(
        "/api/v1/reports/goals",
        headers=editor,
        json={
            "level": "operativ",
            "title": "Hundert Akteure",
            "indicator_id": "actors_total",
            "direction": "increase",
            "target_value": 100,
            "target_date": NEXT_YEAR,
        },
    )
    progress = await reporting.get(
        f"/goals/{goal.json()['id']}/progress", params={"as_of": date.today().isoformat()}
    )
    assert progress["state"] == "im_plan" and progress["baseline_value"] == 1
    assert progress["expected_percent"] == 0 and progress["percent_of_target"] == 0


async def test_a_district_goal_is_announced_with_its_district(reporting: Reporting, token_for):
    # The state measures a region's goal where it is set: the district travels in GoalDefined.
    district = next(iter(reporting.settings.region_districts or ["14612000"]))
    goal = await reporting.client.post(
        "/api/v1/reports/goals",
        headers=token_for("editor", region=reporting.region),
        json={
            "level": "operativ",
            "title": "Akteure im Landkreis",
            "indicator_id": "actors_total",
            "direction": "keep_at_least",
            "target_value": 10,
            "target_date": NEXT_YEAR,
            "district": district,
        },
    )
    assert goal.status_code == 201, goal.text
    pull = await reporting.js.pull_subscribe(
        f"nzr.{reporting.region}.pub.reporting.goal_defined.>", stream=region_stream_name(reporting.region)
    )
    for _ in range(100):
        try:
            (message,) = await pull.fetch(1, timeout=0.5)
            break
        except TimeoutError:
            continue
    announced = json.loads(message.data)["data"]
    assert (announced["goal_id"], announced["district"]) == (goal.json()["id"], district)
    assert (announced["direction"], announced["version"]) == ("keep_at_least", 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"indicator_id": "glueck_index"}, "indicator_id"),
        ({"baseline_date": "2025-06-01", "target_date": "2025-01-01"}, "target_date"),
        ({"target_value": None}, "target_value"),
        ({"district": "09162000"}, "district"),
        ({"district": "14999000"}, "district"),
        ({"level": "irgendwas"}, "level"),
        ({"direction": "sideways"}, "direction"),
        ({"direction": None}, "direction"),
    ],
    ids=[
        "unknown-indicator",
        "target-before-baseline",
        "no-target-value",
        "foreign-district",
        "no-such-district",
        "bad-level",
        "unknown-direction",
        "no-direction",
    ],
)
async def test_invalid_goals_are_refused_with_a_422_problem(reporting: Reporting, token_for, body, field):
    valid = {
        "level": "operativ",
        "title": "Mehr Kooperationen",
        "indicator_id": "cooperations_active",
        "direction": "increase",
        "target_value": 20,
        "target_date": NEXT_YEAR,
    }
    response = await reporting.client.post(
        "/api/v1/reports/goals", json={**valid, **body}, headers=token_for("editor", region=reporting.region)
    )
    assert_problem(response, 422, field)
    assert (await reporting.get("/goals"))["items"] == []  # nothing half-written


async def test_writing_goals_needs_an_editor_token_of_the_region(reporting: Reporting, token_for):
    body = {"level": "strategisch", "title": "Klimaneutrale Region"}
    assert_problem(await reporting.client.post("/api/v1/reports/goals", json=body), 401)
    assert_problem(
        await reporting.client.post(
            "/api/v1/reports/goals", json=body, headers=token_for("editor", region="anderswo")
        ),
        403,
    )


async def test_bad_indicator_queries_are_problems(reporting: Reporting):
    client = reporting.client
    assert_problem(await client.get("/api/v1/reports/indicators/glueck_index"), 404, "indicator_id")
    assert_problem(await client.get("/api/v1/reports/indicators/glueck_index/series"), 404)
    assert_problem(
        await client.get(
            "/api/v1/reports/indicators/actors_total/series", params={"from": "2026-05", "to": "2025-01"}
        ),
        422,
        "from",
    )
    assert_problem(
        await client.get("/api/v1/reports/indicators/actors_total/series", params={"from": "Mai 2026"}),
        422,
        "from",
    )
    assert_problem(
        await client.get("/api/v1/reports/indicators/actors_total", params={"by": "format"}), 422, "by"
    )
    # a period longer than the data: before the first month with figures, or after this month
    await reporting.publish(actor())
    await reporting.settled()
    this_month = datetime.now(UTC).date().replace(day=1)
    series = "/api/v1/reports/indicators/actors_total/series"
    assert_problem(await client.get(series, params={"from": "2001-01"}), 422, "from")
    next_month = (this_month + timedelta(days=31)).strftime("%Y-%m")
    assert_problem(await client.get(series, params={"to": next_month}), 422, "to")
    assert (await client.get(series, params={"from": this_month.strftime("%Y-%m")})).status_code == 200
    future = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    assert_problem(await client.get("/api/v1/reports/overview", params={"as_of": future}), 422, "as_of")
    assert_problem(await client.get("/api/v1/reports/goals/unknown/progress"), 404)
    assert_problem(await client.get("/api/v1/reports/indicators/actors_total/chart.gif"), 404)


async def test_progress_of_a_goal_without_target_is_a_conflict(reporting: Reporting, token_for):
    goal = await reporting.client.post(
        "/api/v1/reports/goals",
        headers=token_for("editor", region=reporting.region),
        json={"level": "strategisch", "title": "Netzwerk verstetigen"},
    )
    assert_problem(await reporting.client.get(f"/api/v1/reports/goals/{goal.json()['id']}/progress"), 409)
