"""The NATS configurations of the deploy paths, run by real nats-server processes.

Kubernetes: deploy/nats/helm-values-{hub,region}.yaml are turned into nats-server configs the
way the official chart (nats-io/k8s, chart 1.x) does it: the chart's own blocks (port,
monitoring, JetStream store and domain, the hub's leafnode listener with its TLS Secret) plus
``config.merge`` deep-merged over them, as JSON with ``<< $VAR >>`` unquoted into environment
references. Differences, for one machine: free ports, routes to 127.0.0.1 instead of the
StatefulSet's DNS names (single servers where the cluster does not matter, 3-server clusters
for the hub and a region where it does: R3 streams), and the Secrets' mount path
``/etc/nats/leaf-tls`` and the hub's Service name replaced by a temporary folder and 127.0.0.1.
Secrets come from the environment, as in the pods: passwords, a throwaway CA with hub and leaf
certificates, one nkey pair per region.

docker compose: deploy/compose/nats-secrets.sh (the one-shot service nats-secrets) is run with
the real ``nzr`` CLI into a folder instead of the volume; every node then starts from the
config it rendered with its own variables and certificates, as the compose services mount them,
and ``nzr topology provision`` (the <node>-nats-provision services) logs in with the services'
credentials.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import inspect
import ipaddress
import json
import os
import re
import secrets
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from nats.errors import NoServersError

from nzr_common.testing.topology import free_port
from nzr_common.testing.waiting import eventually
from nzr_common.topology import nats_server_binary

VALUES = Path(__file__).resolve().parents[2] / "deploy" / "nats"
TLS_MOUNT = "/etc/nats/leaf-tls"
HUB_URL_IN_CLUSTER = "nats-leaf://nats.nzr-state.svc.cluster.local:7422"
REGIONS = ("leipzig", "erzgebirge")


# --------------------------------------------------------------------------- the chart, in short


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's ``mergeOverwrite``: maps merge key by key, everything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def chart_config(
    values: dict[str, Any],
    *,
    server_name: str,
    ports: dict[str, int],
    store_dir: Path,
    routes: list[int] | None = None,
) -> str:
    """The config the chart renders; with ``routes`` (the cluster ports of all servers) its
    cluster block too."""
    config = values["config"]
    conf: dict[str, Any] = {
        "server_name": server_name,
        "port": ports["client"],
        "http_port": ports["monitor"],
    }
    jetstream = config["jetstream"]
    assert jetstream["enabled"] and jetstream["fileStore"]["enabled"]
    conf["jetstream"] = deep_merge(
        {"store_dir": str(store_dir), "max_memory_store": 0}, jetstream.get("merge", {})
    )
    leafnodes = config.get("leafnodes", {})
    if leafnodes.get("enabled"):
        tls = leafnodes["tls"]
        listener: dict[str, Any] = {"port": ports["leaf"], "no_advertise": True}
        if tls.get("enabled"):
            folder = tls["dir"].rstrip("/")
            chart_tls = {"cert_file": f"{folder}/{tls['cert']}", "key_file": f"{folder}/{tls['key']}"}
            listener["tls"] = deep_merge(chart_tls, tls.get("merge", {}))
        conf["leafnodes"] = deep_merge(listener, leafnodes.get("merge", {}))
    if routes is not None:
        cluster = config["cluster"]
        assert cluster["enabled"] and cluster["replicas"] == len(routes)
        # the chart names the cluster after the StatefulSet ("nats" in every release)
        chart_cluster = {
            "name": "nats",
            "port": ports["cluster"],
            "no_advertise": True,
            "routes": [f"nats://127.0.0.1:{port}" for port in routes],
        }
        conf["cluster"] = deep_merge(chart_cluster, cluster.get("merge", {}))
    conf = deep_merge(conf, config.get("merge", {}))
    return re.sub(r'"<<\s+(.*?)\s+>>"', r"\1", json.dumps(conf, indent=2))


# --------------------------------------------------------------------------- throwaway secrets


def crc16(data: bytes) -> bytes:
    return binascii.crc_hqx(data, 0).to_bytes(2, "little")


def nkey_user_pair() -> tuple[str, str]:
    """(seed ``SU…``, public key ``U…``) in the nkeys encoding (base32, CRC-16/XMODEM)."""
    raw = secrets.token_bytes(32)
    public = ed25519.Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    user, seed = 20 << 3, 18 << 3

    def encode(prefix: bytes, payload: bytes) -> str:
        return base64.b32encode(prefix + payload + crc16(prefix + payload)).decode().rstrip("=")

    return encode(bytes([seed | user >> 5, (user & 31) << 3]), raw), encode(bytes([user]), public)


@dataclass
class Certificate:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, folder: Path, ca: x509.Certificate) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (folder / "tls.crt").write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        (folder / "tls.key").write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return folder


def issue(name: str, issuer: Certificate | None, *, server: bool = False) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        names = [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer.key if issuer else key
    return Certificate(key, builder.sign(signer, hashes.SHA256()))


# --------------------------------------------------------------------------- the nodes


@dataclass
class Node:
    name: str
    config: Path
    env: dict[str, str]
    ports: dict[str, int]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['client']}"

    @property
    def log(self) -> Path:
        return self.config.with_suffix(".log")

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(nats_server_binary()), "-c", str(self.config), "-t"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(self.config)], env=self.env, stdout=log, stderr=log
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def leafz(self) -> list[dict[str, Any]] | None:
        """The server's leaf connections; None while its monitoring port is not up yet."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.ports['monitor']}/leafz", timeout=5)
        except httpx.TransportError:
            return None
        return response.json().get("leafs") or []


def node_ports() -> dict[str, int]:
    return {"client": free_port(), "monitor": free_port(), "leaf": free_port(), "cluster": free_port()}


class Credentials:
    """Throwaway values of the Secrets of the hub and its regions, as the NATS pods get them:
    environment variables (passwords, the regions' nkeys) and TLS folders."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = issue("nzr test CA", None)
        hub_values = yaml.safe_load((VALUES / "helm-values-hub.yaml").read_text())
        accounts = [a for a in hub_values["config"]["merge"]["accounts"] if a not in {"SYS", "STATE"}]
        self.nkeys = {account: nkey_user_pair() for account in accounts}
        self.passwords: dict[str, str] = {}

    def password(self, node: str) -> str:
        """The password of the user nzr on ``node`` (hub or a region)."""
        return self.passwords.setdefault(node, secrets.token_hex(16))

    def environment(self, node: str) -> dict[str, str]:
        base = {"PATH": os.environ.get("PATH", ""), "NZR_SYS_PASSWORD": self.password(f"sys-{node}")}
        if node == "hub":
            nkeys = {f"NZR_LEAF_NKEY_{account}": public for account, (_, public) in self.nkeys.items()}
            return base | {"NZR_STATE_PASSWORD": self.password("hub"), **nkeys}
        return base | {"NZR_APP_PASSWORD": self.password(node), "NZR_LEAF_SEED": self.nkeys[node.upper()][0]}

    def tls(self, node: str) -> Path:
        """ca.crt, tls.crt, tls.key of the node (the hub's names the in-cluster Service)."""
        folder = self.folder / f"tls-{node}"
        if not folder.exists():
            if node == "hub":
                issue("nats.nzr-state.svc.cluster.local", self.ca, server=True).write(folder, self.ca.cert)
            else:
                issue(f"leaf-{node}", self.ca).write(folder, self.ca.cert)
        return folder


def hub_node(
    credentials: Credentials, *, index: int = 0, routes_of: list[dict[str, int]] | None = None
) -> Node:
    """Hub server ``index`` (of a cluster whose servers have the ports ``routes_of``)."""
    values = yaml.safe_load((VALUES / "helm-values-hub.yaml").read_text())
    ports = routes_of[index] if routes_of else node_ports()
    text = chart_config(
        values,
        server_name=f"state-nats-{index}",
        ports=ports,
        store_dir=credentials.folder / f"hub-{index}",
        routes=[p["cluster"] for p in routes_of] if routes_of else None,
    )
    path = credentials.folder / f"hub-{index}.conf"
    path.write_text(text.replace(TLS_MOUNT, str(credentials.tls("hub"))))
    return Node(f"hub-{index}", path, credentials.environment("hub"), ports)


def region_node(
    credentials: Credentials,
    region: str,
    hub: Node,
    *,
    index: int = 0,
    routes_of: list[dict[str, int]] | None = None,
) -> Node:
    """Server ``index`` of ``region``, linked to ``hub``."""
    ports = routes_of[index] if routes_of else node_ports()
    routes = [p["cluster"] for p in routes_of] if routes_of else None
    tls = credentials.tls(region)
    text, _ = region_config(credentials.folder, region, hub, tls, ports=ports, index=index, routes=routes)
    path = credentials.folder / f"{region}-{index}.conf"
    path.write_text(text)
    return Node(f"{region}-{index}", path, credentials.environment(region), ports)


@dataclass
class Deployment:
    hub: Node
    regions: dict[str, Node]
    credentials: Credentials


def region_config(
    folder: Path,
    region: str,
    hub: Node,
    tls: Path,
    *,
    ports: dict[str, int] | None = None,
    index: int = 0,
    routes: list[int] | None = None,
) -> tuple[str, dict[str, int]]:
    values = yaml.safe_load((VALUES / "helm-values-region.yaml").read_text())
    # what `--set config.jetstream.merge.domain=<region> --set config.cluster.merge.name=<region>` does
    values["config"]["jetstream"]["merge"]["domain"] = region
    values["config"]["cluster"]["merge"]["name"] = region
    ports = ports or node_ports()
    text = chart_config(
        values,
        server_name=f"{region}-nats-{index}",
        ports=ports,
        store_dir=folder / f"{region}-{index}",
        routes=routes,
    )
    assert HUB_URL_IN_CLUSTER in text and TLS_MOUNT in text
    text = text.replace(HUB_URL_IN_CLUSTER, f"nats-leaf://127.0.0.1:{hub.ports['leaf']}")
    return text.replace(TLS_MOUNT, str(tls)), ports


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    credentials = Credentials(tmp_path_factory.mktemp("helm-nats"))
    hub = hub_node(credentials)
    regions = {region: region_node(credentials, region, hub) for region in REGIONS}
    for node in (hub, *regions.values()):
        result = node.check()
        assert result.returncode == 0, f"{node.name}: {result.stdout}{result.stderr}"
    try:
        for node in (hub, *regions.values()):
            node.start()
        yield Deployment(hub, regions, credentials)
    finally:
        for node in (*regions.values(), hub):
            node.stop()


async def test_each_region_links_into_its_own_hub_account_over_mutual_tls(deployment: Deployment) -> None:
    hub = deployment.hub

    def linked() -> set[str]:
        return {leaf["account"] for leaf in hub.leafz() or []}

    expected = {region.upper() for region in REGIONS}
    assert await eventually(lambda: linked() == expected, what="leaf links of both regions")
    for region, node in deployment.regions.items():
        (link,) = await eventually(node.leafz, what=f"{region}'s link")
        assert link["account"] == "APP"


@pytest.mark.parametrize("node_name", ["hub", *REGIONS])
async def test_every_client_connection_authenticates(deployment: Deployment, node_name: str) -> None:
    node = deployment.hub if node_name == "hub" else deployment.regions[node_name]
    await eventually(lambda: node.leafz() is not None, what="monitoring")
    for credentials in ({}, {"user": "nzr", "password": "wrong"}, {"user": "sys", "password": "wrong"}):
        with pytest.raises((NoServersError, nats.errors.Error, OSError)):
            await nats.connect(node.url, allow_reconnect=False, connect_timeout=5, **credentials)
    connection = await nats.connect(node.url, user="nzr", password=deployment.credentials.password(node_name))
    try:
        info = await connection.jetstream().account_info()
        domain = "state" if node_name == "hub" else node_name
        assert info.domain == domain
    finally:
        await connection.close()


@pytest.mark.parametrize("certificate", ["none", "rogue-ca"])
async def test_a_leaf_without_a_certificate_of_the_ca_is_refused(
    deployment: Deployment, certificate: str
) -> None:
    hub = deployment.hub
    region = REGIONS[0]
    folder = deployment.credentials.folder / f"intruder-{certificate}"
    # it even has the region's seed and trusts the hub's CA: only its client certificate is wrong
    tls = deployment.credentials.tls(region)
    text, ports = region_config(folder, "intruder", hub, tls)
    config = json.loads(re.sub(r"\$(\w+)", r'"$\1"', text))
    (remote,) = config["leafnodes"]["remotes"]
    if certificate == "none":
        remote["tls"] = {"ca_file": str(tls / "ca.crt")}
    else:
        rogue = issue("rogue CA", None)
        own = issue("leaf-intruder", rogue).write(folder / "tls", rogue.cert)
        remote["tls"] |= {"cert_file": str(own / "tls.crt"), "key_file": str(own / "tls.key")}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intruder.conf").write_text(re.sub(r'"(\$\w+)"', r"\1", json.dumps(config, indent=2)))
    intruder = Node("intruder", folder / "intruder.conf", deployment.regions[region].env, ports)
    seen = len(hub.log.read_bytes())

    def refused() -> bool:  # the hub says why, in its log
        fresh = hub.log.read_bytes()[seen:].decode(errors="replace")
        return "TLS leafnode handshake error" in fresh and "closed: TLS Handshake Failure" in fresh

    intruder.start()
    try:
        await eventually(refused, what="the hub refusing the handshake")
        assert intruder.leafz() == []
        assert {leaf["name"] for leaf in hub.leafz() or []} == {f"{r}-nats-0" for r in REGIONS}
    finally:
        intruder.stop()


# --------------------------------------------------------------------------- docker compose

COMPOSE_SCRIPT = VALUES.parent / "compose" / "nats-secrets.sh"
DEPLOY_REGIONS = VALUES.parent / "k8s" / "components" / "nats-provision" / "regions.toml"
BIN = Path(sys.executable).parent


def read_env(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")
    )


def cli_has_dev_secrets() -> bool:
    from nzr_cli import topology

    return hasattr(topology, "dev_secrets")


def run_secrets_script(folder: Path) -> None:
    env = os.environ | {
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "NZR_SECRETS_DIR": str(folder),
        "NZR_REGIONS_FILE": str(DEPLOY_REGIONS),
        # compose dials the hub's service name; on one machine the hub is 127.0.0.1
        "NZR_HUB_HOST": "127.0.0.1",
    }
    result = subprocess.run(
        ["sh", str(COMPOSE_SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def compose_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Node]]]:
    if not cli_has_dev_secrets():
        pytest.skip("needs `nzr topology dev-secrets` (NATS-CONTRACT.md point 4)")
    folder = tmp_path_factory.mktemp("compose-nats")
    secrets_dir = folder / "volume"
    run_secrets_script(secrets_dir)
    regions = [entry["id"] for entry in tomllib.loads(DEPLOY_REGIONS.read_text())["regions"]]
    ports = {node: node_ports() for node in ("hub", *regions)}
    nodes = {}
    for node in ("hub", *regions):
        conf = secrets_dir / "conf" / ("hub.conf" if node == "hub" else f"leaf-{node}.conf")
        text = conf.read_text()
        # what the compose mounts and the container network do
        text = text.replace(TLS_MOUNT, str(secrets_dir / "dev" / "tls" / node))
        text = text.replace('"/data/jetstream"', f'"{folder / node}"')
        text = text.replace("0.0.0.0:4222", f"127.0.0.1:{ports[node]['client']}")
        text = text.replace("0.0.0.0:8222", f"127.0.0.1:{ports[node]['monitor']}")
        text = text.replace("0.0.0.0:7422", f"127.0.0.1:{ports[node]['leaf']}")
        text = text.replace("nats-leaf://127.0.0.1:7422", f"nats-leaf://127.0.0.1:{ports['hub']['leaf']}")
        (folder / conf.name).write_text(text)
        env = {"PATH": os.environ.get("PATH", "")} | read_env(secrets_dir / "nodes" / node / "nats.env")
        nodes[node] = Node(node, folder / conf.name, env, ports[node])
    try:
        for node in nodes.values():
            node.start()
        yield secrets_dir, nodes
    finally:
        for node in nodes.values():
            node.stop()


async def test_compose_nodes_link_authenticate_and_provision(compose_nodes) -> None:
    secrets_dir, nodes = compose_nodes
    hub = nodes["hub"]
    expected = {node.upper() for node in nodes if node != "hub"}
    await eventually(lambda: {leaf["account"] for leaf in hub.leafz() or []} == expected, what="leaf links")
    for node, server in nodes.items():
        client = read_env(secrets_dir / "clients" / node / "nats.env")
        assert set(client) == {"NATS_USER", "NATS_PASSWORD"}, "a service sees only its own login"
        with pytest.raises((NoServersError, nats.errors.Error, OSError)):
            await nats.connect(server.url, allow_reconnect=False, connect_timeout=5)
        env = os.environ | client
        command = [str(BIN / "nzr"), "topology", "provision", "--node", node, "--nats-url", server.url]
        result = await asyncio.to_thread(
            subprocess.run,
            [*command, "--regions-file", str(DEPLOY_REGIONS)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        connection = await nats.connect(
            server.url, user=client["NATS_USER"], password=client["NATS_PASSWORD"]
        )
        try:
            names = {info.config.name for info in await connection.jetstream().streams_info()}
        finally:
            await connection.close()
        if node == "hub":
            assert {"NZR_STATE", "NZR_AGGREGATE"} <= names
        else:
            assert {f"NZR_{node.upper()}", "NZR_STATE"} <= names


async def test_compose_secrets_are_generated_once_and_kept(compose_nodes) -> None:
    secrets_dir, _ = compose_nodes
    before = {p: p.read_bytes() for p in (secrets_dir / "dev").rglob("*") if p.is_file()}
    run_secrets_script(secrets_dir)
    after = {p: p.read_bytes() for p in (secrets_dir / "dev").rglob("*") if p.is_file()}
    assert before == after


# --------------------------------------------------------------------------- 3-node clusters, R3


def cli_provisions_per_node() -> bool:
    from nzr_cli import topology

    return "node" in inspect.signature(topology.provision).parameters


@pytest.fixture(scope="module")
def clusters(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[list[Node], list[Node], Credentials]]:
    """The hub and the region leipzig as the 3-server JetStream clusters of the Helm values."""
    if not cli_provisions_per_node():
        pytest.skip("needs `nzr topology provision --node` (NATS-CONTRACT.md point 4)")
    credentials = Credentials(tmp_path_factory.mktemp("helm-clusters"))
    hub_ports = [node_ports() for _ in range(3)]
    hub = [hub_node(credentials, index=i, routes_of=hub_ports) for i in range(3)]
    region_ports = [node_ports() for _ in range(3)]
    region = [region_node(credentials, "leipzig", hub[i], index=i, routes_of=region_ports) for i in range(3)]
    try:
        for node in (*hub, *region):
            node.start()
        yield hub, region, credentials
    finally:
        for node in (*region, *hub):
            node.stop()


async def provision(node: str, url: str, password: str) -> None:
    command = [str(BIN / "nzr"), "topology", "provision", "--node", node, "--nats-url", url]
    result = await asyncio.to_thread(
        subprocess.run,
        [*command, "--regions-file", str(DEPLOY_REGIONS), "--replicas", "3"],
        env=os.environ | {"NATS_USER": "nzr", "NATS_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_streams_are_r3_on_the_clusters_and_the_aggregate_sources_the_region(clusters) -> None:
    hub, region, credentials = clusters
    passwords = {node: credentials.password(node) for node in ("hub", "leipzig")}
    await eventually(lambda: all(n.leafz() for n in region), what="every region server linked to the hub")

    async def connect(node: Node, password: str) -> nats.NATS:
        return await nats.connect(node.url, user="nzr", password=password, connect_timeout=5)

    async def meta_leader(node: Node, password: str) -> bool:
        connection = await connect(node, password)
        try:
            await connection.jetstream().account_info()
            return True
        except Exception:
            return False
        finally:
            await connection.close()

    await eventually(lambda: meta_leader(hub[0], passwords["hub"]), what="the hub's JetStream cluster")
    await eventually(
        lambda: meta_leader(region[0], passwords["leipzig"]), what="the region's JetStream cluster"
    )
    await provision("leipzig", region[1].url, passwords["leipzig"])
    await provision("hub", hub[2].url, passwords["hub"])

    region_client = await connect(region[0], passwords["leipzig"])
    hub_client = await connect(hub[1], passwords["hub"])
    try:
        region_js, hub_js = region_client.jetstream(), hub_client.jetstream()
        for js, stream in ((region_js, "NZR_LEIPZIG"), (hub_js, "NZR_STATE"), (hub_js, "NZR_AGGREGATE")):
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3, stream
            await eventually(
                lambda js=js, stream=stream: stream_has_all_peers(js, stream), what=f"{stream} on 3 servers"
            )
        # one source delivers in order: a private event sourced by mistake would arrive first
        await region_js.publish("nzr.leipzig.priv.test.v1", b"{}")
        await region_js.publish("nzr.leipzig.pub.test.v1", b"{}")

        async def aggregated() -> bool:
            try:
                await hub_js.get_last_msg("NZR_AGGREGATE", "nzr.leipzig.pub.test.v1")
            except nats.js.errors.NotFoundError:
                return False
            return True

        await eventually(aggregated, what="the shareable event at the hub")
        assert (await hub_js.stream_info("NZR_AGGREGATE")).state.messages == 1
    finally:
        await region_client.close()
        await hub_client.close()


async def stream_has_all_peers(js, stream: str) -> bool:
    cluster = (await js.stream_info(stream)).cluster
    return cluster is not None and cluster.leader is not None and len(cluster.replicas or []) == 2
