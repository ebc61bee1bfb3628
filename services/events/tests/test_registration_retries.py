"""Anonymous registrations retried with an ``Idempotency-Key``: one registration, one answer,
and the key is bound to the client address of an anonymous caller."""

import asyncio
import uuid

import httpx
from events_testkit import registration_body
from sqlalchemy import func, select

from nzr_common.idempotency import HEADER
from nzr_events.registrations.models import RegistrationRow


async def _registrations(events, event_id: str) -> int:  # type: ignore[no-untyped-def]
    async with events.running.runtime.sessions() as session:
        count = select(func.count()).select_from(RegistrationRow).where(RegistrationRow.event_id == event_id)
        return await session.scalar(count) or 0


async def test_a_retried_registration_answers_the_first_receipt_and_registers_once(events):
    event = await events.published_event()
    body = registration_body()
    headers = {HEADER: str(uuid.uuid4())}
    path = f"/api/v1/events/{event['id']}/registrations"
    answers = await asyncio.gather(*(events.client.post(path, json=body, headers=headers) for _ in range(4)))
    assert {a.status_code for a in answers} <= {202, 409}, [a.text for a in answers]
    first = next(a for a in answers if a.status_code == 202)
    again = await events.client.post(path, json=body, headers=headers)
    assert again.status_code == 202 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _registrations(events, event["id"]) == 1
    assert len(await events.announced("registration_confirmed")) == 1


async def test_anonymous_callers_at_other_addresses_do_not_share_keys(events):
    event = await events.published_event()
    key = str(uuid.uuid4())
    path = f"/api/v1/events/{event['id']}/registrations"
    mine = await events.client.post(path, json=registration_body(), headers={HEADER: key})
    assert mine.status_code == 202, mine.text
    transport = httpx.ASGITransport(app=events.running.app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        theirs = await elsewhere.post(path, json=registration_body(), headers={HEADER: key})
    assert theirs.status_code == 202, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert await _registrations(events, event["id"]) == 2
