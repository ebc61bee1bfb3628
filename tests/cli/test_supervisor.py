"""The supervisor behind ``nzr run`` and ``nzr run-regions`` on real nats-server nodes: a killed
hub comes back on its port and config, and the region node it links to keeps running."""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import sys
import threading
from pathlib import Path

import nats
import pytest

from nzr_cli.supervisor import Child, DataDir, Service, StartupFailed, Supervisor, platform_services
from nzr_common.testing.topology import free_port
from nzr_common.testing.waiting import eventually


def write_nodes(folder: Path) -> dict[str, tuple[Path, int]]:
    """A hub with a leafnode listener and a region node linked to it (no auth: the supervisor
    is under test here, not the isolation)."""
    hub_port, leaf_port, region_port = free_port(), free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    hub = folder / "hub.conf"
    hub.write_text(
        f"listen: 127.0.0.1:{hub_port}\nserver_name: hub\n"
        f'jetstream {{ store_dir: "{folder / "hub"}", domain: state }}\n'
        f"leafnodes {{ listen: 127.0.0.1:{leaf_port} }}\n"
    )
    region = folder / "leipzig.conf"
    region.write_text(
        f"listen: 127.0.0.1:{region_port}\nserver_name: leipzig\n"
        f'jetstream {{ store_dir: "{folder / "leipzig"}", domain: leipzig }}\n'
        f'leafnodes {{ reconnect: "1s", remotes: [ {{ url: "nats://127.0.0.1:{leaf_port}" }} ] }}\n'
    )
    return {"nats-state": (hub, hub_port), "nats-leipzig": (region, region_port)}


async def delivered_across_the_link(region_port: int, hub_port: int) -> bool:
    """A message published at the region reaches a subscriber at the hub."""
    hub = await nats.connect(f"nats://127.0.0.1:{hub_port}")
    region = await nats.connect(f"nats://127.0.0.1:{region_port}")
    try:
        subscription = await hub.subscribe("probe.link")
        await hub.flush()
        for _ in range(50):
            await region.publish("probe.link", b"hello")
            try:
                await subscription.next_msg(timeout=0.2)
                return True
            except TimeoutError:
                continue
        return False
    finally:
        await region.close()
        await hub.close()


def test_killed_hub_nats_is_restarted_on_its_config_and_the_region_node_keeps_running(tmp_path):
    nodes = write_nodes(tmp_path / "nats")
    reports: list[str] = []

    def report(child: Child, message: str, *, ok: bool = False) -> None:
        reports.append(message)

    with Supervisor(DataDir(tmp_path, "leipzig"), [], nats_port=0) as supervisor:
        for name, (config, port) in nodes.items():
            supervisor.start_nats_from_config(name, config, port)
        (_, hub_port), (_, region_port) = nodes["nats-state"], nodes["nats-leipzig"]
        assert asyncio.run(delivered_across_the_link(region_port, hub_port))
        pids = {child.name: child.pid for child in supervisor.children}

        stop = threading.Event()
        watcher = threading.Thread(target=supervisor.supervise, args=(report,), kwargs={"until": stop})
        watcher.start()
        try:
            os.kill(pids["nats-state"], signal.SIGKILL)
            asyncio.run(eventually(lambda: "nats-state restarted" in " ".join(reports), what="hub restarted"))
            assert asyncio.run(delivered_across_the_link(region_port, hub_port))
        finally:
            stop.set()
            watcher.join()

        now = {child.name: child.pid for child in supervisor.children}
        assert now["nats-leipzig"] == pids["nats-leipzig"]  # the region node was never touched
        assert now["nats-state"] != pids["nats-state"]
        assert reports[0].startswith(
            "nats-state stopped unexpectedly (killed by SIGKILL); restarting it in 1 s"
        )
        assert "supervisor: nats-state stopped unexpectedly" in supervisor.data.log("nats-state").read_text()
        running = list(supervisor.children)
    assert [child.exit_code() is not None for child in running] == [True, True]  # both stopped at the end


def test_the_public_base_url_of_each_service_follows_the_port_offset(tmp_path):
    supervisor = Supervisor(DataDir(tmp_path, "demo"), platform_services(port_offset=100), nats_port=0)
    urls = {s.name: supervisor._service_env(s)["PUBLIC_BASE_URL"] for s in supervisor.services}
    assert urls["events"] == "http://127.0.0.1:8202" and urls["newsletter"] == "http://127.0.0.1:8203"


def test_nzr_run_lets_local_frontend_dev_servers_call_the_services_unless_cors_origins_is_set(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    supervisor = Supervisor(DataDir(tmp_path, "demo"), platform_services(), nats_port=0)
    origins = supervisor._service_env(supervisor.services[0])["CORS_ORIGINS"].split(",")
    assert {"http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000"} <= set(origins)
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.org")
    assert supervisor._service_env(supervisor.services[0])["CORS_ORIGINS"] == "https://app.example.org"


#: A stand-in service process: ready after ``delay`` seconds on its port, or it exits with 3.
STAND_IN = """
import http.server, sys, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
if delay < 0:
    print("boom: cannot open the database", flush=True)
    sys.exit(3)
time.sleep(delay)

class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

http.server.HTTPServer(("127.0.0.1", port), Ready).serve_forever()
"""


class Recorded:
    def __init__(self) -> None:
        self.became_ready: list[tuple[str, float]] = []
        self.waited_for: set[str] = set()

    def ready(self, name: str, seconds: float) -> None:
        self.became_ready.append((name, seconds))

    def waiting(self, last_answers: dict[str, str], seconds: float) -> None:
        self.waited_for.update(last_answers)


def stand_ins(tmp_path: Path, delays: dict[str, float]) -> Supervisor:
    services = [Service(name, free_port()) for name in delays]
    supervisor = Supervisor(DataDir(tmp_path, "demo"), services, nats_port=0)
    supervisor.data.create()
    for service in services:
        supervisor._spawn(
            service.key, [sys.executable, "-c", STAND_IN, str(service.port), str(delays[service.name])]
        )
    return supervisor


def test_start_up_reports_each_service_ready_with_its_time(tmp_path):
    supervisor = stand_ins(tmp_path, {"quick": 0.0, "slow": 2.0})
    progress = Recorded()
    with supervisor:
        supervisor.wait_until_ready(progress=progress)
    assert [name for name, _ in progress.became_ready] == ["quick", "slow"]
    assert all(seconds > 0 for _, seconds in progress.became_ready)
    assert "slow" in progress.waited_for


def test_a_service_that_exits_while_starting_fails_the_start_at_once_with_its_log(tmp_path):
    supervisor = stand_ins(tmp_path, {"hanging": 3600.0, "broken": -1.0})
    with supervisor, pytest.raises(StartupFailed) as failure:
        supervisor.wait_until_ready(progress=Recorded())  # the ceiling is far away: no waiting for it
    assert failure.value.name == "broken" and "exit code 3" in failure.value.reason
    assert "boom: cannot open the database" in failure.value.log_tail


def test_nzr_run_starts_the_mail_sink_as_its_own_process_and_points_the_newsletter_at_it(tmp_path):
    """The development mail sink is a process of the run, not a part of the newsletter's: it
    takes mail on its port and writes it to the data folder, where the newsletter's development
    mail pages read it."""
    port = free_port()
    supervisor = Supervisor(DataDir(tmp_path, "demo"), platform_services(), nats_port=0, mail_sink_port=port)
    newsletter = next(s for s in supervisor.services if s.name == "newsletter")
    assert "SMTP_HOST" not in supervisor._service_env(newsletter)  # no sink process started yet
    with supervisor:
        supervisor.start_mail_sink()
        assert "mail-sink" in {child.name for child in supervisor.children}
        env = supervisor._service_env(newsletter)
        assert (env["SMTP_HOST"], env["SMTP_PORT"], env["SMTP_IS_SINK"]) == ("127.0.0.1", str(port), "true")
        assert env["SMTP_SINK_DIR"] == str(supervisor.data.mail.resolve())
        assert "SMTP_HOST" not in supervisor._service_env(supervisor.services[0])  # actors: no mail
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("a@example.org", ["b@example.org"], b"Subject: hello\r\n\r\nfrom the test\r\n")
        asyncio.run(eventually(lambda: list(supervisor.data.mail.glob("*.eml")), what="a mail in the folder"))
        (mail,) = supervisor.data.mail.glob("*.eml")
        assert b"from the test" in mail.read_bytes()
    assert "mail-sink" not in {child.name for child in supervisor.children}
