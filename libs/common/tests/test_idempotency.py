"""The Idempotency-Key layer on a service app built from the shared runtime around a made-up
route, on SQLite and PostgreSQL: which answers are kept, which give the key back, and the
claim's mark committed with the route's own effect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, update

from nzr_common.access import PUBLIC
from nzr_common.idempotency import HEADER, IDEMPOTENT
from nzr_common.problems import ProblemError
from nzr_common.runtime import ServiceDefinition, SessionDep, create_service_app
from nzr_common.settings import ServiceSettings
from nzr_common.tables import add_messaging_tables

metadata = MetaData()
tables = add_messaging_tables(metadata)
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
)
#: What the route does next: None (create), "forbidden", "fail_before_commit",
#: "fail_after_commit", "taken_over" (a retry takes the claim over before the route commits).
behaviour: dict[str, str | None] = {"next": None}


class ThingCreate(BaseModel):
    name: str


router = APIRouter()


@router.post("/things", status_code=201, dependencies=[PUBLIC, IDEMPOTENT])
async def create_thing(body: ThingCreate, session: SessionDep) -> dict[str, Any]:
    mode, behaviour["next"] = behaviour["next"], None
    if mode == "forbidden":
        raise ProblemError(403, "Forbidden", "not now")
    if mode == "taken_over":
        async with session.bind.connect() as connection:  # type: ignore[union-attr]
            idempotency = tables.idempotency
            assert idempotency is not None
            await connection.execute(update(idempotency).values(owner="a-retry"))
            await connection.commit()
    async with session.begin():
        created = await session.execute(insert(things).values(name=body.name).returning(things.c.id))
        thing_id = created.scalar_one()
        if mode == "fail_before_commit":
            raise RuntimeError("failed before committing")
    if mode == "fail_after_commit":
        raise RuntimeError("failed after committing")
    return {"id": thing_id, "name": body.name}


async def _service(url: str, nats_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    definition = ServiceDefinition(
        name="things",
        title="things",
        description="",
        metadata=metadata,
        tables=tables,
        routers=[router],
        bootstrap=lambda runtime: runtime,
    )
    app = create_service_app(
        definition,
        ServiceSettings(database_url=url, nats_url=nats_url, nats_connect_wait_seconds=0.5, **settings),
    )
    async with app.state.runtime.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client(databases, nats_url) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    behaviour["next"] = None
    async for client in _service(await databases.new("idempotency"), nats_url):
        yield client


async def _count(client: httpx.AsyncClient, name: str) -> int:
    async with client.app.state.runtime.sessions() as session:  # type: ignore[attr-defined]
        return (
            await session.scalar(select(func.count()).select_from(things).where(things.c.name == name)) or 0
        )


def _key() -> dict[str, str]:
    return {HEADER: str(uuid.uuid4())}


async def test_a_failure_before_the_effect_gives_the_key_back_and_the_retry_acts(client):
    name, key = uuid.uuid4().hex, _key()
    behaviour["next"] = "fail_before_commit"
    failed = await client.post("/things", json={"name": name}, headers=key)
    assert failed.status_code == 500 and await _count(client, name) == 0
    retried = await client.post("/things", json={"name": name}, headers=key)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert await _count(client, name) == 1


async def test_a_failure_after_the_effect_keeps_the_key_so_the_retry_does_not_act_again(client):
    name, key = uuid.uuid4().hex, _key()
    behaviour["next"] = "fail_after_commit"
    failed = await client.post("/things", json={"name": name}, headers=key)
    assert failed.status_code == 500
    retried = await client.post("/things", json={"name": name}, headers=key)
    assert retried.status_code == 409 and "answer was lost" in retried.json()["detail"]
    assert await _count(client, name) == 1


async def test_a_refusal_is_not_kept(client):
    name, key = uuid.uuid4().hex, _key()
    behaviour["next"] = "forbidden"
    assert (await client.post("/things", json={"name": name}, headers=key)).status_code == 403
    retried = await client.post("/things", json={"name": name}, headers=key)
    assert retried.status_code == 201 and await _count(client, name) == 1


async def test_a_request_whose_claim_was_taken_over_keeps_none_of_its_changes(client):
    name, key = uuid.uuid4().hex, _key()
    behaviour["next"] = "taken_over"
    answer = await client.post("/things", json={"name": name}, headers=key)
    assert answer.status_code == 500 and await _count(client, name) == 0


async def test_requests_without_a_key_act_every_time(client):
    name = uuid.uuid4().hex
    for _ in range(2):
        assert (await client.post("/things", json={"name": name})).status_code == 201
    assert await _count(client, name) == 2


async def test_with_the_layer_switched_off_the_header_is_ignored(databases, nats_url):  # type: ignore[no-untyped-def]
    name, key = uuid.uuid4().hex, _key()
    async for client in _service(await databases.new("idempotency"), nats_url, idempotency_enabled=False):
        for _ in range(2):
            answer = await client.post("/things", json={"name": name}, headers=key)
            assert answer.status_code == 201 and "idempotent-replayed" not in answer.headers
        assert await _count(client, name) == 2
