"""Transactional mails for the registration journey: events announces, newsletter mails the
owner of the address (never tracked, never to a hard-bounced or erased address)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.events import RegistrationForMail, RegistrationLinksRequested, RegistrationReceived
from nzr_newsletter.tables import ErasedPersonRow
from nzr_newsletter.transactional.models import MailRow

STARTS = datetime(2027, 3, 18, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def registration(title: str = "Regionalkonferenz Zukunft", **fields) -> RegistrationForMail:  # type: ignore[no-untyped-def]
    registration_id = str(uuid.uuid4())
    values = {
        "registration_id": registration_id,
        "event_id": str(uuid.uuid4()),
        "title": title,
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=7),
        "venue_name": "Stadthalle",
        "venue_address": "Theaterplatz 1, 09111 Chemnitz",
        "status": "confirmed",
        "manage_url": f"https://events.example/api/v1/registrations/cancel?token=tok-{registration_id}",
    }
    return RegistrationForMail(**{**values, **fields})


def received(email: str, **fields) -> RegistrationReceived:  # type: ignore[no-untyped-def]
    values = {
        "email": email,
        "name": "Ida Beispiel",
        "registration": registration(),
        "received_at": datetime.now(UTC),
    }
    return RegistrationReceived(**{**values, **fields})


async def test_the_owner_of_a_registered_address_gets_the_existing_link_in_german(newsletter, sink, publish):
    existing = registration()
    await publish(
        received("ida@example.org", already_registered=True, registration=existing),
        region=newsletter.settings.region,
    )
    await sink.wait_for(lambda: sink.to("ida@example.org"))
    [mail] = sink.to("ida@example.org")
    message = mail.message
    assert str(message["Subject"]) == "Sie sind bereits angemeldet: Regionalkonferenz Zukunft"
    assert message["From"] == newsletter.settings.sender and message["Content-Language"] == "de"
    text = mail.text()
    assert "Sie sind bereits angemeldet — hier ist Ihr Link zum Ändern oder Abmelden." in text
    assert "18. März 2027, 10:00–17:00 Uhr" in text and "Stadthalle, Theaterplatz 1" in text
    assert existing.manage_url in mail.links()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{existing.manage_url}"' in html and "<img" not in html
    assert message["List-Unsubscribe"] is None and message["Precedence"] is None


async def test_a_new_registration_is_confirmed_by_mail_in_english_when_asked_with_the_waiting_position(
    newsletter, sink, publish
):
    waiting = registration(status="waiting", waiting_position=3)
    await publish(
        received("ben@example.org", language="en", registration=waiting), region=newsletter.settings.region
    )
    await sink.wait_for(lambda: sink.to("ben@example.org"))
    mail = sink.to("ben@example.org")[0]
    assert (
        str(mail.message["Subject"]) == "You are on the waiting list (position 3): Regionalkonferenz Zukunft"
    )
    assert (
        "waiting list (position 3)" in mail.text()
        and "18 March 2027, 10:00–17:00 (Berlin time)" in mail.text()
    )
    token = parse_qs(urlparse(next(link for link in mail.links() if "cancel" in link)).query)["token"][0]
    assert token == waiting.manage_url.rpartition("token=")[2]


async def test_links_requested_again_come_in_one_mail(newsletter, sink, publish):
    items = [
        registration(),
        registration(title="Initiativkreis Energie", status="waiting", waiting_position=1),
    ]
    event = RegistrationLinksRequested(
        email="cleo@example.org", name="Cleo", registrations=items, requested_at=datetime.now(UTC)
    )
    await publish(event, region=newsletter.settings.region)
    await publish(event, region=newsletter.settings.region)  # a repeat within minutes: no second mail
    await sink.wait_for(lambda: sink.to("cleo@example.org"))
    await asyncio.sleep(0.5)
    [mail] = sink.to("cleo@example.org")
    assert str(mail.message["Subject"]) == "Ihre Anmeldungen und Links"
    assert {i.manage_url for i in items} <= set(mail.links())


async def test_no_transactional_mail_goes_to_a_hard_bounced_or_erased_address(newsletter, sink, publish):
    region = newsletter.settings.region
    sink.refuse["gone@example.org"] = "550 5.1.1 no such user"
    await publish(received("gone@example.org"), region=region)
    sessions = newsletter.app.state.runtime.sessions

    async def bounced() -> bool:
        async with sessions() as session:
            return bool(await session.scalar(select(MailRow.id).where(MailRow.status == "bounced")))

    for _ in range(400):
        if await bounced():
            break
        await asyncio.sleep(0.05)
    assert await bounced()
    async with sessions() as session, session.begin():
        session.add(
            ErasedPersonRow(person_id=person_id_for("erased@example.org"), erased_at=datetime.now(UTC))
        )
    await publish(
        received("gone@example.org", registration=registration(title="Zweiter Termin")), region=region
    )
    old = datetime.now(UTC) - timedelta(minutes=5)  # announced before the erasure, consumed after it
    await publish(received("erased@example.org", received_at=old), region=region)
    await publish(received("control@example.org"), region=region)
    await sink.wait_for(lambda: sink.to("control@example.org"))
    await asyncio.sleep(0.5)
    assert sink.to("gone@example.org") == [] and sink.to("erased@example.org") == []
    async with sessions() as session:
        rows = (await session.execute(select(MailRow.recipient, MailRow.status, MailRow.last_error))).all()
    assert sorted(map(tuple, rows)) == [  # held back with the reason; an erased person's address is not kept
        ("", "suppressed", "erased"),
        ("control@example.org", "sent", None),
        ("gone@example.org", "bounced", "550 5.1.1 no such user"),
        ("gone@example.org", "suppressed", "hard bounce"),
    ]
