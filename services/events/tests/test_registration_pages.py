"""The German pages behind the links in registration mails, over HTTP: the manage page (GET
shows, POST cancels or changes sessions), the feedback page and the friendly page for a forged
or expired link."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import uvicorn
from events_testkit import in_berlin

from nzr_common.contracts.actors import person_id_for
from nzr_common.testing.waiting import eventually
from nzr_events import privacy
from nzr_events.registrations.rules import sign_cancellation

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class PageCheck(HTMLParser):
    """What an accessibility reviewer checks first: the document language, a heading, and a
    label for every visible form control."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.headings = 0
        self.controls: list[str] = []
        self.labelled: set[str] = set()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "h1":
            self.headings += 1
        elif tag == "label" and "for" in found:
            self.labelled.add(found["for"])
        elif tag in ("input", "textarea", "select") and found.get("type") != "hidden":
            self.controls.append(found.get("id", "<no id>"))
        elif tag == "form":
            self.forms.append(found)


def checked_page(html: str, lang: str = "de") -> PageCheck:
    assert html.startswith("<!DOCTYPE html>")
    page = PageCheck()
    page.feed(html)
    assert page.lang == lang and page.headings == 1
    assert set(page.controls) <= page.labelled, set(page.controls) - page.labelled
    assert all(form.get("method") == "post" for form in page.forms)
    return page


def _session(title: str, hour: int, **extra: Any) -> dict[str, Any]:
    start = in_berlin(30, hour=hour)
    return {
        "title": title,
        "kind": "workshop",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        **extra,
    }


async def _status(events: Any, event_id: str) -> dict[str, tuple[str, list[str]]]:
    listed = await events.client.get(f"/api/v1/events/{event_id}/registrations", headers=events.admin)
    return {r["id"]: (r["status"], r["session_ids"]) for r in listed.json()["items"]}


async def test_the_manage_page_shows_and_a_get_never_changes_anything(events):
    event = await events.published_event(capacity=1, title="Netzwerktreffen <Klima> & Energie")
    seated = await events.registered(event["id"])
    waiting = await events.registered(event["id"])
    path = urlparse(seated["cancellation_url"])
    before = await _status(events, event["id"])
    for _ in range(3):  # a mail scanner prefetching the link
        page = await events.client.get(path.path, params=parse_qs(path.query))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert await _status(events, event["id"]) == before
    assert await events.announced("participant_notice") == []
    html = page.text
    checked_page(html)
    assert "Netzwerktreffen &lt;Klima&gt; &amp; Energie" in html  # autoescaped
    assert "Anmeldung stornieren" in html and "Bürgerhaus" in html and "bestätigt" in html
    assert page.headers["cache-control"] == "no-store"
    waiting_page = await events.client.get(path.path, params={"token": waiting["cancellation_token"]})
    assert "Warteliste, Platz 1" in waiting_page.text
    english = await events.client.get(
        path.path, params=parse_qs(path.query), headers={"Accept-Language": "en"}
    )
    checked_page(english.text, lang="en")
    assert "Cancel registration" in english.text


async def test_posting_the_cancel_form_cancels_and_promotes_the_waiting_list(events):
    event = await events.published_event(capacity=1)
    seated = await events.registered(event["id"])
    waiting = await events.registered(event["id"])
    done = await events.client.post(
        "/api/v1/registrations/manage",
        content=f"token={seated['cancellation_token']}&action=cancel",
        headers=FORM,
    )
    assert done.status_code == 200, done.text
    checked_page(done.text)
    assert "Anmeldung storniert" in done.text
    status = await _status(events, event["id"])
    assert status[seated["id"]][0] == "cancelled" and status[waiting["id"]][0] == "confirmed"
    kinds = [e["data"]["kind"] for e in await events.announced("participant_notice")]
    assert kinds == ["cancelled", "promoted"]
    shown = await events.client.get(
        "/api/v1/registrations/manage", params={"token": seated["cancellation_token"]}
    )
    assert "Storniert." in shown.text and "Anmeldung stornieren</button>" not in shown.text


async def test_sessions_are_changed_through_the_form_one_per_slot(events):
    event = await events.published_event()
    ids = {}
    for body in (
        _session("Workshop Solar", 11, room="Raum A", capacity=1),
        _session("Workshop Wärme", 11, room="Raum B", capacity=1),
        _session("Exkursion", 13),
    ):
        made = await events.client.post(
            f"/api/v1/events/{event['id']}/sessions", json=body, headers=events.editor
        )
        ids[body["title"]] = made.json()["id"]
    receipt = await events.registered(event["id"], session_ids=[ids["Workshop Solar"]])
    page = await events.client.get(
        "/api/v1/registrations/manage", params={"token": receipt["cancellation_token"]}
    )
    checked_page(page.text)
    assert "Workshop Wärme" in page.text and "Zeitfenster" in page.text

    token = receipt["cancellation_token"]
    changed = await events.client.post(
        "/api/v1/registrations/manage",
        content=f"token={token}&action=sessions&slot_1={ids['Workshop Wärme']}&slot_2={ids['Exkursion']}",
        headers=FORM,
    )
    assert changed.status_code == 200 and "Auswahl gespeichert" in changed.text
    assert (await _status(events, event["id"]))[receipt["id"]][1] == [ids["Workshop Wärme"], ids["Exkursion"]]
    programme = {
        s["title"]: s for s in (await events.client.get(f"/api/v1/events/{event['id']}/sessions")).json()
    }
    assert programme["Workshop Solar"]["seats_left"] == 1 and programme["Workshop Wärme"]["seats_left"] == 0

    parallel = await events.client.post(
        "/api/v1/registrations/manage",
        content=f"token={token}&action=sessions&slot_1={ids['Workshop Wärme']}"
        f"&slot_3={ids['Workshop Solar']}",
        headers=FORM,
    )
    assert parallel.status_code == 422 and "höchstens einen Programmpunkt" in parallel.text
    checked_page(parallel.text)
    assert (await _status(events, event["id"]))[receipt["id"]][1] == [ids["Workshop Wärme"], ids["Exkursion"]]


async def test_forged_and_expired_links_get_a_friendly_page_not_json(events):
    event = await events.published_event()
    receipt = await events.registered(event["id"])
    secret = events.running.runtime.settings.jwt_secret.get_secret_value()
    expired = sign_cancellation(secret, receipt["id"], datetime.now(UTC) - timedelta(seconds=1))
    for token, status in ((receipt["cancellation_token"][:-3] + "abc", 400), ("", 400), (expired, 410)):
        shown = await events.client.get("/api/v1/registrations/manage", params={"token": token})
        posted = await events.client.post(
            "/api/v1/registrations/manage", content=f"token={token}&action=cancel", headers=FORM
        )
        for page in (shown, posted):
            assert page.status_code == status and page.headers["content-type"].startswith("text/html")
            checked_page(page.text)
            assert ("abgelaufen" if status == 410 else "ungültig") in page.text
    english = await events.client.get(
        "/api/v1/registrations/manage", params={"token": "forged-token"}, headers={"Accept-Language": "en-US"}
    )
    assert english.status_code == 400 and "This link is not valid" in english.text
    assert (await _status(events, event["id"]))[receipt["id"]][0] == "confirmed"


async def test_feedback_is_given_changed_and_read_in_aggregate_by_organisers(events):
    event = await events.published_event()
    receipt = await events.registered(event["id"], email="greta.feedback@example.org")
    other = await events.registered(event["id"])
    assert (
        await events.client.post(f"/api/v1/events/{event['id']}/complete", headers=events.editor)
    ).status_code == 200
    thanks = {
        e["data"]["registration"]["registration_id"]: e["data"]
        for e in await events.announced("participant_notice")
    }
    link = urlparse(thanks[receipt["id"]]["feedback_url"])
    token = parse_qs(link.query)["token"][0]
    form = await events.client.get(link.path, params={"token": token})
    assert form.status_code == 200
    checked_page(form.text)
    assert "Ihre Bewertung" in form.text

    bad = await events.client.post(link.path, content=f"token={token}&rating=7&comment=", headers=FORM)
    assert bad.status_code == 422 and "von 1 bis 5" in bad.text
    for rating, comment in (("4", "Gute+Workshops"), ("5", "Sehr+gute+Workshops%2C+danke%21")):
        saved = await events.client.post(
            link.path, content=f"token={token}&rating={rating}&comment={comment}", headers=FORM
        )
        assert saved.status_code == 200 and "Danke für Ihre Rückmeldung" in saved.text
    other_token = parse_qs(urlparse(thanks[other["id"]]["feedback_url"]).query)["token"][0]
    await events.client.post(link.path, content=f"token={other_token}&rating=2", headers=FORM)

    again = await events.client.get(link.path, params={"token": token})
    assert "Sehr gute Workshops, danke!" in again.text and 'value="5" required checked' in again.text
    summary = await events.client.get(f"/api/v1/events/{event['id']}/feedback", headers=events.editor)
    assert summary.status_code == 200
    assert summary.json() == {
        "event_id": event["id"],
        "responses": 2,
        "average_rating": 3.5,
        "ratings": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
        "comments": ["Sehr gute Workshops, danke!"],
    }
    assert (await events.client.get(f"/api/v1/events/{event['id']}/feedback")).status_code == 401
    exported = await events.client.post(
        "/api/v1/registrations/export", json={"email": "greta.feedback@example.org"}, headers=events.admin
    )
    [record] = exported.json()["registrations"]
    assert (record["feedback_rating"], record["feedback_comment"]) == (5, "Sehr gute Workshops, danke!")
    async with events.running.runtime.sessions() as session, session.begin():  # GDPR Art. 17
        await privacy.erase_person(session=session, person_id=person_id_for("greta.feedback@example.org"))
    after = (await events.client.get(f"/api/v1/events/{event['id']}/feedback", headers=events.editor)).json()
    assert (after["responses"], after["average_rating"], after["comments"]) == (2, 3.5, [])
    # The manage token opens no feedback page, and the feedback token cancels nothing.
    crossed = await events.client.get(link.path, params={"token": receipt["cancellation_token"]})
    assert crossed.status_code == 400
    refused = await events.client.post("/api/v1/registrations/cancel", params={"token": token})
    assert refused.status_code == 403


def dom_in_chromium(url: str, language: str = "de-DE,de") -> tuple[str, list[str]]:
    """The DOM headless Chromium renders for ``url`` (asking for ``language``) and its console
    messages (the pages have no script, so any message is a failed load)."""
    assert CHROMIUM is not None
    profile = tempfile.mkdtemp(prefix="nzr-chromium-")
    try:
        process = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                f"--lang={language.split(',')[0]}",
                f"--accept-lang={language}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=3000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert process.returncode == 0, process.stderr[-2000:]
    return process.stdout, [line for line in process.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian: apt-get install -y chromium)")
async def test_a_browser_opening_the_mailed_link_sees_the_page_and_changes_nothing(events):
    event = await events.published_event(capacity=1)
    seated = await events.registered(event["id"])
    before = await _status(events, event["id"])
    server = uvicorn.Server(
        uvicorn.Config(events.running.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0.01, result=server.started))
        port = server.servers[0].sockets[0].getsockname()[1]
        link = urlparse(seated["cancellation_url"])
        dom, console = await asyncio.to_thread(
            dom_in_chromium, f"http://127.0.0.1:{port}{link.path}?{link.query}"
        )
        english, _ = await asyncio.to_thread(
            dom_in_chromium, f"http://127.0.0.1:{port}{link.path}?{link.query}", "en-US,en"
        )
    finally:
        server.should_exit = True
        await task
    assert console == [], console
    assert (
        "<h1>Ihre Anmeldung</h1>" in dom and "Anmeldung stornieren" in dom and "Werkstatt Klimaschutz" in dom
    )
    assert '<html lang="en">' in english and "Cancel registration" in english
    assert await _status(events, event["id"]) == before
    assert await events.announced("participant_notice") == []
