"""Confirmation mails of a registration burst, against a bare aiosmtplib loop, into one aiosmtpd sink.

* **ours**: N (500) registrations in a burst over HTTP to the events service: C (50) clients at
  once, each on one keep-alive connection sending its share back to back, as a reverse proxy's
  upstream pool reaches the service (``--clients 0``: all N at once, each on its own
  connection); an event with N seats, so every registration is confirmed; events
  announces each (``RegistrationReceived``, region-private, through its outbox and JetStream),
  newsletter renders the confirmation (German, text + HTML, ``.ics`` with METHOD:REQUEST),
  queues it in its mail table and sends it. Timed from the first registration sent to the N-th
  mail accepted by the sink. Both services run as processes (uvicorn, one worker each) on
  PostgreSQL and one NATS server. The CPU time each service used meanwhile is printed too:
  on a shared machine it says more than the wall time, which follows the load.
* **baseline**: the same N mails (the bytes the sink received) sent again by a bare aiosmtplib
  loop, one connection (and, for reference, 10 connections), in a child process (its CPU time
  printed as well).
* **registration answers**: p95 of the POST answers with mails (newsletter running) and without
  (newsletter stopped, so nothing consumes the announcements): mails must not slow them.

Target (issue #17): our rate ≥ 50% of the loop's rate. Nothing is asserted; the figures and the
verdicts are printed. ``.venv/bin/python bench/registration_mails.py --help``; PostgreSQL from
``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
its two databases are dropped at the end. ``--profile DIR`` runs both services under cProfile
(timed by CPU time) for the measured burst alone and leaves ``nzr_events.prof`` and
``nzr_newsletter.prof`` in DIR; ``--py-spy DIR`` samples both (CPU only, py-spy installed into
the venv) during the measured burst alone and leaves collapsed stacks ``nzr_events.txt`` and
``nzr_newsletter.txt`` in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from events_registration import (
    REGION,
    admin_url,
    free_port,
    post_json,
    start_events_service,
    stop,
    wait_ready,
)

from nzr_common.auth import issue_token
from nzr_common.db import migrate_async
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.databases import create_postgres_database, drop_postgres_database
from nzr_common.testing.nats import NatsServerProcess

TARGET_RATIO = 0.5


# ---------------------------------------------------------------- the sink (own process)


def run_sink(pipe) -> None:  # type: ignore[no-untyped-def]
    """An aiosmtpd server keeping (time accepted, bytes) of every mail; answers "take" on the pipe."""
    from aiosmtpd.smtp import SMTP

    accepted: list[tuple[float, bytes]] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            accepted.append((time.time(), envelope.original_content or envelope.content))
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Keep()), "127.0.0.1", 0)
        pipe.send(server.sockets[0].getsockname()[1])
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command == "count":
                pipe.send(len(accepted))
            elif command == "take":
                pipe.send(list(accepted))
                accepted.clear()

    asyncio.run(serve())


class Sink:
    def __init__(self) -> None:
        self.pipe, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=run_sink, args=(child,), daemon=True)
        self.process.start()
        self.port: int = self.pipe.recv()

    def count(self) -> int:
        self.pipe.send("count")
        return self.pipe.recv()  # type: ignore[no-any-return]

    def take(self) -> list[tuple[float, bytes]]:
        self.pipe.send("take")
        return self.pipe.recv()  # type: ignore[no-any-return]

    async def wait_for(self, n: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.count() >= n:
                return True
            await asyncio.sleep(0.02)
        return False


# ---------------------------------------------------------------- the bare loop (own process)


def run_baseline(port: int, mails: list[bytes], connections: int, result_pipe) -> None:  # type: ignore[no-untyped-def]
    import aiosmtplib

    async def main() -> float:
        remaining = iter(enumerate(mails))

        async def connection() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
            await client.connect()
            for number, message in remaining:
                await client.sendmail("newsletter@nzr.invalid", [f"p{number}@example.org"], message)
            await client.quit()

        started = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(connections)))
        return time.perf_counter() - started

    cpu = time.process_time()
    seconds = asyncio.run(main())
    result_pipe.send((seconds, time.process_time() - cpu))


def in_child(target, *args):  # type: ignore[no-untyped-def]
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=target, args=(*args, sending))
    process.start()
    result = receiving.recv()
    process.join()
    return result


# ---------------------------------------------------------------- the services


#: Runs a service with a cProfile profiler timed by the process's CPU clock (on a loaded
#: machine wall-clock profiles mostly measure waiting for a core), switched on by SIGUSR1 (so
#: start-up and the warm-up stay out) and written when the process ends.
PROFILED_SERVICE = """
import atexit, cProfile, runpy, signal, sys, time
output, module = sys.argv[1], sys.argv[2]
profiler = cProfile.Profile(time.process_time)
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
atexit.register(lambda: (profiler.disable(), profiler.dump_stats(output)))
sys.argv = [module, "serve"]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def profiled(module: str, profile_dir: str | None) -> list[str]:
    """The command running ``module`` (``serve``), under cProfile into ``profile_dir`` if given
    (CPU time, from SIGUSR1 on)."""
    if profile_dir is None:
        return [sys.executable, "-m", module, "serve"]
    output = str(Path(profile_dir) / f"{module}.prof")
    return [sys.executable, "-c", PROFILED_SERVICE, output, module]


def sampled(
    processes: Iterable[subprocess.Popen[bytes]], directory: str | None
) -> list[subprocess.Popen[bytes]]:
    """``py-spy record`` (if asked for, and installed in the venv) on each service process: CPU
    samples (idle stacks left out) of the measured burst as collapsed stacks in ``directory``."""
    if directory is None:
        return []
    spy = Path(sys.executable).parent / "py-spy"
    spies = []
    for process, name in zip(processes, ("nzr_events", "nzr_newsletter"), strict=True):
        output = str(Path(directory) / f"{name}.txt")
        command = [
            str(spy),
            "record",
            "--pid",
            str(process.pid),
            "--format",
            "raw",
            "-o",
            output,
            "-r",
            "250",
        ]
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)  # attached before the burst starts
    return spies


def start_newsletter(
    port: int, database_url: str, nats_url: str, smtp_port: int, profile_dir: str | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "REGION": REGION,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "RATE_LIMIT_ENABLED": "false",
    }
    return subprocess.Popen(
        profiled("nzr_newsletter", profile_dir),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def new_event(base: str, editor: dict[str, str], seats: int, title: str) -> str:
    async with httpx.AsyncClient(timeout=60) as client:
        starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        created = await client.post(
            f"{base}/api/v1/events",
            headers=editor,
            json={
                "format": "regionalkonferenz",
                "title": title,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=8)).isoformat(),
                "district": "14713000",
                "capacity": seats,
                "venue_name": "Stadthalle",
                "venue_address": "Theaterplatz 1, 09111 Chemnitz",
            },
        )
        created.raise_for_status()
        event_id: str = created.json()["id"]
        (await client.post(f"{base}/api/v1/events/{event_id}/publish", headers=editor)).raise_for_status()
    return event_id


async def burst(base: str, event_id: str, n: int, clients: int) -> tuple[float, list[float], int]:
    """N registrations in a burst; (start time, seconds of each answer, failures).

    ``clients`` > 0: that many clients at once, each on one keep-alive connection sending its
    share back to back (how a reverse proxy's upstream pool reaches the service); 0: all N at
    once, each on its own connection."""
    url = f"{base}/api/v1/events/{event_id}/registrations"

    def body(i: int) -> dict[str, object]:
        email = f"person{i}.{uuid.uuid4().hex[:6]}@example.org"
        return {"name": f"Teilnehmerin {i}", "email": email, "data_use_consent": True}

    async def one(i: int) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            status, _ = await post_json(url, body(i))
        except OSError:
            return time.perf_counter() - started, False
        return time.perf_counter() - started, status == 202

    async def client(numbers: range) -> list[tuple[float, bool]]:
        answers: list[tuple[float, bool]] = []
        parsed = httpx.URL(url)
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            for i in numbers:
                payload = json.dumps(body(i)).encode()
                started = time.perf_counter()
                writer.write(
                    f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                answers.append((time.perf_counter() - started, int(head.split(b" ", 2)[1]) == 202))
        except (OSError, asyncio.IncompleteReadError):
            answers += [(0.0, False)] * (len(numbers) - len(answers))
        finally:
            writer.close()
        return answers

    started = time.time()
    if clients > 0:
        shares = await asyncio.gather(*(client(range(c, n, clients)) for c in range(min(clients, n))))
        answers = [answer for share in shares for answer in share]
    else:
        answers = list(await asyncio.gather(*(one(i) for i in range(n))))
    return started, [seconds for seconds, _ in answers], sum(1 for _, ok in answers if not ok)


def checked(mails: Iterable[bytes]) -> tuple[int, int]:
    """(mails whose .ics parses with METHOD:REQUEST, mails whose subject confirms the seat)."""
    import email
    import email.policy

    import icalendar

    with_ics = confirmed = 0
    for data in mails:
        message = email.message_from_bytes(data, policy=email.policy.default)
        confirmed += str(message["Subject"]).startswith("Anmeldung bestätigt: ")
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = icalendar.Calendar.from_ical(part.get_content())
                with_ics += str(calendar["METHOD"]) == "REQUEST" and len(calendar.walk("VEVENT")) == 1
    return with_ics, confirmed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


# ---------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> int:
    n = args.registrations
    admin = admin_url()
    events_db = await create_postgres_database(admin, "nzr_bench_regmail_events")
    newsletter_db = await create_postgres_database(admin, "nzr_bench_regmail_newsletter")
    await migrate_async("nzr_events", events_db)
    await migrate_async("nzr_newsletter", newsletter_db)
    nats_server = NatsServerProcess().start()
    sink = Sink()
    events_port, newsletter_port = free_port(), free_port()
    events = start_events_service(
        events_port, events_db, nats_server.url, command=profiled("nzr_events", args.profile)
    )
    newsletter = start_newsletter(newsletter_port, newsletter_db, nats_server.url, sink.port, args.profile)
    base = f"http://127.0.0.1:{events_port}"
    editor = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region=REGION, roles=['editor'])}"}
    failed = False
    try:
        await wait_ready(f"{base}/readyz", 300)
        await wait_ready(f"http://127.0.0.1:{newsletter_port}/readyz", 300)
        print(
            f"registration mails benchmark — {n} registrations in a burst ("
            + (
                f"{args.clients} clients at once on keep-alive connections"
                if args.clients > 0
                else "all at once, one connection each"
            )
            + "), events + newsletter "
            "(one uvicorn worker each, PostgreSQL, one NATS server), aiosmtpd sink in its own process; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        # Warm-up: a burst of the same size, so that every figure below is of services that
        # have run a while (statement caches, prepared statements and plans of the batch sizes
        # a burst causes), as at 9:00 in production; a smaller one left the first measured
        # burst slower than the later ones and the p95 comparison biased.
        warm = await new_event(base, editor, n, "Aufwärmen")
        await burst(base, warm, n, args.clients)
        if not await sink.wait_for(n, args.within):
            print("   warm-up mails did not arrive")
            return 1
        sink.take()

        event_id = await new_event(base, editor, n, "Regionalkonferenz Zukunft")
        spies = sampled((events, newsletter), args.py_spy)
        if args.profile:
            for process in (events, newsletter):
                process.send_signal(signal.SIGUSR1)  # the profiles cover this burst alone
        cpu_before = cpu_seconds(events.pid), cpu_seconds(newsletter.pid)
        started, with_mails, errors = await burst(base, event_id, n, args.clients)
        answered = time.time() - started
        arrived = await sink.wait_for(n, args.within)
        cpu_events, cpu_newsletter = (
            cpu_seconds(events.pid) - cpu_before[0],
            cpu_seconds(newsletter.pid) - cpu_before[1],
        )
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        if spies:
            print(f"   py-spy samples of this burst (CPU only, collapsed stacks): {args.py_spy}/*.txt")
        mails = sink.take()
        if not arrived or errors:
            print(f"   only {len(mails)} of {n} mails arrived, {errors} registrations failed")
            failed = True
        last = max(t for t, _ in mails)
        ours = last - started
        first = min(t for t, _ in mails)
        if args.profile:
            # uvicorn re-raises the signal that stopped it: SIGINT ends cProfile with its output.
            for process in (events, newsletter):
                process.send_signal(signal.SIGINT)
                process.wait(30)
            print(f"   profiles of this burst: {args.profile}/nzr_events.prof, nzr_newsletter.prof")
            return 1 if failed else 0
        with_ics, confirmed = checked(data for _, data in mails)
        print(
            f"\n   ours      first registration → {len(mails)}th mail accepted: {ours:6.2f} s "
            f"({len(mails) / ours:6.0f} mails/s); all answered after {answered:.2f} s, first mail after "
            f"{first - started:.2f} s, the last {last - started - answered:.2f} s after the last answer"
        )
        print(
            f"             confirmations: {confirmed}/{len(mails)}, with an .ics METHOD:REQUEST: {with_ics}"
        )
        print(
            f"             CPU used meanwhile: events {cpu_events:.2f} s ({cpu_events / n * 1000:.1f} ms per "
            f"registration), newsletter {cpu_newsletter:.2f} s ({cpu_newsletter / n * 1000:.1f} ms per mail)"
        )

        prebuilt = [data for _, data in mails]
        loop_one, loop_cpu = in_child(run_baseline, sink.port, prebuilt, 1)
        sink.take()
        loop_ten, _ = in_child(run_baseline, sink.port, prebuilt, 10)
        sink.take()
        print(
            f"   baseline  bare aiosmtplib loop, same {len(prebuilt)} mails: 1 connection {loop_one:6.2f} s "
            f"({len(prebuilt) / loop_one:6.0f} mails/s); 10 connections {loop_ten:6.2f} s "
            f"({len(prebuilt) / loop_ten:6.0f} mails/s); CPU of the 1-connection loop {loop_cpu:.2f} s "
            f"({loop_cpu / len(prebuilt) * 1000:.1f} ms per mail)"
        )
        ratio_one, ratio_ten = loop_one / ours, loop_ten / ours
        print(
            f"   ratio     our rate / loop rate: {ratio_one:.2f} (1 connection), {ratio_ten:.2f} "
            f"(10 connections); target ≥ {TARGET_RATIO:.2f}: "
            f"{'met' if ratio_one >= TARGET_RATIO else 'NOT met'} (1 connection), "
            f"{'met' if ratio_ten >= TARGET_RATIO else 'NOT met'} (10 connections)"
        )

        sending = last - first
        print(
            f"   sending   first → last mail accepted: {sending:.2f} s ({len(mails) / sending:.0f} mails/s), "
            f"{loop_one / sending:.2f} of the 1-connection loop's rate, {loop_ten / sending:.2f} of the "
            "10-connection loop's (the mail side alone, while the burst is still being registered)"
        )

        # The same burst with the newsletter process at a lower CPU priority (nice 10), as if it
        # ran on cores of its own (its pod, in production): here it shares 2 cores with events,
        # PostgreSQL, NATS, the sink and the load generator.
        os.setpriority(os.PRIO_PROCESS, newsletter.pid, 10)
        yielding = await new_event(base, editor, n, "Regionalkonferenz, Mail nachrangig")
        started_nice, with_nice, errors_nice = await burst(base, yielding, n, args.clients)
        arrived_nice = await sink.wait_for(n, args.within)
        nice_mails = sink.take()
        failed |= bool(errors_nice) or not arrived_nice
        nice_seconds = max(t for t, _ in nice_mails) - started_nice

        stop(newsletter)  # nothing consumes the announcements now
        other = await new_event(base, editor, n, "Regionalkonferenz ohne Mail")
        _, without_mails, errors_without = await burst(base, other, n, args.clients)
        failed |= bool(errors_without)

        def shown(values: list[float]) -> str:
            return f"{p95(values) * 1000:5.0f} ms (median {statistics.median(values) * 1000:.0f} ms)"

        print("\n   registration answers, p95:")
        print(f"     with mails                          {shown(with_mails)}")
        print(
            f"     with mails, newsletter at nice 10   {shown(with_nice)}; its {len(nice_mails)} mails "
            f"accepted {nice_seconds:.2f} s after the first registration"
        )
        print(f"     newsletter stopped (no mails)       {shown(without_mails)}")
        print(
            f"   ratio p95 with / without mails: {p95(with_mails) / p95(without_mails):.2f} "
            f"(nice 10: {p95(with_nice) / p95(without_mails):.2f}); target ≤ 1"
        )
        print(f"   load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        stop(events)
        if newsletter.poll() is None:
            stop(newsletter)
        nats_server.stop()
        sink.process.kill()
        for database in (events_db, newsletter_db):
            await drop_postgres_database(admin, database)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=500)
    parser.add_argument(
        "--clients",
        type=int,
        default=50,
        help="clients at once, each on a keep-alive connection (0: every registration at once, "
        "each on its own connection)",
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="run both services under cProfile, one burst, profiles into DIR"
    )
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="sample both services with py-spy (pip install py-spy into the venv) during the measured "
        "burst, collapsed stacks into DIR",
    )
    parser.add_argument("--within", type=float, default=90.0, help="seconds to wait for the mails")
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn")
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
