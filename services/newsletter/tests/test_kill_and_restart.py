"""The service process is killed (SIGKILL) in the middle of a campaign and started again:
every recipient gets the campaign, none is skipped, and none gets it twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from nzr_common.db import create_engine, create_sessionmaker, migrate_async
from nzr_newsletter.delivery.models import DeliveryRow
from nzr_newsletter.lists.models import ListRow
from nzr_newsletter.subscribers.models import SubscriberRow
from nzr_newsletter.subscriptions.models import SubscriptionRow

RECIPIENTS = 300
API = "/api/v1/newsletter"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_service(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "nzr_newsletter", "serve"],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    # Up to two minutes: on a loaded machine the import alone took 30 s (15 s was too short).
    deadline = asyncio.get_running_loop().time() + 120.0
    async with httpx.AsyncClient(trust_env=False) as client:
        while asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, "the service exited during start-up"
            try:
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the service did not come up")


async def seed(url: str) -> str:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    list_id = str(uuid.uuid4())
    async with sessions() as session, session.begin():
        session.add(
            ListRow(
                id=list_id,
                name="Alle",
                description="",
                topic=None,
                visibility="public",
                registration_default=False,
                digest=False,
                created_at=now,
            )
        )
        await session.flush()
        for number in range(RECIPIENTS):
            subscriber = SubscriberRow(
                id=str(uuid.uuid4()),
                email=f"m{number}@example.org",
                name=f"M{number}",
                district=None,
                topics=[],
                blocked=False,
                soft_bounces=0,
                created_at=now,
            )
            session.add(subscriber)
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
    await engine.dispose()
    return list_id


async def test_killing_the_service_mid_campaign_and_restarting_sends_every_mail_exactly_once(
    nats_url, databases, sink, token_for, tmp_path
):
    region = f"k{uuid.uuid4().hex[:10]}"
    database_url = await databases.new("newsletter")
    await migrate_async("nzr_newsletter", database_url)
    list_id = await seed(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "REGION": region,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "PORT": str(port),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_CONCURRENCY": "10",
        "RATE_PER_SECOND": "60",
        "SENDER_LEASE_SECONDS": "2",
        "DELIVERY_POLL_SECONDS": "0.05",
        "ENVIRONMENT": "test",
        "SENDER": "Netzwerk <newsletter@nzr.example>",
    }
    log = tmp_path / "newsletter.log"
    process = start_service(env, log)
    try:
        await wait_healthy(base_url, process)
        headers = token_for("editor", region=region)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, trust_env=False) as client:
            created = await client.post(
                f"{API}/campaigns",
                json={"name": "Kill", "subject": "Hallo", "body": "Hallo {{ name }}", "list_ids": [list_id]},
            )
            campaign_id = created.json()["id"]
            assert (await client.post(f"{API}/campaigns/{campaign_id}/send")).status_code == 200
        await sink.wait_for(lambda: len(sink.received) >= RECIPIENTS // 3, within=30)
        await asyncio.sleep(random.uniform(0.2, 1.5))  # a moment unrelated to any SMTP reply
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        received_before_restart = len(sink.received)
        engine = create_engine(database_url)
        async with create_sessionmaker(engine)() as session:
            left_sending = (
                await session.scalar(
                    select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "sending")
                )
                or 0
            )
        await engine.dispose()
        assert received_before_restart < RECIPIENTS
        print(f"\nkilled at {datetime.now(UTC):%H:%M:%S.%f}")

        process = start_service(env, log)
        await wait_healthy(base_url, process)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, trust_env=False) as client:
            for _ in range(600):
                campaign = (await client.get(f"{API}/campaigns/{campaign_id}")).json()
                if campaign["status"] == "sent":
                    break
                await asyncio.sleep(0.1)
        print(f"finished at {datetime.now(UTC):%H:%M:%S.%f}")
        assert campaign["status"] == "sent", campaign
        assert campaign["stats"]["sent"] == RECIPIENTS
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)

    per_recipient = Counter(r for item in sink.received for r in item.recipients)
    message_ids = Counter(item.message_id for item in sink.received)
    repeats = sum(n - 1 for n in message_ids.values())
    print(
        f"\nkilled after {received_before_restart} of {RECIPIENTS} mails; {left_sending} rows were "
        f"in 'sending'; raw deliveries {len(sink.received)}, repeated Message-IDs {repeats}"
    )
    expected = {f"m{number}@example.org" for number in range(RECIPIENTS)}
    assert set(per_recipient) == expected  # none skipped
    assert len(message_ids) == RECIPIENTS  # one Message-ID per recipient: each recipient got one mail
    assert all(item.message_id.startswith(f"<{campaign_id}.") for item in sink.received)
    # A repeat is only possible for a mail in the instant between the server's 250 and the
    # commit of "sent": at most the rows left in "sending", and then with the same Message-ID.
    assert repeats <= left_sending
