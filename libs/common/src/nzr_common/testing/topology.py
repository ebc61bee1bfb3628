"""A real hub and leaf regions on one machine for tests (and ``make run-regions``):
nats-server processes from generated configs, and a TCP proxy on each leaf link so a test
can cut one region off the hub and restore it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nats

from nzr_common.topology import (
    HubNode,
    RegionNode,
    hub_config,
    leaf_config,
    nats_server_binary,
    provision_hub,
    provision_region,
    provision_region_state_copy,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LinkProxy:
    """Forwards one TCP port to another; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@dataclass
class Server:
    name: str
    config_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class LocalTopology:
    """Hub plus leaf regions as local nats-server processes."""

    regions: list[str]
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nzr-topology-")))
    hub: HubNode | None = None
    nodes: dict[str, RegionNode] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    links: dict[str, LinkProxy] = field(default_factory=dict)

    def url(self, region: str) -> str:
        if region != "state":
            port = self.nodes[region].client_port
        elif self.hub is not None:
            port = self.hub.client_port
        else:
            raise RuntimeError("the topology has no hub yet: start() it first")
        return f"nats://127.0.0.1:{port}"

    async def start(self) -> LocalTopology:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hub = HubNode(free_port(), free_port(), str(self.workdir / "hub"))
        self._write("state", hub_config(self.hub))
        for region in self.regions:
            node = RegionNode(region, free_port(), str(self.workdir / region))
            self.nodes[region] = node
            link = LinkProxy(self.hub.leaf_port)
            await link.start()
            self.links[region] = link
            self._write(region, leaf_config(node, f"nats://127.0.0.1:{link.port}", self.regions))
        for server in self.servers.values():
            server.start()
        await self._wait_for_leaf_links()
        await self.provision()
        return self

    def _write(self, name: str, config: str) -> None:
        path = self.workdir / f"{name}.conf"
        path.write_text(config)
        self.servers[name] = Server(name, path, self.workdir / f"{name}.log")

    async def provision(self) -> None:
        hub = await nats.connect(self.url("state"))
        try:
            for region in self.regions:
                connection = await nats.connect(self.url(region))
                try:
                    await provision_region(connection, region)
                finally:
                    await connection.close()
            await provision_hub(hub, self.regions)
            for region in self.regions:
                connection = await nats.connect(self.url(region))
                try:
                    await provision_region_state_copy(connection, region)
                finally:
                    await connection.close()
        finally:
            await hub.close()

    async def _wait_for_leaf_links(self, timeout: float = 20.0) -> None:
        """Until every region reaches the hub's JetStream API across its leaf link."""
        for region in self.regions:
            await self.wait_until_linked(region, timeout)

    async def wait_until_linked(self, region: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                connection = await nats.connect(self.url(region), connect_timeout=1, max_reconnect_attempts=0)
                try:
                    await connection.request("$JS.state.API.INFO", b"", timeout=0.5)
                    return
                finally:
                    await connection.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"region {region} did not reach the hub in {timeout}s")

    def stop_hub(self) -> None:
        self.servers["state"].stop()

    def start_hub(self) -> None:
        self.servers["state"].start()

    async def stop(self) -> None:
        for link in self.links.values():
            await link.cut()
        for server in self.servers.values():
            server.stop()
