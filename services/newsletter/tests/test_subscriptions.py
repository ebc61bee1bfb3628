"""Lists, double opt-in with stored proof, one-click unsubscribe, self-service and erasure."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from nzr_common.contracts.actors import PersonErased, PersonErasedV2, person_id_for
from nzr_common.contracts.events import RegistrationConfirmed, RegistrationForMail, RegistrationReceived
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.tables import ErasedPersonRow, messaging
from nzr_newsletter.tokens import Purpose, Tokens
from nzr_newsletter.transactional.models import MailRow

API = "/api/v1/newsletter"


async def make_list(newsletter, token_for, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "Netzwerk-Newsletter", **fields}
    response = await newsletter.client.post(
        f"{API}/lists", json=body, headers=token_for("editor", region=newsletter.settings.region)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def subscribe(newsletter, address: str, list_id: str, **fields):  # type: ignore[no-untyped-def]
    body = {"email": address, "list_ids": [list_id], "consent_text_version": "2026-01", **fields}
    return await newsletter.client.post(f"{API}/subscriptions", json=body)


async def outbox_events(newsletter, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def]
    runtime = newsletter.app.state.runtime
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(messaging.outbox.c.payload).where(messaging.outbox.c.event_type == event_type)
        )
        return [json.loads(p) for p in rows]


async def count(newsletter, table, *where) -> int:  # type: ignore[no-untyped-def]
    async with newsletter.app.state.runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table).where(*where)) or 0


async def test_only_the_click_on_the_confirmation_link_subscribes_and_the_proof_is_stored(
    newsletter, sink, token_for
):
    list_id = await make_list(newsletter, token_for)
    accepted = await subscribe(newsletter, "Anna.Beispiel@Example.org", list_id, name="Anna")
    assert accepted.status_code == 202
    await sink.wait_for(lambda: sink.to("anna.beispiel@example.org"))
    admin = token_for("admin", region=newsletter.settings.region)
    page = (
        await newsletter.client.get(f"{API}/subscribers", params={"list_id": list_id}, headers=admin)
    ).json()
    assert page["items"][0]["subscriptions"][0]["status"] == "pending"

    token = sink.to("anna.beispiel@example.org")[0].token("/confirm")
    shown = await newsletter.client.get(f"{API}/confirm", params={"token": token})
    assert shown.status_code == 200 and "<form" in shown.text
    confirmed = await newsletter.client.post(f"{API}/confirm", params={"token": token})
    assert confirmed.json()["status"] == "confirmed"

    proof = (
        await newsletter.client.get(f"{API}/subscribers", params={"list_id": list_id}, headers=admin)
    ).json()["items"][0]["subscriptions"][0]
    assert proof["status"] == "confirmed" and proof["source"] == "form"
    assert proof["consent_text_version"] == "2026-01"
    assert proof["requested_at"] <= proof["confirmed_at"]
    events = await outbox_events(newsletter, "nzr.newsletter.subscription_confirmed.v1")
    assert [e["data"]["confirmed_subscribers"] for e in events] == [1]
    assert "example.org" not in json.dumps(events)


async def test_the_answer_never_reveals_whether_an_address_is_subscribed_and_the_owner_gets_a_mail(
    newsletter, sink, token_for
):
    list_id = await make_list(newsletter, token_for)
    answers = [await subscribe(newsletter, "bert@example.org", list_id) for _ in range(3)]
    await sink.wait_for(lambda: sink.to("bert@example.org"))
    token = sink.to("bert@example.org")[0].token("/confirm")
    await newsletter.client.post(f"{API}/confirm", params={"token": token})
    for _ in range(2):
        answers.append(await subscribe(newsletter, "bert@example.org", list_id))
    answers.append(await subscribe(newsletter, "nobody-yet@example.org", list_id))
    assert {(a.status_code, a.text, tuple(a.headers.keys())) for a in answers} == {
        (202, answers[0].text, tuple(answers[0].headers.keys()))
    }
    await sink.wait_for(lambda: sink.to("nobody-yet@example.org") and len(sink.to("bert@example.org")) == 2)
    await asyncio.sleep(0.3)
    # pending twice more: no second confirmation; subscribed twice more: one mail with the links
    _confirmation, already = sink.to("bert@example.org")
    assert str(already.message["Subject"]) == "Sie sind bereits angemeldet"
    assert "Sie sind bereits angemeldet — hier ist Ihr Link zum Ändern oder Abmelden." in already.text()
    preferences = await newsletter.client.get(
        f"{API}/preferences", params={"token": already.token("/preferences")}
    )
    assert preferences.status_code == 200 and preferences.json()["email"] == "bert@example.org"
    assert already.message["List-Unsubscribe"] is None  # transactional: no list headers, no tracking


async def test_send_me_my_links_again_answers_the_same_for_any_address_and_mails_only_the_owner(
    newsletter, sink, token_for
):
    list_id = await make_list(newsletter, token_for)
    await subscribe(newsletter, "clara@example.org", list_id)
    await sink.wait_for(lambda: sink.to("clara@example.org"))
    known = await newsletter.client.post(
        f"{API}/links", json={"email": "Clara@Example.org"}, headers={"Accept-Language": "en"}
    )
    unknown = await newsletter.client.post(f"{API}/links", json={"email": "stranger@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.text == unknown.text and known.headers.keys() == unknown.headers.keys()
    await sink.wait_for(lambda: len(sink.to("clara@example.org")) == 2)
    links = sink.to("clara@example.org")[1]
    assert (
        str(links.message["Subject"]) == "Your newsletter links" and links.message["Content-Language"] == "en"
    )
    # still pending: the mail also carries a fresh confirmation link, and it works
    confirmed = await newsletter.client.post(f"{API}/confirm", params={"token": links.token("/confirm")})
    assert confirmed.status_code == 200
    await asyncio.sleep(0.3)
    assert sink.to("stranger@example.org") == []
    refused = await newsletter.client.post(f"{API}/links", json={"email": "kein-mail"})
    assert refused.status_code == 422 and refused.json()["invalid_params"][0]["name"] == "email"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "mallory@example.org\r\nBcc: victim@example.org"}, "email"),
        ({"name": "Mallory\r\nBcc: victim@example.org"}, "name"),
        ({"district": "99999999"}, "district"),
        ({"list_ids": ["no-such-list"]}, "list_ids"),
        ({"consent_text_version": ""}, "consent_text_version"),
    ],
    ids=[
        "no-at",
        "no-domain-dot",
        "header-injection-address",
        "header-injection-name",
        "foreign-district",
        "unknown-list",
        "no-consent-version",
    ],
)
async def test_bad_sign_up_input_is_a_422_problem_naming_the_field(newsletter, token_for, body, field):
    list_id = await make_list(newsletter, token_for)
    request = {"email": "ok@example.org", "list_ids": [list_id], "consent_text_version": "v1", **body}
    response = await newsletter.client.post(f"{API}/subscriptions", json=request)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [p["name"] for p in response.json()["invalid_params"]]


async def test_internal_lists_take_no_sign_ups_from_anonymous_callers(newsletter, token_for):
    list_id = await make_list(newsletter, token_for, visibility="internal")
    assert (await subscribe(newsletter, "c@example.org", list_id)).status_code == 422
    assert list_id not in [x["id"] for x in (await newsletter.client.get(f"{API}/lists")).json()["items"]]


async def test_forged_and_wrong_purpose_tokens_are_refused(newsletter, sink, token_for):
    list_id = await make_list(newsletter, token_for)
    await subscribe(newsletter, "dora@example.org", list_id)
    await sink.wait_for(lambda: sink.to("dora@example.org"))
    token = sink.to("dora@example.org")[0].token("/confirm")
    tokens = newsletter.deps.tokens
    payload = tokens.read(Purpose.CONFIRM, token)
    other_secret = Tokens("another-secret-another-secret-xx", max_age_days=tokens.max_age_days)
    cases = {
        "forged": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "other-secret": other_secret.issue(Purpose.CONFIRM, payload),
        "wrong-purpose": tokens.issue(Purpose.UNSUBSCRIBE, payload),
        "garbage": "x" * 40,
    }
    for name, bad in cases.items():
        response = await newsletter.client.post(f"{API}/confirm", params={"token": bad})
        assert response.status_code == 400, name
        assert response.headers["content-type"] == "application/problem+json"
    assert (await newsletter.client.post(f"{API}/confirm", params={"token": token})).status_code == 200


async def test_an_expired_confirmation_link_is_refused_with_a_clear_error(start_newsletter, sink, token_for):
    newsletter = await start_newsletter(confirm_token_days=0)
    list_id = await make_list(newsletter, token_for)
    await subscribe(newsletter, "late@example.org", list_id)
    await sink.wait_for(lambda: sink.to("late@example.org"))
    await asyncio.sleep(1.1)
    response = await newsletter.client.post(
        f"{API}/confirm", params={"token": sink.to("late@example.org")[0].token("/confirm")}
    )
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


async def test_preferences_link_shows_changes_exports_and_deletes_ones_data(newsletter, sink, token_for):
    first = await make_list(newsletter, token_for, name="Energie")
    second = await make_list(newsletter, token_for, name="Mobilität")
    await subscribe(newsletter, "emil@example.org", first, name="Emil")
    await sink.wait_for(lambda: sink.to("emil@example.org"))
    await newsletter.client.post(
        f"{API}/confirm", params={"token": sink.to("emil@example.org")[0].token("/confirm")}
    )
    async with newsletter.app.state.runtime.sessions() as session:
        subscriber_id = await session.scalar(select(SubscriberRow.id))
    token = newsletter.deps.preferences_url(subscriber_id).rpartition("token=")[2]
    changed = await newsletter.client.put(
        f"{API}/preferences", params={"token": token}, json={"list_ids": [second], "topics": ["mobilitaet"]}
    )
    assert changed.status_code == 200, changed.text
    states = {s["list_name"]: s["status"] for s in changed.json()["subscriptions"]}
    assert states == {"Energie": "unsubscribed", "Mobilität": "confirmed"}
    export = (await newsletter.client.get(f"{API}/me/export", params={"token": token})).json()
    assert export["email"] == "emil@example.org" and len(export["subscriptions"]) == 2
    assert (await newsletter.client.delete(f"{API}/me", params={"token": token})).status_code == 204
    assert await count(newsletter, SubscriberRow.__table__) == 0
    assert (await newsletter.client.get(f"{API}/preferences", params={"token": token})).status_code == 400


async def test_admin_import_invites_every_good_row_and_reports_the_bad_ones(newsletter, sink, token_for):
    list_id = await make_list(newsletter, token_for, visibility="internal")
    body = {
        "list_ids": [list_id],
        "consent_text_version": "import-2026",
        "rows": [{"email": "f1@example.org"}, {"email": "broken"}, {"email": "f2@example.org"}],
    }
    report = await newsletter.client.post(
        f"{API}/subscribers/import", json=body, headers=token_for("admin", region=newsletter.settings.region)
    )
    assert report.status_code == 200, report.text
    assert report.json()["invited"] == 2
    assert [e["row"] for e in report.json()["errors"]] == [2]
    await sink.wait_for(lambda: sink.to("f1@example.org") and sink.to("f2@example.org"))


async def test_registration_with_mailing_list_consent_starts_the_double_opt_in(newsletter, sink, publish):
    region = newsletter.settings.region
    now = datetime.now(UTC)
    for number, consent in ((1, True), (2, False)):
        await publish(
            RegistrationConfirmed(
                registration_id=f"r{number}",
                event_id="e1",
                name=f"Gast {number}",
                email=f"gast{number}@example.org",
                newsletter_consent=consent,
                consent_text_version="anmeldung-v3",
                confirmed_at=now,
            ),
            region=region,
        )
    await sink.wait_for(lambda: sink.to("gast1@example.org"))
    assert "Gast 1" in sink.to("gast1@example.org")[0].text()
    await asyncio.sleep(0.5)
    assert not sink.to("gast2@example.org")
    lists = (await newsletter.client.get(f"{API}/lists")).json()["items"]
    assert [entry["registration_default"] for entry in lists] == [True]


async def test_a_consent_meant_at_once_counts_while_the_registration_waits(newsletter, sink, publish):
    """``newsletter_consent_timing="immediately"``: events hands the consent over with the
    received (waiting) registration; the registrant gets the waiting-list mail and the double
    opt-in, and the subscriber carries the event's district and topics."""
    region = newsletter.settings.region
    district = sorted(newsletter.settings.region_districts or ["14522000"])[0]
    now = datetime.now(UTC)
    await publish(
        RegistrationReceived(
            email="sofort@example.org",
            name="Sofort Gast",
            registration=RegistrationForMail(
                registration_id="w1",
                event_id="e1",
                title="Regionalkonferenz Klimaschutz",
                starts_at=now + timedelta(days=20),
                ends_at=now + timedelta(days=20, hours=6),
                status="waiting",
                waiting_position=2,
                manage_url="http://127.0.0.1:8102/registrations/manage?token=x",
            ),
            received_at=now,
            newsletter_consent=True,
            consent_text_version="anmeldung-v3",
            district=district,
            topics=["klimaschutz"],
        ),
        region=region,
    )
    await sink.wait_for(lambda: len(sink.to("sofort@example.org")) >= 2)
    async with newsletter.app.state.runtime.sessions() as session:
        subscriber = await session.scalar(
            select(SubscriberRow).where(SubscriberRow.email == "sofort@example.org")
        )
    assert subscriber is not None
    assert subscriber.topics == ["klimaschutz"]


async def test_person_erased_deletes_the_subscriber_everywhere(newsletter, sink, publish, token_for):
    list_id = await make_list(newsletter, token_for)
    await subscribe(newsletter, "gone@example.org", list_id)
    await sink.wait_for(lambda: sink.to("gone@example.org"))
    await newsletter.client.post(
        f"{API}/confirm", params={"token": sink.to("gone@example.org")[0].token("/confirm")}
    )
    await publish(
        PersonErased(person_id="p1", email="Gone@Example.org", erased_at=datetime.now(UTC)),
        region=newsletter.settings.region,
        service="actors",
    )
    for _ in range(200):
        if await count(newsletter, SubscriberRow.__table__) == 0:
            break
        await asyncio.sleep(0.05)
    assert await count(newsletter, SubscriberRow.__table__) == 0
    assert await count(newsletter, MailRow.__table__, MailRow.recipient == "gone@example.org") == 0
    unsubscribed = await outbox_events(newsletter, "nzr.newsletter.unsubscribed.v1")
    assert [e["data"]["confirmed_subscribers"] for e in unsubscribed] == [0]


async def test_a_registration_consumed_after_the_erasure_does_not_bring_the_person_back(
    newsletter, sink, publish, token_for
):
    """The erasure (from actors) and the registration (from events) come on different subjects:
    a lagging consumer may hand over a registration confirmed before the erasure only after it.
    It must not re-create the subscriber; a registration confirmed after the erasure does."""
    region = newsletter.settings.region
    await make_list(newsletter, token_for, registration_default=True)
    erased_at = datetime.now(UTC)
    await publish(
        PersonErasedV2(person_id=person_id_for("Spaet@Example.org"), erased_at=erased_at),
        region=region,
        service="actors",
    )

    def registration(number: int, confirmed_at: datetime) -> RegistrationConfirmed:
        return RegistrationConfirmed(
            registration_id=f"late-{number}",
            event_id="e1",
            name="Spät",
            email="spaet@example.org",
            newsletter_consent=True,
            consent_text_version="anmeldung-v3",
            confirmed_at=confirmed_at,
        )

    for _ in range(200):  # the erasure is remembered
        if await count(newsletter, ErasedPersonRow.__table__) == 1:
            break
        await asyncio.sleep(0.05)
    await publish(registration(1, erased_at - timedelta(minutes=5)), region=region)
    inbox = messaging.inbox
    for _ in range(200):  # handled (by skipping it)
        if await count(newsletter, inbox, inbox.c.event_type.like("%registration_confirmed%")) == 1:
            break
        await asyncio.sleep(0.05)
    assert await count(newsletter, inbox, inbox.c.event_type.like("%registration_confirmed%")) == 1
    assert await count(newsletter, SubscriberRow.__table__) == 0
    assert not sink.to("spaet@example.org")

    await publish(registration(2, erased_at + timedelta(minutes=5)), region=region)
    await sink.wait_for(lambda: sink.to("spaet@example.org"))  # a new consent: double opt-in
    assert await count(newsletter, SubscriberRow.__table__) == 1


async def test_simultaneous_sign_ups_of_one_address_both_succeed_and_make_one_subscriber(
    newsletter, sink, token_for
):
    """A form submitted twice at once (or a registrant subscribed by the events consumer while
    the form is sent) used to end in a unique-key violation and a 500 on PostgreSQL."""
    list_id = await make_list(newsletter, token_for)
    address = "gleichzeitig@example.org"
    answers = await asyncio.gather(
        *(subscribe(newsletter, address, list_id, name="Gleich") for _ in range(6))
    )
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert await count(newsletter, SubscriberRow, SubscriberRow.email == address) == 1
