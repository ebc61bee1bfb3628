"""Cooperations: recorded by hand or from the events service's agreements, ended, listed."""

import asyncio
import uuid
from datetime import UTC, datetime

import nats

from nzr_common.contracts.base import Envelope
from nzr_common.contracts.events import AgreementRecorded, AgreementStatusChanged


async def test_a_cooperation_is_recorded_ended_and_announced(actors):
    verein = await actors.create()
    firma = await actors.create(kind="unternehmen", sector="wirtschaft")
    created = await actors.client.post(
        "/api/v1/cooperations",
        headers=actors.editor,
        json={
            "actor_a": verein["id"],
            "actor_b": firma["id"],
            "type": "projekt",
            "topic": "energie_klimaschutz",
            "since": "2025-03-01",
        },
    )
    assert created.status_code == 201, created.text
    cooperation = created.json()
    assert cooperation["cross_sector"] is True and cooperation["origin"] == "manual"
    ended = await actors.client.post(
        f"/api/v1/cooperations/{cooperation['id']}/end", json={"until": "2025-12-31"}, headers=actors.editor
    )
    assert ended.json()["until"] == "2025-12-31"
    listed = (
        await actors.client.get(
            "/api/v1/cooperations", params={"actor_id": firma["id"]}, headers=actors.editor
        )
    ).json()
    assert [c["id"] for c in listed["items"]] == [cooperation["id"]]
    active = (
        await actors.client.get(
            "/api/v1/cooperations",
            headers=actors.editor,
            params={"actor_id": firma["id"], "active_on": "2026-06-01"},
        )
    ).json()
    assert active["total"] == 0

    def announced(envelopes: list[dict]) -> bool:
        return {"nzr.actors.cooperation_recorded.v1", "nzr.actors.cooperation_ended.v1"} <= {
            e["type"] for e in envelopes if e["subject"] == cooperation["id"]
        }

    envelopes = await actors.events(expected=announced)
    assert announced(envelopes)


async def test_bad_cooperations_are_422_problems_naming_the_field(actors, assert_problem):
    one, two = await actors.create(), await actors.create()
    cases = [
        ({"actor_a": one["id"], "actor_b": one["id"]}, "actor_b"),
        ({"actor_a": one["id"], "actor_b": str(uuid.uuid4())}, "actor_b"),
        ({"actor_a": one["id"], "actor_b": two["id"], "actor_a_region": "leipzig"}, "actor_a_region"),
        ({"actor_a": one["id"], "actor_b": two["id"], "topic": "astrologie"}, "topic"),
        ({"actor_a": one["id"], "actor_b": two["id"], "until": "2020-01-01"}, "until"),
        ({"actor_a": one["id"], "actor_b": two["id"], "type": "freundschaft"}, "type"),
    ]
    for change, field in cases:
        body = {"type": "austausch", "since": "2024-01-01", **change}
        assert_problem(
            await actors.client.post("/api/v1/cooperations", json=body, headers=actors.editor), 422, field
        )
    listed = await actors.client.get(
        "/api/v1/cooperations", params={"actor_id": one["id"]}, headers=actors.editor
    )
    assert listed.json()["total"] == 0


async def test_an_agreement_becomes_cooperations_of_its_parties_once_even_when_sent_again(actors):
    parties = [
        (await actors.create())["id"],
        (await actors.create(sector="wirtschaft"))["id"],
        (await actors.create())["id"],
    ]
    agreement = AgreementRecorded(
        agreement_id=str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        party_actor_ids=[*parties, str(uuid.uuid4())],
    )
    first = Envelope.wrap(agreement, region=actors.region, service="events")
    resent = Envelope.wrap(agreement, region=actors.region, service="events")  # same fact, new event id
    connection = await nats.connect(actors.nats_url)
    js = connection.jetstream()
    for envelope in (first, first, resent):
        await js.publish(envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})
    await connection.close()
    items: list[dict] = []
    for _ in range(100):
        items = (
            await actors.client.get(
                "/api/v1/cooperations", params={"actor_id": parties[0]}, headers=actors.editor
            )
        ).json()["items"]
        if len(items) == 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # give the resent event time to (not) add anything
    for party in parties:
        listed = (
            await actors.client.get("/api/v1/cooperations", params={"actor_id": party}, headers=actors.editor)
        ).json()
        assert listed["total"] == 2
        assert {c["origin_id"] for c in listed["items"]} == {agreement.agreement_id}
        assert {c["type"] for c in listed["items"]} == {"vereinbarung"}

    def three_recorded(envelopes: list[dict]) -> bool:
        return (
            sum(
                1
                for e in envelopes
                if e["type"] == "nzr.actors.cooperation_recorded.v1"
                and e["data"].get("origin_agreement_id") == agreement.agreement_id
            )
            >= 3
        )

    envelopes = await actors.events(expected=three_recorded)
    assert sum(1 for e in envelopes if e["data"].get("origin_agreement_id") == agreement.agreement_id) == 3


async def test_removing_an_actor_ends_its_cooperations(actors):
    one, two = await actors.create(), await actors.create()
    created = (
        await actors.client.post(
            "/api/v1/cooperations",
            headers=actors.editor,
            json={"actor_a": one["id"], "actor_b": two["id"], "type": "austausch", "since": "2024-01-01"},
        )
    ).json()
    assert (
        await actors.client.delete(f"/api/v1/actors/{one['id']}", headers=actors.editor)
    ).status_code == 204
    assert (
        await actors.client.get(f"/api/v1/cooperations/{created['id']}", headers=actors.editor)
    ).status_code == 404

    def ended(envelopes: list[dict]) -> bool:
        return any(
            e["type"] == "nzr.actors.cooperation_ended.v1" and e["subject"] == created["id"]
            for e in envelopes
        )

    assert ended(await actors.events(expected=ended))


async def test_a_cooperation_across_regions_needs_both_regions_named_and_a_token_for_both(
    actors, token_for, assert_problem
):
    ours = await actors.create()
    partner = str(uuid.uuid4())  # an actor of the neighbouring region's database
    body = {
        "actor_a": ours["id"],
        "actor_b": partner,
        "actor_b_region": "leipzig",
        "type": "projekt",
        "since": "2025-01-01",
    }
    state_editor = token_for("editor", "state", region=actors.region)
    other_state = token_for("editor", "state", region="leipzig")

    async def record(json: dict, headers: dict):  # type: ignore[no-untyped-def]
        return await actors.client.post("/api/v1/cooperations", json=json, headers=headers)

    # A plain editor of this region is not authorised for the other region.
    assert_problem(
        await record({**body, "actor_a_region": actors.region}, actors.editor), 403, "actor_b_region"
    )
    # Only one region named.
    assert_problem(await record(body, state_editor), 422, "actor_a_region")
    # The partner must not be an actor of this region, and ours must be one.
    local = await actors.create()
    both = {**body, "actor_a_region": actors.region}
    assert_problem(await record({**both, "actor_b": local["id"]}, state_editor), 422, "actor_b_region")
    assert_problem(await record({**both, "actor_a": str(uuid.uuid4())}, state_editor), 422, "actor_a")
    # A state token of the other region cannot write here at all.
    assert (await record(both, other_state)).status_code == 403
    listed = await actors.client.get(
        "/api/v1/cooperations", params={"actor_id": ours["id"]}, headers=actors.editor
    )
    assert listed.json()["total"] == 0

    created = await record(both, state_editor)
    assert created.status_code == 201, created.text
    cooperation = created.json()
    assert (cooperation["actor_a"], cooperation["actor_b"]) == (ours["id"], partner)
    assert cooperation["actor_b_region"] == "leipzig" and cooperation["cross_sector"] is False
    by_partner = await actors.client.get(
        "/api/v1/cooperations", params={"actor_id": partner}, headers=actors.editor
    )
    assert [c["id"] for c in by_partner.json()["items"]] == [cooperation["id"]]
    removed = await actors.client.delete(f"/api/v1/actors/{ours['id']}", headers=actors.editor)
    assert removed.status_code == 204
    gone = await actors.client.get(f"/api/v1/cooperations/{cooperation['id']}", headers=actors.editor)
    assert gone.status_code == 404


async def test_an_agreement_done_or_dropped_ends_the_cooperations_it_created_on_that_day(actors):
    verein, firma = (await actors.create())["id"], (await actors.create(sector="wirtschaft"))["id"]
    manual = await actors.client.post(
        "/api/v1/cooperations",
        headers=actors.editor,
        json={"actor_a": verein, "actor_b": firma, "type": "projekt", "since": "2024-01-01"},
    )
    assert manual.status_code == 201, manual.text
    agreement_id = str(uuid.uuid4())
    changed_at = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)  # already 1 March in Saxony
    facts = [
        AgreementRecorded(
            agreement_id=agreement_id, event_id=str(uuid.uuid4()), party_actor_ids=[verein, firma]
        ),
        AgreementStatusChanged(agreement_id=agreement_id, status="in_umsetzung", changed_at=changed_at),
        AgreementStatusChanged(agreement_id=agreement_id, status="umgesetzt", changed_at=changed_at),
        AgreementStatusChanged(agreement_id=agreement_id, status="verworfen", changed_at=changed_at),
        # a later agreement: once its cooperation is there, everything before it was handled
        AgreementRecorded(
            agreement_id="marker-" + agreement_id, event_id="e", party_actor_ids=[verein, firma]
        ),
    ]
    connection = await nats.connect(actors.nats_url)
    js = connection.jetstream()
    for fact in facts:
        envelope = Envelope.wrap(fact, region=actors.region, service="events")
        await js.publish(envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})
    await connection.close()

    def handled(envelopes: list[dict]) -> bool:
        return any(e["data"].get("origin_agreement_id") == "marker-" + agreement_id for e in envelopes)

    envelopes = await actors.events(expected=handled)
    recorded = [e["data"] for e in envelopes if e["data"].get("origin_agreement_id") == agreement_id]
    assert len(recorded) == 1
    ours = {recorded[0]["cooperation_id"], manual.json()["id"]} | {
        e["data"]["cooperation_id"]
        for e in envelopes
        if e["data"].get("origin_agreement_id") == "marker-" + agreement_id
    }
    endings = [
        (e["data"]["cooperation_id"], e["data"]["until"])
        for e in envelopes
        if e["type"] == "nzr.actors.cooperation_ended.v1" and e["data"]["cooperation_id"] in ours
    ]
    assert endings == [(recorded[0]["cooperation_id"], "2027-03-01")]  # once, though dropped after done
    listed = (
        await actors.client.get("/api/v1/cooperations", params={"actor_id": verein}, headers=actors.editor)
    ).json()["items"]
    until = {c["origin_id"] or c["origin"]: c["until"] for c in listed}
    assert until == {agreement_id: "2027-03-01", "manual": None, "marker-" + agreement_id: None}
