"""Safe retries of creates with ``Idempotency-Key`` (IETF httpapi draft), tried from outside on
the running actors service, and cooperations recorded twice without a key."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from nzr_actors.actors.models import ActorRow
from nzr_actors.cooperations.models import CooperationRow
from nzr_common.auth import issue_token
from nzr_common.idempotency import HEADER, IdempotencyConfig, prune_expired
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import DRESDEN


def _actor(name: str | None = None) -> dict:
    return {
        "name": name or f"Verein {uuid.uuid4().hex[:8]}",
        "kind": "verein",
        "sector": "zivilgesellschaft",
        "district": DRESDEN,
        "municipality": f"Ort {uuid.uuid4().hex[:6]}",
        "topics": ["energie_klimaschutz"],
    }


def _editor(actors, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = issue_token(DEVELOPMENT_SECRET, region=actors.region, roles=["editor"], subject=subject)
    return {"Authorization": f"Bearer {token}"}


async def _count(actors, statement) -> int:  # type: ignore[no-untyped-def]
    async with actors.running.runtime.sessions() as session:
        return await session.scalar(statement) or 0


async def _actors_named(actors, name: str) -> int:  # type: ignore[no-untyped-def]
    return await _count(actors, select(func.count()).select_from(ActorRow).where(ActorRow.name == name))


async def _events_about(actors, aggregate_id: str) -> int:  # type: ignore[no-untyped-def]
    outbox = actors.running.runtime.tables.outbox
    return await _count(
        actors, select(func.count()).select_from(outbox).where(outbox.c.aggregate_id == aggregate_id)
    )


async def test_a_retried_create_with_the_same_key_answers_the_first_answer_without_a_second_effect(actors):
    body = _actor()
    headers = {**actors.editor, HEADER: str(uuid.uuid4())}
    first = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
    again = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await _actors_named(actors, body["name"]) == 1
    assert await _events_about(actors, first.json()["id"]) == 1


async def test_the_same_key_with_a_different_body_is_a_422_naming_the_header(actors, assert_problem):
    headers = {**actors.editor, HEADER: str(uuid.uuid4())}
    first = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=_actor(), headers=headers)
    assert first.status_code == 201, first.text
    other = _actor()
    reused = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=other, headers=headers)
    assert_problem(reused, 422, HEADER)
    assert await _actors_named(actors, other["name"]) == 0


async def test_two_callers_with_the_same_key_never_see_each_others_answer(actors):
    key = str(uuid.uuid4())
    body = _actor()
    mine = await actors.client.post(
        "/api/v1/actors?confirm_duplicates=true", json=body, headers={**_editor(actors, "anna"), HEADER: key}
    )
    theirs = await actors.client.post(
        "/api/v1/actors?confirm_duplicates=true", json=body, headers={**_editor(actors, "ben"), HEADER: key}
    )
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert await _actors_named(actors, body["name"]) == 2


async def test_concurrent_requests_with_the_same_key_have_one_effect(actors):
    body = _actor()
    headers = {**actors.editor, HEADER: str(uuid.uuid4())}
    answers = await asyncio.gather(
        *(
            actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
            for _ in range(8)
        )
    )
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    created = [a for a in answers if a.status_code == 201]
    assert created and len({a.json()["id"] for a in created}) == 1
    for busy in (a for a in answers if a.status_code == 409):
        assert busy.headers["content-type"] == "application/problem+json" and "retry-after" in busy.headers
    assert await _actors_named(actors, body["name"]) == 1
    assert await _events_about(actors, created[0].json()["id"]) == 1


async def test_malformed_keys_are_refused_naming_the_header(actors, assert_problem):
    for key in ["", "x" * 256, "schlüssel", "zwei wörter", '"unbalanced']:
        answer = await actors.client.post(
            "/api/v1/actors?confirm_duplicates=true",
            json=_actor(),
            headers={**actors.editor, HEADER: key.encode()},
        )
        assert_problem(answer, 422, HEADER)
    quoted = await actors.client.post(
        "/api/v1/actors?confirm_duplicates=true",
        json=_actor(),
        headers={**actors.editor, HEADER: f'"{uuid.uuid4()}"'},
    )
    assert quoted.status_code == 201, quoted.text


async def test_an_expired_key_acts_again_and_expired_keys_are_pruned(actors):
    runtime = actors.running.runtime
    table = runtime.tables.idempotency
    key = str(uuid.uuid4())
    headers = {**actors.editor, HEADER: key}
    first = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=_actor(), headers=headers)
    assert first.status_code == 201, first.text
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(table)
            .where(table.c.key == key)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    other = _actor()
    second = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=other, headers=headers)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"], second.text
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(table)
            .where(table.c.key == key)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    config = IdempotencyConfig(table, runtime.engine, ttl=timedelta(days=1), lock=timedelta(minutes=1))
    pruning = asyncio.create_task(prune_expired(config, every_seconds=3600))
    try:
        for _ in range(100):
            if not await _count(actors, select(func.count()).select_from(table).where(table.c.key == key)):
                break
            await asyncio.sleep(0.05)
        assert await _count(actors, select(func.count()).select_from(table).where(table.c.key == key)) == 0
    finally:
        pruning.cancel()


async def test_the_effect_and_its_claim_commit_together(actors):
    """The route's own commit marks the claim "effect committed": a claim without that mark
    whose request died is taken over by a retry, one with it is never run again."""
    runtime = actors.running.runtime
    table = runtime.tables.idempotency
    key = str(uuid.uuid4())
    headers = {**actors.editor, HEADER: key}
    body = _actor()
    first = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
    assert first.status_code == 201
    assert await _count(actors, select(table.c.effect_committed).where(table.c.key == key)) == 1

    # The request died after its effect, before its answer was stored: a retry must not act.
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(table).where(table.c.key == key).values(status=None, body=None, claimed_at=long_ago)
        )
    lost = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
    assert lost.status_code == 409 and await _actors_named(actors, body["name"]) == 1

    # The request died before changing anything: after the lock time a retry takes over.
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(table).where(table.c.key == key).values(effect_committed=False))
    retried = await actors.client.post("/api/v1/actors?confirm_duplicates=true", json=body, headers=headers)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers


async def test_the_header_is_documented_on_every_creating_operation(actors):
    document = (await actors.client.get("/openapi.json")).json()
    for path, method in [
        ("/api/v1/actors", "post"),
        ("/api/v1/actors/import", "post"),
        ("/api/v1/actors/{actor_id}/contacts", "post"),
        ("/api/v1/cooperations", "post"),
    ]:
        names = [p["name"] for p in document["paths"][path][method].get("parameters", [])]
        assert HEADER in names, (path, names)


async def test_recording_the_same_cooperation_twice_without_a_key_is_a_409_naming_the_first(
    actors, assert_problem
):
    one, two = await actors.create(), await actors.create()
    cooperation = {"actor_a": one["id"], "actor_b": two["id"], "type": "projekt", "since": "2025-03-01"}
    first = await actors.client.post("/api/v1/cooperations", json=cooperation, headers=actors.editor)
    assert first.status_code == 201, first.text
    swapped = {**cooperation, "actor_a": two["id"], "actor_b": one["id"], "since": "2025-06-01"}
    again = await actors.client.post("/api/v1/cooperations", json=swapped, headers=actors.editor)
    problem = assert_problem(again, 409)
    assert problem["existing_id"] == first.json()["id"] and first.json()["id"] in problem["detail"]
    count = (
        select(func.count())
        .select_from(CooperationRow)
        .where(CooperationRow.actor_a.in_([one["id"], two["id"]]))
    )
    assert await _count(actors, count) == 1

    # Another type, or a period after the first one ended, is another cooperation.
    other_type = await actors.client.post(
        "/api/v1/cooperations", json={**cooperation, "type": "austausch"}, headers=actors.editor
    )
    assert other_type.status_code == 201, other_type.text
    await actors.client.post(
        f"/api/v1/cooperations/{first.json()['id']}/end", json={"until": "2025-12-31"}, headers=actors.editor
    )
    later = await actors.client.post(
        "/api/v1/cooperations", json={**cooperation, "since": "2026-01-01"}, headers=actors.editor
    )
    assert later.status_code == 201, later.text


async def test_the_same_cooperation_sent_twice_at_once_without_a_key_is_recorded_once(actors):
    one, two = await actors.create(), await actors.create()
    cooperation = {"actor_a": one["id"], "actor_b": two["id"], "type": "austausch", "since": "2025-03-01"}
    answers = await asyncio.gather(
        *(
            actors.client.post("/api/v1/cooperations", json=cooperation, headers=actors.editor)
            for _ in range(3)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409], [a.text for a in answers]
    count = (
        select(func.count())
        .select_from(CooperationRow)
        .where(CooperationRow.actor_a.in_([one["id"], two["id"]]))
    )
    assert await _count(actors, count) == 1
