"""The multi-region run's layout and its NATS: every node and service gets its own port, region
and credentials; the nodes come up with accounts and mTLS leaf links and refuse strangers."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import nats
import pytest
from typer.testing import CliRunner

from nzr_cli.main import app
from nzr_cli.regions import STATE_PORTS, HubPorts, provision, region_services, write_configs
from nzr_cli.supervisor import DataDir, Supervisor, _port_free
from nzr_cli.topology import read_regions
from nzr_common.testing.topology import free_port
from nzr_common.topology_secrets import DevSecrets

THREE = ["leipzig", "erzgebirge", "vogtland"]


def test_any_number_of_regions_get_ports_that_never_collide_with_the_states(tmp_path):
    urls = {r: f"nats://{r}" for r in [*THREE, "state"]}
    passwords = {r: f"pw-{r}" for r in urls}
    districts = {"leipzig": ["14713000"], "erzgebirge": ["14521000"], "vogtland": ["14523000"]}
    services = region_services(THREE, urls, districts=districts, passwords=passwords)
    assert len({s.port for s in services}) == len(services) == 17
    assert {s.port for s in services if s.region == "leipzig"} == set(range(8101, 8106))
    assert {s.port for s in services if s.region == "vogtland"} == set(range(8301, 8306))
    state = {s.name: s for s in services if s.region == "state"}
    assert {s.port for s in state.values()} == set(STATE_PORTS.values())
    assert state["reporting"].mode == "state"
    assert dict(state["reporting"].extra_env)["CONSUMER_STREAM"] == "NZR_AGGREGATE"
    for service in services:
        env = dict(service.extra_env)
        assert service.nats_url == urls[service.region]
        assert (env["NATS_USER"], env["NATS_PASSWORD"]) == ("nzr", passwords[service.region])
        if service.region != "state":
            assert env["REGION_DISTRICTS"] == ",".join(districts[service.region])


def test_configs_bind_each_region_to_its_own_account_and_keep_secrets_out_of_them(tmp_path):
    secrets = DevSecrets(["leipzig", "erzgebirge"])
    configs = write_configs(DataDir(tmp_path, "leipzig"), ["leipzig", "erzgebirge"], secrets)
    assert set(configs) == {"state", "leipzig", "erzgebirge"}
    assert len({port for _, port in configs.values()}) == 3
    hub = configs["state"][0].read_text()
    assert "domain: state" in hub and "no_advertise: true" in hub and "verify: true" in hub
    assert "nkey: $NZR_LEAF_NKEY_LEIPZIG" in hub and "nkey: $NZR_LEAF_NKEY_ERZGEBIRGE" in hub
    leipzig = configs["leipzig"][0].read_text()
    assert "domain: leipzig" in leipzig and "account: APP" in leipzig and "nkey: $NZR_LEAF_SEED" in leipzig
    for config in (hub, leipzig):
        for secret in (secrets.state_password, secrets.sys_password, secrets.leaf_nkeys["leipzig"].seed):
            assert secret not in config
    included = re.search(r'include "(.+)"', leipzig).group(1)
    assert secrets.leaf_nkeys["leipzig"].seed in (configs["leipzig"][0].parent / included).read_text()


def test_the_region_list_renders_a_hub_and_one_leaf_config_per_region(tmp_path):
    regions = [entry.id for entry in read_regions()]
    result = CliRunner().invoke(app, ["topology", "render", "--out", str(tmp_path), "--tls-dir", "/tls"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["hub.conf", *(f"leaf-{r}.conf" for r in regions)]
    )
    leaf = (tmp_path / f"leaf-{regions[0]}.conf").read_text()
    assert 'url: "nats-leaf://nats-hub:7422"' in leaf and 'ca_file: "/tls/ca.crt"' in leaf


def test_dev_secrets_write_one_env_file_per_node_and_a_tls_folder_each(tmp_path):
    regions = [entry.id for entry in read_regions()]
    result = CliRunner().invoke(app, ["topology", "dev-secrets", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    hub = dict(line.split("=", 1) for line in (tmp_path / "hub.env").read_text().splitlines())
    region = dict(line.split("=", 1) for line in (tmp_path / f"{regions[0]}.env").read_text().splitlines())
    assert set(region) == {"NZR_APP_PASSWORD", "NZR_SYS_PASSWORD", "NZR_LEAF_SEED"}
    assert region["NZR_LEAF_SEED"].startswith("SU")
    assert hub[f"NZR_LEAF_NKEY_{regions[0].upper()}"].startswith("U")
    for node in ["hub", *regions]:
        assert {p.name for p in (tmp_path / "tls" / node).iterdir()} == {"ca.crt", "tls.crt", "tls.key"}


def test_a_region_list_with_an_unknown_district_is_refused(tmp_path):
    listing = tmp_path / "regions.toml"
    listing.write_text('[[regions]]\nid = "x"\ndistricts = ["99999000"]\n')
    with pytest.raises(ValueError, match="unknown districts"):
        read_regions(listing)


def test_run_regions_nats_nodes_link_over_mtls_provision_and_refuse_anonymous_clients(tmp_path):
    """The NATS half of ``nzr run-regions`` (free ports instead of the fixed ones)."""
    regions = ["leipzig", "erzgebirge"]
    secrets = DevSecrets(list(regions))
    data = DataDir(tmp_path, "leipzig")
    ports = HubPorts(_free_run_of_ports(1 + len(regions)), free_port(), free_port())
    configs = write_configs(data, regions, secrets, ports)
    urls = {node: f"nats://127.0.0.1:{port}" for node, (_, port) in configs.items()}
    with Supervisor(data, [], nats_port=0) as supervisor:
        supervisor.check_ports_free()
        for node, (path, port) in configs.items():
            supervisor.start_nats_from_config(f"nats-{node}", path, port)
        provision(urls, regions, secrets)
        leafz = _until(lambda: httpx.get(f"http://127.0.0.1:{ports.monitor}/leafz").json(), 2)
        assert sorted(leaf["account"] for leaf in leafz["leafs"]) == ["ERZGEBIRGE", "LEIPZIG"]

        async def connections() -> None:
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                await nats.connect(urls["leipzig"], allow_reconnect=False, max_reconnect_attempts=0)
            user = urls["leipzig"].replace("nats://", f"nats://nzr:{secrets.client_password('leipzig')}@")
            client = await nats.connect(user)
            try:
                names = await client.jetstream().streams_info()
                assert {s.config.name for s in names} == {"NZR_LEIPZIG", "NZR_STATE"}
            finally:
                await client.close()

        asyncio.run(connections())


def _free_run_of_ports(count: int) -> int:
    """A port whose next ``count - 1`` neighbours are free too (region i listens on hub + 1 + i)."""
    while True:
        first = free_port()
        if all(_port_free(first + i) for i in range(1, count)):
            return first


def _until(read, count: int):  # type: ignore[no-untyped-def]
    """``read()`` until the hub lists ``count`` leaf links (they connect within a second)."""
    deadline = time.monotonic() + 20
    while True:
        answer = read()
        if len(answer.get("leafs") or []) >= count or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


async def test_provision_takes_stream_settings_as_data_and_logs_in_with_the_nodes_credentials(
    tmp_path, monkeypatch
):
    from nzr_common.testing.topology import LocalTopology

    topology = await LocalTopology(["leipzig", "erzgebirge"]).start()
    try:
        monkeypatch.setenv("NATS_USER", "nzr")
        monkeypatch.setenv("NATS_PASSWORD", topology.secrets.client_password("state"))
        command = [
            "topology",
            "provision",
            "--node",
            "hub",
            "--nats-url",
            topology.url("state", credentials=False),
        ]
        command += ["--max-age", "86400", "--set", "NZR_AGGREGATE.max_bytes=1000000000"]
        result = await asyncio.to_thread(CliRunner().invoke, app, command)
        assert result.exit_code == 0, result.output
        hub = await nats.connect(topology.url("state"))
        try:
            aggregate = (await hub.jetstream().stream_info("NZR_AGGREGATE")).config
            state = (await hub.jetstream().stream_info("NZR_STATE")).config
        finally:
            await hub.close()
        assert (aggregate.max_age, aggregate.max_bytes, aggregate.num_replicas) == (86400, 1_000_000_000, 1)
        assert (state.max_age, state.max_bytes) == (86400, -1)

        monkeypatch.setenv("NATS_PASSWORD", "falsch")
        command = [
            "topology",
            "provision",
            "--node",
            "leipzig",
            "--nats-url",
            topology.url("leipzig", credentials=False),
        ]
        refused = await asyncio.to_thread(CliRunner().invoke, app, command)
        assert refused.exit_code != 0 and "Authorization Violation" in str(refused.exception)
        unknown = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["topology", "provision", "--node", "x", "--nats-url", "nats://127.0.0.1:1"],
        )
        assert unknown.exit_code != 0 and "neither hub nor a region" in unknown.output
    finally:
        await topology.stop()
