"""The supervisor behind ``nzr run`` and ``nzr run-regions`` on real nats-server nodes: a killed
hub comes back on its port and config, and the region node it links to keeps running."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import nats

from nzr_cli.supervisor import Child, DataDir, Supervisor, platform_services
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
