"""Newsletter campaign delivery against a bare aiosmtplib loop, into the same aiosmtpd sink.

* **baseline**: 10 aiosmtplib connections sending one prebuilt message (bytes) N times.
* **campaign**: the newsletter's own sender (``nzr_newsletter.delivery.sender.Sender``: lease,
  per-recipient delivery rows queued → sending → sent with group commits, template rendered
  once and personalised into bytes per recipient, signed unsubscribe/preferences links) with
  10 connections, sending a campaign to N confirmed subscribers of a SQLite (or, with
  ``--database-url``, PostgreSQL) database. Timed from the moment the campaign is due: the
  enqueueing of N delivery rows is included in "end-to-end" and reported on its own.

The sink runs in its own process; baseline and campaign each run in a fresh child process so
that their peak RSS (``ru_maxrss``) is their own. Target (issue 5): campaign mails/s ≥ 50% of
the baseline, peak RSS < 200 MB at 100,000 recipients. Nothing is asserted; the figures and the
verdict are printed. ``.venv/bin/python bench/newsletter_delivery.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

TARGET_RATIO = 0.5
CONNECTIONS = 10


def run_sink(port_pipe, counter) -> None:  # type: ignore[no-untyped-def]
    """An aiosmtpd server that counts what it accepts (in its own process)."""
    from aiosmtpd.smtp import SMTP

    class Count:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Count()), "127.0.0.1", 0)
        port_pipe.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(serve())


BODY = (
    "Hallo {{ name }},\n\n**Neuigkeiten** aus dem Netzwerk.\n\n" * 20
    + "[Ihre Einstellungen]({{ preferences_url }})\n"
)


def prebuilt_message() -> bytes:
    """The campaign's message for one recipient, built once: the baseline sends the same bytes."""
    from nzr_newsletter.sandbox import prepare_message

    prepared = prepare_message(
        campaign_id=str(uuid.uuid4()),
        subject="Neues aus dem Netzwerk",
        body=BODY,
        sender="Netzwerk <newsletter@nzr.example>",
        list_id_header="<bench.nzr.invalid>",
        context={},
    )
    token = "x" * 120  # about the length of a signed link token
    return prepared.personalise(
        to="m0@example.org",
        subscriber_id=str(uuid.uuid4()),
        name="Person 0",
        unsubscribe_url=f"https://nzr.example/api/v1/newsletter/unsubscribe?token={token}",
        preferences_url=f"https://nzr.example/api/v1/newsletter/preferences?token={token}",
    )


def run_baseline(port: int, n: int, result_pipe) -> None:  # type: ignore[no-untyped-def]
    import aiosmtplib

    async def main() -> float:
        message = prebuilt_message()
        remaining = iter(range(n))

        async def connection() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
            await client.connect()
            for number in remaining:
                await client.sendmail("newsletter@nzr.example", [f"m{number}@example.org"], message)
            await client.quit()

        started = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
        return time.perf_counter() - started

    seconds = asyncio.run(main())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result_pipe.send({"seconds": seconds, "peak_mb": peak_mb})


async def seed(database_url: str, n: int) -> str:
    """A list, N confirmed subscribers and a campaign due now; returns the campaign id."""
    from nzr_common.db import create_engine, migrate_async
    from nzr_newsletter.tables import CampaignRow, ListRow, SubscriberRow, SubscriptionRow

    await migrate_async("nzr_newsletter", database_url)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    list_id, campaign_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            ListRow.__table__.insert(),
            [
                {
                    "id": list_id,
                    "name": "Alle",
                    "description": "",
                    "topic": None,
                    "visibility": "public",
                    "registration_default": False,
                    "digest": False,
                    "created_at": now,
                }
            ],
        )
        for start in range(0, n, 10_000):
            ids = [str(uuid.uuid4()) for _ in range(start, min(start + 10_000, n))]
            await connection.execute(
                SubscriberRow.__table__.insert(),
                [
                    {
                        "id": sid,
                        "email": f"m{start + i}@example.org",
                        "name": f"Person {start + i}",
                        "district": None,
                        "topics": [],
                        "blocked": False,
                        "soft_bounces": 0,
                        "created_at": now,
                    }
                    for i, sid in enumerate(ids)
                ],
            )
            await connection.execute(
                SubscriptionRow.__table__.insert(),
                [
                    {
                        "subscriber_id": sid,
                        "list_id": list_id,
                        "status": "confirmed",
                        "source": "bench",
                        "consent_text_version": "v1",
                        "requested_at": now,
                        "confirmed_at": now,
                    }
                    for sid in ids
                ],
            )
        body = BODY
        await connection.execute(
            CampaignRow.__table__.insert(),
            [
                {
                    "id": campaign_id,
                    "kind": "regular",
                    "name": "Bench",
                    "subject": "Neues aus dem Netzwerk",
                    "sender": None,
                    "body": body,
                    "list_ids": [list_id],
                    "topics": [],
                    "districts": [],
                    "context": {},
                    "status": "scheduled",
                    "scheduled_at": now,
                    "recipients": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
    await engine.dispose()
    return campaign_id


def run_campaign(port: int, database_url: str, campaign_id: str, result_pipe) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from nzr_common.db import create_engine, create_sessionmaker
    from nzr_common.erasure import MessagingEraser
    from nzr_common.outbox import Outbox
    from nzr_common.regions import region_from_settings
    from nzr_newsletter.bootstrap import Deps, Links, tokens_of
    from nzr_newsletter.delivery.sender import Sender
    from nzr_newsletter.settings import NewsletterSettings
    from nzr_newsletter.tables import CampaignRow, DeliveryRow, messaging

    async def main() -> dict:
        settings = NewsletterSettings(
            region="bench",
            database_url=database_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_concurrency=CONNECTIONS,
            delivery_poll_seconds=0.05,
            sender="Netzwerk <newsletter@nzr.example>",
            public_base_url="https://nzr.example",
        )
        engine = create_engine(database_url)
        sessions = create_sessionmaker(engine)
        deps = Deps(
            settings=settings,
            region=region_from_settings(settings),
            sessions=sessions,
            outbox=Outbox(messaging, region="bench", service="newsletter"),
            eraser=MessagingEraser(messaging, producer="newsletter"),
            tokens=tokens_of(settings),
            links=Links(settings.public_base_url.rstrip("/")),
        )
        sender = Sender(deps, sessions)
        started = time.perf_counter()
        task = asyncio.create_task(sender.run())
        while True:
            await asyncio.sleep(0.2)
            async with sessions() as session:
                campaign = await session.get(CampaignRow, campaign_id)
            if campaign is not None and campaign.status == "sent":
                break
            if task.done():
                task.result()
        end_to_end = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with sessions() as session:
            first, last = (
                await session.execute(
                    select(func.min(DeliveryRow.sent_at), func.max(DeliveryRow.sent_at)).where(
                        DeliveryRow.campaign_id == campaign_id
                    )
                )
            ).one()
        await engine.dispose()
        return {
            "end_to_end": end_to_end,
            "sending": (last - first).total_seconds(),
            "enqueue": (first - campaign.started_at).total_seconds(),
            "recipients": campaign.recipients,
            "sent": sender.stats.sent,
        }

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        figures = profile.runcall(asyncio.run, main())
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    else:
        figures = asyncio.run(main())
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result_pipe.send(figures)


def in_child(target, *args):  # type: ignore[no-untyped-def]
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=target, args=(*args, sending))
    process.start()
    while not receiving.poll(0.5):
        if not process.is_alive():
            raise SystemExit(f"{target.__name__} failed (exit code {process.exitcode})")
    result = receiving.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="recipients (default 100,000)")
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn")

    port_receiving, port_sending = multiprocessing.Pipe(duplex=False)
    counter = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port_sending, counter), daemon=True)
    sink.start()
    port = port_receiving.recv()

    folder = Path(tempfile.mkdtemp(prefix="nzr-bench-newsletter-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'newsletter.db'}"
    print(
        f"newsletter delivery benchmark: N={args.n:,} recipients, {CONNECTIONS} SMTP connections, "
        f"aiosmtpd sink in its own process, database {database_url.split(':')[0]}"
    )
    seeding = time.perf_counter()
    campaign_id = asyncio.run(seed(database_url, args.n))
    print(f"  seeded {args.n:,} confirmed subscribers in {time.perf_counter() - seeding:.1f}s")

    baseline = in_child(run_baseline, port, args.n)
    baseline_rate = args.n / baseline["seconds"]
    received_baseline = counter.value
    print(
        f"  baseline  bare aiosmtplib loop, prebuilt bytes: {baseline_rate:8,.0f} mails/s "
        f"({baseline['seconds']:.1f}s), peak RSS {baseline['peak_mb']:.0f} MB"
    )

    campaign = in_child(run_campaign, port, database_url, campaign_id)
    received_campaign = counter.value - received_baseline
    sending_rate = campaign["sent"] / campaign["sending"]
    overall_rate = campaign["sent"] / campaign["end_to_end"]
    print(
        f"  campaign  newsletter sender, personalised:     {sending_rate:8,.0f} mails/s while sending "
        f"({campaign['sending']:.1f}s), {overall_rate:,.0f} mails/s end-to-end incl. enqueueing "
        f"{campaign['recipients']:,} rows ({campaign['enqueue']:.1f}s), peak RSS {campaign['peak_mb']:.0f} MB"
    )
    ratio = sending_rate / baseline_rate
    print(
        f"  ratio while sending {ratio:.2f} (target ≥ {TARGET_RATIO:.2f}): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}; end-to-end {overall_rate / baseline_rate:.2f}; "
        f"peak RSS {'<' if campaign['peak_mb'] < 200 else '≥'} 200 MB"
    )
    print(f"  sink received {received_baseline:,} baseline + {received_campaign:,} campaign mails")
    sink.kill()


if __name__ == "__main__":
    main()
