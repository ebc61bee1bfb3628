"""GDPR erasure arriving from actors: registrations are anonymised, counts stay."""

import asyncio
import json
from datetime import UTC, datetime

import nats

from nzr_common.contracts.actors import PersonErased
from nzr_common.contracts.base import Envelope


async def _publish(nats_url: str, envelope: Envelope) -> None:  # type: ignore[type-arg]
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().publish(
            envelope.nats_subject(), envelope.to_json(), headers={"Nats-Msg-Id": envelope.id}
        )
    finally:
        await connection.close()


async def test_person_erased_anonymises_their_registrations_but_keeps_the_counts(events, nats_url):
    event = await events.published_event(capacity=1)
    await events.register(event["id"], email="Greta@Example.org", name="Greta Beispiel")
    other_email = "paul@example.org"
    other = await events.registered(event["id"], name="Paul Muster", email=other_email)
    erased = Envelope.wrap(
        PersonErased(person_id="person-1", email="greta@example.org", erased_at=datetime.now(UTC)),
        region=events.region,
        service="actors",
    )
    await _publish(nats_url, erased)
    await _publish(nats_url, erased)  # a redelivery has no second effect

    for _ in range(200):
        registrations = (
            await events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=events.admin)
        ).json()["items"]
        if registrations[0]["name"] != "Greta Beispiel":
            break
        await asyncio.sleep(0.05)
    first, second = registrations
    assert first["name"] == "[gelöscht]" and "greta" not in first["email"].lower()
    assert first["status"] == "confirmed"
    assert second["id"] == other["id"] and second["name"] == "Paul Muster"
    shown = (await events.client.get(f"/api/v1/events/{event['id']}")).json()
    assert (shown["confirmed_count"], shown["waiting_count"]) == (1, 1)
    exported = (
        await events.client.get(f"/api/v1/events/{event['id']}/attendance.csv", headers=events.admin)
    ).text
    assert "Greta" not in exported and "greta@" not in exported.lower()
    mails_about_her = [e for e in await events.announced() if "greta" in json.dumps(e).lower()]
    assert mails_about_her == []  # the RegistrationReceived for her mail went with the erasure
    assert [t["id"] for t in await events.mailed(other_email)] == [other["id"]]
