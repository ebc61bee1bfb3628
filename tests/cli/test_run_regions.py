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


def test_the_region_list_renders_a_hub_and_one_leaf_config_per_region(tmp_path):
    from typer.testing import CliRunner

    from nzr_cli.main import app
    from nzr_cli.topology import read_regions

    regions = [entry.id for entry in read_regions()]
    result = CliRunner().invoke(app, ["topology", "render", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["hub.conf", *(f"leaf-{r}.conf" for r in regions)]
    )
    assert 'url: "nats://nats-hub:7422"' in (tmp_path / f"leaf-{regions[0]}.conf").read_text()


def test_a_region_list_with_an_unknown_district_is_refused(tmp_path):
    import pytest

    from nzr_cli.topology import read_regions

    listing = tmp_path / "regions.toml"
    listing.write_text('[[regions]]\nid = "x"\ndistricts = ["99999000"]\n')
    with pytest.raises(ValueError, match="unknown districts"):
        read_regions(listing)
