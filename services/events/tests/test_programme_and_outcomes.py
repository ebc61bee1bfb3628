"""Programme (parallel sessions, one per slot) and outcomes (agreements, recommendations)."""

from datetime import timedelta

from events_testkit import in_berlin


def _session(title: str, start_hour: int, hours: int = 1, **extra):  # type: ignore[no-untyped-def]
    start = in_berlin(30, hour=start_hour)
    return {
        "title": title,
        "kind": "workshop",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
        **extra,
    }


async def _programme(events, event_id):  # type: ignore[no-untyped-def]
    made = {}
    for body in (
        _session("Keynote Klimaanpassung", 10, kind="keynote", speakers=["Dr. Anna Weber"]),
        _session("Workshop Wärmeplanung", 11, capacity=1, room="Raum A"),
        _session("Workshop Bürgerenergie", 11, capacity=2, room="Raum B"),
        _session("Workshop Mobilität", 11, capacity=1, room="Raum C"),
    ):
        response = await events.client.post(
            f"/api/v1/events/{event_id}/sessions", json=body, headers=events.editor
        )
        assert response.status_code == 201, response.text
        made[body["title"]] = response.json()["id"]
    return made


async def test_sessions_outside_the_events_time_are_refused(events):
    event = await events.published_event()
    too_early = await events.client.post(
        f"/api/v1/events/{event['id']}/sessions", json=_session("Vorabend", 6), headers=events.editor
    )
    assert too_early.status_code == 422
    assert too_early.headers["content-type"] == "application/problem+json"
    backwards = _session("Rückwärts", 12)
    backwards["ends_at"], backwards["starts_at"] = backwards["starts_at"], backwards["ends_at"]
    assert (
        await events.client.post(
            f"/api/v1/events/{event['id']}/sessions", json=backwards, headers=events.editor
        )
    ).status_code == 422
    assert (await events.client.get(f"/api/v1/events/{event['id']}/sessions")).json() == []


async def test_moving_the_event_away_from_its_sessions_is_refused(events):
    event = await events.published_event()
    await _programme(events, event["id"])
    moved = await events.client.patch(
        f"/api/v1/events/{event['id']}",
        headers=events.editor,
        json={"starts_at": in_berlin(30, hour=12).isoformat()},
    )
    assert moved.status_code == 422
    assert (await events.client.get(f"/api/v1/events/{event['id']}")).json()["starts_at"] == event[
        "starts_at"
    ]


async def test_registrant_picks_one_session_per_slot(events):
    event = await events.published_event()
    ids = await _programme(events, event["id"])
    both = await events.register(
        event["id"], session_ids=[ids["Workshop Wärmeplanung"], ids["Workshop Bürgerenergie"]]
    )
    assert both.status_code == 422 and "parallel" in both.json()["detail"]
    fine = await events.register(
        event["id"], session_ids=[ids["Keynote Klimaanpassung"], ids["Workshop Wärmeplanung"]]
    )
    assert fine.status_code == 202
    [registration] = (
        await events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=events.admin)
    ).json()["items"]
    assert len(registration["session_ids"]) == 2
    unknown = await events.register(event["id"], session_ids=["no-such-session"])
    assert unknown.status_code == 422


async def test_full_session_is_refused_naming_the_parallel_alternatives_with_seats(events):
    event = await events.published_event()
    ids = await _programme(events, event["id"])
    assert (await events.register(event["id"], session_ids=[ids["Workshop Wärmeplanung"]])).status_code == 202
    assert (await events.register(event["id"], session_ids=[ids["Workshop Mobilität"]])).status_code == 202
    full = await events.register(event["id"], session_ids=[ids["Workshop Wärmeplanung"]])
    assert full.status_code == 409
    problem = full.json()
    assert "Workshop Bürgerenergie" in problem["detail"] and "Mobilität" not in problem["detail"]
    assert [a["title"] for a in problem["alternatives"]] == ["Workshop Bürgerenergie"]
    programme = {
        s["title"]: s for s in (await events.client.get(f"/api/v1/events/{event['id']}/sessions")).json()
    }
    assert programme["Workshop Wärmeplanung"]["seats_left"] == 0
    assert programme["Workshop Bürgerenergie"]["seats_left"] == 2
    assert programme["Keynote Klimaanpassung"]["speakers"] == ["Dr. Anna Weber"]
    assert programme["Keynote Klimaanpassung"]["starts_at"].endswith(("+01:00", "+02:00"))


async def test_cancelling_frees_the_session_seat_too(events):
    event = await events.published_event()
    ids = await _programme(events, event["id"])
    receipt = await events.registered(event["id"], session_ids=[ids["Workshop Wärmeplanung"]])
    await events.client.post("/api/v1/registrations/cancel", params={"token": receipt["cancellation_token"]})
    again = await events.register(event["id"], session_ids=[ids["Workshop Wärmeplanung"]])
    assert again.status_code == 202


async def test_agreement_with_progress_reports_is_followed_up_and_announced(events, nats_url):
    event = await events.published_event()
    await events.actors_announced(nats_url, "actor-a", "actor-b")
    recorded = await events.client.post(
        f"/api/v1/events/{event['id']}/agreements",
        headers=events.editor,
        json={
            "text": "Gemeinsame Solarberatung für Vereinsheime",
            "party_actor_ids": ["actor-a", "actor-b"],
            "responsible_actor_id": "actor-a",
            "due_date": "2027-03-31",
        },
    )
    assert recorded.status_code == 201
    agreement = recorded.json()
    assert agreement["status"] == "offen"
    [announced] = await events.announced("agreement_recorded")
    assert announced["data"]["party_actor_ids"] == ["actor-a", "actor-b"]

    report = await events.client.post(
        f"/api/v1/agreements/{agreement['id']}/progress",
        headers=events.editor,
        json={"moved": "Erste Beratung in Flöha", "blocks": "Förderbescheid fehlt", "status": "in_umsetzung"},
    )
    assert report.status_code == 201
    assert report.json()["status"] == "in_umsetzung"
    note = await events.client.post(
        f"/api/v1/agreements/{agreement['id']}/progress",
        headers=events.editor,
        json={"moved": "Zweiter Termin steht"},
    )
    assert [p["status"] for p in note.json()["progress"]] == ["in_umsetzung", "in_umsetzung"]
    changes = await events.announced("agreement_status_changed")
    assert [c["data"]["status"] for c in changes] == ["in_umsetzung"]
    empty = await events.client.post(
        f"/api/v1/agreements/{agreement['id']}/progress", headers=events.editor, json={}
    )
    assert empty.status_code == 422
    open_ones = (
        await events.client.get(
            "/api/v1/agreements", params={"status": "in_umsetzung", "event_id": event["id"]}
        )
    ).json()["items"]
    assert [a["id"] for a in open_ones] == [agreement["id"]]
    bad_status = await events.client.post(
        f"/api/v1/agreements/{agreement['id']}/progress", headers=events.editor, json={"status": "fertig"}
    )
    assert bad_status.status_code == 422


async def test_recommendations_are_recorded_per_event_and_announced_without_text(events):
    event = await events.published_event()
    response = await events.client.post(
        f"/api/v1/events/{event['id']}/recommendations",
        headers=events.editor,
        json={
            "text": "Kommunen sollen Energieberatung bündeln",
            "addressee": "Landkreis",
            "topics": ["energie_klimaschutz"],
        },
    )
    assert response.status_code == 201
    listed = (await events.client.get(f"/api/v1/events/{event['id']}/recommendations")).json()["items"]
    assert [r["text"] for r in listed] == ["Kommunen sollen Energieberatung bündeln"]
    [announced] = await events.announced("recommendation_recorded")
    assert announced["data"]["topics"] == ["energie_klimaschutz"]


async def test_agreements_naming_unknown_or_removed_actors_are_refused_and_nothing_is_stored(
    events, nats_url
):
    event = await events.published_event()
    await events.actors_announced(nats_url, "verein-1", "kommune-2", "weg-3")
    await events.actors_announced(nats_url, "weg-3", removed=True)
    body = {"text": "Gemeinsamer Klimatag", "party_actor_ids": ["verein-1", "erfunden-9", "weg-3"]}
    refused = await events.client.post(
        f"/api/v1/events/{event['id']}/agreements", headers=events.editor, json=body
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert [(p["name"], p["reason"].split()[0]) for p in refused.json()["invalid_params"]] == [
        ("party_actor_ids", "erfunden-9"),
        ("party_actor_ids", "weg-3"),
    ]
    responsible = await events.client.post(
        f"/api/v1/events/{event['id']}/agreements",
        headers=events.editor,
        json={**body, "party_actor_ids": ["verein-1", "kommune-2"], "responsible_actor_id": "niemand"},
    )
    assert [p["name"] for p in responsible.json()["invalid_params"]] == ["responsible_actor_id"]
    topic = await events.client.post(
        f"/api/v1/events/{event['id']}/recommendations",
        headers=events.editor,
        json={"text": "Mehr Radwege", "topics": ["mobilitaet", "glueck"]},
    )
    assert topic.status_code == 422
    [problem] = topic.json()["invalid_params"]
    assert problem["name"] == "topics" and "glueck" in problem["reason"]
    assert (await events.client.get("/api/v1/agreements", params={"event_id": event["id"]})).json()[
        "items"
    ] == []
    assert (await events.client.get(f"/api/v1/events/{event['id']}/recommendations")).json()["items"] == []
    assert await events.announced("agreement_recorded") == []
    accepted = await events.client.post(
        f"/api/v1/events/{event['id']}/agreements",
        headers=events.editor,
        json={**body, "party_actor_ids": ["verein-1", "kommune-2"], "responsible_actor_id": "kommune-2"},
    )
    assert accepted.status_code == 201, accepted.text
