"""Network metrics follow every change of the network, although unchanged networks are not analysed twice."""

LEIPZIG = "14713000"


async def metrics(actors) -> dict:  # type: ignore[no-untyped-def]
    response = await actors.client.get(
        "/api/v1/network/metrics", params={"district": LEIPZIG}, headers=actors.editor
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_metrics_reflect_new_and_ended_cooperations_and_new_actors(actors, token_for):
    one = await actors.create(district=LEIPZIG, sector="wirtschaft", kind="unternehmen")
    two = await actors.create(district=LEIPZIG)
    before = await metrics(actors)
    assert (before["actors"], before["cooperations"], before["isolated_count"]) == (2, 0, 2)
    assert await metrics(actors) == before

    recorded = await actors.client.post(
        "/api/v1/cooperations",
        headers=actors.editor,
        json={"actor_a": one["id"], "actor_b": two["id"], "type": "projekt", "since": "2024-01-01"},
    )
    linked = await metrics(actors)
    assert (linked["cooperations"], linked["isolated_count"], linked["cross_sector_share"]) == (1, 0, 1.0)

    # A partner of another region is no node of this region's network.
    across = await actors.client.post(
        "/api/v1/cooperations",
        headers=token_for("editor", "state", region=actors.region),
        json={
            "actor_a": one["id"],
            "actor_b": "00000000-0000-0000-0000-000000000001",
            "actor_a_region": actors.region,
            "actor_b_region": "dresden",
            "type": "austausch",
            "since": "2024-01-01",
        },
    )
    assert across.status_code == 201, across.text
    await actors.client.post(
        f"/api/v1/cooperations/{recorded.json()['id']}/end",
        json={"until": "2024-06-30"},
        headers=actors.editor,
    )
    await actors.create(district=LEIPZIG)
    after = await metrics(actors)
    assert (after["actors"], after["cooperations"], after["isolated_count"]) == (3, 0, 3)
