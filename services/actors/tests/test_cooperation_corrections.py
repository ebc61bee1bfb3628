"""Cooperations are corrected (If-Match) and deleted by editors, announced as events; the same
cooperation twice is refused naming the existing one; bad corrections write nothing."""


async def record(actors, a: str, b: str, **fields):  # type: ignore[no-untyped-def]
    body = {"actor_a": a, "actor_b": b, "type": "projekt", "since": "2024-01-01", **fields}
    return await actors.client.post("/api/v1/cooperations", json=body, headers=actors.editor)


async def test_the_same_cooperation_twice_in_either_order_is_a_409_naming_the_existing_one(
    actors, assert_problem
):
    one, two = await actors.create(), await actors.create()
    first = await record(actors, one["id"], two["id"], until="2024-12-31")
    assert first.status_code == 201, first.text
    again = assert_problem(await record(actors, two["id"], one["id"], since="2024-06-01"), 409)
    assert again["existing_id"] == first.json()["id"]
    # another type, or a period that does not overlap, is another cooperation
    assert (await record(actors, one["id"], two["id"], type="austausch")).status_code == 201
    assert (await record(actors, one["id"], two["id"], since="2025-01-01")).status_code == 201


async def test_a_correction_needs_the_current_etag_and_is_announced_with_the_whole_state(
    actors, assert_problem
):
    one, two = await actors.create(), await actors.create()
    created = await record(actors, one["id"], two["id"])
    cooperation_id, etag = created.json()["id"], created.headers["etag"]
    path = f"/api/v1/cooperations/{cooperation_id}"
    assert (await actors.client.get(path, headers=actors.editor)).headers["etag"] == etag

    assert_problem(await actors.client.patch(path, json={"type": "austausch"}, headers=actors.editor), 428)
    corrected = await actors.client.patch(
        path,
        json={"type": "austausch", "topic": "bne", "until": "2025-06-30"},
        headers={**actors.editor, "If-Match": etag},
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["type"], corrected.json()["topic"], corrected.json()["until"]) == (
        "austausch",
        "bne",
        "2025-06-30",
    )
    assert corrected.headers["etag"] != etag
    stale = await actors.client.patch(
        path, json={"topic": "kultur"}, headers={**actors.editor, "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert stale.headers["etag"] == corrected.headers["etag"]
    assert (await actors.client.get(path, headers=actors.editor)).json()["topic"] == "bne"

    def announced(envelopes: list[dict]) -> bool:
        return any(
            e["type"] == "nzr.actors.cooperation_corrected.v1" and e["subject"] == cooperation_id
            for e in envelopes
        )

    envelopes = await actors.events(expected=announced)
    data = next(
        e["data"]
        for e in envelopes
        if e["type"] == "nzr.actors.cooperation_corrected.v1" and e["subject"] == cooperation_id
    )
    assert (data["cooperation_type"], data["since"], data["until"], data["topic"]) == (
        "austausch",
        "2024-01-01",
        "2025-06-30",
        "bne",
    )


async def test_bad_corrections_are_422_naming_the_field_and_change_nothing(actors, assert_problem):
    one, two = await actors.create(), await actors.create()
    created = await record(actors, one["id"], two["id"], until="2024-12-31")
    path = f"/api/v1/cooperations/{created.json()['id']}"
    headers = {**actors.editor, "If-Match": created.headers["etag"]}
    for body, field in (
        ({"until": "2023-01-01"}, "until"),
        ({"since": "2025-01-01"}, "since"),
        ({"type": "freundschaft"}, "type"),
        ({"topic": "astrologie"}, "topic"),
        ({"type": None}, "body"),
        ({"actor_a": two["id"]}, "actor_a"),
    ):
        response = await actors.client.patch(path, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        if field != "body":
            assert_problem(response, 422, field)
    # a correction that makes it a duplicate of another cooperation of the pair is a 409
    other = await record(actors, one["id"], two["id"], type="austausch")
    clash = assert_problem(await actors.client.patch(path, json={"type": "austausch"}, headers=headers), 409)
    assert clash["existing_id"] == other.json()["id"]
    unchanged = (await actors.client.get(path, headers=actors.editor)).json()
    assert (unchanged["type"], unchanged["since"], unchanged["until"], unchanged["version"]) == (
        "projekt",
        "2024-01-01",
        "2024-12-31",
        1,
    )


async def test_a_deleted_cooperation_is_gone_from_lists_and_metrics_and_announced(actors, assert_problem):
    one, two = await actors.create(), await actors.create()
    created = await record(actors, one["id"], two["id"])
    path = f"/api/v1/cooperations/{created.json()['id']}"
    assert_problem(await actors.client.delete(path, headers={**actors.editor, "If-Match": '"7"'}), 412)
    assert (
        await actors.client.delete(path, headers={**actors.editor, "If-Match": created.headers["etag"]})
    ).status_code == 204
    assert_problem(await actors.client.get(path, headers=actors.editor), 404)
    assert_problem(await actors.client.delete(path, headers=actors.editor), 404)
    listed = await actors.client.get(
        "/api/v1/cooperations", params={"actor_id": one["id"]}, headers=actors.editor
    )
    assert listed.json()["total"] == 0

    def announced(envelopes: list[dict]) -> bool:
        return any(
            e["type"] == "nzr.actors.cooperation_deleted.v1" and e["subject"] == created.json()["id"]
            for e in envelopes
        )

    assert announced(await actors.events(expected=announced))
