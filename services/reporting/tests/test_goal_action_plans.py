"""Goals as action plans: explicit direction, dated baseline and target (past dates allowed),
edited with If-Match and an audit trail, deleted; measures with what an action plan records."""

from __future__ import annotations

from datetime import date, timedelta

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import Reporting
from .events import actor
from .test_goals_and_bad_input import assert_problem

GOALS = "/api/v1/reports/goals"


async def test_a_goal_of_last_years_plan_to_reduce_is_edited_with_if_match_audited_and_deleted(
    reporting: Reporting, token_for
):
    token = issue_token(DEVELOPMENT_SECRET, region=reporting.region, roles=["editor"], subject="referentin-1")
    editor = {"Authorization": f"Bearer {token}"}
    await reporting.publish(*[actor() for _ in range(8)])
    await reporting.settled()
    last_year = date.today() - timedelta(days=400)
    created = await reporting.client.post(
        GOALS,
        headers=editor,
        json={
            "level": "operativ",
            "title": "Weniger Doppelstrukturen: Akteurszahl bündeln",
            "indicator_id": "actors_total",
            "direction": "decrease",
            "baseline_value": 10,
            "baseline_date": last_year.isoformat(),
            "target_value": 6,
            "target_date": (last_year + timedelta(days=730)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    goal = created.json()
    assert created.headers["ETag"] == '"1"'
    assert (goal["direction"], goal["direction_label"], goal["baseline_value"]) == ("decrease", "senken", 10)
    progress = await reporting.get(f"/goals/{goal['id']}/progress")
    # from 10 down to 6, now 8: half the way (a decline is progress for a goal to reduce)
    assert (progress["current_value"], progress["percent_of_target"]) == (8, 50)
    assert progress["direction_label"] == "senken" and progress["baseline_date"] == last_year.isoformat()

    url = f"{GOALS}/{goal['id']}"
    change = {"target_value": 7, "title": "Akteurszahl bündeln"}
    assert_problem(await reporting.client.patch(url, headers=editor, json=change), 428)
    stale = await reporting.client.patch(url, headers={**editor, "If-Match": '"7"'}, json=change)
    assert_problem(stale, 412)
    assert stale.headers["ETag"] == '"1"'
    bad = await reporting.client.patch(
        url,
        headers={**editor, "If-Match": '"1"'},
        json={"target_date": (last_year - timedelta(days=1)).isoformat()},
    )
    assert_problem(bad, 422, "target_date")
    changed = await reporting.client.patch(url, headers={**editor, "If-Match": '"1"'}, json=change)
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"' and changed.json()["target_value"] == 7
    history = (await reporting.get(f"/goals/{goal['id']}/history"))["items"]
    assert [(h["actor"], h["field"], h["old"], h["new"]) for h in history] == [
        ("referentin-1", "title", "Weniger Doppelstrukturen: Akteurszahl bündeln", "Akteurszahl bündeln"),
        ("referentin-1", "target_value", "6", "7"),
    ]
    assert_problem(await reporting.client.delete(url, headers={**editor, "If-Match": '"1"'}), 412)
    deleted = await reporting.client.delete(url, headers={**editor, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert_problem(await reporting.client.get(url), 404)
    history = (await reporting.get(f"/goals/{goal['id']}/history"))["items"]
    assert history[-1]["field"] == "*" and history[-1]["actor"] == "referentin-1"


async def test_a_measure_records_responsible_actors_milestones_resources_recommendation_and_links(
    reporting: Reporting, token_for
):
    editor = token_for("editor", region=reporting.region)
    strategic = await reporting.client.post(
        GOALS,
        headers=editor,
        json={"level": "strategisch", "title": "Bildung für nachhaltige Entwicklung verankern"},
    )
    body = {
        "goal_id": strategic.json()["id"],
        "title": "BNE-Fachtag für Lehrkräfte",
        "responsible_actor_ids": ["actor-schule", "actor-umweltzentrum"],
        "milestones": [{"title": "Programm steht", "due": "2026-03-01", "done": True}],
        "resources_needed": ["Raum für 80 Personen", "Honorare 2.000 €"],
        "recommendation_to": "Landesamt für Schule und Bildung",
        "recommendation": "BNE-Fortbildungen als Pflichtfortbildung anerkennen.",
        "event_ids": ["event-fachtag"],
        "agreement_ids": ["agreement-1"],
    }
    created = await reporting.client.post("/api/v1/reports/measures", headers=editor, json=body)
    assert created.status_code == 201, created.text
    measure = created.json()
    assert measure["responsible_actor_ids"] == ["actor-schule", "actor-umweltzentrum"]
    assert measure["milestones"][0]["done"] is True
    assert measure["recommendation_to"] == "Landesamt für Schule und Bildung"
    assert (measure["event_ids"], measure["agreement_ids"]) == (["event-fachtag"], ["agreement-1"])
    without_addressee = {**body, "recommendation_to": None}
    assert_problem(
        await reporting.client.post("/api/v1/reports/measures", headers=editor, json=without_addressee),
        422,
        "recommendation_to",
    )
    linked = await reporting.client.patch(
        f"/api/v1/reports/measures/{measure['id']}",
        headers=editor,
        json={"event_ids": ["event-fachtag", "event-nachtreffen"], "status": "laufend"},
    )
    assert linked.json()["event_ids"] == ["event-fachtag", "event-nachtreffen"]
    # a goal with measures is not deleted from under them
    etag = (await reporting.client.get(f"{GOALS}/{strategic.json()['id']}")).headers["ETag"]
    in_use = await reporting.client.delete(
        f"{GOALS}/{strategic.json()['id']}", headers={**editor, "If-Match": etag}
    )
    assert_problem(in_use, 409)
