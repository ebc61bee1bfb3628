"""The newsletter part of the demo: a list with tracking switched on, five subscribers who
confirm by the link in their mail (as people would, through the development mail sink), and one
campaign sent to them whose statistics show something: one reader opens it and clicks a link,
one leaves through its unsubscribe link, one mailbox reports a soft bounce.

Every step is remembered in the demo ledger, so a restart repeats nothing."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from email.message import EmailMessage
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import httpx

from nzr_cli.tokens import local_token

API = "/api/v1/newsletter"
STEP = "newsletter"
_SRC = re.compile(r'(?:src|href)="([^"]+)"')


class NewsletterDemoFailed(Exception):
    """The newsletter refused a demo step or did not get there in time."""


def demo_data() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("newsletter.json").read_text(encoding="utf-8"))


def load_newsletter_demo(*, ledger: Any, base_url: str, region: str, timeout: float = 60.0) -> int:
    """Create what the ledger does not know yet; returns how many steps were done."""
    data = demo_data()
    done = 0
    editor = {"Authorization": f"Bearer {local_token(region=region, roles=['editor'], subject='nzr-demo')}"}
    admin = {"Authorization": f"Bearer {local_token(region=region, roles=['admin'], subject='nzr-demo')}"}
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        list_id = ledger.id_of(STEP, "list")
        if list_id is None:
            body = {k: v for k, v in data["list"].items() if k != "key"}
            list_id = _json(client.post(f"{API}/lists", json=body, headers=editor))["id"]
            ledger.record(STEP, "list", list_id)
            done += 1
        addresses = [s["email"] for s in data["subscribers"]]
        if ledger.id_of(STEP, "subscribers") is None:
            _json(
                client.post(
                    f"{API}/subscribers/import",
                    json={
                        "list_ids": [list_id],
                        "consent_text_version": data["consent_text_version"],
                        "rows": data["subscribers"],
                    },
                    headers=admin,
                )
            )
            for address in addresses:  # each person clicks the link in their confirmation mail
                mail = _wait_for_mail(client, address, "/confirm?token=", timeout)
                link = next(link for link in mail["links"] if "/confirm?token=" in link)
                _json(client.post(_local(link)))
            ledger.record(STEP, "subscribers", "confirmed")
            done += 1
        campaign_id = ledger.id_of(STEP, "campaign")
        if campaign_id is None:
            body = {k: v for k, v in data["campaign"].items() if k != "key"} | {"list_ids": [list_id]}
            campaign_id = _json(client.post(f"{API}/campaigns", json=body, headers=editor))["id"]
            _json(client.post(f"{API}/campaigns/{campaign_id}/send", headers=editor))
            ledger.record(STEP, "campaign", campaign_id)
            done += 1
        if ledger.id_of(STEP, "campaign-effects") is None:
            _wait_until_sent(client, campaign_id, len(addresses), editor, timeout)
            _act_on_campaign(client, data, admin, timeout)
            ledger.record(STEP, "campaign-effects", "done")
            done += 1
    return done


def _act_on_campaign(
    client: httpx.Client, data: dict[str, Any], admin: dict[str, str], timeout: float
) -> None:
    subject = data["campaign"]["subject"]
    reader = _message(client, _wait_for_mail(client, data["reader"], subject, timeout))
    html = reader.get_body(preferencelist=("html",))
    urls = _SRC.findall(html.get_content() if html is not None else "")
    for url in [u for u in urls if u.endswith("/open.gif")][:1] + [u for u in urls if "/links/" in u][:1]:
        client.get(_local(url))  # the reader's mail program loads the image; the reader clicks once
    leaver = _message(client, _wait_for_mail(client, data["leaves"], subject, timeout))
    one_click = str(leaver["List-Unsubscribe"]).strip("<>")
    _json(
        client.post(
            _local(one_click),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )
    full = _message(client, _wait_for_mail(client, data["soft_bounce"], subject, timeout))
    report = [
        {
            "email": data["soft_bounce"],
            "kind": "soft",
            "status": "4.2.2",
            "reason": "452 4.2.2 Mailbox full",
            "message_id": str(full["Message-ID"]),
        }
    ]
    _json(client.post(f"{API}/bounces", json=report, headers=admin))


def _local(url: str) -> str:
    """A link from a mail, asked of this service (whatever public address it names)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _wait_for_mail(client: httpx.Client, address: str, marker: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # the newest 200 (one page at the largest limit): the mail waited for is among them
        for mail in _json(client.get(f"{API}/dev/mail.json", params={"limit": 200}))["items"]:
            if address in mail["to"] and (
                marker in mail["subject"] or any(marker in x for x in mail["links"])
            ):
                return dict(mail)
        time.sleep(0.2)
    raise NewsletterDemoFailed(f"no mail to {address} ({marker}) in the development sink")


def _message(client: httpx.Client, mail: dict[str, Any]) -> EmailMessage:
    raw = client.get(f"{API}/dev/mail/{mail['name']}")
    raw.raise_for_status()
    return email.message_from_bytes(raw.content, policy=email.policy.default)


def _wait_until_sent(
    client: httpx.Client, campaign_id: str, count: int, editor: dict[str, str], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = _json(client.get(f"{API}/campaigns/{campaign_id}/statistics", headers=editor))
        if stats["sent"] >= count and stats["queued"] == 0:
            return
        time.sleep(0.2)
    raise NewsletterDemoFailed(f"campaign {campaign_id} was not sent within {timeout:g} s")


def _json(response: httpx.Response) -> Any:
    if response.is_error:
        raise NewsletterDemoFailed(
            f"{response.request.url} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json()
