"""The pages behind the newsletter's mailed links, opt-in counting of opens and clicks, and
campaign statistics — over HTTP, with the mails read from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from sqlalchemy import select

from nzr_common.contracts.events import RegistrationConfirmed
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.tables import messaging

from .pages import read_page
from .test_campaigns import DSN, confirmed_audience, create_campaign, send_and_wait
from .test_subscriptions import count, make_list, subscribe

API = "/api/v1/newsletter"
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
LINKED = "Hallo {{ name }},\n\n[Zur Dachflächen-Börse](https://www.example.org/boerse?x=1&y=2) und [Förderaufruf](https://www.example.org/aufruf).\n"


async def statuses(newsletter, address: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with newsletter.app.state.runtime.sessions() as session:
        rows = await session.execute(
            select(SubscriptionRow.list_id, SubscriptionRow.status)
            .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
            .where(SubscriberRow.email == address)
        )
        return dict(rows.all())


async def outbox_size(newsletter) -> int:  # type: ignore[no-untyped-def]
    return await count(newsletter, messaging.outbox)


async def test_a_get_of_the_confirmation_link_only_shows_and_the_page_button_confirms(
    newsletter, sink, token_for
):
    list_id = await make_list(newsletter, token_for, name="Energie & Klima")
    await subscribe(newsletter, "greta@example.org", list_id)
    await sink.wait_for(lambda: sink.to("greta@example.org"))
    mail = sink.to("greta@example.org")[0]
    link = next(x for x in mail.links() if "/confirm?token=" in x)
    assert link.startswith("https://nzr.example/api/v1/newsletter/confirm?token=")
    token = mail.token("/confirm")
    before = await outbox_size(newsletter)
    for _ in range(3):  # a mail scanner, then the person
        shown = await newsletter.client.get(f"{API}/confirm", params={"token": token})
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    facts = read_page(shown.text)
    assert facts.lang == "de" and facts.headings[0] == "Anmeldung bestätigen"
    assert "„Energie & Klima“" in facts.text and "Energie &amp;amp;" not in shown.text
    assert facts.buttons == ["Ja, ich möchte den Newsletter erhalten"]
    assert await statuses(newsletter, "greta@example.org") == {list_id: "pending"}
    assert await outbox_size(newsletter) == before

    english = await newsletter.client.get(
        f"{API}/confirm", params={"token": token}, headers={"accept-language": "en-GB,en;q=0.9,de;q=0.5"}
    )
    assert read_page(english.text).lang == "en" and "Yes, subscribe me" in english.text

    action = facts.forms[0]["action"]
    done = await newsletter.client.post(action, headers={**FORM, **BROWSER}, content=b"")
    assert done.status_code == 200 and done.headers["content-type"].startswith("text/html")
    result = read_page(done.text)
    assert result.headings[0] == "Anmeldung bestätigt" and "Energie & Klima" in result.text
    assert await statuses(newsletter, "greta@example.org") == {list_id: "confirmed"}


async def test_a_campaign_mail_unsubscribes_by_page_button_or_one_click_and_a_get_changes_nothing(
    newsletter, sink, token_for
):
    people = [("ida@example.org", None, []), ("jan@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people)
    await send_and_wait(newsletter, token_for, await create_campaign(newsletter, token_for, list_id))
    ida, jan = sink.to("ida@example.org")[0], sink.to("jan@example.org")[0]
    page_link = next(x for x in ida.links() if "/unsubscribe?token=" in x)
    path = page_link.removeprefix("https://nzr.example")
    shown = await newsletter.client.get(path, headers=BROWSER)
    facts = read_page(shown.text)
    assert facts.headings[0] == "Newsletter abbestellen" and facts.buttons == ["Abbestellen"]
    assert "„Liste“" in facts.text
    assert await statuses(newsletter, "ida@example.org") == {list_id: "confirmed"}
    left = await newsletter.client.post(facts.forms[0]["action"], headers={**FORM, **BROWSER})
    assert read_page(left.text).headings[0] == "Abbestellt"
    assert await statuses(newsletter, "ida@example.org") == {list_id: "unsubscribed"}

    one_click_url = str(jan.message["List-Unsubscribe"]).strip("<>").removeprefix("https://nzr.example")
    one_click = await newsletter.client.post(
        one_click_url, content=b"List-Unsubscribe=One-Click", headers={**FORM, "accept": "*/*"}
    )
    assert one_click.status_code == 200 and one_click.json()["status"] == "unsubscribed"
    assert await statuses(newsletter, "jan@example.org") == {list_id: "unsubscribed"}


async def test_forged_or_expired_links_get_a_friendly_german_page_and_change_nothing(
    start_newsletter, sink, token_for
):
    newsletter = await start_newsletter(confirm_token_days=0)
    list_id = await make_list(newsletter, token_for)
    await subscribe(newsletter, "kai@example.org", list_id)
    await sink.wait_for(lambda: sink.to("kai@example.org"))
    token = sink.to("kai@example.org")[0].token("/confirm")
    await asyncio.sleep(1.1)  # the confirmation link (0 days) has expired
    before = await outbox_size(newsletter)
    expired = await newsletter.client.get(f"{API}/confirm", params={"token": token})
    assert expired.status_code == 410 and expired.headers["content-type"].startswith("text/html")
    facts = read_page(expired.text)
    assert facts.lang == "de" and "Dieser Link ist abgelaufen." in facts.text and not facts.forms
    pressed = await newsletter.client.post(
        f"{API}/confirm", params={"token": token}, headers={**FORM, **BROWSER}
    )
    assert pressed.status_code == 410 and "abgelaufen" in pressed.text
    forged = token[:-6] + "AAAAAA"
    for method, path in (("GET", "/confirm"), ("GET", "/unsubscribe"), ("GET", "/preferences")):
        answer = await newsletter.client.request(
            method, f"{API}{path}", params={"token": forged}, headers=BROWSER
        )
        assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html"), path
        assert "Dieser Link ist ungültig" in read_page(answer.text).text
    english = await newsletter.client.get(
        f"{API}/unsubscribe", params={"token": forged}, headers={"accept-language": "en"}
    )
    assert read_page(english.text).lang == "en" and "This link is not valid" in english.text
    api = await newsletter.client.post(f"{API}/confirm", params={"token": forged})
    assert api.status_code == 400 and api.headers["content-type"] == "application/problem+json"
    assert await statuses(newsletter, "kai@example.org") == {list_id: "pending"}
    assert await outbox_size(newsletter) == before


async def test_the_preferences_page_shows_on_get_and_saves_lists_topics_and_language_on_post(
    newsletter, sink, token_for
):
    energy = await make_list(newsletter, token_for, name="Energie", topic="energie_klimaschutz")
    mobility = await make_list(newsletter, token_for, name="Mobilität", description="Rad, Bus und Bahn")
    await subscribe(newsletter, "lea@example.org", energy, topics=["mobilitaet"])
    await sink.wait_for(lambda: sink.to("lea@example.org"))
    await newsletter.client.post(
        f"{API}/confirm", params={"token": sink.to("lea@example.org")[0].token("/confirm")}
    )
    async with newsletter.app.state.runtime.sessions() as session:
        subscriber_id = await session.scalar(
            select(SubscriberRow.id).where(SubscriberRow.email == "lea@example.org")
        )
    path = newsletter.deps.preferences_url(subscriber_id).removeprefix("https://nzr.example")

    shown = await newsletter.client.get(path, headers=BROWSER)
    facts = read_page(shown.text)
    assert facts.headings[0] == "Ihre Newsletter-Einstellungen" and facts.buttons == ["Speichern"]
    boxes = {i["value"]: "checked" in i for i in facts.inputs if i.get("name") == "list_ids"}
    assert boxes == {energy: True, mobility: False}
    topics = {i["value"]: "checked" in i for i in facts.inputs if i.get("name") == "topics"}
    assert topics == {"energie_klimaschutz": False, "mobilitaet": True}
    assert "Mobilität" in facts.text and "Energie klimaschutz" in facts.text
    assert (await newsletter.client.get(path)).json()["language"] == "de"  # API clients: JSON
    assert await statuses(newsletter, "lea@example.org") == {energy: "confirmed"}

    form = f"list_ids={mobility}&topics=energie_klimaschutz&language=en".encode()
    saved = await newsletter.client.post(facts.forms[0]["action"], content=form, headers={**FORM, **BROWSER})
    assert saved.status_code == 200, saved.text
    assert "Ihre Einstellungen sind gespeichert." in read_page(saved.text).text
    assert await statuses(newsletter, "lea@example.org") == {energy: "unsubscribed", mobility: "confirmed"}
    stored = (await newsletter.client.get(path)).json()
    assert (stored["language"], stored["topics"]) == ("en", ["energie_klimaschutz"])
    bad = await newsletter.client.post(path, content=b"list_ids=unknown-list", headers={**FORM, **BROWSER})
    assert bad.status_code == 422
    assert await statuses(newsletter, "lea@example.org") == {energy: "unsubscribed", mobility: "confirmed"}


def tracking_urls(mail) -> list[str]:  # type: ignore[no-untyped-def]
    page = mail.message.get_body(preferencelist=("html",)).get_content()
    return [u for u in re.findall(r'(?:src|href)="([^"]+)"', page) if "/t/" in u]


async def campaign_statistics(newsletter, token_for, campaign_id):  # type: ignore[no-untyped-def]
    headers = token_for("editor", region=newsletter.settings.region)
    response = await newsletter.client.get(f"{API}/campaigns/{campaign_id}/statistics", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_without_the_list_owners_switch_nothing_is_counted_and_there_is_no_redirect(
    newsletter, sink, token_for
):
    list_id = await confirmed_audience(newsletter, token_for, [("mia@example.org", None, [])])
    campaign_id = await create_campaign(newsletter, token_for, list_id, body=LINKED)
    await send_and_wait(newsletter, token_for, campaign_id)
    mail = sink.to("mia@example.org")[0]
    assert tracking_urls(mail) == []
    assert (
        'href="https://www.example.org/boerse?x=1&amp;y=2"'
        in mail.message.get_body(preferencelist=("html",)).get_content()
    )
    pixel = await newsletter.client.get(f"{API}/t/{campaign_id}/open.gif")
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    click = await newsletter.client.get(f"{API}/t/{campaign_id}/links/0")
    assert click.status_code == 400 and "location" not in click.headers
    stats = await campaign_statistics(newsletter, token_for, campaign_id)
    assert (stats["tracking_enabled"], stats["opens"], stats["clicks"]) == (False, None, None)


async def test_a_tracking_list_counts_opens_and_clicks_per_campaign_and_redirects_only_to_its_links(
    newsletter, sink, token_for
):
    people = [("nina@example.org", None, []), ("otto@example.org", None, [])]
    list_id = await confirmed_audience(newsletter, token_for, people, tracking_enabled=True)
    campaign_id = await create_campaign(newsletter, token_for, list_id, body=LINKED)
    await send_and_wait(newsletter, token_for, campaign_id)
    nina, otto = sink.to("nina@example.org")[0], sink.to("otto@example.org")[0]
    urls = tracking_urls(nina)
    assert urls == tracking_urls(otto)  # the same for everyone: nothing names the recipient
    assert [u.rpartition("/")[2] for u in urls] == ["0", "1", "open.gif"]
    assert "List-Unsubscribe" in str(nina.message) and "/t/" not in nina.text()

    local = [u.removeprefix("https://nzr.example") for u in urls]
    for _ in range(2):
        assert (await newsletter.client.get(local[2])).content.startswith(b"GIF89a")
    first = await newsletter.client.get(local[0])
    assert first.status_code == 302 and first.headers["location"] == "https://www.example.org/boerse?x=1&y=2"
    assert (await newsletter.client.get(local[1])).headers["location"] == "https://www.example.org/aufruf"
    foreign = await newsletter.client.get(f"{local[0]}?url=https://evil.example/&to=https://evil.example/")
    assert foreign.headers["location"] == "https://www.example.org/boerse?x=1&y=2"
    beyond = await newsletter.client.get(f"{API}/t/{campaign_id}/links/2")
    assert beyond.status_code == 400 and "location" not in beyond.headers
    other = await newsletter.client.get(f"{API}/t/not-a-campaign/links/0")
    assert other.status_code == 400 and "location" not in other.headers

    stats = await campaign_statistics(newsletter, token_for, campaign_id)
    assert (stats["tracking_enabled"], stats["opens"], stats["clicks"]) == (True, 2, 3)
    notice = (await newsletter.client.get(f"{API}/privacy")).json()
    assert notice["language"] == "de" and notice["tracking_lists"] == ["Liste"]
    assert any(
        "Wir speichern nicht, wer eine Mail geöffnet" in p and "„Liste“" in p for p in notice["paragraphs"]
    )
    english = (await newsletter.client.get(f"{API}/privacy", headers={"accept-language": "en"})).json()
    assert any("We do not store who opened a mail" in p for p in english["paragraphs"])
    assert read_page((await newsletter.client.get(f"{API}/privacy", headers=BROWSER)).text).lang == "de"


async def test_statistics_count_delivered_bounces_unsubscribes_and_complaints_per_campaign(
    start_newsletter, sink, token_for
):
    newsletter = await start_newsletter(bounce_webhook_secret="hook-secret")
    people = [(f"{name}@example.org", None, []) for name in ("hard", "soft", "spam", "leaves", "reads")]
    list_id = await confirmed_audience(newsletter, token_for, people)
    campaign_id = await create_campaign(newsletter, token_for, list_id)
    await send_and_wait(newsletter, token_for, campaign_id)
    admin = token_for("admin", region=newsletter.settings.region)
    hook = {"X-Webhook-Secret": "hook-secret"}
    dsn = DSN.format(message_id=sink.to("hard@example.org")[0].message_id).encode()
    dsn_result = await newsletter.client.post(
        f"{API}/bounces/dsn", content=dsn, headers={**hook, "content-type": "message/rfc822"}
    )
    assert dsn_result.json()["recorded"] == 1
    reports = [
        {
            "email": "soft@example.org",
            "kind": "soft",
            "reason": "mailbox full",
            "message_id": sink.to("soft@example.org")[0].message_id,
        },
        {
            "email": "spam@example.org",
            "kind": "complaint",
            "message_id": sink.to("spam@example.org")[0].message_id,
        },
    ]
    assert (await newsletter.client.post(f"{API}/bounces", json=reports, headers=admin)).status_code == 200
    leave = str(sink.to("leaves@example.org")[0].message["List-Unsubscribe"]).strip("<>")
    await newsletter.client.post(
        leave.removeprefix("https://nzr.example"), content=b"List-Unsubscribe=One-Click", headers=FORM
    )

    stats = await campaign_statistics(newsletter, token_for, campaign_id)
    assert {k: stats[k] for k in ("recipients", "sent", "delivered", "bounced_hard", "bounced_soft")} == {
        "recipients": 5,
        "sent": 5,
        "delivered": 3,
        "bounced_hard": 1,
        "bounced_soft": 1,
    }
    assert (stats["unsubscribed"], stats["complaints"], stats["queued"], stats["failed"]) == (2, 1, 0, 0)
    assert await statuses(newsletter, "spam@example.org") == {list_id: "unsubscribed"}
    missing = await newsletter.client.get(f"{API}/campaigns/nope/statistics", headers=admin)
    assert missing.status_code == 404


async def test_a_promoted_registration_with_consent_subscribes_with_the_events_district_and_topics(
    newsletter, sink, publish
):
    region = newsletter.settings.region
    await publish(
        RegistrationConfirmed(
            registration_id=f"w-{region}",
            event_id="e-konferenz",
            name="Paula Warteliste",
            email="paula@example.org",
            newsletter_consent=True,
            consent_text_version="anmeldung-v3",
            confirmed_at=datetime.now(UTC),
            promoted_from_waiting_list=True,
            district="14612000",
            topics=["energie_klimaschutz", "mobilitaet"],
        ),
        region=region,
    )
    await sink.wait_for(lambda: sink.to("paula@example.org"))
    async with newsletter.app.state.runtime.sessions() as session:
        subscriber = await session.scalar(
            select(SubscriberRow).where(SubscriberRow.email == "paula@example.org")
        )
    assert subscriber is not None
    assert (subscriber.district, subscriber.topics) == ("14612000", ["energie_klimaschutz", "mobilitaet"])
    assert set((await statuses(newsletter, "paula@example.org")).values()) == {"pending"}
