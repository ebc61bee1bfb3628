"""Every mail of the registration journey, read from a real SMTP server (aiosmtpd) and parsed as a
participant's mail program would (``email`` with the default policy, ``icalendar``); delivery
state with a temporary and a permanent SMTP failure, as the organiser sees it over HTTP."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, date, datetime, timedelta

import icalendar
from sqlalchemy import select

from nzr_common.contracts.actors import person_id_for
from nzr_common.contracts.events import (
    OutcomeForMail,
    ParticipantNotice,
    RegistrationForMail,
    RegistrationReceived,
    SessionForMail,
)
from nzr_common.testing.services import running_service
from nzr_newsletter.app import create_app
from nzr_newsletter.settings import NewsletterSettings
from nzr_newsletter.tables import ErasedPersonRow
from nzr_newsletter.transactional.models import MailRow

API = "/api/v1/newsletter/transactional/mails"
STARTS = datetime(2027, 3, 18, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def registration(**fields) -> RegistrationForMail:  # type: ignore[no-untyped-def]
    registration_id = str(uuid.uuid4())
    values = {
        "registration_id": registration_id,
        "event_id": str(uuid.uuid4()),
        "title": "Regionalkonferenz Zukunft",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=7),
        "venue_name": "Stadthalle",
        "venue_address": "Theaterplatz 1, 09111 Chemnitz",
        "status": "confirmed",
        "manage_url": f"https://nzr.example/api/v1/registrations/cancel?token=tok-{registration_id}",
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


def notice(kind: str, email: str, **fields) -> ParticipantNotice:  # type: ignore[no-untyped-def]
    values = {
        "notice_id": str(uuid.uuid4()),
        "kind": kind,
        "email": email,
        "name": "Ida Beispiel",
        "registration": registration(
            calendar_uid="ev-1@demo.nzr", sequence=2, region_name="Netzwerk Zukunft Mittelsachsen"
        ),
        "issued_at": datetime.now(UTC),
    }
    return ParticipantNotice(**{**values, **fields})


def calendar_of(mail):  # type: ignore[no-untyped-def]
    """The attached ``.ics`` parsed, with the part's Content-Type method."""
    [part] = [p for p in mail.message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_content()), part.get_param("method")


def has_calendar(mail) -> bool:  # type: ignore[no-untyped-def]
    return any(p.get_content_type() == "text/calendar" for p in mail.message.iter_attachments())


async def test_each_step_of_the_journey_gets_its_mail_with_the_calendar_entry(newsletter, sink, publish):
    region = newsletter.settings.region
    sessions = [
        SessionForMail(
            session_id="s1",
            title="Werkstatt Wärmewende",
            starts_at=STARTS + timedelta(hours=2),
            ends_at=STARTS + timedelta(hours=4),
            room="Saal 2",
        )
    ]
    item = registration(
        calendar_uid="ev-1@demo.nzr",
        sequence=0,
        sessions=sessions,
        region_name="Netzwerk Zukunft Mittelsachsen",
    )
    changed = item.model_copy(update={"sequence": 1, "venue_name": "Rathaus"})
    cancelled = changed.model_copy(update={"sequence": 2, "status": "cancelled"})
    waiting = item.model_copy(update={"status": "waiting", "waiting_position": 3})
    thanks = dict(
        agreements=[
            OutcomeForMail(text="Lastenrad-Verleih starten", responsible="BUND", due_date=date(2027, 6, 30))
        ],
        recommendations=[OutcomeForMail(text="Mehr Ladepunkte am Bahnhof")],
        feedback_url="https://nzr.example/api/v1/events/feedback?token=fb-123",
    )
    steps = {
        "a@example.org": received("a@example.org", registration=item),
        "b@example.org": received("b@example.org", registration=waiting, language="en"),
        "c@example.org": notice("promoted", "c@example.org", registration=item),
        "d@example.org": notice("event_changed", "d@example.org", registration=changed, changes=["place"]),
        "e@example.org": notice("session_changed", "e@example.org", registration=changed, language="en"),
        "f@example.org": notice("cancelled", "f@example.org", registration=cancelled),
        "g@example.org": notice("event_cancelled", "g@example.org", registration=cancelled, language="en"),
        "h@example.org": notice("reminder", "h@example.org", registration=item),
        "i@example.org": notice("thank_you", "i@example.org", registration=item, **thanks),
        "j@example.org": notice("confirmed", "j@example.org", registration=item, language="en"),
    }
    for event in steps.values():
        await publish(event, region=region)
    await sink.wait_for(lambda: all(sink.to(address) for address in steps))
    await publish(steps["c@example.org"], region=region)  # the same notice announced again: no mail
    await publish(notice("reminder", "z@example.org", registration=item), region=region)
    await sink.wait_for(lambda: sink.to("z@example.org"))
    assert len(sink.to("c@example.org")) == 1
    mails = {address: sink.to(address)[0] for address in steps}

    subjects = {a: str(m.message["Subject"]) for a, m in mails.items()}
    assert subjects == {
        "a@example.org": "Anmeldung bestätigt: Regionalkonferenz Zukunft",
        "b@example.org": "You are on the waiting list (position 3): Regionalkonferenz Zukunft",
        "c@example.org": "Sie haben einen Platz: Regionalkonferenz Zukunft",
        "d@example.org": "Geändert: Regionalkonferenz Zukunft",
        "e@example.org": "Changed: Regionalkonferenz Zukunft",
        "f@example.org": "Abmeldung bestätigt: Regionalkonferenz Zukunft",
        "g@example.org": "Cancelled: Regionalkonferenz Zukunft",
        "h@example.org": "Erinnerung: Regionalkonferenz Zukunft am 18. März 2027",
        "i@example.org": "Danke für Ihre Teilnahme: Regionalkonferenz Zukunft",
        "j@example.org": "Registration confirmed: Regionalkonferenz Zukunft",
    }
    english = {"b@example.org", "e@example.org", "g@example.org", "j@example.org"}
    for address, mail in mails.items():
        message = mail.message
        assert message["Content-Language"] == ("en" if address in english else "de"), address
        assert message["From"].addresses[0].display_name == "Netzwerk Zukunft Mittelsachsen"
        assert message["From"].addresses[0].addr_spec == "newsletter@nzr.example"
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "<img" not in html and message["List-Unsubscribe"] is None, address  # never tracked
        assert all(link.startswith("https://nzr.example/") for link in mail.links()), address

    expected = {  # address → (METHOD, SEQUENCE, STATUS)
        "a@example.org": ("REQUEST", 0, "CONFIRMED"),
        "c@example.org": ("REQUEST", 0, "CONFIRMED"),
        "d@example.org": ("REQUEST", 1, "CONFIRMED"),
        "e@example.org": ("REQUEST", 1, "CONFIRMED"),
        "f@example.org": ("CANCEL", 2, "CANCELLED"),
        "g@example.org": ("CANCEL", 2, "CANCELLED"),
        "h@example.org": ("REQUEST", 0, "CONFIRMED"),
        "j@example.org": ("REQUEST", 0, "CONFIRMED"),
    }
    for address, (method, sequence, status) in expected.items():
        calendar, part_method = calendar_of(mails[address])
        [entry] = calendar.walk("VEVENT")
        assert (str(calendar["METHOD"]), part_method) == (method, method), address
        assert str(entry["UID"]) == "ev-1@demo.nzr" and int(entry["SEQUENCE"]) == sequence, address
        assert str(entry["STATUS"]) == status
        assert entry.decoded("DTSTART") == STARTS and entry.decoded("DTEND") == STARTS + timedelta(hours=7)
        assert str(entry["URL"]) == item.manage_url
        assert str(entry["ATTENDEE"]) == f"mailto:{address}"
        assert "Werkstatt Wärmewende" in str(entry["DESCRIPTION"])
    assert "Rathaus" in str(calendar_of(mails["d@example.org"])[0].walk("VEVENT")[0]["LOCATION"])
    assert not has_calendar(mails["b@example.org"]) and not has_calendar(mails["i@example.org"])

    # what each text says: the position, the personal link, the sessions, the outcomes, feedback
    assert "waiting list (position 3)" in mails["b@example.org"].text()
    assert item.manage_url in mails["a@example.org"].links()
    assert (
        "Werkstatt Wärmewende (18. März 2027, 12:00–14:00 Uhr, Raum Saal 2)" in mails["c@example.org"].text()
    )
    assert "geändert (der Ort)" in mails["d@example.org"].text()
    assert item.manage_url not in mails["f@example.org"].links()  # nothing left to change
    thank_you = mails["i@example.org"].text()
    assert "- Lastenrad-Verleih starten (verantwortlich: BUND; bis 30. Juni 2027)" in thank_you
    assert "- Mehr Ladepunkte am Bahnhof" in thank_you
    assert thanks["feedback_url"] in mails["i@example.org"].links()


async def test_a_temporary_failure_is_retried_and_a_permanent_one_is_shown_to_the_organiser(
    newsletter, sink, publish, token_for
):
    region = newsletter.settings.region
    client, headers = newsletter.client, token_for("editor", region=region)
    event_id = str(uuid.uuid4())
    item = registration(event_id=event_id)
    sink.refuse["later@example.org"] = "451 4.3.0 try again later"
    sink.refuse["nobody@example.org"] = "550 5.1.1 no such user"
    await publish(notice("reminder", "later@example.org", registration=item), region=region)
    await publish(notice("reminder", "nobody@example.org", registration=item), region=region)
    await sink.wait_for(lambda: sink.to("later@example.org"))

    async def mails(**params) -> dict:  # type: ignore[no-untyped-def]
        response = await client.get(API, params={"event_id": event_id, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    for _ in range(200):
        page = await mails()
        if {m["status"] for m in page["items"]} == {"sent", "bounced"}:
            break
        await asyncio.sleep(0.05)
    by_status = {m["status"]: m for m in page["items"]}
    assert page["total"] == 2
    assert by_status["sent"]["attempts"] == 2 and by_status["sent"]["kind"] == "reminder"
    assert by_status["sent"]["recipient"] == "l***@example.org"  # editors see no full address
    bounced = by_status["bounced"]
    assert bounced["reason"] == "550 5.1.1 no such user" and bounced["attempts"] == 1
    assert (await mails(status="bounced"))["items"] == [bounced]

    # the bounced address gets nothing more; nor does an erased person — both recorded with the reason
    sessions = newsletter.app.state.runtime.sessions
    async with sessions() as session, session.begin():
        session.add(ErasedPersonRow(person_id=person_id_for("gone@example.org"), erased_at=datetime.now(UTC)))
    before = datetime.now(UTC) - timedelta(minutes=1)
    await publish(notice("event_cancelled", "nobody@example.org", registration=item), region=region)
    await publish(
        notice("event_cancelled", "gone@example.org", registration=item, issued_at=before), region=region
    )
    admin = token_for("admin", region=region)
    for _ in range(200):
        response = await client.get(API, params={"event_id": event_id, "status": "suppressed"}, headers=admin)
        if response.json()["total"] == 2:
            break
        await asyncio.sleep(0.05)
    held = {(m["recipient"], m["reason"], m["kind"]) for m in response.json()["items"]}
    assert held == {
        ("nobody@example.org", "hard bounce", "event_cancelled"),
        ("", "erased", "event_cancelled"),
    }
    assert len(sink.to("nobody@example.org")) == 0 and sink.to("gone@example.org") == []

    wrong = await client.get(API, params={"status": "lost"}, headers=headers)
    assert wrong.status_code == 422 and "status" in wrong.text
    assert (await client.get(API)).status_code == 401


async def test_the_development_sink_page_lists_each_mail_with_its_html_text_and_calendar(
    start_newsletter, publish, tmp_path
):
    newsletter = await start_newsletter(smtp_host=None, smtp_sink_dir=tmp_path, environment="development")
    item = registration(calendar_uid="ev-9@demo.nzr", sequence=4)
    await publish(received("neu@example.org", registration=item), region=newsletter.settings.region)
    for _ in range(200):
        if list(tmp_path.glob("*.eml")):
            break
        await asyncio.sleep(0.05)
    client, base = newsletter.client, "/api/v1/newsletter/dev"
    [listed] = (await client.get(f"{base}/mail.json")).json()["items"]
    assert (listed["to"], listed["calendar"], listed["language"]) == ("neu@example.org", "REQUEST", "de")
    page = await client.get(f"{base}/mail")
    assert page.status_code == 200 and "Anmeldung bestätigt: Regionalkonferenz Zukunft" in page.text
    name = listed["name"]
    for view in ("html", "text", "ics"):
        assert f'href="mail/{name}/{view}"' in page.text
    html = await client.get(f"{base}/mail/{name}/html")
    assert "Ihr Platz ist bestätigt." in html.text and "sandbox" in html.headers["content-security-policy"]
    text = await client.get(f"{base}/mail/{name}/text")
    assert text.headers["content-type"].startswith("text/plain") and item.manage_url in text.text
    ics = await client.get(f"{base}/mail/{name}/ics")
    assert ics.headers["content-type"].startswith("text/calendar; method=REQUEST")
    assert ics.headers["content-disposition"] == 'attachment; filename="termin.ics"'
    [entry] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert (str(entry["UID"]), int(entry["SEQUENCE"])) == ("ev-9@demo.nzr", 4)
    assert (await client.get(f"{base}/mail/nothing.eml/ics")).status_code == 404


async def test_a_mail_deferred_before_a_restart_is_sent_after_it(
    nats_url, databases, sink, publish, token_for
):
    with socket.socket() as closed:  # a port nobody listens on: every attempt is refused
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    settings = NewsletterSettings(
        region=f"n{uuid.uuid4().hex[:10]}",
        nats_url=nats_url,
        database_url=await databases.new("newsletter"),
        smtp_host="127.0.0.1",
        smtp_port=closed_port,
        retry_base_seconds=0.2,
        delivery_poll_seconds=0.05,
        sender_lease_seconds=2.0,
        sender="Netzwerk Test <newsletter@nzr.example>",
        public_base_url="https://nzr.example",
    )
    item = registration()
    async with running_service(create_app, settings, "nzr_newsletter") as running:
        await publish(notice("promoted", "later@example.org", registration=item), region=settings.region)
        for _ in range(400):
            async with running.app.state.runtime.sessions() as session:
                row = await session.scalar(select(MailRow).where(MailRow.event_id == item.event_id))
            if row is not None and row.status == "deferred":
                break
            await asyncio.sleep(0.05)
        assert row is not None and row.status == "deferred" and "Connect" in (row.last_error or "")
    assert sink.to("later@example.org") == []
    restarted = settings.model_copy(update={"smtp_port": sink.port})
    async with running_service(create_app, restarted, "nzr_newsletter") as running:
        await sink.wait_for(lambda: sink.to("later@example.org"))
        headers = token_for("editor", region=settings.region)
        for _ in range(200):
            [mail] = (
                await running.client.get(API, params={"event_id": item.event_id}, headers=headers)
            ).json()["items"]
            if mail["status"] == "sent":
                break
            await asyncio.sleep(0.05)
    assert mail["status"] == "sent" and mail["attempts"] >= 2 and mail["reason"] is None
    assert len(sink.to("later@example.org")) == 1
    assert str(sink.to("later@example.org")[0].message["Subject"]).startswith("Sie haben einen Platz")
