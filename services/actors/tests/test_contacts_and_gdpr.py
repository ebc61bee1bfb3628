"""Contact persons with recorded consent, visible to admins only; GDPR export and erasure."""

import json
import uuid


def contact(email: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    return {
        "name": "Anna Beispiel",
        "email": email,
        "role": "Vorstand",
        "consent_purpose": "Kontakt im Netzwerk",
        "consent_source": "Anmeldeformular",
        **fields,
    }


async def test_contact_persons_are_visible_only_to_the_regions_admins(actors, assert_problem):
    actor = await actors.create(public_profile=True)
    url = f"/api/v1/actors/{actor['id']}/contacts"
    added = await actors.client.post(
        url, json=contact(f"anna.{uuid.uuid4().hex[:6]}@example.org"), headers=actors.admin
    )
    assert added.status_code == 201, added.text
    assert added.json()["consent_purpose"] == "Kontakt im Netzwerk" and added.json()["consent_at"]
    assert [c["id"] for c in (await actors.client.get(url, headers=actors.admin)).json()["items"]] == [
        added.json()["id"]
    ]
    assert_problem(await actors.client.get(url, headers=actors.editor), 403)
    assert_problem(await actors.client.get(url), 401)
    assert "email" not in (await actors.client.get(f"/api/v1/actors/{actor['id']}")).text


async def test_an_invalid_email_or_missing_consent_is_a_422_problem_naming_the_field(actors, assert_problem):
    url = f"/api/v1/actors/{(await actors.create())['id']}/contacts"
    assert_problem(
        await actors.client.post(url, json=contact("not-an-address"), headers=actors.admin), 422, "email"
    )
    body = contact("ok@example.org")
    del body["consent_purpose"]
    assert_problem(await actors.client.post(url, json=body, headers=actors.admin), 422, "consent_purpose")
    assert (await actors.client.get(url, headers=actors.admin)).json() == {
        "items": [],
        "total": 0,
        "next": None,
    }


async def test_export_and_erasure_cover_every_contact_record_of_a_person(actors):
    email = f"bernd.{uuid.uuid4().hex[:6]}@example.org"
    first, second = await actors.create(), await actors.create()
    for actor in (first, second):
        response = await actors.client.post(
            f"/api/v1/actors/{actor['id']}/contacts",
            json=contact(email, name="Bernd Muster"),
            headers=actors.admin,
        )
        assert response.status_code == 201
    export = (
        await actors.client.post("/api/v1/persons/export", json={"email": email}, headers=actors.admin)
    ).json()
    assert {c["actor_id"] for c in export["contacts"]} == {first["id"], second["id"]}
    assert {c["actor_name"] for c in export["contacts"]} == {first["name"], second["name"]}
    erased = (
        await actors.client.post("/api/v1/persons/erase", json={"email": email}, headers=actors.admin)
    ).json()
    assert erased["erased_contacts"] == 2 and erased["person_id"] == export["person_id"]
    again = (
        await actors.client.post("/api/v1/persons/export", json={"email": email}, headers=actors.admin)
    ).json()
    assert again["contacts"] == []

    def erased_everywhere(envelopes: list[dict]) -> bool:
        announced = any(e["type"] == "nzr.actors.person_erased.v2" for e in envelopes)
        return announced and not any(email in json.dumps(e) for e in envelopes)

    envelopes = await actors.events(expected=erased_everywhere)
    erasure = next(e for e in envelopes if e["type"] == "nzr.actors.person_erased.v2")
    assert erasure["subject"] == export["person_id"] == erasure["data"]["person_id"]
    assert erasure["nats_subject"] == f"nzr.{actors.region}.priv.actors.person_erased.v2"
    # The erasure names the person by the pseudonymous id only, and the ContactAdded events
    # that carried the address and the name are gone from the stream.
    assert not [e for e in envelopes if email in json.dumps(e) or "Bernd Muster" in json.dumps(e)]
    assert not [e for e in envelopes if e["subject"] == export["person_id"] and e is not erasure]


async def test_gdpr_endpoints_need_an_admin_of_the_region(actors, token_for, assert_problem):
    body = {"email": "someone@example.org"}
    assert_problem(await actors.client.post("/api/v1/persons/export", json=body, headers=actors.editor), 403)
    other = token_for("admin", region=f"r{uuid.uuid4().hex[:8]}")
    assert_problem(await actors.client.post("/api/v1/persons/erase", json=body, headers=other), 403)
