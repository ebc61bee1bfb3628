"""Campaigns: templates checked at save time, audience, preview, test send, delivery with
per-recipient state, retries, bounces, pause and resume, digests, the development sink."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from nzr_common.contracts.events import EventPublished
from nzr_common.contracts.funding import FundingDeadlineApproaching
from nzr_common.testing.topology import free_port
from nzr_common.testing.waiting import eventually
from nzr_newsletter.campaigns.models import CampaignRow
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.digests import rules as digest_rules
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions.models import SubscriptionRow

API = "/api/v1/newsletter"
BODY = "Hallo {{ name }},\n\n**Neuigkeiten** aus {{ list_names|join(', ') }}.\n"


async def confirmed_audience(newsletter, token_for, people, **list_fields):  # type: ignore[no-untyped-def]
    """A list and confirmed subscribers [(address, district, topics)] written straight to the
    database (the double opt-in itself is tested elsewhere)."""
    headers = token_for("editor", region=newsletter.settings.region)
    list_id = (
        await newsletter.client.post(f"{API}/lists", json={"name": "Liste", **list_fields}, headers=headers)
    ).json()["id"]
    now = datetime.now(UTC)
    async with newsletter.app.state.runtime.sessions() as session, session.begin():
        for address, district, topics in people:
            subscriber = SubscriberRow(
                id=str(uuid.uuid4()),
                email=address,
                name=address.split("@")[0],
                district=district,
                topics=topics,
                blocked=False,
                soft_bounces=0,
                created_at=now,
            )
            session.add(subscriber)
            await session.flush()
            session.add(
                SubscriptionRow(
                    subscriber_id=subscriber.id,
                    list_id=list_id,
                    status="confirmed",
                    source="test",
                    consent_text_version="v1",
                    requested_at=now,
                    confirmed_at=now,
                )
            )
    return list_id


async def create_campaign(newsletter, token_for, list_id, **fields):  # type: ignore[no-untyped-def]
    body = {
        "name": "Herbst",
        "subject": "Neues aus dem Netzwerk",
        "body": BODY,
        "list_ids": [list_id],
        **fields,
    }
    response = await newsletter.client.post(
        f"{API}/campaigns", json=body, headers=token_for("editor", region=newsletter.settings.region)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def send_and_wait(newsletter, token_for, campaign_id, *, status="sent", within=60.0):  # type: ignore[no-untyped-def]
    headers = token_for("editor", region=newsletter.settings.region)
    response = await newsletter.client.post(f"{API}/campaigns/{campaign_id}/send", headers=headers)
    assert response.status_code == 200, response.text
    deadline = asyncio.get_running_loop().time() + within
    while True:
        campaign = (await newsletter.client.get(f"{API}/campaigns/{campaign_id}", headers=headers)).json()
        if campaign["status"] == status:
            return campaign
        assert asyncio.get_running_loop().time() < deadline, campaign
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": "Hallo {{ name "}, "body"),
        ({"body": "{{ unknown_variable }}"}, "body"),
        ({"body": "{% for x in %}{% endfor %}"}, "body"),
        ({"body": "{{ ''.__class__.__mro__ }}"}, "body"),
        ({"subject": "Hallo\r\nBcc: victim@example.org"}, "subject"),
        ({"subject": "{{ 'a\\nBcc: x@example.org' }}"}, "subject"),
        ({"sender": "Mallory <mallory@example.org>\nBcc: victim@example.org"}, "sender"),
        ({"sender": "kein absender"}, "sender"),
    ],
    ids=[
        "syntax",
        "undefined",
        "bad-loop",
        "sandbox",
        "subject-injection",
        "rendered-injection",
        "sender-injection",
        "sender-invalid",
    ],
)
async def test_a_template_that_cannot_render_is_refused_at_save_time_with_the_error(
    newsletter, token_for, change, field
):
    list_id = await confirmed_audience(newsletter, token_for, [])
    body = {"name": "x", "subject": "Betreff", "body": BODY, "list_ids": [list_id], **change}
    response = await newsletter.client.post(
        f"{API}/campaigns", json=body, headers=token_for("editor", region=newsletter.settings.region)
    )
    assert response.status_code == 422, response.text
    assert field in [p["name"] for p in response.json()["invalid_params"]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Hallo {{ name }},\n\n{{ 1 / 0 }}", "line 3: ZeroDivisionError: division by zero"),
        ("Hallo\n{{ list_names.missing }}", "line 2: UndefinedError: 'list object' has no attribute"),
        ("Hallo\n\n\n{{ vorname }}", "line 4: 'vorname' is not a template variable"),
        ("{% for x in list_names %}\n{{ x %}", "line 2: unexpected '}'"),
        ("{{ range(10) }}", "line 1: 'range' is not a template variable"),
        ("{{ lipsum() }}", "line 1: 'lipsum' is not a template variable"),
        ("{{ 'x' * 100000000 }}", "line 1: '*' would build a value beyond the size limit"),
        ("{{ 10 ** 100000 }}", "line 1: '**' would build a number beyond the size limit"),
        ("{{ '%099999999d' % 1 }}", "line 1: '%' formatting with a width or precision beyond the limit"),
    ],
    ids=["runtime-error", "undefined", "not-allowed", "syntax", "range", "lipsum", "mul", "pow", "fmt"],
)
async def test_a_template_failing_at_render_is_a_422_naming_field_line_and_problem(
    newsletter, token_for, body, reason
):
    list_id = await confirmed_audience(newsletter, token_for, [])
    editor = token_for("editor", region=newsletter.settings.region)
    request = {"name": "x", "subject": "Betreff", "body": body, "list_ids": [list_id]}
    refused = await newsletter.client.post(f"{API}/campaigns", json=request, headers=editor)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    [problem] = refused.json()["invalid_params"]
    assert problem["name"] == "body" and problem["reason"].startswith(reason), problem
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    url = f"{API}/campaigns/{campaign_id}"
    patched = await newsletter.client.patch(url, json={"body": body}, headers=editor)
    assert patched.status_code == 422 and patched.json()["invalid_params"] == [problem]


async def test_rendering_is_bounded_in_time_memory_and_output_size(start_newsletter, token_for):
    # The time limit is the default 5 s: ten times what the other cases need on a loaded machine.
    newsletter = await start_newsletter(template_max_chars=10_000)
    list_id = await confirmed_audience(newsletter, token_for, [])
    editor = token_for("editor", region=newsletter.settings.region)
    silent_loop = (
        "{% for a in 'x' * 5000 %}{% for b in 'x' * 5000 %}{% for c in 'x' * 5000 %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    cases = {
        silent_loop: "rendering took longer than 5 s",
        "{% for a in list_names * 9 %}{{ 'y' * 9000 }}{% endfor %}": "the rendered text is longer than",
        "{{ 'x'.center(900000000) }}": "line 1: the template needs more memory than allowed",
    }
    for body, reason in cases.items():
        request = {"name": "x", "subject": "Betreff", "body": body, "list_ids": [list_id]}
        refused = await newsletter.client.post(f"{API}/campaigns", json=request, headers=editor)
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["invalid_params"]
        assert problem["name"] == "body" and problem["reason"].startswith(reason), problem
    assert (await newsletter.client.get("/healthz")).status_code == 200


async def test_a_template_failing_at_send_time_fails_its_recipients_with_the_reason_and_nothing_answers_500(
    newsletter, sink, token_for
):
    people = [("eins@example.org", None, []), ("zwei@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people)
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    async with newsletter.app.state.runtime.sessions() as session, session.begin():
        campaign = await session.get(CampaignRow, campaign_id)
        campaign.body = "Hallo {{ name }},\n{{ items[0].title }}"  # saved before the checks existed
    editor = token_for("editor", region=newsletter.settings.region)
    preview = await newsletter.client.post(f"{API}/campaigns/{campaign_id}/preview", headers=editor)
    assert preview.status_code == 422 and preview.json()["invalid_params"][0]["name"] == "body"
    test = await newsletter.client.post(
        f"{API}/campaigns/{campaign_id}/test", headers=editor, json={"emails": ["tester@example.org"]}
    )
    assert test.status_code == 422 and "line 2" in test.json()["invalid_params"][0]["reason"]
    campaign = await send_and_wait(newsletter, token_for, campaign_id)
    assert (campaign["stats"]["sent"], campaign["stats"]["failed"]) == (0, 2)
    async with newsletter.app.state.runtime.sessions() as session:
        query = select(DeliveryRow.last_error).where(DeliveryRow.campaign_id == campaign_id)
        errors = list(await session.scalars(query))
    assert errors == ["template body: line 2: UndefinedError: list object has no element 0"] * 2
    assert sink.received == []


async def test_a_recipient_whose_mail_cannot_be_built_is_failed_with_the_reason_and_the_campaign_goes_on(
    newsletter, sink, token_for
):
    people = [("anna@example.org", None, []), ("jörg@example.org", None, []), ("zora@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people)  # the address of an old import
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    campaign = await send_and_wait(newsletter, token_for, campaign_id)
    assert (campaign["stats"]["sent"], campaign["stats"]["failed"]) == (2, 1)
    assert sink.count_by_recipient() == {"anna@example.org": 1, "zora@example.org": 1}
    async with newsletter.app.state.runtime.sessions() as session:
        failed = (
            await session.execute(
                select(DeliveryRow.email, DeliveryRow.last_error).where(DeliveryRow.status == "failed")
            )
        ).all()
    assert [(address, error.split(":")[0]) for address, error in failed] == [
        ("jörg@example.org", "not renderable for this recipient")
    ]


@pytest.mark.parametrize("field", ["name", "subject", "body", "list_ids"])
async def test_patching_a_campaign_field_every_campaign_needs_to_null_is_a_422_naming_it(
    newsletter, token_for, field
):
    editor = token_for("editor", region=newsletter.settings.region)
    list_id = await confirmed_audience(newsletter, token_for, [])
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    url = f"{API}/campaigns/{campaign_id}"
    refused = await newsletter.client.patch(url, json={field: None}, headers=editor)
    assert refused.status_code == 422, refused.text
    assert field in [p["name"] for p in refused.json()["invalid_params"]]
    kept = (await newsletter.client.get(url, headers=editor)).json()
    assert kept[field] not in (None, "", [])


@pytest.mark.parametrize("field", ["name", "visibility", "digest"])
async def test_patching_a_list_field_to_null_is_a_422_naming_it(newsletter, token_for, field):
    editor = token_for("editor", region=newsletter.settings.region)
    list_id = await confirmed_audience(newsletter, token_for, [])
    refused = await newsletter.client.patch(f"{API}/lists/{list_id}", json={field: None}, headers=editor)
    assert refused.status_code == 422, refused.text
    assert field in [p["name"] for p in refused.json()["invalid_params"]]


async def test_campaign_reaches_its_audience_by_list_topic_and_district_once_each(
    newsletter, sink, token_for
):
    people = [
        ("a@example.org", "14523000", ["energie_klimaschutz"]),
        ("b@example.org", "14523000", ["mobilitaet"]),
        ("c@example.org", "14612000", ["energie_klimaschutz"]),
        ("d@example.org", "14523000", []),
    ]
    list_id = await confirmed_audience(newsletter, token_for, people)
    campaign_id = await create_campaign(
        newsletter, token_for, list_id, topics=["energie_klimaschutz"], districts=["14523000"]
    )
    headers = token_for("editor", region=newsletter.settings.region)
    preview = (await newsletter.client.post(f"{API}/campaigns/{campaign_id}/preview", headers=headers)).json()
    assert preview["audience"] == 1 and "Erika Mustermann" in preview["text"]
    assert "<strong>Neuigkeiten</strong>" in preview["html"]
    test = await newsletter.client.post(
        f"{API}/campaigns/{campaign_id}/test", headers=headers, json={"emails": ["tester@example.org"]}
    )
    assert test.json() == {"sent": ["tester@example.org"]}
    campaign = await send_and_wait(newsletter, token_for, campaign_id)
    assert campaign["stats"] | {} == {
        "recipients": 1,
        "queued": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "bounced": 0,
        "unsubscribed_after": 0,
    }
    assert sink.count_by_recipient() == {"tester@example.org": 1, "a@example.org": 1}
    runtime = newsletter.app.state.runtime
    from nzr_newsletter.tables import messaging

    async with runtime.sessions() as session:
        payloads = list(
            await session.scalars(
                select(messaging.outbox.c.payload).where(
                    messaging.outbox.c.event_type == "nzr.newsletter.campaign_sent.v1"
                )
            )
        )
    assert json.loads(payloads[0])["data"]["delivered"] == 1


async def test_every_campaign_mail_is_personal_and_unsubscribes_in_one_click_per_rfc_8058(
    newsletter, sink, token_for
):
    list_id = await confirmed_audience(newsletter, token_for, [("zoe@example.org", None, [])])
    campaign_id = await create_campaign(newsletter, token_for, list_id, subject="Grüße für Sie – Ausgabe 1")
    await send_and_wait(newsletter, token_for, campaign_id)
    mail = sink.to("zoe@example.org")[0]
    message = mail.message
    assert str(message["Subject"]) == "Grüße für Sie – Ausgabe 1"
    assert mail.message_id.startswith(f"<{campaign_id}.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(message["List-Unsubscribe"]).strip("<>")
    assert unsubscribe_url.startswith("https://nzr.example/api/v1/newsletter/unsubscribe?token=")
    assert "Hallo zoe," in mail.text()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hallo zoe," in html and "Einstellungen" in html
    token = unsubscribe_url.rpartition("token=")[2]
    one_click = await newsletter.client.post(
        f"{API}/unsubscribe",
        params={"token": token},
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    again = await newsletter.client.post(f"{API}/unsubscribe", params={"token": token})
    assert again.json()["status"] == "unsubscribed"
    stats = (
        await newsletter.client.get(
            f"{API}/campaigns/{campaign_id}", headers=token_for("editor", region=newsletter.settings.region)
        )
    ).json()["stats"]
    assert stats["unsubscribed_after"] == 1


async def test_temporary_failures_are_retried_and_permanent_ones_are_hard_bounces_that_block(
    newsletter, sink, token_for
):
    people = [("ok@example.org", None, []), ("busy@example.org", None, []), ("gone@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people)
    sink.refuse = {
        "busy@example.org": "451 4.7.1 try again later",
        "gone@example.org": "550 5.1.1 no such user",
    }
    campaign = await send_and_wait(
        newsletter, token_for, await create_campaign(newsletter, token_for, list_id)
    )
    assert campaign["stats"]["sent"] == 2 and campaign["stats"]["bounced"] == 1
    assert sink.count_by_recipient() == {"ok@example.org": 1, "busy@example.org": 1}
    async with newsletter.app.state.runtime.sessions() as session:
        blocked = await session.scalar(
            select(SubscriberRow.blocked).where(SubscriberRow.email == "gone@example.org")
        )
    assert blocked is True
    second = await send_and_wait(newsletter, token_for, await create_campaign(newsletter, token_for, list_id))
    assert second["stats"]["recipients"] == 2


async def test_a_server_dropping_the_connection_mid_data_loses_nothing_and_sends_nothing_twice(
    newsletter, sink, token_for
):
    people = [(f"p{i}@example.org", None, []) for i in range(20)]
    list_id = await confirmed_audience(newsletter, token_for, people)
    sink.drop_mid_data = {"p3@example.org", "p11@example.org"}
    campaign = await send_and_wait(
        newsletter, token_for, await create_campaign(newsletter, token_for, list_id)
    )
    assert campaign["stats"]["sent"] == 20
    assert sink.count_by_recipient() == {address: 1 for address, _, _ in people}
    assert not sink.drop_mid_data  # both drops happened


async def test_a_paused_campaign_sends_nothing_until_it_is_resumed(start_newsletter, sink, token_for):
    newsletter = await start_newsletter(rate_per_second=20)
    people = [(f"q{i}@example.org", None, []) for i in range(30)]
    list_id = await confirmed_audience(newsletter, token_for, people)
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    headers = token_for("editor", region=newsletter.settings.region)
    await newsletter.client.post(f"{API}/campaigns/{campaign_id}/send", headers=headers)
    await sink.wait_for(lambda: len(sink.received) >= 5)
    paused = await newsletter.client.post(f"{API}/campaigns/{campaign_id}/pause", headers=headers)
    assert paused.json()["status"] == "paused"
    await asyncio.sleep(0.5)
    during_pause = len(sink.received)
    await asyncio.sleep(0.5)
    assert len(sink.received) == during_pause < 30
    await newsletter.client.post(f"{API}/campaigns/{campaign_id}/resume", headers=headers)
    await sink.wait_for(lambda: len(sink.received) == 30)
    assert sink.count_by_recipient() == {address: 1 for address, _, _ in people}


async def test_rate_limit_spaces_the_mails(start_newsletter, sink, token_for):
    newsletter = await start_newsletter(rate_per_second=10)
    list_id = await confirmed_audience(
        newsletter, token_for, [(f"r{i}@example.org", None, []) for i in range(11)]
    )
    started = asyncio.get_running_loop().time()
    await send_and_wait(newsletter, token_for, await create_campaign(newsletter, token_for, list_id))
    assert asyncio.get_running_loop().time() - started >= 0.95


async def test_webhook_and_rfc_3464_reports_block_after_hard_or_repeated_soft_bounces(
    start_newsletter, sink, token_for
):
    newsletter = await start_newsletter(soft_bounce_threshold=2, bounce_webhook_secret="hook-secret")
    people = [("hard@example.org", None, []), ("soft@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people)
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    await send_and_wait(newsletter, token_for, campaign_id)
    message_id = sink.to("hard@example.org")[0].message_id
    dsn = DSN.format(message_id=message_id).encode()
    unauthenticated = await newsletter.client.post(f"{API}/bounces/dsn", content=dsn)
    assert unauthenticated.status_code == 401
    result = await newsletter.client.post(
        f"{API}/bounces/dsn",
        content=dsn,
        headers={"X-Webhook-Secret": "hook-secret", "content-type": "message/rfc822"},
    )
    assert result.json() == {"recorded": 1, "blocked": 1}
    soft = [{"email": "soft@example.org", "kind": "soft", "reason": "mailbox full"}]
    admin = token_for("admin", region=newsletter.settings.region)
    first = await newsletter.client.post(f"{API}/bounces", json=soft, headers=admin)
    second = await newsletter.client.post(f"{API}/bounces", json=soft, headers=admin)
    assert (first.json()["blocked"], second.json()["blocked"]) == (0, 1)
    stats = (await newsletter.client.get(f"{API}/campaigns/{campaign_id}", headers=admin)).json()["stats"]
    assert stats["bounced"] == 1 and stats["sent"] == 1
    not_a_report = await newsletter.client.post(
        f"{API}/bounces/dsn", content=b"Subject: hi\r\n\r\nhello", headers=admin
    )
    assert not_a_report.status_code == 422


DSN = """From: MAILER-DAEMON@mx.example.org
To: newsletter@nzr.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; hard@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: Neues aus dem Netzwerk

--B--
"""


async def test_digest_lists_upcoming_gatherings_and_funding_deadlines(newsletter, sink, token_for, publish):
    list_id = await confirmed_audience(newsletter, token_for, [("digest@example.org", None, [])], digest=True)
    region = newsletter.settings.region
    soon = datetime.now(UTC) + timedelta(days=10)
    await publish(
        EventPublished(
            event_id=f"e-{region}",
            title="Regionalkonferenz Energie",
            format="regionalkonferenz",
            starts_at=soon,
            ends_at=soon + timedelta(hours=4),
            venue_name="Kulturhaus Pieschen",
            venue_address="Konkordienstraße 1, 01127 Dresden",
        ),
        region=region,
    )
    await publish(
        FundingDeadlineApproaching(
            programme_id=f"f-{region}",
            name=f"Förderprogramm {region}",
            deadline=(soon + timedelta(days=5)).date(),
            days_left=15,
        ),
        region="state",
        service="funding",
    )
    admin = token_for("admin", region=region)
    for _ in range(200):
        from nzr_newsletter.digests.models import DigestItemRow

        async with newsletter.app.state.runtime.sessions() as session:
            ids = set(await session.scalars(select(DigestItemRow.id)))
        if {f"event:e-{region}", f"funding:f-{region}"} <= ids:
            break
        await asyncio.sleep(0.05)
    created = (await newsletter.client.post(f"{API}/digests/run", headers=admin)).json()["campaign_ids"]
    assert len(created) == 1
    await sink.wait_for(lambda: sink.to("digest@example.org"))
    mail = sink.to("digest@example.org")[0]
    text = mail.text()
    event_link = f"{newsletter.settings.events_public_url}/api/v1/events/e-{region}.ics"
    programme_link = f"{newsletter.settings.funding_public_url}/api/v1/funding/programs/f-{region}"
    when = digest_rules.when(soon, with_time=True)
    assert f"**{when}** – [Regionalkonferenz Energie]({event_link})" in text
    assert "Ort: Kulturhaus Pieschen, Konkordienstraße 1, 01127 Dresden" in text
    assert f"[Förderprogramm {region}]({programme_link}) (Förderfrist)" in text
    page = mail.message.get_body(preferencelist=("html",)).get_content()
    assert f'<a href="{event_link}">Regionalkonferenz Energie</a>' in page
    assert list_id
    again = (await newsletter.client.post(f"{API}/digests/run", headers=admin)).json()["campaign_ids"]
    assert again == []  # nothing new since the last digest


async def test_in_development_without_smtp_host_mail_lands_in_the_sink_folder_and_page(
    start_newsletter, token_for, tmp_path
):
    newsletter = await start_newsletter(smtp_host=None, smtp_sink_dir=tmp_path, environment="development")
    await _subscribe_to_a_new_list(newsletter, token_for, "neu@example.org")
    for _ in range(200):
        if list(tmp_path.glob("*.eml")):
            break
        await asyncio.sleep(0.05)
    messages = (await newsletter.client.get(f"{API}/dev/mail.json")).json()["items"]
    assert messages[0]["to"] == "neu@example.org"
    confirm_link = next(link for link in messages[0]["links"] if "/confirm?token=" in link)
    page = await newsletter.client.get(f"{API}/dev/mail")
    assert "Anmeldung" in page.text
    raw = await newsletter.client.get(f"{API}/dev/mail/{messages[0]['name']}")
    assert "neu@example.org" in raw.text
    token = confirm_link.rpartition("token=")[2]
    assert (await newsletter.client.post(f"{API}/confirm", params={"token": token})).status_code == 200


async def test_in_development_a_sink_in_a_process_of_its_own_gets_the_mail_and_the_page_shows_it(
    start_newsletter, token_for, tmp_path
):
    """As under ``nzr run``: the sink runs as its own process, the service only sends to it and
    shows its folder (it runs no sink itself)."""
    port, folder = free_port(), tmp_path / "mail"
    command = [sys.executable, "-m", "nzr_newsletter.sink", "--folder", str(folder), "--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await eventually(lambda: _listening(port), what="the sink process listening")
        newsletter = await start_newsletter(
            smtp_port=port, smtp_is_sink=True, smtp_sink_dir=folder, environment="development"
        )
        assert not newsletter.deps.runs_sink and newsletter.deps.sink.server is None
        await _subscribe_to_a_new_list(newsletter, token_for, "extern@example.org")
        await eventually(lambda: list(folder.glob("*.eml")), what="the confirmation mail in the folder")
        messages = (await newsletter.client.get(f"{API}/dev/mail.json")).json()["items"]
        assert [m["to"] for m in messages] == ["extern@example.org"]
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0 and f"127.0.0.1:{port}".encode() in output


async def _subscribe_to_a_new_list(newsletter, token_for, email: str) -> None:  # type: ignore[no-untyped-def]
    """A list named Demo and a subscription of ``email`` to it (its confirmation mail goes out)."""
    editor = token_for("editor", region=newsletter.settings.region)
    list_id = (await newsletter.client.post(f"{API}/lists", json={"name": "Demo"}, headers=editor)).json()[
        "id"
    ]
    await newsletter.client.post(
        f"{API}/subscriptions",
        json={"email": email, "list_ids": [list_id], "consent_text_version": "v1"},
    )


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


async def test_a_scheduled_campaign_waits_for_its_time(newsletter, sink, token_for):
    list_id = await confirmed_audience(newsletter, token_for, [("later@example.org", None, [])])
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    headers = token_for("editor", region=newsletter.settings.region)
    naive = await newsletter.client.post(
        f"{API}/campaigns/{campaign_id}/send", headers=headers, json={"scheduled_at": "2030-01-01T10:00:00"}
    )
    assert naive.status_code == 422
    at = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = await newsletter.client.post(
        f"{API}/campaigns/{campaign_id}/send", headers=headers, json={"scheduled_at": at.isoformat()}
    )
    assert scheduled.json()["status"] == "scheduled"
    await asyncio.sleep(1.0)
    assert not sink.to("later@example.org")
    await sink.wait_for(lambda: sink.to("later@example.org"))
    assert datetime.now(UTC) >= at
