"""Every list of newsletter pages by `limit` and `cursor` (the `next` link, also as the `Link`
header) and sorts by its `sort` values (`field`, `-field`, empty values last, ties by id): walked
page by page, each item comes once, in the order asked for; a forged cursor, an unknown sort or a
bad limit is 422 naming the parameter."""

from __future__ import annotations

import asyncio
import html
import re
import smtplib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions.models import SubscriptionRow
from nzr_newsletter.transactional.models import MailRow

API = "/api/v1/newsletter"


async def walk(client: Any, url: str, params: dict[str, Any], headers: Any = None) -> list[dict[str, Any]]:
    """Every item of a list through ``next``; each page's ``Link`` header must be its ``next``."""
    items: list[dict[str, Any]] = []
    response = await client.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next"] is None:
            assert "link" not in response.headers
            assert page["total"] == len(items)
            return items
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        response = await client.get(page["next"], headers=headers)


def order(
    items: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], descending: bool = False
) -> list[Any]:
    """Ids in the promised order: by ``key`` (descending if asked), empty keys last, ties by id."""
    present = sorted((i for i in items if key(i) is not None), key=lambda i: i["id"])
    missing = sorted((i for i in items if key(i) is None), key=lambda i: i["id"])
    return [i["id"] for i in sorted(present, key=key, reverse=descending) + missing]


def ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item["id"] for item in items]


async def refused(client: Any, url: str, params: dict[str, Any], headers: Any = None) -> list[str]:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [p["name"] for p in response.json()["invalid_params"]]


async def test_lists_walk_page_by_page_in_the_order_they_were_made(newsletter, token_for):
    editor = token_for("editor", region=newsletter.settings.region)
    made = []
    for n, visibility in enumerate(["public", "internal", "public", "public", "internal"]):
        body = {"name": f"Liste {n}", "visibility": visibility}
        created = await newsletter.client.post(f"{API}/lists", json=body, headers=editor)
        assert created.status_code == 201, created.text
        made.append(created.json())
    url = f"{API}/lists"
    assert ids(await walk(newsletter.client, url, {"limit": 2}, editor)) == ids(made)
    public = await walk(newsletter.client, url, {"limit": 1})
    assert ids(public) == [m["id"] for m in made if m["visibility"] == "public"]
    assert {item["confirmed_subscribers"] for item in public} == {None}  # counts only for editors
    assert await refused(newsletter.client, url, {"cursor": "eyJvIjoiMSJ9"}) == ["cursor"]
    assert await refused(newsletter.client, url, {"limit": 201}) == ["limit"]
    assert await refused(newsletter.client, url, {"sort": "name"}) == ["sort"]  # not sortable


async def test_subscribers_walk_page_by_page_in_every_sort_order(newsletter, token_for):
    editor = token_for("editor", region=newsletter.settings.region)
    list_id = (await newsletter.client.post(f"{API}/lists", json={"name": "Liste"}, headers=editor)).json()[
        "id"
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    people = [
        ("mara@example.org", "Mara Weber", 5),
        ("ben@example.org", "ben Krause", 1),
        ("zoe@example.org", "Zoe Hahn", 3),
        ("carl@example.org", "ben Krause", 3),
        ("ida@example.org", "Ida Lang", 0),
    ]
    created = {}
    async with newsletter.app.state.runtime.sessions() as session, session.begin():
        for address, name, minutes in people:
            row = SubscriberRow(
                id=str(uuid.uuid4()),
                email=address,
                name=name,
                topics=[],
                blocked=False,
                soft_bounces=0,
                created_at=now - timedelta(minutes=minutes),
            )
            session.add(row)
            await session.flush()
            created[row.id] = row.created_at
            session.add(
                SubscriptionRow(
                    subscriber_id=row.id,
                    list_id=list_id,
                    status="confirmed",
                    source="test",
                    consent_text_version="v1",
                    requested_at=now,
                    confirmed_at=now,
                )
            )
    admin = token_for("admin", region=newsletter.settings.region)
    url = f"{API}/subscribers"
    everything = await walk(newsletter.client, url, {"limit": 500}, admin)
    expected = {
        None: order(everything, lambda s: s["email"]),
        "email": order(everything, lambda s: s["email"]),
        "-email": order(everything, lambda s: s["email"], descending=True),
        "name": order(everything, lambda s: s["name"].lower()),
        "-name": order(everything, lambda s: s["name"].lower(), descending=True),
        "created_at": order(everything, lambda s: created[s["id"]]),
        "-created_at": order(everything, lambda s: created[s["id"]], descending=True),
    }
    for sort, promised in expected.items():
        walked = await walk(newsletter.client, url, {"limit": 2, **({"sort": sort} if sort else {})}, admin)
        assert ids(walked) == promised, sort
    assert await refused(newsletter.client, url, {"cursor": "AAAA"}, admin) == ["cursor"]
    assert await refused(newsletter.client, url, {"sort": "district"}, admin) == ["sort"]
    assert await refused(newsletter.client, url, {"limit": 0}, admin) == ["limit"]
    assert await refused(newsletter.client, url, {"status": "bestätigt"}, admin) == ["status"]


async def test_campaigns_walk_page_by_page_in_every_sort_order(newsletter, token_for):
    editor = token_for("editor", region=newsletter.settings.region)
    list_id = (await newsletter.client.post(f"{API}/lists", json={"name": "Liste"}, headers=editor)).json()[
        "id"
    ]
    schedule = {"Herbst": "2031-09-01T08:00:00+00:00", "winter": None, "Advent": "2030-12-01T08:00:00+00:00"}
    schedule |= {"Sommer": None}
    for name, at in schedule.items():
        body = {"name": name, "subject": f"Neues: {name}", "body": "Hallo {{ name }}", "list_ids": [list_id]}
        created = await newsletter.client.post(f"{API}/campaigns", json=body, headers=editor)
        assert created.status_code == 201, created.text
        if at:
            sent = await newsletter.client.post(
                f"{API}/campaigns/{created.json()['id']}/send", json={"scheduled_at": at}, headers=editor
            )
            assert sent.json()["status"] == "scheduled", sent.text
    url = f"{API}/campaigns"
    everything = await walk(newsletter.client, url, {"limit": 200}, editor)
    assert len(everything) == 4

    def at(campaign: dict[str, Any]) -> datetime | None:
        return datetime.fromisoformat(campaign["scheduled_at"]) if campaign["scheduled_at"] else None

    def made(campaign: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(campaign["created_at"])

    life_cycle = {"draft": 0, "scheduled": 1}
    expected = {
        None: order(everything, made, descending=True),
        "-created_at": order(everything, made, descending=True),
        "created_at": order(everything, made),
        "scheduled_at": order(everything, at),
        "-scheduled_at": order(everything, at, descending=True),
        "name": order(everything, lambda c: c["name"].lower()),
        "-name": order(everything, lambda c: c["name"].lower(), descending=True),
        "status": order(everything, lambda c: life_cycle[c["status"]]),
        "-status": order(everything, lambda c: life_cycle[c["status"]], descending=True),
    }
    for sort, promised in expected.items():
        walked = await walk(newsletter.client, url, {"limit": 3, **({"sort": sort} if sort else {})}, editor)
        assert ids(walked) == promised, sort
    assert [c["name"] for c in await walk(newsletter.client, url, {"limit": 1, "sort": "name"}, editor)] == [
        "Advent",
        "Herbst",
        "Sommer",
        "winter",
    ]
    assert await refused(newsletter.client, url, {"cursor": "bm9wZQ"}, editor) == ["cursor"]
    assert await refused(newsletter.client, url, {"sort": "subject"}, editor) == ["sort"]
    assert await refused(newsletter.client, url, {"status": "geplant"}, editor) == ["status"]
    drafts = await walk(newsletter.client, url, {"limit": 1, "status": "draft", "sort": "name"}, editor)
    assert [c["name"] for c in drafts] == ["Sommer", "winter"]


async def test_transactional_mails_walk_page_by_page_by_creation_and_sending_time(newsletter, token_for):
    event_id = str(uuid.uuid4())
    now = datetime.now(UTC).replace(microsecond=0)
    # terminal states only: the sender leaves them alone
    plans = [
        ("sent", 50, 49),
        ("bounced", 40, None),
        ("sent", 30, 1),
        ("suppressed", 20, None),
        ("sent", 10, 1),  # sent in the same second as the third: the id decides
        ("failed", 5, None),
    ]
    async with newsletter.app.state.runtime.sessions() as session, session.begin():
        for n, (status, created, sent) in enumerate(plans):
            session.add(
                MailRow(
                    recipient=f"person{n}@example.org",
                    purpose="reminder",
                    event_id=event_id,
                    message=b"Subject: Erinnerung\r\n\r\nBis bald.\r\n",
                    status=status,
                    attempts=1,
                    next_attempt_at=now,
                    created_at=now - timedelta(minutes=created),
                    sent_at=now - timedelta(minutes=sent) if sent is not None else None,
                )
            )
    editor = token_for("editor", region=newsletter.settings.region)
    url, params = f"{API}/transactional/mails", {"event_id": event_id, "limit": 4}
    everything = await walk(newsletter.client, url, {**params, "limit": 500}, editor)
    assert len(everything) == 6

    def stamp(field: str) -> Callable[[dict[str, Any]], datetime | None]:
        return lambda m: datetime.fromisoformat(m[field]) if m[field] else None

    expected = {
        None: order(everything, stamp("created_at"), descending=True),
        "-created_at": order(everything, stamp("created_at"), descending=True),
        "created_at": order(everything, stamp("created_at")),
        "sent_at": order(everything, stamp("sent_at")),
        "-sent_at": order(everything, stamp("sent_at"), descending=True),
    }
    for sort, promised in expected.items():
        walked = await walk(newsletter.client, url, {**params, **({"sort": sort} if sort else {})}, editor)
        assert ids(walked) == promised, sort
    sent = await walk(
        newsletter.client, url, {**params, "limit": 1, "status": "sent", "sort": "sent_at"}, editor
    )
    assert [m["recipient"] for m in sent] == ["p***@example.org"] * 3
    assert await refused(newsletter.client, url, {"cursor": "eyJvIjp0cnVlfQ"}, editor) == ["cursor"]
    assert await refused(newsletter.client, url, {"sort": "time"}, editor) == ["sort"]
    assert await refused(newsletter.client, url, {"limit": 501}, editor) == ["limit"]


async def test_the_development_sinks_mails_walk_page_by_page_newest_first(start_newsletter, tmp_path):
    newsletter = await start_newsletter(smtp_host=None, smtp_sink_dir=tmp_path, environment="development")
    port = newsletter.deps.sink.port

    def send(n: int) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "nzr@example.org",
            f"p{n}@example.org",
            f"Mail {n}",
        )
        message.set_content(f"Nummer {n}")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)

    for n in range(5):
        await asyncio.to_thread(send, n)
    url = f"{API}/dev/mail.json"
    walked = await walk(newsletter.client, url, {"limit": 2})
    assert [m["subject"] for m in walked] == [f"Mail {n}" for n in reversed(range(5))]
    assert [m["name"] for m in walked] == sorted(path.name for path in tmp_path.glob("*.eml"))[::-1]
    assert await refused(newsletter.client, url, {"cursor": "eyJvIjo5OTk5OTk5OTk5OTk5fQ"}) == ["cursor"]
    # the sink's page pages the same way, "Ältere Mails" being the next link
    subjects, page = [], await newsletter.client.get(f"{API}/dev/mail", params={"limit": 2})
    while True:
        assert page.status_code == 200, page.text
        subjects += re.findall(r"<td>(Mail \d)</td>", page.text)
        older = re.search(r'<a href="([^"]+)" rel="next">Ältere Mails</a>', page.text)
        if older is None:
            assert "link" not in page.headers
            break
        link = html.unescape(older.group(1))
        assert page.headers["link"] == f'<{link}>; rel="next"' and "5 Mails" in page.text
        page = await newsletter.client.get(link)
    assert subjects == [f"Mail {n}" for n in reversed(range(5))]
