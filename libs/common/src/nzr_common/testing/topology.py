"""A real hub and leaf regions on one machine for tests (and ``make run-regions``):
nats-server processes from generated configs, and a TCP proxy on each leaf link so a test
can cut one region off the hub and restore it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from nzr_common.topology import (
    CLIENT_USER,
    STATE,
    HubNode,
    RegionNode,
    StreamSettings,
    hub_config,
    leaf_config,
    nats_server_binary,
    provision_hub,
    provision_region,
)
from nzr_common.topology_secrets import DevSecrets


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
    environment: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.environment},
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
    """Hub plus leaf regions as local nats-server processes, with accounts, fresh credentials
    and mutual TLS on the leaf links, as deployed (``url()`` carries the services' credentials)."""

    regions: list[str]
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nzr-topology-")))
    streams: dict[str, StreamSettings] | None = None
    hub: HubNode | None = None
    nodes: dict[str, RegionNode] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    links: dict[str, LinkProxy] = field(default_factory=dict)
    secrets: DevSecrets | None = None

    @property
    def _started_hub(self) -> HubNode:
        if self.hub is None:
            raise RuntimeError("the topology is not started: call start() first")
        return self.hub

    @property
    def _started_secrets(self) -> DevSecrets:
        if self.secrets is None:
            raise RuntimeError("the topology is not started: call start() first")
        return self.secrets

    def url(self, region: str, *, credentials: bool = True) -> str:
        port = self._started_hub.client_port if region == STATE else self.nodes[region].client_port
        if not credentials:
            return f"nats://127.0.0.1:{port}"
        return f"nats://{CLIENT_USER}:{self._started_secrets.client_password(region)}@127.0.0.1:{port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self._started_hub.monitor_port}"

    def tls_dir(self, node: str) -> Path:
        return self._started_secrets.tls_dir(self.workdir / "secrets", node)

    async def start(self) -> LocalTopology:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.secrets = DevSecrets(list(self.regions))
        self.secrets.write(self.workdir / "secrets")
        self.hub = HubNode(
            free_port(),
            free_port(),
            str(self.workdir / "hub"),
            tls_dir=str(self.tls_dir(STATE)),
            monitor_port=free_port(),
        )
        for region in self.regions:
            await self._add_node(region)
        self._write(STATE, self.hub_conf())
        for server in self.servers.values():
            server.start()
        await self._wait_for_leaf_links()
        await self.provision()
        return self

    async def _add_node(self, region: str) -> None:
        node = RegionNode(region, free_port(), str(self.workdir / region), tls_dir=str(self.tls_dir(region)))
        self.nodes[region] = node
        link = LinkProxy(self._started_hub.leaf_port)
        await link.start()
        self.links[region] = link
        self._write(region, self.leaf_conf(node, f"nats-leaf://127.0.0.1:{link.port}"))

    def hub_conf(self) -> str:
        return hub_config(self._started_hub, self.regions)

    def leaf_conf(self, node: RegionNode, hub_leaf_url: str) -> str:
        return leaf_config(node, hub_leaf_url)

    async def add_region(self, region: str) -> None:
        """A new region joins the running topology: fresh credentials for it, the hub's
        configuration regenerated and reloaded (``nats-server --signal reload``), then the new
        leaf node started and provisioned — what an operator does with ``nzr topology``."""
        self.regions.append(region)
        self._started_secrets.add_region(region)
        self._started_secrets.write(self.workdir / "secrets")
        await self._add_node(region)
        hub = self.servers[STATE]
        hub.environment = self._started_secrets.environment(STATE)
        hub.config_path.write_text(self.hub_conf())
        # The environment of a running process is fixed: restart the hub with the new variables.
        hub.stop()
        hub.start()
        self.servers[region].start()
        await self._wait_for_leaf_links()
        await self.provision()

    def _write(self, name: str, config: str) -> None:
        path = self.workdir / f"{name}.conf"
        path.write_text(config)
        self.servers[name] = Server(
            name, path, self.workdir / f"{name}.log", self._started_secrets.environment(name)
        )

    async def provision(self, *, hub_first: bool = False) -> None:
        """Every node's streams and consumers, regions first unless ``hub_first`` (either order
        works: durable sources retry until the other side exists)."""
        for node in [STATE, *self.regions] if hub_first else [*self.regions, STATE]:
            connection = await nats.connect(self.url(node))
            try:
                if node == STATE:
                    await provision_hub(connection, self.regions, self.streams)
                else:
                    await provision_region(connection, node, self.streams)
            finally:
                await connection.close()

    async def _wait_for_leaf_links(self, timeout: float = 20.0) -> None:
        for region in self.regions:
            await self.wait_until_linked(region, timeout)

    async def leaf_links(self) -> dict[str, str]:
        """The leaf links connected to the hub now: leaf server name → hub account (``/leafz``)."""
        async with httpx.AsyncClient(timeout=1.0) as client:
            leafz = (await client.get(f"{self.monitor_url}/leafz")).json()
        return {leaf.get("name"): leaf.get("account") for leaf in leafz.get("leafs") or []}

    async def linked_accounts(self) -> set[str]:
        """The hub accounts with a leaf link connected now."""
        return set((await self.leaf_links()).values())

    async def wait_until_linked(self, region: str, timeout: float = 20.0) -> None:
        """Until the region's leaf node is linked to the hub. (A region cannot probe the hub's
        JetStream API: outside the exports its requests just time out.)"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if f"nzr-{region}" in await self.leaf_links():
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"region {region} did not reach the hub in {timeout}s")

    def stop_hub(self) -> None:
        self.servers[STATE].stop()

    def start_hub(self) -> None:
        self.servers[STATE].start()

    async def stop(self) -> None:
        for link in self.links.values():
            await link.cut()
        for server in self.servers.values():
            server.stop()
