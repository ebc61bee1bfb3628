"""The multi-region run's layout: every node and service gets its own port and region."""

from nzr_cli.regions import region_services, write_configs
from nzr_cli.supervisor import DataDir


def test_every_region_gets_five_services_on_its_own_ports_and_the_state_two(tmp_path):
    urls = {"leipzig": "nats://l", "erzgebirge": "nats://e", "state": "nats://s"}
    services = region_services(["leipzig", "erzgebirge"], urls)
    assert len({s.port for s in services}) == len(services) == 12
    assert {s.port for s in services if s.region == "leipzig"} == set(range(8101, 8106))
    assert {s.port for s in services if s.region == "erzgebirge"} == set(range(8201, 8206))
    state = {s.name: s for s in services if s.region == "state"}
    assert set(state) == {"funding", "reporting"}
    assert state["reporting"].mode == "state"
    assert dict(state["reporting"].extra_env)["CONSUMER_STREAM"] == "NZR_AGGREGATE"
    assert all(s.nats_url == urls[s.region] for s in services)


def test_configs_give_each_region_its_own_jetstream_domain_and_deny_private_subjects(tmp_path):
    configs = write_configs(DataDir(tmp_path, "leipzig"), ["leipzig", "erzgebirge"])
    assert set(configs) == {"state", "leipzig", "erzgebirge"}
    assert len({port for _, port in configs.values()}) == 3
    hub = configs["state"][0].read_text()
    assert "domain: state" in hub and "no_advertise: true" in hub
    leipzig = configs["leipzig"][0].read_text()
    assert "domain: leipzig" in leipzig
    assert '"nzr.*.priv.>"' in leipzig and '"nzr.erzgebirge.>"' in leipzig
