"""``nzr run`` end to end, as a user runs it: the platform comes up with the demo data, a
crashed service or NATS is started again while the rest keeps answering, Ctrl-C leaves no
process behind, and the next run on the same data folder finds the same data."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import recurring_ical_events
from icalendar import Calendar
from typer.testing import CliRunner

from nzr_cli.demo.loader import DEMO_STEPS
from nzr_cli.main import app
from nzr_cli.supervisor import SERVICE_PORTS
from nzr_cli.tokens import local_token
from nzr_common.testing.wire import check_against_documents, stream_messages

PORT_OFFSET = 300
ACTORS = f"http://127.0.0.1:{SERVICE_PORTS['actors'] + PORT_OFFSET}"
EVENTS = f"http://127.0.0.1:{SERVICE_PORTS['events'] + PORT_OFFSET}"
ALL_OK = {"database": "ok", "nats": "ok", "consumers": "ok"}
REPORTING = f"http://127.0.0.1:{SERVICE_PORTS['reporting'] + PORT_OFFSET}"
NEWSLETTER = f"http://127.0.0.1:{SERVICE_PORTS['newsletter'] + PORT_OFFSET}"
NZR = Path(sys.executable).parent / "nzr"
DEMO_ACTORS = sum(len(step.items()) for step in DEMO_STEPS if step.path.split("?")[0] == "/api/v1/actors")

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table")


class EmbeddedRun:
    """One ``nzr run`` process started like a user would, its output going to a file."""

    def __init__(self, data_dir: Path, output: Path) -> None:
        self.data_dir = data_dir
        self.output = output
        self.children: dict[str, int] = {}
        command = [str(NZR), "run", "--data-dir", str(data_dir), "--nats-port", "0"]
        command += ["--port-offset", str(PORT_OFFSET)]
        with output.open("wb") as sink:
            self.process = subprocess.Popen(
                command,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=data_dir.parent,
                env={**os.environ, "COLUMNS": "120", "PYTHONUNBUFFERED": "1"},
            )

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_until_running(self, timeout: float = 150.0) -> None:
        # About 15 s on an idle machine; five services importing at once is slow under load.
        deadline = time.monotonic() + timeout
        while "press Ctrl-C to stop" not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nzr run did not come up (exit code {self.process.poll()}):\n{self.text()}")
            time.sleep(0.2)
        self.children = json.loads((self.data_dir / "nzr-run.json").read_text())["children"]

    def current_children(self) -> dict[str, int]:
        """The processes the run lists now (a restarted one under its new pid)."""
        return json.loads((self.data_dir / "nzr-run.json").read_text())["children"]

    def interrupt(self, timeout: float = 20.0) -> int:
        """Ctrl-C; the exit code, or a failure when it takes longer than ``timeout``."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"nzr run did not stop within {timeout:.0f} s:\n{self.text()}")

    def stop_leftovers(self) -> None:
        """Only for a failed test: make sure nothing it started keeps running."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        groups = set(self.children.values())
        with contextlib.suppress(OSError, ValueError, KeyError):
            groups |= set(self.current_children().values())
        for pid in _alive_in_groups(groups):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def embedded_run(data_dir: Path, output: Path) -> Iterator[EmbeddedRun]:
    run = EmbeddedRun(data_dir, output)
    try:
        run.wait_until_running()
        yield run
    finally:
        run.stop_leftovers()


def _process_table() -> dict[int, tuple[int, int, str]]:
    """Every live process as pid → (parent pid, process group, state), from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            table[int(stat.parent.name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def _children_of(pid: int) -> set[int]:
    return {child for child, (parent, _, _) in _process_table().items() if parent == pid}


def _alive_in_groups(groups: set[int]) -> set[int]:
    return {pid for pid, (_, group, state) in _process_table().items() if group in groups and state != "Z"}


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll ``condition`` until true; the bound only ends a hung test (no timing asserted)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _readyz(url: str) -> dict:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).json()
    except httpx.HTTPError as error:
        return {"status": f"no answer ({type(error).__name__})", "checks": {}}


def _every_message_of_the_demo_matches_its_producers_asyncapi(run: EmbeddedRun) -> None:
    """The demo is a full flow through all five services: every message it left in the streams
    validates (envelope, typed data, headers, subject) against its producer's /asyncapi.json."""
    (nats_url,) = re.findall(r"NATS with JetStream at (nats://\S+)", run.text())
    documents = {
        name: httpx.get(f"http://127.0.0.1:{port + PORT_OFFSET}/asyncapi.json", timeout=10).json()
        for name, port in SERVICE_PORTS.items()
    }
    report = check_against_documents(asyncio.run(stream_messages(nats_url)), documents)
    print(f"wire check: {sum(report.checked.values())} messages of {len(report.checked)} event types")
    assert not report.problems, "\n".join(report.problems[:20])
    assert sum(report.checked.values()) >= DEMO_ACTORS
    assert {"nzr.actors.actor_registered.v1", "nzr.events.event_published.v1"} <= set(report.checked)


def _demo_actor_count() -> float:
    report = httpx.get(f"{REPORTING}/api/v1/reports/indicators", timeout=5).json()
    actors_total = next(i for i in report["indicators"] if i["id"] == "actors_total")
    return next((v["value"] for v in actors_total["values"] if v["region"] == "demo"), 0)


def _demo_actor_count_once_settled(expected: int, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while (count := _demo_actor_count()) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


@pytest.mark.timeout(400)
def test_nzr_run_keeps_its_data_restarts_what_crashes_and_leaves_no_process_behind(tmp_path):
    data_dir = tmp_path / "var"

    with embedded_run(data_dir, tmp_path / "first-run.txt") as first:
        # The development mail sink is a process of the run, not a part of the newsletter's.
        assert set(first.children) == {"nats", "mail-sink", *SERVICE_PORTS}
        assert _children_of(first.process.pid) <= set(first.children.values())
        for service in SERVICE_PORTS:
            assert re.search(rf"✓ {service} ready \(\d+\.\d s\)", first.text()), first.text()
        # A frontend on a local dev server (Vite) may call the API: the browser's preflight.
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        for origin, allowed in (("http://localhost:5173", True), ("https://elsewhere.example", False)):
            answer = httpx.options(f"{ACTORS}/api/v1/actors", headers={"Origin": origin, **preflight})
            assert (answer.headers.get("access-control-allow-origin") == origin) is allowed, answer.headers
        assert "Demo data loaded" in first.text()
        assert _demo_actor_count_once_settled(DEMO_ACTORS) == DEMO_ACTORS
        _every_message_of_the_demo_matches_its_producers_asyncapi(first)
        assert first.interrupt() == 0
    assert _alive_in_groups(set(first.children.values())) == set()
    assert not (data_dir / "nzr-run.json").exists()

    with embedded_run(data_dir, tmp_path / "second-run.txt") as second:
        assert "Demo data already loaded" in second.text()
        time.sleep(1.0)  # re-seeded duplicates would reach reporting well within this second
        assert _demo_actor_count() == DEMO_ACTORS
        ledger = json.loads((data_dir / "demo" / "demo-loaded").read_text())
        editor = {"Authorization": f"Bearer {local_token(region='demo', roles=['editor'])}"}
        for actor_id in [*ledger["actors"].values(), *ledger["district_actors"].values()]:
            assert httpx.get(f"{ACTORS}/api/v1/actors/{actor_id}", headers=editor).status_code == 200
        # The initiative circle: a series that ends (COUNT=10) with its August date off.
        (series_id,) = ledger["series"].values()
        feed = Calendar.from_ical(httpx.get(f"{EVENTS}/api/v1/series/{series_id}.ics").text)
        assert len(list(recurring_ical_events.of(feed).all())) == 9

        # The demo campaign's statistics show something, and mailed links follow --port-offset.
        campaign = ledger["newsletter"]["campaign"]
        stats = httpx.get(f"{NEWSLETTER}/api/v1/newsletter/campaigns/{campaign}/statistics", headers=editor)
        figures = ("sent", "delivered", "bounced_soft", "unsubscribed", "opens", "clicks")
        assert [stats.json()[k] for k in figures] == [5, 4, 1, 1, 1, 1], stats.text
        mails = httpx.get(f"{NEWSLETTER}/api/v1/newsletter/dev/mail.json").json()["items"]
        ours = [link for mail in mails for link in mail["links"] if "/api/v1/newsletter/" in link]
        assert ours and all(link.startswith(NEWSLETTER) for link in ours), ours[:3]
        assert (data_dir / "mail" / mails[0]["name"]).is_file()  # the sink process's folder
        assert len(ledger["cooperations"]) == 300 and len(ledger["contacts"]) == 40

        listing = CliRunner().invoke(app, ["dlq", "list", "--service", "reporting", "--url", REPORTING])
        assert listing.exit_code == 0, listing.output
        assert "No dead letters in reporting" in listing.output
        replay = CliRunner().invoke(
            app, ["dlq", "replay", "999", "--service", "reporting", "--url", REPORTING]
        )
        assert replay.exit_code == 1

        # A crashed service is started again; the others keep answering meanwhile.
        events_pid = second.children["events"]
        killed = time.monotonic()
        os.kill(events_pid, signal.SIGKILL)
        assert _wait_for(lambda: "events stopped unexpectedly (killed by SIGKILL)" in second.text())
        assert httpx.get(f"{ACTORS}/readyz", timeout=5).status_code == 200
        assert _wait_for(lambda: "events is ready again" in second.text())
        print(f"events killed with SIGKILL → ready again after {time.monotonic() - killed:.1f} s")
        assert _readyz(EVENTS)["status"] == "ok"
        assert second.current_children()["events"] != events_pid
        assert "supervisor: events stopped unexpectedly" in (data_dir / "logs" / "events.log").read_text()

        # So is NATS, on its port and store: the services answer throughout and reconnect.
        nats_pid = second.children["nats"]
        killed = time.monotonic()
        os.kill(nats_pid, signal.SIGKILL)
        assert _wait_for(lambda: "nats stopped unexpectedly (killed by SIGKILL)" in second.text())
        assert httpx.get(f"{ACTORS}/readyz", timeout=5).status_code == 200
        assert _wait_for(lambda: "nats restarted" in second.text())
        for url in (ACTORS, EVENTS, REPORTING):
            assert _wait_for(lambda url=url: _readyz(url)["checks"] == ALL_OK), _readyz(url)
        print(f"nats killed with SIGKILL → services connected again after {time.monotonic() - killed:.1f} s")
        print(second.text().split("press Ctrl-C to stop.")[1].strip())
        assert second.current_children()["nats"] != nats_pid
        assert _demo_actor_count() == DEMO_ACTORS

        restarted = set(second.current_children().values())
        assert second.interrupt() == 0
    assert _alive_in_groups(set(second.children.values()) | restarted) == set()


def test_nzr_run_refuses_a_taken_port_before_starting_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(NZR), "run", "--data-dir", str(tmp_path / "var"), "--nats-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "200"},
        )
    assert result.returncode == 1
    assert f"nats: port {port} on 127.0.0.1 is already in use" in result.stdout
    assert not (tmp_path / "var" / "logs" / "nats.log").exists()
