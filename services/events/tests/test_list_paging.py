"""Every list of events pages by `limit` and `cursor` (the `next` link, also as the `Link`
header) and sorts by its `sort` values (`field`, `-field`, ties by id): walked page by page, each
item comes once, in the order asked for; a forged cursor, an unknown sort or a bad limit is 422
naming the parameter."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from events_testkit import in_berlin, walk


def by(items: list[dict[str, Any]], key: Any, descending: bool = False) -> list[str]:
    """Ids in the order the service promises: ``key`` (descending if asked), ties by id."""
    ordered = sorted(items, key=lambda item: item["id"])
    return [item["id"] for item in sorted(ordered, key=key, reverse=descending)]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def refused(events: Any, url: str, params: dict[str, Any], headers: Any = None) -> list[str]:
    response = await events.client.get(url, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [p["name"] for p in response.json()["invalid_params"]]


async def test_registrations_walk_page_by_page_in_every_sort_order(events):
    event = await events.published_event(capacity=3)
    names = [
        "Jonas Zimmermann",
        "anna Berger",
        "Katharina Meier",
        "Bernd Adler",
        "anna Berger",
        "Emil Fischer",
    ]
    receipts = [await events.registered(event["id"], name=name) for name in names]
    cancelled = await events.client.post(
        "/api/v1/registrations/cancel", params={"token": receipts[1]["cancellation_token"]}
    )
    assert cancelled.status_code == 200, cancelled.text
    url = f"/api/v1/events/{event['id']}/registrations"

    everything = await walk(events.client, url, {"limit": 500}, events.admin)
    assert len(everything) == 6
    # registered_at (the default) is the order they came in; the waiting line keeps its places
    in_order = await walk(events.client, url, {"limit": 2}, events.admin)
    assert ids(in_order) == [r["id"] for r in receipts]
    assert [r["waiting_position"] for r in in_order if r["status"] == "waiting"] == [1, 2]
    rank = {"confirmed": 0, "waiting": 1, "cancelled": 2}
    expected = {
        "registered_at": [r["id"] for r in receipts],
        "-registered_at": [r["id"] for r in reversed(receipts)],
        "name": by(everything, lambda r: r["name"].lower()),
        "-name": by(everything, lambda r: r["name"].lower(), descending=True),
        "status": by(everything, lambda r: rank[r["status"]]),
        "-status": by(everything, lambda r: rank[r["status"]], descending=True),
    }
    for sort, order in expected.items():
        walked = await walk(events.client, url, {"limit": 2, "sort": sort}, events.admin)
        assert ids(walked) == order, sort
    waiting = await walk(events.client, url, {"limit": 1, "status": "waiting"}, events.admin)
    assert [(r["status"], r["waiting_position"]) for r in waiting] == [("waiting", 1), ("waiting", 2)]

    first = await events.client.get(url, params={"limit": 4, "sort": "name"}, headers=events.admin)
    assert first.json()["total"] == 6 and first.headers["link"] == f'<{first.json()["next"]}>; rel="next"'
    assert "sort=name" in first.json()["next"]  # the next page keeps the order
    assert await refused(events, url, {"cursor": "eyJvIjotMX0"}, events.admin) == ["cursor"]
    assert await refused(events, url, {"cursor": "not a cursor"}, events.admin) == ["cursor"]
    assert await refused(events, url, {"sort": "email"}, events.admin) == ["sort"]
    assert await refused(events, url, {"limit": 0}, events.admin) == ["limit"]
    assert await refused(events, url, {"limit": 501}, events.admin) == ["limit"]
    assert await refused(events, url, {"page": 2}, events.admin) == ["page"]


async def test_agreements_walk_page_by_page_by_due_date_creation_and_status(events, nats_url):
    event = await events.published_event()
    await events.actors_announced(nats_url, "actor-a", "actor-b")
    soon = date.today() + timedelta(days=30)
    plans = [
        (soon + timedelta(days=20), "offen"),
        (None, "umgesetzt"),
        (soon, "verworfen"),
        (soon + timedelta(days=10), "in_umsetzung"),
        (soon, "offen"),
        (None, "in_umsetzung"),
    ]
    made = []
    for n, (due, status) in enumerate(plans):
        body = {
            "text": f"Vereinbarung {n}",
            "party_actor_ids": ["actor-a", "actor-b"],
            "due_date": due.isoformat() if due else None,
            "status": status,
        }
        recorded = await events.client.post(
            f"/api/v1/events/{event['id']}/agreements", headers=events.editor, json=body
        )
        assert recorded.status_code == 201, recorded.text
        made.append(recorded.json())
    url, params = "/api/v1/agreements", {"event_id": event["id"], "limit": 4}
    ordered_by_creation = sorted(made, key=lambda a: (a["created_at"], a["id"]))

    def due(descending: bool) -> list[str]:  # empty due dates last either way, then the older first
        dated = sorted(
            (a for a in ordered_by_creation if a["due_date"]), key=lambda a: a["due_date"], reverse=descending
        )
        return ids(dated) + [a["id"] for a in ordered_by_creation if not a["due_date"]]

    life_cycle = {"offen": 0, "in_umsetzung": 1, "umgesetzt": 2, "verworfen": 3}
    expected = {
        None: due(False),  # the default
        "due_date": due(False),
        "-due_date": due(True),
        "created_at": ids(ordered_by_creation),
        "-created_at": by(made, lambda a: a["created_at"], descending=True),
        "updated_at": ids(sorted(ordered_by_creation, key=lambda a: a["updated_at"])),
        "-updated_at": ids(sorted(ordered_by_creation, key=lambda a: a["updated_at"], reverse=True)),
        "status": ids(sorted(ordered_by_creation, key=lambda a: life_cycle[a["status"]])),
        "-status": ids(sorted(ordered_by_creation, key=lambda a: life_cycle[a["status"]], reverse=True)),
    }
    for sort, order in expected.items():
        walked = await walk(events.client, url, {**params, **({"sort": sort} if sort else {})})
        assert ids(walked) == order, sort
    soon_only = await walk(events.client, url, {**params, "limit": 1, "due_before": soon.isoformat()})
    assert ids(soon_only) == [made[2]["id"], made[4]["id"]]
    assert await refused(events, url, {"cursor": "e30"}) == ["cursor"]
    assert await refused(events, url, {"sort": "due"}) == ["sort"]
    assert await refused(events, url, {"limit": 201}) == ["limit"]


async def test_recommendations_walk_page_by_page_in_the_order_recorded(events):
    event = await events.published_event()
    made = []
    for n in range(5):
        recorded = await events.client.post(
            f"/api/v1/events/{event['id']}/recommendations",
            headers=events.editor,
            json={"text": f"Empfehlung {n}", "topics": ["energie_klimaschutz"]},
        )
        assert recorded.status_code == 201, recorded.text
        made.append(recorded.json()["id"])
    url = f"/api/v1/events/{event['id']}/recommendations"
    assert ids(await walk(events.client, url, {"limit": 2})) == made
    assert await refused(events, url, {"cursor": "x"}) == ["cursor"]
    assert await refused(events, url, {"sort": "created_at"}) == ["sort"]  # not sortable: unknown


@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_the_public_event_list_walks_in_every_sort_order(events, limit):
    made = []
    for days, title in (
        (12, "Mobilitätstag"),
        (3, "energie-Stammtisch"),
        (30, "Klimaforum"),
        (3, "Bürgerwerkstatt"),
    ):
        starts = in_berlin(days)
        event = await events.published_event(
            title=title, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=2)).isoformat()
        )
        made.append(event)
    url = "/api/v1/events"

    def start(event: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(event["starts_at"])

    expected = {
        None: by(made, start),
        "starts_at": by(made, start),
        "-starts_at": by(made, start, descending=True),
        "title": by(made, lambda e: e["title"].lower()),
        "-title": by(made, lambda e: e["title"].lower(), descending=True),
        "created_at": ids(made),
        "-created_at": ids(made[::-1]),
    }
    for sort, order in expected.items():
        walked = await walk(events.client, url, {"limit": limit, **({"sort": sort} if sort else {})})
        assert ids(walked) == order, sort
    assert await refused(events, url, {"sort": "start"}) == ["sort"]
